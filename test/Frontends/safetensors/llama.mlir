// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_checkpoint.py model %t/llama --arch llama
// RUN: llm-import %t/llama | FileCheck %s
// RUN: llm-import %t/llama/model.safetensors -o %t/out.mlir
// RUN: llm-opt %t/out.mlir | FileCheck %s
// RUN: %python %S/Inputs/make_checkpoint.py model %t/bf16 --arch llama --dtype BF16 --tie
// RUN: llm-import %t/bf16 --max-context 32 | FileCheck %s --check-prefix=TIED
// RUN: %python %S/Inputs/make_checkpoint.py model %t/f16-bias --arch llama --dtype F16 --set 'attention_bias=true'
// RUN: not llm-import %t/f16-bias 2>&1 | FileCheck %s --check-prefix=BIAS

// Imports a tiny Llama (2 layers, 4 query / 2 KV heads of dim 4): the
// layer structure, f32 activations whatever the checkpoint dtype, tied
// embeddings, and biases requested by attention_bias.

// CHECK: module attributes {llm.arch = "llama", llm.bos_token_id = 1 : i64, llm.eos_token_ids = [2, 3], llm.head_dim = 4 : i64, llm.hidden_size = 16 : i64, llm.intermediate_size = 32 : i64, llm.max_context = 128 : i64, llm.max_position_embeddings = 128 : i64, llm.num_heads = 4 : i64, llm.num_kv_heads = 2 : i64, llm.num_layers = 2 : i64, llm.tie_word_embeddings = false, llm.vocab_size = 32 : i64}
// CHECK: func.func @forward(%[[TOK:.*]]: tensor<1x?xi64>, %[[START:.*]]: index, %[[KV:.*]]: !llm.kv_cache<2 x 2 x 128 x 4, f32>) -> tensor<1x1x32xf32>
// CHECK: %[[POS:.*]] = llm.position_ids %[[TOK]], [%[[START]]] : tensor<1x?xi64> -> tensor<1x?xi64>
// CHECK: %[[EMB:.*]] = llm.weight "model.embed_tokens.weight" : tensor<32x16xf32>
// CHECK: %[[H0:.*]] = llm.embed %[[EMB]], %[[TOK]] : tensor<32x16xf32>, tensor<1x?xi64> -> tensor<1x?x16xf32>
// CHECK: %[[LN:.*]] = llm.weight "model.layers.0.input_layernorm.weight" : tensor<16xf32>
// CHECK: %[[N:.*]] = llm.rms_norm %[[H0]], %[[LN]] eps = 1.000000e-05 : tensor<1x?x16xf32>, tensor<16xf32>
// CHECK: %[[WQ:.*]] = llm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<16x16xf32>
// CHECK: %[[Q:.*]] = llm.matmul %[[N]], %[[WQ]] transpose_b : tensor<1x?x16xf32>, tensor<16x16xf32> -> tensor<1x?x16xf32>
// CHECK: %[[WK:.*]] = llm.weight "model.layers.0.self_attn.k_proj.weight" : tensor<8x16xf32>
// CHECK: %[[K:.*]] = llm.matmul %[[N]], %[[WK]] transpose_b : tensor<1x?x16xf32>, tensor<8x16xf32> -> tensor<1x?x8xf32>
// CHECK: %[[WV:.*]] = llm.weight "model.layers.0.self_attn.v_proj.weight" : tensor<8x16xf32>
// CHECK: %[[V:.*]] = llm.matmul %[[N]], %[[WV]] transpose_b : tensor<1x?x16xf32>, tensor<8x16xf32> -> tensor<1x?x8xf32>
// CHECK-NOT: llm.add
// CHECK: %[[QR:.*]] = llm.rope %[[Q]], %[[POS]] {num_heads = 4 : i64, theta = 1.000000e+04 : f64} : tensor<1x?x16xf32>, tensor<1x?xi64>
// CHECK: %[[KR:.*]] = llm.rope %[[K]], %[[POS]] {num_heads = 2 : i64, theta = 1.000000e+04 : f64} : tensor<1x?x8xf32>, tensor<1x?xi64>
// CHECK: %[[A:.*]] = llm.attention %[[QR]], %[[KR]], %[[V]] cache %[[KV]][%[[START]]] : !llm.kv_cache<2 x 2 x 128 x 4, f32> {causal, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64} : tensor<1x?x16xf32>, tensor<1x?x8xf32>, tensor<1x?x8xf32> -> tensor<1x?x16xf32>
// CHECK: %[[WO:.*]] = llm.weight "model.layers.0.self_attn.o_proj.weight" : tensor<16x16xf32>
// CHECK: %[[O:.*]] = llm.matmul %[[A]], %[[WO]] transpose_b
// CHECK: %[[H1:.*]] = llm.add %[[H0]], %[[O]] : tensor<1x?x16xf32>, tensor<1x?x16xf32> -> tensor<1x?x16xf32>
// CHECK: %[[LN2:.*]] = llm.weight "model.layers.0.post_attention_layernorm.weight"
// CHECK: %[[N2:.*]] = llm.rms_norm %[[H1]], %[[LN2]]
// CHECK: %[[WG:.*]] = llm.weight "model.layers.0.mlp.gate_proj.weight" : tensor<32x16xf32>
// CHECK: %[[G:.*]] = llm.matmul %[[N2]], %[[WG]] transpose_b : tensor<1x?x16xf32>, tensor<32x16xf32> -> tensor<1x?x32xf32>
// CHECK: %[[WU:.*]] = llm.weight "model.layers.0.mlp.up_proj.weight"
// CHECK: %[[U:.*]] = llm.matmul %[[N2]], %[[WU]] transpose_b
// CHECK: %[[S:.*]] = llm.silu %[[G]] : tensor<1x?x32xf32>
// CHECK: %[[M:.*]] = llm.mul %[[S]], %[[U]]
// CHECK: %[[WD:.*]] = llm.weight "model.layers.0.mlp.down_proj.weight" : tensor<16x32xf32>
// CHECK: %[[D:.*]] = llm.matmul %[[M]], %[[WD]] transpose_b : tensor<1x?x32xf32>, tensor<16x32xf32> -> tensor<1x?x16xf32>
// CHECK: llm.add %[[H1]], %[[D]]
// CHECK: llm.attention {{.*}} {causal, layer = 1 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64}
// CHECK-NOT: llm.attention
// CHECK: %[[NORM:.*]] = llm.weight "model.norm.weight" : tensor<16xf32>
// CHECK: %[[F:.*]] = llm.rms_norm %{{.*}}, %[[NORM]]
// CHECK: %[[HEAD:.*]] = llm.weight "lm_head.weight" : tensor<32x16xf32>
// CHECK: %[[LAST:.*]] = llm.slice %[[F]] {axis = 1 : i64, start = -1 : i64} : tensor<1x?x16xf32> -> tensor<1x1x16xf32>
// CHECK: %[[LOGITS:.*]] = llm.matmul %[[LAST]], %[[HEAD]] transpose_b : tensor<1x1x16xf32>, tensor<32x16xf32> -> tensor<1x1x32xf32>
// CHECK: return %[[LOGITS]] : tensor<1x1x32xf32>

// A BF16 checkpoint still yields f32 IR; tied embeddings reuse the table.
// TIED: llm.max_context = 32 : i64
// TIED-SAME: llm.tie_word_embeddings = true
// TIED: !llm.kv_cache<2 x 2 x 32 x 4, f32>
// TIED: %[[EMB:.*]] = llm.weight "model.embed_tokens.weight" : tensor<32x16xf32>
// TIED-NOT: lm_head
// TIED: %[[LAST:.*]] = llm.slice
// TIED: llm.matmul %[[LAST]], %[[EMB]] transpose_b : tensor<1x1x16xf32>, tensor<32x16xf32> -> tensor<1x1x32xf32>

// attention_bias asks for q/k/v/o biases, which this checkpoint lacks.
// BIAS: error: missing tensor 'model.layers.0.self_attn.q_proj.bias' in checkpoint {{.*}}f16-bias
// BIAS-NEXT: missing tensor 'model.layers.0.self_attn.k_proj.bias'
// BIAS-NEXT: missing tensor 'model.layers.0.self_attn.v_proj.bias'
// BIAS-NEXT: missing tensor 'model.layers.0.self_attn.o_proj.bias'
