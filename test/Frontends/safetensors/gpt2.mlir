// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_checkpoint.py model %t/gpt2 --arch gpt2
// RUN: llm-import %t/gpt2 | FileCheck %s --check-prefixes=CHECK,PREFIXED
// RUN: %python %S/Inputs/make_checkpoint.py model %t/bare --arch gpt2 --prefix ''
// RUN: llm-import %t/bare | FileCheck %s --check-prefixes=CHECK,BARE

// GPT-2: learned positions, LayerNorm with bias, Conv1D weights ([in, out],
// so no transpose_b) with a fused qkv projection split by llm.slice, tanh
// GELU, and the head tied to wte. Names work with or without the
// `transformer.` prefix.

// CHECK: llm.arch = "gpt2"
// CHECK-SAME: llm.num_heads = 4 : i64, llm.num_kv_heads = 4 : i64
// CHECK: func.func @forward(%[[TOK:.*]]: tensor<1x?xi64>, %[[START:.*]]: index, %[[KV:.*]]: !llm.kv_cache<2 x 4 x 64 x 4, f32>) -> tensor<1x1x40xf32>
// CHECK: %[[POS:.*]] = llm.position_ids %[[TOK]], [%[[START]]]
// PREFIXED: %[[WTE:.*]] = llm.weight "transformer.wte.weight" : tensor<40x16xf32>
// BARE: %[[WTE:.*]] = llm.weight "wte.weight" : tensor<40x16xf32>
// CHECK: %[[WPE:.*]] = llm.weight "{{(transformer\.)?}}wpe.weight" : tensor<64x16xf32>
// CHECK: %[[TE:.*]] = llm.embed %[[WTE]], %[[TOK]]
// CHECK: %[[PE:.*]] = llm.embed %[[WPE]], %[[POS]]
// CHECK: %[[H0:.*]] = llm.add %[[TE]], %[[PE]]
// CHECK: %[[G1:.*]] = llm.weight "{{.*}}h.0.ln_1.weight" : tensor<16xf32>
// CHECK: %[[B1:.*]] = llm.weight "{{.*}}h.0.ln_1.bias" : tensor<16xf32>
// CHECK: %[[N:.*]] = llm.layer_norm %[[H0]], %[[G1]] bias %[[B1]] eps = 1.000000e-05
// CHECK: %[[WA:.*]] = llm.weight "{{.*}}h.0.attn.c_attn.weight" : tensor<16x48xf32>
// CHECK: %[[QKV0:.*]] = llm.matmul %[[N]], %[[WA]] : tensor<1x?x16xf32>, tensor<16x48xf32> -> tensor<1x?x48xf32>
// CHECK: %[[BA:.*]] = llm.weight "{{.*}}h.0.attn.c_attn.bias" : tensor<48xf32>
// CHECK: %[[QKV:.*]] = llm.add %[[QKV0]], %[[BA]]
// CHECK: %[[Q:.*]] = llm.slice %[[QKV]] {axis = 2 : i64, start = 0 : i64} : tensor<1x?x48xf32> -> tensor<1x?x16xf32>
// CHECK: %[[K:.*]] = llm.slice %[[QKV]] {axis = 2 : i64, start = 16 : i64} : tensor<1x?x48xf32> -> tensor<1x?x16xf32>
// CHECK: %[[V:.*]] = llm.slice %[[QKV]] {axis = 2 : i64, start = 32 : i64} : tensor<1x?x48xf32> -> tensor<1x?x16xf32>
// CHECK: %[[A:.*]] = llm.attention %[[Q]], %[[K]], %[[V]] cache %[[KV]][%[[START]]] : !llm.kv_cache<2 x 4 x 64 x 4, f32> {causal, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64}
// CHECK: %[[WP:.*]] = llm.weight "{{.*}}h.0.attn.c_proj.weight" : tensor<16x16xf32>
// CHECK: %[[P:.*]] = llm.matmul %[[A]], %[[WP]] :
// CHECK: %[[PB:.*]] = llm.add %[[P]], %{{.*}} : tensor<1x?x16xf32>, tensor<16xf32>
// CHECK: %[[H1:.*]] = llm.add %[[H0]], %[[PB]]
// CHECK: llm.layer_norm %[[H1]], {{.*}} bias
// CHECK: %[[WF:.*]] = llm.weight "{{.*}}h.0.mlp.c_fc.weight" : tensor<16x64xf32>
// CHECK: %[[F:.*]] = llm.matmul %{{.*}}, %[[WF]] : tensor<1x?x16xf32>, tensor<16x64xf32> -> tensor<1x?x64xf32>
// CHECK: %[[FB:.*]] = llm.add %[[F]]
// CHECK: %[[ACT:.*]] = llm.gelu %[[FB]] tanh : tensor<1x?x64xf32>
// CHECK: %[[WM:.*]] = llm.weight "{{.*}}h.0.mlp.c_proj.weight" : tensor<64x16xf32>
// CHECK: llm.matmul %[[ACT]], %[[WM]] : tensor<1x?x64xf32>, tensor<64x16xf32> -> tensor<1x?x16xf32>
// CHECK: llm.attention {{.*}} layer = 1 : i64
// CHECK: llm.weight "{{.*}}ln_f.weight"
// CHECK: %[[NF:.*]] = llm.layer_norm
// CHECK: %[[LAST:.*]] = llm.slice %[[NF]] {axis = 1 : i64, start = -1 : i64}
// CHECK: llm.matmul %[[LAST]], %[[WTE]] transpose_b : tensor<1x1x16xf32>, tensor<40x16xf32> -> tensor<1x1x40xf32>
