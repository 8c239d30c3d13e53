// RUN: llm-opt %s -split-input-file -llm-fuse-swiglu="report=true" -verify-diagnostics | FileCheck %s

// An exported SwiGLU MLP: gate * sigmoid(gate) * up becomes silu(gate) * up.
// CHECK-LABEL: func.func @swiglu
// CHECK-SAME: (%[[G:.*]]: tensor<1x4x160xf32>, %[[U:.*]]: tensor<1x4x160xf32>)
// CHECK: %[[S:.*]] = llm.silu %[[G]] : tensor<1x4x160xf32>
// CHECK-NEXT: %[[M:.*]] = llm.mul %[[S]], %[[U]]
// CHECK-NOT: llm.sigmoid
// expected-remark @+1 {{llm-fuse-swiglu: 1 fused}}
func.func @swiglu(%g: tensor<1x4x160xf32>, %u: tensor<1x4x160xf32>) -> tensor<1x4x160xf32> {
  %s = llm.sigmoid %g : tensor<1x4x160xf32>
  %a = llm.mul %s, %g : tensor<1x4x160xf32>, tensor<1x4x160xf32> -> tensor<1x4x160xf32>
  %m = llm.mul %a, %u : tensor<1x4x160xf32>, tensor<1x4x160xf32> -> tensor<1x4x160xf32>
  return %m : tensor<1x4x160xf32>
}

// -----

// x * sigmoid(y) with y != x is a gate, not a SiLU.
// CHECK-LABEL: func.func @other_gate
// CHECK: llm.sigmoid
// CHECK-NOT: llm.silu
// expected-remark @+1 {{llm-fuse-swiglu: 0 fused}}
func.func @other_gate(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %s = llm.sigmoid %y : tensor<4xf32>
  %a = llm.mul %x, %s : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %a : tensor<4xf32>
}
