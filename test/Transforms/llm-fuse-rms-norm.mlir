// RUN: llm-opt %s -split-input-file -llm-fuse-rms-norm="report=true" -verify-diagnostics | FileCheck %s

// The exported spelling: pow, reduce_mean, + eps, sqrt, reciprocal, * x, * w.
// CHECK-LABEL: func.func @pow_reciprocal
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x64xf32>, %[[W:.*]]: tensor<64xf32>)
// CHECK: %[[N:.*]] = llm.rms_norm %[[X]], %[[W]] eps = 9.99999974{{[0-9]*}}E-6 : tensor<1x4x64xf32>, tensor<64xf32>
// CHECK-NEXT: return %[[N]]
// expected-remark @+1 {{llm-fuse-rms-norm: 1 fused}}
func.func @pow_reciprocal(%x: tensor<1x4x64xf32>, %w: tensor<64xf32>) -> tensor<1x4x64xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-05> : tensor<f32>
  %p = llm.pow %x, %two : tensor<1x4x64xf32>, tensor<f32> -> tensor<1x4x64xf32>
  %m = llm.reduce_mean %p {axes = array<i64: 2>, keepdims} : tensor<1x4x64xf32> -> tensor<1x4x1xf32>
  %a = llm.add %m, %eps : tensor<1x4x1xf32>, tensor<f32> -> tensor<1x4x1xf32>
  %s = llm.sqrt %a : tensor<1x4x1xf32>
  %r = llm.reciprocal %s : tensor<1x4x1xf32>
  %n = llm.mul %x, %r : tensor<1x4x64xf32>, tensor<1x4x1xf32> -> tensor<1x4x64xf32>
  %y = llm.mul %w, %n : tensor<64xf32>, tensor<1x4x64xf32> -> tensor<1x4x64xf32>
  return %y : tensor<1x4x64xf32>
}

// -----

// x * x and x / sqrt(...), with the constant first in the add.
// CHECK-LABEL: func.func @square_divide
// CHECK: llm.rms_norm %{{.*}}, %{{.*}} eps = 9.99999997{{[0-9]*}}E-7
// CHECK-NOT: llm.div
// expected-remark @+1 {{llm-fuse-rms-norm: 1 fused}}
func.func @square_divide(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> tensor<2x8xf32> {
  %eps = arith.constant dense<1.0e-06> : tensor<1xf32>
  %q = llm.mul %x, %x : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %m = llm.reduce_mean %q {axes = array<i64: 1>, keepdims} : tensor<2x8xf32> -> tensor<2x1xf32>
  %a = llm.add %eps, %m : tensor<1xf32>, tensor<2x1xf32> -> tensor<2x1xf32>
  %s = llm.sqrt %a : tensor<2x1xf32>
  %n = llm.div %x, %s : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  %y = llm.mul %n, %w : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Not an RMS norm: the mean runs over the wrong axis.
// CHECK-LABEL: func.func @wrong_axis
// CHECK-NOT: llm.rms_norm
// expected-remark @+1 {{llm-fuse-rms-norm: 0 fused}}
func.func @wrong_axis(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> tensor<2x8xf32> {
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-05> : tensor<f32>
  %p = llm.pow %x, %two : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %m = llm.reduce_mean %p {axes = array<i64: 0>, keepdims} : tensor<2x8xf32> -> tensor<1x8xf32>
  %a = llm.add %m, %eps : tensor<1x8xf32>, tensor<f32> -> tensor<1x8xf32>
  %s = llm.sqrt %a : tensor<1x8xf32>
  %r = llm.reciprocal %s : tensor<1x8xf32>
  %n = llm.mul %x, %r : tensor<2x8xf32>, tensor<1x8xf32> -> tensor<2x8xf32>
  %y = llm.mul %n, %w : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Not an RMS norm: the exponent is 3, and the normalized value is another
// tensor than the one squared.
// CHECK-LABEL: func.func @mismatch
// CHECK-NOT: llm.rms_norm
// expected-remark @+1 {{llm-fuse-rms-norm: 0 fused}}
func.func @mismatch(%x: tensor<2x8xf32>, %z: tensor<2x8xf32>, %w: tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %three = arith.constant dense<3.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-05> : tensor<f32>
  %p = llm.pow %x, %three : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %m = llm.reduce_mean %p {axes = array<i64: 1>, keepdims} : tensor<2x8xf32> -> tensor<2x1xf32>
  %a = llm.add %m, %eps : tensor<2x1xf32>, tensor<f32> -> tensor<2x1xf32>
  %s = llm.sqrt %a : tensor<2x1xf32>
  %r = llm.reciprocal %s : tensor<2x1xf32>
  %n = llm.mul %x, %r : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  %y = llm.mul %n, %w : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  %q = llm.mul %x, %x : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %m2 = llm.reduce_mean %q {axes = array<i64: 1>, keepdims} : tensor<2x8xf32> -> tensor<2x1xf32>
  %a2 = llm.add %m2, %eps : tensor<2x1xf32>, tensor<f32> -> tensor<2x1xf32>
  %s2 = llm.sqrt %a2 : tensor<2x1xf32>
  %n2 = llm.div %z, %s2 : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  %y2 = llm.mul %n2, %w : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  return %y, %y2 : tensor<2x8xf32>, tensor<2x8xf32>
}
