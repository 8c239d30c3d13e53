// --quant-embeddings quantizes the (untied) embedding table as well, and the
// lookup reads it packed; without it the table stays f32.

// RUN: llm-compile %S/../../fixtures/tiny-llama --quantize int8 --quant-embeddings --emit mlir -o - | FileCheck %s
// CHECK: %[[T:.*]] = llm.weight "model.embed_tokens.weight" quant <bits = 8, group = 32, scheme = symmetric> at 0 : tensor<256x64xf32>
// CHECK: llm.embed %[[T]]
// CHECK: llm.weight "lm_head.weight" quant <bits = 8, group = 32, scheme = symmetric>

// RUN: llm-compile %S/../../fixtures/tiny-llama --quantize int8 --emit mlir -o - | FileCheck %s --check-prefix=F32
// F32: llm.weight "model.embed_tokens.weight" at 0 : tensor<256x64xf32>

// The lowered lookup is the quantized-table kernel.
// RUN: llm-compile %S/../../fixtures/tiny-llama --quantize int4 --quant-embeddings --emit llvm -o - | FileCheck %s --check-prefix=LL
// LL: define {{.*}}@__llm_embed_q4g32s_
