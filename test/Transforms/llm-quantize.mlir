// RUN: llm-opt %s -split-input-file -llm-quantize="bits=4 group=32 keep=*.keep.* int8=lm_head.*" | FileCheck %s
// RUN: not llm-opt %s -split-input-file -llm-quantize="bits=3" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: llm-opt %s -split-input-file -llm-quantize="bits=4 group=32 method=gptq rtn=*.rtn.* keep=*.keep.*" | FileCheck %s --check-prefix=GPTQ
// RUN: not llm-opt %s -split-input-file -llm-quantize="method=awq" -o /dev/null 2>&1 | FileCheck %s --check-prefix=METHOD
// RUN: llm-opt %s -split-input-file -llm-quantize="bits=4 group=32 embeddings=true method=gptq" | FileCheck %s --check-prefix=EMB

// Matmul weights get #llm.quant; patterns keep weights in f32 or force 8
// bits; a tied embedding keeps its f32 table for the lookup and gets a
// quantized copy for the logits matmul.
// With method=gptq the quantized weights carry llm.quant_method for the
// packer; f32 weights and `rtn` matches do not.
// CHECK-LABEL: func.func @mlp
// GPTQ-LABEL: func.func @mlp
// GPTQ: llm.weight "up" quant <bits = 4, group = 32, scheme = symmetric> {llm.quant_method = "gptq"} : tensor<64x64xf32>
// GPTQ: llm.weight "layers.keep.w" : tensor<64x64xf32>
// GPTQ: llm.weight "lm_head.weight" quant <bits = 4, group = 32, scheme = symmetric> {llm.quant_method = "gptq"} : tensor<128x64xf32>
// CHECK: llm.weight "up" quant <bits = 4, group = 32, scheme = symmetric> : tensor<64x64xf32>
// CHECK: llm.weight "layers.keep.w" : tensor<64x64xf32>
// CHECK: llm.weight "lm_head.weight" quant <bits = 8, group = 32, scheme = symmetric> : tensor<128x64xf32>
func.func @mlp(%x: tensor<1x1x64xf32>) -> (tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x128xf32>) {
  %up = llm.weight "up" : tensor<64x64xf32>
  %0 = llm.matmul %x, %up transpose_b : tensor<1x1x64xf32>, tensor<64x64xf32> -> tensor<1x1x64xf32>
  %k = llm.weight "layers.keep.w" : tensor<64x64xf32>
  %1 = llm.matmul %x, %k transpose_b : tensor<1x1x64xf32>, tensor<64x64xf32> -> tensor<1x1x64xf32>
  %h = llm.weight "lm_head.weight" : tensor<128x64xf32>
  %2 = llm.matmul %x, %h transpose_b : tensor<1x1x64xf32>, tensor<128x64xf32> -> tensor<1x1x128xf32>
  return %0, %1, %2 : tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x128xf32>
}

// -----

// With `embeddings`, the tied table is one quantized weight read by both
// the lookup and the matmul (GPTQ from the matmul's statistics), and a table
// that is only looked up is rounded to nearest.
// CHECK-LABEL: func.func @tied
// GPTQ-LABEL: func.func @tied
// EMB-LABEL: func.func @tied
// EMB: %[[Q:.*]] = llm.weight "embed" quant <bits = 4, group = 32, scheme = symmetric> {llm.quant_method = "gptq"} : tensor<128x64xf32>
// EMB-NOT: llm.weight
// EMB: llm.embed %[[Q]]
// EMB: llm.matmul %{{.*}}, %[[Q]] transpose_b
// GPTQ: llm.weight "embed" quant <bits = 4, group = 32, scheme = symmetric> {llm.quant_method = "gptq"} : tensor<128x64xf32>
// GPTQ: llm.weight "embed" : tensor<128x64xf32>
// CHECK: %[[Q:.*]] = llm.weight "embed" quant <bits = 4, group = 32, scheme = symmetric> : tensor<128x64xf32>
// CHECK: %[[T:.*]] = llm.weight "embed" : tensor<128x64xf32>
// CHECK: llm.embed %[[T]]
// CHECK: llm.matmul %{{.*}}, %[[Q]] transpose_b
func.func @tied(%ids: tensor<1x1xi64>) -> tensor<1x1x128xf32> {
  %t = llm.weight "embed" : tensor<128x64xf32>
  %h = llm.embed %t, %ids : tensor<128x64xf32>, tensor<1x1xi64> -> tensor<1x1x64xf32>
  %l = llm.matmul %h, %t transpose_b : tensor<1x1x64xf32>, tensor<128x64xf32> -> tensor<1x1x128xf32>
  return %l : tensor<1x1x128xf32>
}

// -----

// Rows of 48 are not divisible by groups of 32: the weight falls back to
// groups of 16. Rows of 40 have no group of at least 16: the weight stays f32.
// CHECK-LABEL: func.func @indivisible
// CHECK: llm.weight "w" quant <bits = 4, group = 16, scheme = symmetric> : tensor<16x48xf32>
// CHECK: llm.weight "v" : tensor<16x40xf32>
func.func @indivisible(%x: tensor<1x1x48xf32>, %y: tensor<1x1x40xf32>) -> (tensor<1x1x16xf32>, tensor<1x1x16xf32>) {
  %w = llm.weight "w" : tensor<16x48xf32>
  %0 = llm.matmul %x, %w transpose_b : tensor<1x1x48xf32>, tensor<16x48xf32> -> tensor<1x1x16xf32>
  %v = llm.weight "v" : tensor<16x40xf32>
  %1 = llm.matmul %y, %v transpose_b : tensor<1x1x40xf32>, tensor<16x40xf32> -> tensor<1x1x16xf32>
  return %0, %1 : tensor<1x1x16xf32>, tensor<1x1x16xf32>
}

// BITS: error: llm-quantize: bits must be 4 or 8, got 3

// -----

// CHECK-LABEL: func.func @untied
// CHECK: llm.weight "table" : tensor<128x64xf32>
// EMB-LABEL: func.func @untied
// EMB: llm.weight "table" quant <bits = 4, group = 32, scheme = symmetric> : tensor<128x64xf32>
func.func @untied(%ids: tensor<1x3xi64>) -> tensor<1x3x64xf32> {
  %t = llm.weight "table" : tensor<128x64xf32>
  %h = llm.embed %t, %ids : tensor<128x64xf32>, tensor<1x3xi64> -> tensor<1x3x64xf32>
  return %h : tensor<1x3x64xf32>
}

// -----

// Weights matching `rtn` keep round-to-nearest whatever the method.
// CHECK-LABEL: func.func @rtn_override
// GPTQ-LABEL: func.func @rtn_override
// GPTQ: llm.weight "layers.rtn.w" quant <bits = 4, group = 32, scheme = symmetric> : tensor<16x64xf32>
// GPTQ: llm.weight "layers.w" quant <bits = 4, group = 32, scheme = symmetric> {llm.quant_method = "gptq"} : tensor<16x64xf32>
func.func @rtn_override(%x: tensor<1x1x64xf32>) -> (tensor<1x1x16xf32>, tensor<1x1x16xf32>) {
  %a = llm.weight "layers.rtn.w" : tensor<16x64xf32>
  %0 = llm.matmul %x, %a transpose_b : tensor<1x1x64xf32>, tensor<16x64xf32> -> tensor<1x1x16xf32>
  %b = llm.weight "layers.w" : tensor<16x64xf32>
  %1 = llm.matmul %x, %b transpose_b : tensor<1x1x64xf32>, tensor<16x64xf32> -> tensor<1x1x16xf32>
  return %0, %1 : tensor<1x1x16xf32>, tensor<1x1x16xf32>
}

// METHOD: error: llm-quantize: unsupported method 'awq' (expected rtn or gptq)
