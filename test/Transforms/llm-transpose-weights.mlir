// RUN: llm-opt %s -split-input-file -llm-transpose-weights | FileCheck %s

// A [K, N] weight used only as a plain matmul rhs is stored transposed and
// multiplied with transpose_b, by every user.
// CHECK-LABEL: func.func @conv1d
// CHECK: %[[W:.*]] = llm.weight "c_fc.weight" transposed : tensor<256x64xf32>
// CHECK: llm.matmul %{{.*}}, %[[W]] transpose_b : tensor<1x?x64xf32>, tensor<256x64xf32> -> tensor<1x?x256xf32>
// CHECK: llm.matmul %{{.*}}, %[[W]] transpose_b : tensor<1x1x64xf32>, tensor<256x64xf32> -> tensor<1x1x256xf32>
func.func @conv1d(%x: tensor<1x?x64xf32>, %y: tensor<1x1x64xf32>) -> (tensor<1x?x256xf32>, tensor<1x1x256xf32>) {
  %w = llm.weight "c_fc.weight" : tensor<64x256xf32>
  %0 = llm.matmul %x, %w : tensor<1x?x64xf32>, tensor<64x256xf32> -> tensor<1x?x256xf32>
  %1 = llm.matmul %y, %w : tensor<1x1x64xf32>, tensor<64x256xf32> -> tensor<1x1x256xf32>
  return %0, %1 : tensor<1x?x256xf32>, tensor<1x1x256xf32>
}

// -----

// Weights with other users, already transposed uses, or quantized storage
// stay as they are.
// CHECK-LABEL: func.func @untouched
// CHECK: llm.weight "shared" : tensor<64x64xf32>
// CHECK: llm.weight "hf" : tensor<32x64xf32>
// CHECK-NOT: transposed
func.func @untouched(%x: tensor<1x1x64xf32>) -> (tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x32xf32>) {
  %s = llm.weight "shared" : tensor<64x64xf32>
  %0 = llm.matmul %x, %s : tensor<1x1x64xf32>, tensor<64x64xf32> -> tensor<1x1x64xf32>
  %1 = llm.add %x, %s : tensor<1x1x64xf32>, tensor<64x64xf32> -> tensor<1x64x64xf32>
  %h = llm.weight "hf" : tensor<32x64xf32>
  %2 = llm.matmul %x, %h transpose_b : tensor<1x1x64xf32>, tensor<32x64xf32> -> tensor<1x1x32xf32>
  return %0, %0, %2 : tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x32xf32>
}
