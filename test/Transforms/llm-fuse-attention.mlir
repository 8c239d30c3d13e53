// RUN: llm-opt %s -split-input-file -llm-fuse-attention="report=true" -verify-diagnostics | FileCheck %s

// Multi-head causal attention spelled out: heads split by reshape +
// transpose, q k^T / sqrt(d), an additive causal mask, softmax, p v, heads
// merged back.
// CHECK-LABEL: func.func @mha_causal
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x32xf32>, %[[K:.*]]: tensor<1x4x32xf32>, %[[V:.*]]: tensor<1x4x32xf32>)
// CHECK: %[[A:.*]] = llm.attention %[[Q]], %[[K]], %[[V]] {{[{]}}causal, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f32{{[}]}}
// CHECK-NEXT: return %[[A]]
// expected-remark @+1 {{llm-fuse-attention: 1 fused}}
func.func @mha_causal(%q: tensor<1x4x32xf32>, %k: tensor<1x4x32xf32>, %v: tensor<1x4x32xf32>) -> tensor<1x4x32xf32> {
  %q4 = llm.reshape %q : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
  %qt = llm.transpose %q4 [0, 2, 1, 3] : tensor<1x4x2x16xf32> -> tensor<1x2x4x16xf32>
  %k4 = llm.reshape %k : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
  %kt = llm.transpose %k4 [0, 2, 3, 1] : tensor<1x4x2x16xf32> -> tensor<1x2x16x4xf32>
  %v4 = llm.reshape %v : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
  %vt = llm.transpose %v4 [0, 2, 1, 3] : tensor<1x4x2x16xf32> -> tensor<1x2x4x16xf32>
  %s = llm.matmul %qt, %kt : tensor<1x2x4x16xf32>, tensor<1x2x16x4xf32> -> tensor<1x2x4x4xf32>
  %c = arith.constant dense<4.0> : tensor<f32>
  %sc = llm.div %s, %c : tensor<1x2x4x4xf32>, tensor<f32> -> tensor<1x2x4x4xf32>
  %m = arith.constant dense<[[0.0, -1.0e+09, -1.0e+09, -1.0e+09], [0.0, 0.0, -1.0e+09, -1.0e+09], [0.0, 0.0, 0.0, -1.0e+09], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %ms = llm.add %sc, %m : tensor<1x2x4x4xf32>, tensor<4x4xf32> -> tensor<1x2x4x4xf32>
  %p = llm.softmax %ms {axis = -1 : i64} : tensor<1x2x4x4xf32>
  %o = llm.matmul %p, %vt : tensor<1x2x4x4xf32>, tensor<1x2x4x16xf32> -> tensor<1x2x4x16xf32>
  %ot = llm.transpose %o [0, 2, 1, 3] : tensor<1x2x4x16xf32> -> tensor<1x4x2x16xf32>
  %r = llm.reshape %ot : tensor<1x4x2x16xf32> -> tensor<1x4x32xf32>
  return %r : tensor<1x4x32xf32>
}

// -----

// Grouped-query attention: two KV heads repeated twice, keys transposed
// after the repeat, a select against -inf as the causal mask, scale by mul.
// CHECK-LABEL: func.func @gqa_select
// CHECK: llm.attention %{{.*}}, %{{.*}}, %{{.*}} {{[{]}}causal, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 1.250000e-01 : f32{{[}]}} : tensor<1x4x64xf32>, tensor<1x4x32xf32>, tensor<1x4x32xf32> -> tensor<1x4x64xf32>
// expected-remark @+1 {{llm-fuse-attention: 1 fused}}
func.func @gqa_select(%q: tensor<1x4x64xf32>, %k: tensor<1x4x32xf32>, %v: tensor<1x4x32xf32>) -> tensor<1x4x64xf32> {
  %q4 = llm.reshape %q : tensor<1x4x64xf32> -> tensor<1x4x4x16xf32>
  %qt = llm.transpose %q4 [0, 2, 1, 3] : tensor<1x4x4x16xf32> -> tensor<1x4x4x16xf32>
  %k4 = llm.reshape %k : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
  %kh = llm.transpose %k4 [0, 2, 1, 3] : tensor<1x4x2x16xf32> -> tensor<1x2x4x16xf32>
  %ku = llm.reshape %kh : tensor<1x2x4x16xf32> -> tensor<1x2x1x4x16xf32>
  %ke = llm.expand %ku : tensor<1x2x1x4x16xf32> -> tensor<1x2x2x4x16xf32>
  %kr = llm.reshape %ke : tensor<1x2x2x4x16xf32> -> tensor<1x4x4x16xf32>
  %kt = llm.transpose %kr [0, 1, 3, 2] : tensor<1x4x4x16xf32> -> tensor<1x4x16x4xf32>
  %v4 = llm.reshape %v : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
  %vh = llm.transpose %v4 [0, 2, 1, 3] : tensor<1x4x2x16xf32> -> tensor<1x2x4x16xf32>
  %vu = llm.reshape %vh : tensor<1x2x4x16xf32> -> tensor<1x2x1x4x16xf32>
  %ve = llm.expand %vu : tensor<1x2x1x4x16xf32> -> tensor<1x2x2x4x16xf32>
  %vr = llm.reshape %ve : tensor<1x2x2x4x16xf32> -> tensor<1x4x4x16xf32>
  %s = llm.matmul %qt, %kt : tensor<1x4x4x16xf32>, tensor<1x4x16x4xf32> -> tensor<1x4x4x4xf32>
  %c = arith.constant dense<0.125> : tensor<f32>
  %sc = llm.mul %c, %s : tensor<f32>, tensor<1x4x4x4xf32> -> tensor<1x4x4x4xf32>
  %keep = arith.constant dense<[[true, false, false, false], [true, true, false, false], [true, true, true, false], [true, true, true, true]]> : tensor<4x4xi1>
  %ninf = arith.constant dense<0xFF800000> : tensor<f32>
  %ms = llm.select %keep, %sc, %ninf : tensor<4x4xi1>, tensor<1x4x4x4xf32>, tensor<f32> -> tensor<1x4x4x4xf32>
  %p = llm.softmax %ms : tensor<1x4x4x4xf32>
  %o = llm.matmul %p, %vr : tensor<1x4x4x4xf32>, tensor<1x4x4x16xf32> -> tensor<1x4x4x16xf32>
  %ot = llm.transpose %o [0, 2, 1, 3] : tensor<1x4x4x16xf32> -> tensor<1x4x4x16xf32>
  %r = llm.reshape %ot : tensor<1x4x4x16xf32> -> tensor<1x4x64xf32>
  return %r : tensor<1x4x64xf32>
}

// -----

// Without a mask the attention is not causal.
// CHECK-LABEL: func.func @no_mask
// CHECK: llm.attention {{.*}} {{[{]}}num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f32{{[}]}}
// expected-remark @+1 {{llm-fuse-attention: 1 fused}}
func.func @no_mask(%q: tensor<1x4x32xf32>, %k: tensor<1x4x32xf32>, %v: tensor<1x4x32xf32>) -> tensor<1x4x32xf32> {
  %q4 = llm.reshape %q : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
  %qt = llm.transpose %q4 [0, 2, 1, 3] : tensor<1x4x2x16xf32> -> tensor<1x2x4x16xf32>
  %k4 = llm.reshape %k : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
  %kt = llm.transpose %k4 [0, 2, 3, 1] : tensor<1x4x2x16xf32> -> tensor<1x2x16x4xf32>
  %v4 = llm.reshape %v : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
  %vt = llm.transpose %v4 [0, 2, 1, 3] : tensor<1x4x2x16xf32> -> tensor<1x2x4x16xf32>
  %s = llm.matmul %qt, %kt : tensor<1x2x4x16xf32>, tensor<1x2x16x4xf32> -> tensor<1x2x4x4xf32>
  %c = arith.constant dense<0.25> : tensor<f32>
  %sc = llm.mul %s, %c : tensor<1x2x4x4xf32>, tensor<f32> -> tensor<1x2x4x4xf32>
  %p = llm.softmax %sc : tensor<1x2x4x4xf32>
  %o = llm.matmul %p, %vt : tensor<1x2x4x4xf32>, tensor<1x2x4x16xf32> -> tensor<1x2x4x16xf32>
  %ot = llm.transpose %o [0, 2, 1, 3] : tensor<1x2x4x16xf32> -> tensor<1x4x2x16xf32>
  %r = llm.reshape %ot : tensor<1x4x2x16xf32> -> tensor<1x4x32xf32>
  return %r : tensor<1x4x32xf32>
}

// -----

// A mask that also hides the diagonal is not the causal mask: no fusion.
// CHECK-LABEL: func.func @strict_mask
// CHECK-NOT: llm.attention
// expected-remark @+1 {{llm-fuse-attention: 0 fused}}
func.func @strict_mask(%q: tensor<1x4x32xf32>, %k: tensor<1x4x32xf32>, %v: tensor<1x4x32xf32>) -> tensor<1x4x32xf32> {
  %q4 = llm.reshape %q : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
  %qt = llm.transpose %q4 [0, 2, 1, 3] : tensor<1x4x2x16xf32> -> tensor<1x2x4x16xf32>
  %k4 = llm.reshape %k : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
  %kt = llm.transpose %k4 [0, 2, 3, 1] : tensor<1x4x2x16xf32> -> tensor<1x2x16x4xf32>
  %v4 = llm.reshape %v : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
  %vt = llm.transpose %v4 [0, 2, 1, 3] : tensor<1x4x2x16xf32> -> tensor<1x2x4x16xf32>
  %s = llm.matmul %qt, %kt : tensor<1x2x4x16xf32>, tensor<1x2x16x4xf32> -> tensor<1x2x4x4xf32>
  %m = arith.constant dense<[[-1.0e+09, -1.0e+09, -1.0e+09, -1.0e+09], [0.0, -1.0e+09, -1.0e+09, -1.0e+09], [0.0, 0.0, -1.0e+09, -1.0e+09], [0.0, 0.0, 0.0, -1.0e+09]]> : tensor<4x4xf32>
  %ms = llm.add %s, %m : tensor<1x2x4x4xf32>, tensor<4x4xf32> -> tensor<1x2x4x4xf32>
  %p = llm.softmax %ms : tensor<1x2x4x4xf32>
  %o = llm.matmul %p, %vt : tensor<1x2x4x4xf32>, tensor<1x2x4x16xf32> -> tensor<1x2x4x16xf32>
  %ot = llm.transpose %o [0, 2, 1, 3] : tensor<1x2x4x16xf32> -> tensor<1x4x2x16xf32>
  %r = llm.reshape %ot : tensor<1x4x2x16xf32> -> tensor<1x4x32xf32>
  return %r : tensor<1x4x32xf32>
}
