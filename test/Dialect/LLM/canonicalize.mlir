// RUN: llm-opt %s -split-input-file -canonicalize | FileCheck %s

// Folders and canonicalization patterns of llm shape ops.

// A reshape to the same type is the input.
// CHECK-LABEL: func.func @reshape_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>)
// CHECK-NOT: llm.reshape
// CHECK: return %[[X]]
func.func @reshape_identity(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = llm.reshape %x : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Chained reshapes collapse into one from the original input.
// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>)
// CHECK: %[[R:.*]] = llm.reshape %[[X]] : tensor<2x8xf32> -> tensor<4x2x2xf32>
// CHECK-NOT: llm.reshape
// CHECK: return %[[R]]
func.func @reshape_chain(%x: tensor<2x8xf32>) -> tensor<4x2x2xf32> {
  %0 = llm.reshape %x : tensor<2x8xf32> -> tensor<16xf32>
  %1 = llm.reshape %0 : tensor<16xf32> -> tensor<4x2x2xf32>
  return %1 : tensor<4x2x2xf32>
}

// -----

// A reshape back to the original shape disappears.
// CHECK-LABEL: func.func @reshape_round_trip
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>)
// CHECK-NOT: llm.reshape
// CHECK: return %[[X]]
func.func @reshape_round_trip(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = llm.reshape %x : tensor<2x8xf32> -> tensor<16xf32>
  %1 = llm.reshape %0 : tensor<16xf32> -> tensor<2x8xf32>
  return %1 : tensor<2x8xf32>
}

// -----

// The identity permutation folds away.
// CHECK-LABEL: func.func @transpose_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>)
// CHECK-NOT: llm.transpose
// CHECK: return %[[X]]
func.func @transpose_identity(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = llm.transpose %x [0, 1] : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Two transposes compose into one.
// CHECK-LABEL: func.func @transpose_compose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[T:.*]] = llm.transpose %[[X]] [2, 1, 0] : tensor<2x3x4xf32> -> tensor<4x3x2xf32>
// CHECK-NOT: llm.transpose
// CHECK: return %[[T]]
func.func @transpose_compose(%x: tensor<2x3x4xf32>) -> tensor<4x3x2xf32> {
  %0 = llm.transpose %x [1, 2, 0] : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %1 = llm.transpose %0 [1, 0, 2] : tensor<3x4x2xf32> -> tensor<4x3x2xf32>
  return %1 : tensor<4x3x2xf32>
}

// -----

// Inverse transposes cancel.
// CHECK-LABEL: func.func @transpose_inverse
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x9x64xf32>)
// CHECK-NOT: llm.transpose
// CHECK: return %[[X]]
func.func @transpose_inverse(%x: tensor<1x4x9x64xf32>) -> tensor<1x4x9x64xf32> {
  %0 = llm.transpose %x [0, 2, 1, 3] : tensor<1x4x9x64xf32> -> tensor<1x9x4x64xf32>
  %1 = llm.transpose %0 [0, 2, 1, 3] : tensor<1x9x4x64xf32> -> tensor<1x4x9x64xf32>
  return %1 : tensor<1x4x9x64xf32>
}

// -----

// Unused pure ops are removed, but attention that writes a KV cache stays.
// CHECK-LABEL: func.func @dead_code
// CHECK-NOT: llm.matmul
// CHECK: llm.attention {{.*}} cache
// CHECK-NOT: llm.attention
func.func @dead_code(%x: tensor<1x1x64xf32>, %w: tensor<64x64xf32>,
                     %c: !llm.kv_cache<1 x 4 x 16 x 16, f32>, %p: index) {
  %0 = llm.matmul %x, %w transpose_b : tensor<1x1x64xf32>, tensor<64x64xf32> -> tensor<1x1x64xf32>
  %1 = llm.attention %x, %x, %x cache %c[%p] : !llm.kv_cache<1 x 4 x 16 x 16, f32>
         {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, causal}
         : tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32> -> tensor<1x1x64xf32>
  %2 = llm.attention %x, %x, %x {num_heads = 4 : i64, num_kv_heads = 4 : i64, causal}
         : tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32> -> tensor<1x1x64xf32>
  return
}
