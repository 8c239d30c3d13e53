// RUN: llm-opt %s -split-input-file -llm-fuse-rope="report=true" -verify-diagnostics | FileCheck %s
// RUN: llm-opt %s -split-input-file -llm-fuse-rope="report=true" -llm-fuse-attention -verify-diagnostics | FileCheck %s --check-prefix=ATTN

// HF llama's rotary embedding as exported: cos and sin rows gathered from
// cat(freqs, freqs) tables by the position ids, unsqueezed over heads;
// q * cos + rotate_half(q) * sin becomes one llm.rope on the [B, S, H*D]
// value with the first halves of the tables, split into heads again.
// CHECK-LABEL: func.func @gather_tables
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x8xf32>, %[[POS:.*]]: tensor<1x3xi64>)
// CHECK-DAG: %[[C:.*]] = arith.constant dense<{{\[}}[1.000000e+00, 1.000000e+00], [5.403000e-01, 1.000000e+00], [-4.161000e-01, 9.998000e-01], [-9.900000e-01, 0.999599993], [-6.536000e-01, 0.999199986], [2.837000e-01, 0.998799979], [9.602000e-01, 0.998199999], [0.753899991, 9.976000e-01]]> : tensor<8x2xf32>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<{{\[}}[0.000000e+00, 0.000000e+00], [0.841499984, 0.00999999977], [9.093000e-01, 2.000000e-02], [1.411000e-01, 3.000000e-02], [-0.756799995, 4.000000e-02], [-0.958899974, 5.000000e-02], [-2.794000e-01, 6.000000e-02], [6.570000e-01, 6.990000e-02]]> : tensor<8x2xf32>
// CHECK-NOT: llm.gather
// CHECK: %[[R:.*]] = llm.rope %[[X]], %[[POS]] tables(%[[C]], %[[S]] : tensor<8x2xf32>, tensor<8x2xf32>) {num_heads = 2 : i64} : tensor<1x3x8xf32>, tensor<1x3xi64>
// CHECK-NEXT: %[[R4:.*]] = llm.reshape %[[R]] : tensor<1x3x8xf32> -> tensor<1x3x2x4xf32>
// CHECK-NEXT: %[[T:.*]] = llm.transpose %[[R4]] [0, 2, 1, 3] : tensor<1x3x2x4xf32> -> tensor<1x2x3x4xf32>
// CHECK-NEXT: return %[[T]]
// expected-remark @+1 {{llm-fuse-rope: 1 fused}}
func.func @gather_tables(%x: tensor<1x3x8xf32>, %pos: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %cos_table = arith.constant dense<[[1.0000, 1.0000, 1.0000, 1.0000], [0.5403, 1.0000, 0.5403, 1.0000], [-0.4161, 0.9998, -0.4161, 0.9998], [-0.9900, 0.9996, -0.9900, 0.9996], [-0.6536, 0.9992, -0.6536, 0.9992], [0.2837, 0.9988, 0.2837, 0.9988], [0.9602, 0.9982, 0.9602, 0.9982], [0.7539, 0.9976, 0.7539, 0.9976]]> : tensor<8x4xf32>
  %sin_table = arith.constant dense<[[0.0000, 0.0000, 0.0000, 0.0000], [0.8415, 0.0100, 0.8415, 0.0100], [0.9093, 0.0200, 0.9093, 0.0200], [0.1411, 0.0300, 0.1411, 0.0300], [-0.7568, 0.0400, -0.7568, 0.0400], [-0.9589, 0.0500, -0.9589, 0.0500], [-0.2794, 0.0600, -0.2794, 0.0600], [0.6570, 0.0699, 0.6570, 0.0699]]> : tensor<8x4xf32>
  %cg = llm.gather %cos_table, %pos {axis = 0 : i64} : tensor<8x4xf32>, tensor<1x3xi64> -> tensor<1x3x4xf32>
  %cos = llm.reshape %cg : tensor<1x3x4xf32> -> tensor<1x1x3x4xf32>
  %sg = llm.gather %sin_table, %pos {axis = 0 : i64} : tensor<8x4xf32>, tensor<1x3xi64> -> tensor<1x3x4xf32>
  %sin = llm.reshape %sg : tensor<1x3x4xf32> -> tensor<1x1x3x4xf32>
  %q4 = llm.reshape %x : tensor<1x3x8xf32> -> tensor<1x3x2x4xf32>
  %qh = llm.transpose %q4 [0, 2, 1, 3] : tensor<1x3x2x4xf32> -> tensor<1x2x3x4xf32>
  %qc = llm.mul %qh, %cos : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32> -> tensor<1x2x3x4xf32>
  %qlo = llm.slice %qh {axis = 3 : i64, start = 0 : i64} : tensor<1x2x3x4xf32> -> tensor<1x2x3x2xf32>
  %qhi = llm.slice %qh {axis = 3 : i64, start = 2 : i64} : tensor<1x2x3x4xf32> -> tensor<1x2x3x2xf32>
  %qn = llm.neg %qhi : tensor<1x2x3x2xf32>
  %qr = llm.concat %qn, %qlo {axis = 3 : i64} : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32> -> tensor<1x2x3x4xf32>
  %qs = llm.mul %sin, %qr : tensor<1x1x3x4xf32>, tensor<1x2x3x4xf32> -> tensor<1x2x3x4xf32>
  %qo = llm.add %qc, %qs : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32> -> tensor<1x2x3x4xf32>
  return %qo : tensor<1x2x3x4xf32>
}

// -----

// Tables already sliced for a static sequence of 3 (one [3, 4] constant
// unsqueezed, one constant [1, 1, 3, 4]) on a batch of 2: positions 0..2.
// CHECK-LABEL: func.func @static_tables
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8xf32>)
// CHECK-DAG: %[[POS:.*]] = arith.constant dense<{{\[}}[0, 1, 2], [0, 1, 2]]> : tensor<2x3xi64>
// CHECK-DAG: %[[C:.*]] = arith.constant dense<{{\[}}[1.000000e+00, 1.000000e+00], [5.403000e-01, 1.000000e+00], [-4.161000e-01, 9.998000e-01]]> : tensor<3x2xf32>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<{{\[}}[0.000000e+00, 0.000000e+00], [0.841499984, 0.00999999977], [9.093000e-01, 2.000000e-02]]> : tensor<3x2xf32>
// CHECK: llm.rope %[[X]], %[[POS]] tables(%[[C]], %[[S]] : tensor<3x2xf32>, tensor<3x2xf32>) {num_heads = 2 : i64} : tensor<2x3x8xf32>, tensor<2x3xi64>
// expected-remark @+1 {{llm-fuse-rope: 1 fused}}
func.func @static_tables(%x: tensor<2x3x8xf32>) -> tensor<2x2x3x4xf32> {
  %c = arith.constant dense<[[1.0000, 1.0000, 1.0000, 1.0000], [0.5403, 1.0000, 0.5403, 1.0000], [-0.4161, 0.9998, -0.4161, 0.9998]]> : tensor<3x4xf32>
  %cos = llm.reshape %c : tensor<3x4xf32> -> tensor<1x1x3x4xf32>
  %sin = arith.constant dense<[[[[0.0000, 0.0000, 0.0000, 0.0000], [0.8415, 0.0100, 0.8415, 0.0100], [0.9093, 0.0200, 0.9093, 0.0200]]]]> : tensor<1x1x3x4xf32>
  %q4 = llm.reshape %x : tensor<2x3x8xf32> -> tensor<2x3x2x4xf32>
  %qh = llm.transpose %q4 [0, 2, 1, 3] : tensor<2x3x2x4xf32> -> tensor<2x2x3x4xf32>
  %qc = llm.mul %qh, %cos : tensor<2x2x3x4xf32>, tensor<1x1x3x4xf32> -> tensor<2x2x3x4xf32>
  %qlo = llm.slice %qh {axis = 3 : i64, start = 0 : i64} : tensor<2x2x3x4xf32> -> tensor<2x2x3x2xf32>
  %qhi = llm.slice %qh {axis = 3 : i64, start = 2 : i64} : tensor<2x2x3x4xf32> -> tensor<2x2x3x2xf32>
  %qn = llm.neg %qhi : tensor<2x2x3x2xf32>
  %qr = llm.concat %qn, %qlo {axis = 3 : i64} : tensor<2x2x3x2xf32>, tensor<2x2x3x2xf32> -> tensor<2x2x3x4xf32>
  %qs = llm.mul %sin, %qr : tensor<1x1x3x4xf32>, tensor<2x2x3x4xf32> -> tensor<2x2x3x4xf32>
  %qo = llm.add %qc, %qs : tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32> -> tensor<2x2x3x4xf32>
  return %qo : tensor<2x2x3x4xf32>
}

// -----

// A llama attention block: RoPE on q and k, keys transposed for q k^T,
// scale 1/sqrt(4), causal mask. After both passes one llm.rope per q and k
// feeds one llm.attention and no matmul is left.
// CHECK-LABEL: func.func @rope_attention
// CHECK-COUNT-2: llm.rope
// CHECK: llm.matmul
// ATTN-LABEL: func.func @rope_attention
// ATTN-SAME: (%[[Q:.*]]: tensor<1x4x8xf32>, %[[K:.*]]: tensor<1x4x8xf32>, %[[V:.*]]: tensor<1x4x8xf32>, %[[POS:.*]]: tensor<1x4xi64>)
// ATTN-DAG: %[[RQ:.*]] = llm.rope %[[Q]], %[[POS]] tables
// ATTN-DAG: %[[RK:.*]] = llm.rope %[[K]], %[[POS]] tables
// ATTN: %[[A:.*]] = llm.attention %[[RQ]], %[[RK]], %[[V]] {causal, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 5.000000e-01 : f32}
// ATTN-NEXT: return %[[A]]
// ATTN-NOT: llm.matmul
// expected-remark @+1 {{llm-fuse-rope: 2 fused}}
func.func @rope_attention(%q: tensor<1x4x8xf32>, %k: tensor<1x4x8xf32>, %v: tensor<1x4x8xf32>, %pos: tensor<1x4xi64>) -> tensor<1x4x8xf32> {
  %cos_table = arith.constant dense<[[1.0000, 1.0000, 1.0000, 1.0000], [0.5403, 1.0000, 0.5403, 1.0000], [-0.4161, 0.9998, -0.4161, 0.9998], [-0.9900, 0.9996, -0.9900, 0.9996], [-0.6536, 0.9992, -0.6536, 0.9992], [0.2837, 0.9988, 0.2837, 0.9988], [0.9602, 0.9982, 0.9602, 0.9982], [0.7539, 0.9976, 0.7539, 0.9976]]> : tensor<8x4xf32>
  %sin_table = arith.constant dense<[[0.0000, 0.0000, 0.0000, 0.0000], [0.8415, 0.0100, 0.8415, 0.0100], [0.9093, 0.0200, 0.9093, 0.0200], [0.1411, 0.0300, 0.1411, 0.0300], [-0.7568, 0.0400, -0.7568, 0.0400], [-0.9589, 0.0500, -0.9589, 0.0500], [-0.2794, 0.0600, -0.2794, 0.0600], [0.6570, 0.0699, 0.6570, 0.0699]]> : tensor<8x4xf32>
  %cg = llm.gather %cos_table, %pos {axis = 0 : i64} : tensor<8x4xf32>, tensor<1x4xi64> -> tensor<1x4x4xf32>
  %cos = llm.reshape %cg : tensor<1x4x4xf32> -> tensor<1x1x4x4xf32>
  %sg = llm.gather %sin_table, %pos {axis = 0 : i64} : tensor<8x4xf32>, tensor<1x4xi64> -> tensor<1x4x4xf32>
  %sin = llm.reshape %sg : tensor<1x4x4xf32> -> tensor<1x1x4x4xf32>
  %q4 = llm.reshape %q : tensor<1x4x8xf32> -> tensor<1x4x2x4xf32>
  %qh = llm.transpose %q4 [0, 2, 1, 3] : tensor<1x4x2x4xf32> -> tensor<1x2x4x4xf32>
  %qc = llm.mul %qh, %cos : tensor<1x2x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x2x4x4xf32>
  %qlo = llm.slice %qh {axis = 3 : i64, start = 0 : i64} : tensor<1x2x4x4xf32> -> tensor<1x2x4x2xf32>
  %qhi = llm.slice %qh {axis = 3 : i64, start = 2 : i64} : tensor<1x2x4x4xf32> -> tensor<1x2x4x2xf32>
  %qn = llm.neg %qhi : tensor<1x2x4x2xf32>
  %qr = llm.concat %qn, %qlo {axis = 3 : i64} : tensor<1x2x4x2xf32>, tensor<1x2x4x2xf32> -> tensor<1x2x4x4xf32>
  %qs = llm.mul %sin, %qr : tensor<1x1x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %qo = llm.add %qc, %qs : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %k4 = llm.reshape %k : tensor<1x4x8xf32> -> tensor<1x4x2x4xf32>
  %kh = llm.transpose %k4 [0, 2, 1, 3] : tensor<1x4x2x4xf32> -> tensor<1x2x4x4xf32>
  %kc = llm.mul %kh, %cos : tensor<1x2x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x2x4x4xf32>
  %klo = llm.slice %kh {axis = 3 : i64, start = 0 : i64} : tensor<1x2x4x4xf32> -> tensor<1x2x4x2xf32>
  %khi = llm.slice %kh {axis = 3 : i64, start = 2 : i64} : tensor<1x2x4x4xf32> -> tensor<1x2x4x2xf32>
  %kn = llm.neg %khi : tensor<1x2x4x2xf32>
  %kr = llm.concat %kn, %klo {axis = 3 : i64} : tensor<1x2x4x2xf32>, tensor<1x2x4x2xf32> -> tensor<1x2x4x4xf32>
  %ks = llm.mul %sin, %kr : tensor<1x1x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %ko = llm.add %kc, %ks : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %kt = llm.transpose %ko [0, 1, 3, 2] : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %v4 = llm.reshape %v : tensor<1x4x8xf32> -> tensor<1x4x2x4xf32>
  %vt = llm.transpose %v4 [0, 2, 1, 3] : tensor<1x4x2x4xf32> -> tensor<1x2x4x4xf32>
  %s = llm.matmul %qo, %kt : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %sc = llm.div %s, %two : tensor<1x2x4x4xf32>, tensor<f32> -> tensor<1x2x4x4xf32>
  %m = arith.constant dense<[[0.0, -1.0e+09, -1.0e+09, -1.0e+09], [0.0, 0.0, -1.0e+09, -1.0e+09], [0.0, 0.0, 0.0, -1.0e+09], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %ms = llm.add %sc, %m : tensor<1x2x4x4xf32>, tensor<4x4xf32> -> tensor<1x2x4x4xf32>
  %p = llm.softmax %ms {axis = -1 : i64} : tensor<1x2x4x4xf32>
  %o = llm.matmul %p, %vt : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %ot = llm.transpose %o [0, 2, 1, 3] : tensor<1x2x4x4xf32> -> tensor<1x4x2x4xf32>
  %r = llm.reshape %ot : tensor<1x4x2x4xf32> -> tensor<1x4x8xf32>
  return %r : tensor<1x4x8xf32>
}

// -----

// rotate_half with the halves the wrong way round, concat(-x1, x2), rotates
// backwards: not this rope.
// CHECK-LABEL: func.func @swapped_halves
// CHECK-NOT: llm.rope
// expected-remark @+1 {{llm-fuse-rope: 0 fused}}
func.func @swapped_halves(%x: tensor<1x3x8xf32>, %pos: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %cos_table = arith.constant dense<[[1.0000, 1.0000, 1.0000, 1.0000], [0.5403, 1.0000, 0.5403, 1.0000], [-0.4161, 0.9998, -0.4161, 0.9998], [-0.9900, 0.9996, -0.9900, 0.9996], [-0.6536, 0.9992, -0.6536, 0.9992], [0.2837, 0.9988, 0.2837, 0.9988], [0.9602, 0.9982, 0.9602, 0.9982], [0.7539, 0.9976, 0.7539, 0.9976]]> : tensor<8x4xf32>
  %sin_table = arith.constant dense<[[0.0000, 0.0000, 0.0000, 0.0000], [0.8415, 0.0100, 0.8415, 0.0100], [0.9093, 0.0200, 0.9093, 0.0200], [0.1411, 0.0300, 0.1411, 0.0300], [-0.7568, 0.0400, -0.7568, 0.0400], [-0.9589, 0.0500, -0.9589, 0.0500], [-0.2794, 0.0600, -0.2794, 0.0600], [0.6570, 0.0699, 0.6570, 0.0699]]> : tensor<8x4xf32>
  %cg = llm.gather %cos_table, %pos {axis = 0 : i64} : tensor<8x4xf32>, tensor<1x3xi64> -> tensor<1x3x4xf32>
  %cos = llm.reshape %cg : tensor<1x3x4xf32> -> tensor<1x1x3x4xf32>
  %sg = llm.gather %sin_table, %pos {axis = 0 : i64} : tensor<8x4xf32>, tensor<1x3xi64> -> tensor<1x3x4xf32>
  %sin = llm.reshape %sg : tensor<1x3x4xf32> -> tensor<1x1x3x4xf32>
  %q4 = llm.reshape %x : tensor<1x3x8xf32> -> tensor<1x3x2x4xf32>
  %qh = llm.transpose %q4 [0, 2, 1, 3] : tensor<1x3x2x4xf32> -> tensor<1x2x3x4xf32>
  %qc = llm.mul %qh, %cos : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32> -> tensor<1x2x3x4xf32>
  %qlo = llm.slice %qh {axis = 3 : i64, start = 0 : i64} : tensor<1x2x3x4xf32> -> tensor<1x2x3x2xf32>
  %qhi = llm.slice %qh {axis = 3 : i64, start = 2 : i64} : tensor<1x2x3x4xf32> -> tensor<1x2x3x2xf32>
  %qn = llm.neg %qlo : tensor<1x2x3x2xf32>
  %qr = llm.concat %qn, %qhi {axis = 3 : i64} : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32> -> tensor<1x2x3x4xf32>
  %qs = llm.mul %sin, %qr : tensor<1x1x3x4xf32>, tensor<1x2x3x4xf32> -> tensor<1x2x3x4xf32>
  %qo = llm.add %qc, %qs : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32> -> tensor<1x2x3x4xf32>
  return %qo : tensor<1x2x3x4xf32>
}

// -----

// The negation on the wrong half: concat(x2, -x1).
// CHECK-LABEL: func.func @neg_wrong_half
// CHECK-NOT: llm.rope
// expected-remark @+1 {{llm-fuse-rope: 0 fused}}
func.func @neg_wrong_half(%x: tensor<1x3x8xf32>, %pos: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %cos_table = arith.constant dense<[[1.0000, 1.0000, 1.0000, 1.0000], [0.5403, 1.0000, 0.5403, 1.0000], [-0.4161, 0.9998, -0.4161, 0.9998], [-0.9900, 0.9996, -0.9900, 0.9996], [-0.6536, 0.9992, -0.6536, 0.9992], [0.2837, 0.9988, 0.2837, 0.9988], [0.9602, 0.9982, 0.9602, 0.9982], [0.7539, 0.9976, 0.7539, 0.9976]]> : tensor<8x4xf32>
  %sin_table = arith.constant dense<[[0.0000, 0.0000, 0.0000, 0.0000], [0.8415, 0.0100, 0.8415, 0.0100], [0.9093, 0.0200, 0.9093, 0.0200], [0.1411, 0.0300, 0.1411, 0.0300], [-0.7568, 0.0400, -0.7568, 0.0400], [-0.9589, 0.0500, -0.9589, 0.0500], [-0.2794, 0.0600, -0.2794, 0.0600], [0.6570, 0.0699, 0.6570, 0.0699]]> : tensor<8x4xf32>
  %cg = llm.gather %cos_table, %pos {axis = 0 : i64} : tensor<8x4xf32>, tensor<1x3xi64> -> tensor<1x3x4xf32>
  %cos = llm.reshape %cg : tensor<1x3x4xf32> -> tensor<1x1x3x4xf32>
  %sg = llm.gather %sin_table, %pos {axis = 0 : i64} : tensor<8x4xf32>, tensor<1x3xi64> -> tensor<1x3x4xf32>
  %sin = llm.reshape %sg : tensor<1x3x4xf32> -> tensor<1x1x3x4xf32>
  %q4 = llm.reshape %x : tensor<1x3x8xf32> -> tensor<1x3x2x4xf32>
  %qh = llm.transpose %q4 [0, 2, 1, 3] : tensor<1x3x2x4xf32> -> tensor<1x2x3x4xf32>
  %qc = llm.mul %qh, %cos : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32> -> tensor<1x2x3x4xf32>
  %qlo = llm.slice %qh {axis = 3 : i64, start = 0 : i64} : tensor<1x2x3x4xf32> -> tensor<1x2x3x2xf32>
  %qhi = llm.slice %qh {axis = 3 : i64, start = 2 : i64} : tensor<1x2x3x4xf32> -> tensor<1x2x3x2xf32>
  %qn = llm.neg %qlo : tensor<1x2x3x2xf32>
  %qr = llm.concat %qhi, %qn {axis = 3 : i64} : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32> -> tensor<1x2x3x4xf32>
  %qs = llm.mul %sin, %qr : tensor<1x1x3x4xf32>, tensor<1x2x3x4xf32> -> tensor<1x2x3x4xf32>
  %qo = llm.add %qc, %qs : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32> -> tensor<1x2x3x4xf32>
  return %qo : tensor<1x2x3x4xf32>
}

// -----

// A cos table whose row 1 is not cat(h, h): llm.rope's half tables cannot
// express it.
// CHECK-LABEL: func.func @halves_differ
// CHECK-NOT: llm.rope
// expected-remark @+1 {{llm-fuse-rope: 0 fused}}
func.func @halves_differ(%x: tensor<1x3x8xf32>, %pos: tensor<1x3xi64>) -> tensor<1x2x3x4xf32> {
  %cos_table = arith.constant dense<[[1.0000, 1.0000, 1.0000, 1.0000], [0.5403, 1.0000, 0.5403, 0.9000], [-0.4161, 0.9998, -0.4161, 0.9998], [-0.9900, 0.9996, -0.9900, 0.9996], [-0.6536, 0.9992, -0.6536, 0.9992], [0.2837, 0.9988, 0.2837, 0.9988], [0.9602, 0.9982, 0.9602, 0.9982], [0.7539, 0.9976, 0.7539, 0.9976]]> : tensor<8x4xf32>
  %sin_table = arith.constant dense<[[0.0000, 0.0000, 0.0000, 0.0000], [0.8415, 0.0100, 0.8415, 0.0100], [0.9093, 0.0200, 0.9093, 0.0200], [0.1411, 0.0300, 0.1411, 0.0300], [-0.7568, 0.0400, -0.7568, 0.0400], [-0.9589, 0.0500, -0.9589, 0.0500], [-0.2794, 0.0600, -0.2794, 0.0600], [0.6570, 0.0699, 0.6570, 0.0699]]> : tensor<8x4xf32>
  %cg = llm.gather %cos_table, %pos {axis = 0 : i64} : tensor<8x4xf32>, tensor<1x3xi64> -> tensor<1x3x4xf32>
  %cos = llm.reshape %cg : tensor<1x3x4xf32> -> tensor<1x1x3x4xf32>
  %sg = llm.gather %sin_table, %pos {axis = 0 : i64} : tensor<8x4xf32>, tensor<1x3xi64> -> tensor<1x3x4xf32>
  %sin = llm.reshape %sg : tensor<1x3x4xf32> -> tensor<1x1x3x4xf32>
  %q4 = llm.reshape %x : tensor<1x3x8xf32> -> tensor<1x3x2x4xf32>
  %qh = llm.transpose %q4 [0, 2, 1, 3] : tensor<1x3x2x4xf32> -> tensor<1x2x3x4xf32>
  %qc = llm.mul %qh, %cos : tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32> -> tensor<1x2x3x4xf32>
  %qlo = llm.slice %qh {axis = 3 : i64, start = 0 : i64} : tensor<1x2x3x4xf32> -> tensor<1x2x3x2xf32>
  %qhi = llm.slice %qh {axis = 3 : i64, start = 2 : i64} : tensor<1x2x3x4xf32> -> tensor<1x2x3x2xf32>
  %qn = llm.neg %qhi : tensor<1x2x3x2xf32>
  %qr = llm.concat %qn, %qlo {axis = 3 : i64} : tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32> -> tensor<1x2x3x4xf32>
  %qs = llm.mul %sin, %qr : tensor<1x1x3x4xf32>, tensor<1x2x3x4xf32> -> tensor<1x2x3x4xf32>
  %qo = llm.add %qc, %qs : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32> -> tensor<1x2x3x4xf32>
  return %qo : tensor<1x2x3x4xf32>
}
