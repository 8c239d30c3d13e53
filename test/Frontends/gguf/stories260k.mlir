// stories260K: a real llama.cpp GGUF (F32, 5 layers, 8 heads / 4 KV heads of
// dimension 8, untied output). llama GGUF q/k weights are permuted for
// adjacent-pair rotary embeddings, so every rope is `interleaved`.
// REQUIRES: stories260k
// RUN: llm-import %shared_models/stories260K/stories260K.gguf | FileCheck %s

// CHECK: module attributes {llm.arch = "llama", llm.bos_token_id = 1 : i64, llm.eos_token_ids = [2], llm.head_dim = 8 : i64, llm.hidden_size = 64 : i64, llm.intermediate_size = 172 : i64, llm.max_context = 2048 : i64, llm.max_position_embeddings = 2048 : i64, llm.num_heads = 8 : i64, llm.num_kv_heads = 4 : i64, llm.num_layers = 5 : i64, llm.tie_word_embeddings = false, llm.vocab_size = 512 : i64}
// CHECK: func.func @forward(%{{.*}}: tensor<1x?xi64>, %{{.*}}: index, %{{.*}}: !llm.kv_cache<5 x 4 x 2048 x 8, f32>) -> tensor<1x1x512xf32>
// CHECK: llm.weight "model.embed_tokens.weight" : tensor<512x64xf32>
// CHECK: llm.weight "model.layers.0.input_layernorm.weight" : tensor<64xf32>
// CHECK: llm.rms_norm %{{.*}} eps = 9.99{{[0-9]*}}E-6
// CHECK: llm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xf32>
// CHECK: llm.weight "model.layers.0.self_attn.k_proj.weight" : tensor<32x64xf32>
// CHECK: llm.weight "model.layers.0.self_attn.v_proj.weight" : tensor<32x64xf32>
// CHECK: llm.rope %{{.*}} {interleaved, num_heads = 8 : i64, theta = 1.000000e+04 : f64}
// CHECK: llm.rope %{{.*}} {interleaved, num_heads = 4 : i64, theta = 1.000000e+04 : f64}
// CHECK: llm.attention {{.*}} {causal, layer = 0 : i64, num_heads = 8 : i64, num_kv_heads = 4 : i64}
// CHECK: llm.weight "model.layers.0.mlp.gate_proj.weight" : tensor<172x64xf32>
// CHECK: llm.weight "model.layers.0.mlp.down_proj.weight" : tensor<64x172xf32>
// CHECK: llm.attention {{.*}}layer = 1 : i64
// CHECK: llm.attention {{.*}}layer = 2 : i64
// CHECK: llm.attention {{.*}}layer = 3 : i64
// CHECK: llm.attention {{.*}}layer = 4 : i64
// CHECK-NOT: llm.attention
// CHECK: llm.weight "model.norm.weight" : tensor<64xf32>
// CHECK: llm.weight "lm_head.weight" : tensor<512x64xf32>
