// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_checkpoint.py model %t/qwen2 --arch qwen2 --tie --set 'rope_theta=1000000.0' --set 'use_sliding_window=true' --set 'sliding_window=64'
// RUN: llm-import %t/qwen2 | FileCheck %s

// Qwen2 adds biases to the q/k/v projections (not to o_proj) and records
// its sliding window without applying it.

// CHECK: llm.arch = "qwen2"
// CHECK-SAME: llm.sliding_window = 64 : i64
// CHECK: %[[N:.*]] = llm.rms_norm
// CHECK: %[[WQ:.*]] = llm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<16x16xf32>
// CHECK: %[[Q:.*]] = llm.matmul %[[N]], %[[WQ]] transpose_b
// CHECK: %[[BQ:.*]] = llm.weight "model.layers.0.self_attn.q_proj.bias" : tensor<16xf32>
// CHECK: %[[QB:.*]] = llm.add %[[Q]], %[[BQ]] : tensor<1x?x16xf32>, tensor<16xf32> -> tensor<1x?x16xf32>
// CHECK: %[[WK:.*]] = llm.weight "model.layers.0.self_attn.k_proj.weight" : tensor<8x16xf32>
// CHECK: %[[K:.*]] = llm.matmul %[[N]], %[[WK]] transpose_b
// CHECK: %[[BK:.*]] = llm.weight "model.layers.0.self_attn.k_proj.bias" : tensor<8xf32>
// CHECK: %[[KB:.*]] = llm.add %[[K]], %[[BK]] : tensor<1x?x8xf32>, tensor<8xf32> -> tensor<1x?x8xf32>
// CHECK: %[[WV:.*]] = llm.weight "model.layers.0.self_attn.v_proj.weight"
// CHECK: %[[V:.*]] = llm.matmul %[[N]], %[[WV]] transpose_b
// CHECK: %[[BV:.*]] = llm.weight "model.layers.0.self_attn.v_proj.bias" : tensor<8xf32>
// CHECK: %[[VB:.*]] = llm.add %[[V]], %[[BV]]
// CHECK: %[[QR:.*]] = llm.rope %[[QB]], %{{.*}} {num_heads = 4 : i64, theta = 1.000000e+06 : f64}
// CHECK: %[[KR:.*]] = llm.rope %[[KB]], %{{.*}} {num_heads = 2 : i64, theta = 1.000000e+06 : f64}
// CHECK: %[[A:.*]] = llm.attention %[[QR]], %[[KR]], %[[VB]] cache
// CHECK: %[[WO:.*]] = llm.weight "model.layers.0.self_attn.o_proj.weight"
// CHECK-NOT: o_proj.bias
// CHECK: llm.matmul %[[A]], %[[WO]] transpose_b
// CHECK-NOT: lm_head
// CHECK: return
