// RUN: llm-opt %s -split-input-file -convert-llm-to-kernels | FileCheck %s

// A lookup in a quantized table reads the packed bytes, never an f32 copy:
// per selected row (ids clamped into the table) and group, the f16 scale
// (and min) is widened once and 16 codes at a time are dequantized, as in
// the matmul kernels, and stored.
func.func @sym4(%ids: tensor<1x?xi64>) -> tensor<1x?x64xf32> {
  %t = llm.weight "table" quant <bits = 4, group = 32, scheme = symmetric> at 0 : tensor<128x64xf32>
  %h = llm.embed %t, %ids : tensor<128x64xf32>, tensor<1x?xi64> -> tensor<1x?x64xf32>
  return %h : tensor<1x?x64xf32>
}
// CHECK-LABEL: func.func @sym4
// CHECK: call @__llm_embed_q4g32s_1xDxi64_128x64(%{{.*}}, %{{.*}}, %{{.*}}) : (memref<{{[0-9]+}}xi8>, memref<1x?xi64>, memref<1x?x64xf32>) -> ()
// CHECK-LABEL: func.func private @__llm_embed_q4g32s_1xDxi64_128x64
// CHECK: memref.view {{.*}} to memref<128x32xi8>
// CHECK: memref.view {{.*}} to memref<128x2xf16>
// CHECK: scf.for
// CHECK: arith.minsi
// CHECK: arith.maxsi
// CHECK: scf.for
// CHECK: memref.load {{.*}} : memref<128x2xf16>
// CHECK: arith.extf
// CHECK-COUNT-2: vector.interleave
// CHECK-NOT: memref<128x64xf32>
// CHECK: return

// -----

func.func @asym8(%ids: tensor<1x?xi64>) -> tensor<1x?x64xf32> {
  %t = llm.weight "table" quant <bits = 8, group = 64, scheme = asymmetric> at 0 : tensor<128x64xf32>
  %h = llm.embed %t, %ids : tensor<128x64xf32>, tensor<1x?xi64> -> tensor<1x?x64xf32>
  return %h : tensor<1x?x64xf32>
}
// CHECK-LABEL: func.func private @__llm_embed_q8g64a_1xDxi64_128x64
// CHECK: memref.view {{.*}} to memref<128x64xi8>
// CHECK-COUNT-2: memref.view {{.*}} to memref<128x1xf16>
// CHECK-COUNT-4: vector.fma
// CHECK: return
