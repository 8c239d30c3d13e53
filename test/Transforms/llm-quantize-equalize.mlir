// RUN: llm-opt %s -split-input-file -llm-quantize="bits=4 group=32 equalize=1 keep=*.keep" | FileCheck %s
// RUN: llm-opt %s -split-input-file -llm-quantize="bits=4 group=32" | FileCheck %s --check-prefix=OFF

// equalize=1 marks inputs whose producer can absorb per-channel scales: the
// RMSNorm read by q/k/v (its weight becomes the producer) and the SwiGLU
// product, whose up projection is the producer. The attention output has
// no such producer and o_proj stays unmarked.
// CHECK-LABEL: func.func @block
// CHECK: llm.weight "ln" {llm.equalized_output} : tensor<64xf32>
// CHECK: llm.weight "q" quant <bits = 4, group = 32, scheme = symmetric> {llm.equalize = "ln"}
// CHECK: llm.weight "k" quant <bits = 4, group = 32, scheme = symmetric> {llm.equalize = "ln"}
// CHECK: llm.weight "v" quant <bits = 4, group = 32, scheme = symmetric> {llm.equalize = "ln"}
// CHECK: llm.weight "o" quant <bits = 4, group = 32, scheme = symmetric> : tensor<64x64xf32>
// CHECK: llm.weight "ln2" {llm.equalized_output} : tensor<64xf32>
// CHECK: llm.weight "gate" quant <bits = 4, group = 32, scheme = symmetric> {llm.equalize = "ln2"}
// CHECK: llm.weight "up" quant <bits = 4, group = 32, scheme = symmetric> {llm.equalize = "ln2", llm.equalized_output}
// CHECK: llm.weight "down" quant <bits = 4, group = 32, scheme = symmetric> {llm.equalize = "up"}
// OFF-LABEL: func.func @block
// OFF-NOT: llm.equalize
func.func @block(%x: tensor<1x?x64xf32>) -> tensor<1x?x64xf32> {
  %ln = llm.weight "ln" : tensor<64xf32>
  %n = llm.rms_norm %x, %ln eps = 1.0e-05 : tensor<1x?x64xf32>, tensor<64xf32>
  %q = llm.weight "q" : tensor<64x64xf32>
  %0 = llm.matmul %n, %q transpose_b : tensor<1x?x64xf32>, tensor<64x64xf32> -> tensor<1x?x64xf32>
  %k = llm.weight "k" : tensor<64x64xf32>
  %1 = llm.matmul %n, %k transpose_b : tensor<1x?x64xf32>, tensor<64x64xf32> -> tensor<1x?x64xf32>
  %v = llm.weight "v" : tensor<64x64xf32>
  %2 = llm.matmul %n, %v transpose_b : tensor<1x?x64xf32>, tensor<64x64xf32> -> tensor<1x?x64xf32>
  %3 = llm.add %0, %1 : tensor<1x?x64xf32>, tensor<1x?x64xf32> -> tensor<1x?x64xf32>
  %a = llm.add %3, %2 : tensor<1x?x64xf32>, tensor<1x?x64xf32> -> tensor<1x?x64xf32>
  %o = llm.weight "o" : tensor<64x64xf32>
  %4 = llm.matmul %a, %o transpose_b : tensor<1x?x64xf32>, tensor<64x64xf32> -> tensor<1x?x64xf32>
  %5 = llm.add %4, %a : tensor<1x?x64xf32>, tensor<1x?x64xf32> -> tensor<1x?x64xf32>
  %ln2 = llm.weight "ln2" : tensor<64xf32>
  %m = llm.rms_norm %5, %ln2 eps = 1.0e-05 : tensor<1x?x64xf32>, tensor<64xf32>
  %g = llm.weight "gate" : tensor<128x64xf32>
  %6 = llm.matmul %m, %g transpose_b : tensor<1x?x64xf32>, tensor<128x64xf32> -> tensor<1x?x128xf32>
  %u = llm.weight "up" : tensor<128x64xf32>
  %7 = llm.matmul %m, %u transpose_b : tensor<1x?x64xf32>, tensor<128x64xf32> -> tensor<1x?x128xf32>
  %8 = llm.silu %6 : tensor<1x?x128xf32>
  %9 = llm.mul %8, %7 : tensor<1x?x128xf32>, tensor<1x?x128xf32> -> tensor<1x?x128xf32>
  %d = llm.weight "down" : tensor<64x128xf32>
  %10 = llm.matmul %9, %d transpose_b : tensor<1x?x128xf32>, tensor<64x128xf32> -> tensor<1x?x64xf32>
  return %10 : tensor<1x?x64xf32>
}

// -----

// An input with a reader that is not a quantized matmul (a kept weight, a
// residual add) is not equalized, nor is a norm weight read twice.
// CHECK-LABEL: func.func @not_equalized
// CHECK-NOT: llm.equalize
// CHECK: return
func.func @not_equalized(%x: tensor<1x?x64xf32>) -> (tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<1x?x64xf32>) {
  %ln = llm.weight "ln" : tensor<64xf32>
  %n = llm.rms_norm %x, %ln eps = 1.0e-05 : tensor<1x?x64xf32>, tensor<64xf32>
  %q = llm.weight "q" : tensor<64x64xf32>
  %0 = llm.matmul %n, %q transpose_b : tensor<1x?x64xf32>, tensor<64x64xf32> -> tensor<1x?x64xf32>
  %w = llm.weight "w.keep" : tensor<64x64xf32>
  %1 = llm.matmul %n, %w transpose_b : tensor<1x?x64xf32>, tensor<64x64xf32> -> tensor<1x?x64xf32>
  %m = llm.rms_norm %x, %ln eps = 1.0e-05 : tensor<1x?x64xf32>, tensor<64xf32>
  %r = llm.weight "r" : tensor<64x64xf32>
  %2 = llm.matmul %m, %r transpose_b : tensor<1x?x64xf32>, tensor<64x64xf32> -> tensor<1x?x64xf32>
  return %0, %1, %2 : tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<1x?x64xf32>
}
