// RUN: llm-opt %s -split-input-file -convert-llm-to-kernels | FileCheck %s --check-prefix=VNNI
// RUN: llm-opt %s -split-input-file -convert-llm-to-kernels="quant-kernel=fma" | FileCheck %s --check-prefix=FMA
// RUN: llm-opt %s -split-input-file -convert-llm-to-kernels="gfni=true" | FileCheck %s --check-prefix=GFNI

// Symmetric 8-bit (and 4-bit, below) weights: the VNNI kernel for every
// number of rows (the kernel depends on the shape only, so a row computed
// in a batch equals the row computed alone). Rows are quantized once per
// call into stack scratch (chunks of 64 rows; several rows in parallel, one
// row in the calling thread), then vpdpbusd of u8 weight codes and s8
// activations with per-group f32 scaling. quant-kernel=fma selects the f32
// kernel for every row.
func.func @decode(%x: tensor<1x?x128xf32>) -> tensor<1x?x64xf32> {
  %w = llm.weight "w" quant <bits = 8, group = 32, scheme = symmetric> at 0 : tensor<64x128xf32>
  %y = llm.matmul %x, %w transpose_b : tensor<1x?x128xf32>, tensor<64x128xf32> -> tensor<1x?x64xf32>
  return %y : tensor<1x?x64xf32>
}
// VNNI-LABEL: func.func private @__llm_matmul_q8g32sv_
// VNNI: memref.alloca() : memref<64x128xi8>
// VNNI: scf.for
// VNNI: arith.minui
// VNNI: scf.if
// VNNI: scf.parallel
// VNNI: math.roundeven {{.*}} : vector<16xf32>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"({{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// VNNI: } else {
// VNNI: math.roundeven {{.*}} : vector<16xf32>
// Blocks of 16 weight rows in parallel. With 4 rows or more, the block's
// f16 weight scales are first converted and spread over the 16 lanes of
// each 64-code step, into per-thread stack scratch. 4 activation rows at a
// time: K loops of 4 rows x 4 weight rows (16 f32 accumulators), each
// weight row's codes loaded and flipped to u8 once for the 4 rows, its
// scales loaded from the scratch; every step prefetches the same codes of
// the next block's rows.
// VNNI: scf.parallel
// VNNI: %[[WS:.*]] = memref.alloca() : memref<16x32xf32>
// VNNI: scf.if
// VNNI: vector.load {{.*}} : memref<64x4xf16>, vector<2xf16>
// VNNI: vector.shuffle {{.*}} [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1] : vector<2xf32>, vector<2xf32>
// VNNI: vector.store {{.*}}, %[[WS]]{{.*}} : memref<16x32xf32>, vector<16xf32>
// VNNI: scf.for
// VNNI: scf.for {{.*}} -> ({{(vector<16xf32>, ){15}vector<16xf32>}})
// VNNI-COUNT-4: memref.prefetch {{.*}}, read, locality<3>, data : memref<64x128xi8>
// VNNI: arith.xori {{.*}} : vector<64xi8>
// VNNI: vector.load %[[WS]]{{.*}} : memref<16x32xf32>, vector<16xf32>
// VNNI-COUNT-3: arith.xori {{.*}} : vector<64xi8>
// VNNI-COUNT-16: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: scf.yield
// Three more K loops cover the block; then each row reduces its 16 weight
// rows' accumulators together into one vector of outputs.
// VNNI-COUNT-3: scf.yield
// VNNI: vector.shuffle
// VNNI-COUNT-4: vector.store {{.*}} : memref<?x64xf32>, vector<16xf32>
// The remaining rows (a decode row) one at a time: one K loop over the 16
// weight rows, the same operations per output.
// VNNI: scf.for
// VNNI: scf.for {{.*}} -> ({{(vector<16xf32>, ){15}vector<16xf32>}})
// VNNI-COUNT-16: memref.prefetch {{.*}}, read, locality<3>, data : memref<64x128xi8>
// VNNI: arith.xori {{.*}} : vector<64xi8>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: vector.fma {{.*}} : vector<16xf32>
// VNNI: vector.shuffle
// VNNI: vector.store {{.*}} : memref<?x64xf32>, vector<16xf32>

// FMA-LABEL: func.func private @__llm_matmul_q8g32s_
// FMA-NOT: scf.if
// FMA-NOT: vpdpbusd
// Blocks of 4 activation rows: each weight row's codes are dequantized once
// (code * scale) and feed 4 rows x 4 weight rows = 16 FMAs.
// FMA: scf.parallel
// FMA: arith.sitofp {{.*}} : vector<16xi8> to vector<16xf32>
// FMA: arith.mulf {{.*}} : vector<16xf32>
// FMA-COUNT-16: vector.fma {{.*}} : vector<16xf32>
// The remaining rows, one at a time, through the same operations.
// FMA: arith.sitofp {{.*}} : vector<16xi8> to vector<16xf32>
// FMA: arith.mulf {{.*}} : vector<16xf32>
// FMA-COUNT-4: vector.fma {{.*}} : vector<16xf32>

// -----

// Symmetric 4-bit codes (stored plus 8, two per byte) are unpacked into
// nibbles, 64 per vpdpbusd, once per weight row for 4 activation rows: the
// 32 bytes in both halves of a vector, the upper half's 16-bit words
// shifted right by 4, all masked ([even elements, odd elements]), and the
// quantized activations reordered alike once per row, each 16 lanes taking
// the scales of their blocks of 16 elements. With GFNI, one
// GF2P8AFFINEQB whose low and high qwords' bit matrices take bits 0-3 and
// 4-7 replaces the shift and the mask.
func.func @decode4(%x: tensor<1x?x128xf32>) -> tensor<1x?x64xf32> {
  %w = llm.weight "w" quant <bits = 4, group = 64, scheme = symmetric> at 0 : tensor<64x128xf32>
  %y = llm.matmul %x, %w transpose_b : tensor<1x?x128xf32>, tensor<64x128xf32> -> tensor<1x?x64xf32>
  return %y : tensor<1x?x64xf32>
}
// VNNI-LABEL: func.func private @__llm_matmul_q4g64sv_
// VNNI: vector.shuffle %{{.*}} [0, 2, 4, {{.*}}, 62, 1, 3, 5, {{.*}}, 63] : vector<64xi8>, vector<64xi8>
// VNNI: vector.shuffle %{{.*}} [0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 1, 1, 2, 2, 3, 3] : vector<4xf32>, vector<4xf32>
// VNNI: } else {
// VNNI: scf.parallel
// VNNI-COUNT-4: memref.prefetch {{.*}}, read, locality<3>, data : memref<64x64xi8>
// VNNI: %[[BYTES:.*]] = vector.load {{.*}} vector<32xi8>
// VNNI: %[[TWICE:.*]] = vector.shuffle %[[BYTES]], %[[BYTES]] [0, 1, {{.*}}, 31, 0, 1, {{.*}}, 31] : vector<32xi8>, vector<32xi8>
// VNNI: %[[WORDS:.*]] = vector.bitcast %[[TWICE]] : vector<64xi8> to vector<32xi16>
// VNNI: arith.shrui %[[WORDS]], {{.*}} : vector<32xi16>
// VNNI: arith.andi {{.*}} : vector<64xi8>
// VNNI-COUNT-16: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"

// GFNI-LABEL: func.func private @__llm_matmul_q4g64sv_
// GFNI: arith.constant dense<[0, 0, 0, 0, 8, 4, 2, 1, 0, 0, 0, 0, 8, 4, 2, 1, 0, 0, 0, 0, 8, 4, 2, 1, 0, 0, 0, 0, 8, 4, 2, 1, 0, 0, 0, 0, -128, 64, 32, 16, 0, 0, 0, 0, -128, 64, 32, 16, 0, 0, 0, 0, -128, 64, 32, 16, 0, 0, 0, 0, -128, 64, 32, 16]> : vector<64xi8>
// GFNI: vector.shuffle {{.*}} [0, 1, {{.*}}, 31, 0, 1, {{.*}}, 31] : vector<32xi8>, vector<32xi8>
// GFNI-NOT: arith.shrui
// GFNI: llvm.call_intrinsic "llvm.x86.vgf2p8affineqb.512"({{.*}}) : (vector<64xi8>, vector<64xi8>, i8) -> vector<64xi8>
// GFNI-COUNT-16: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"

// FMA-LABEL: func.func private @__llm_matmul_q4g64s_
// FMA-NOT: vpdpbusd

// -----

// Asymmetric 4-bit codes (Q4_1, Q4_K) are unsigned already: no offset
// correction. The exact f32 activation sum of each group is kept per row;
// after the K loop every output adds its mins times those sums (here 4
// groups, in the low lanes) before its row's 16 outputs are reduced
// together.
func.func @decode4asym(%x: tensor<1x?x128xf32>) -> tensor<1x?x64xf32> {
  %w = llm.weight "w" quant <bits = 4, group = 32, scheme = asymmetric> at 0 : tensor<64x128xf32>
  %y = llm.matmul %x, %w transpose_b : tensor<1x?x128xf32>, tensor<64x128xf32> -> tensor<1x?x64xf32>
  return %y : tensor<1x?x64xf32>
}
// VNNI-LABEL: func.func private @__llm_matmul_q4g32av_
// VNNI: vector.reduction <add>, {{.*}} : vector<16xf32> into f32
// VNNI: memref.store {{.*}} : memref<64x4xf32>
// VNNI-NOT: vpdpbusd
// VNNI: } else {
// VNNI: scf.parallel
// VNNI: arith.shrui {{.*}} : vector<32xi16>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: vector.fma
// VNNI: scf.yield
// VNNI: vector.load {{.*}} : memref<64x4xf16>, vector<4xf16>
// VNNI: arith.mulf {{.*}} : vector<4xf32>
// VNNI: vector.insert_strided_slice {{.*}} : vector<4xf32> into vector<16xf32>
// VNNI: vector.shuffle

// FMA-LABEL: func.func private @__llm_matmul_q4g32a_
// FMA-NOT: vpdpbusd

// -----

// Symmetric 8-bit codes in groups of 16 (Q6_K): four groups per 64-code
// dot product, their scales spread over four lanes each.
func.func @decode8g16(%x: tensor<1x?x128xf32>) -> tensor<1x?x64xf32> {
  %w = llm.weight "w" quant <bits = 8, group = 16, scheme = symmetric> at 0 : tensor<64x128xf32>
  %y = llm.matmul %x, %w transpose_b : tensor<1x?x128xf32>, tensor<64x128xf32> -> tensor<1x?x64xf32>
  return %y : tensor<1x?x64xf32>
}
// VNNI-LABEL: func.func private @__llm_matmul_q8g16sv_
// VNNI: scf.parallel
// VNNI: arith.xori {{.*}} : vector<64xi8>
// VNNI: vector.load {{.*}} : memref<64x8xf16>, vector<4xf16>
// VNNI: vector.shuffle {{.*}} [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3] : vector<4xf32>, vector<4xf32>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"

// FMA-LABEL: func.func private @__llm_matmul_q8g16s_
// FMA-NOT: vpdpbusd

// -----

// K = 96 is not a multiple of 64 codes: the f32 kernel for every number of
// rows, with the VNNI kernel enabled too.
func.func @ktail(%x: tensor<1x?x96xf32>) -> tensor<1x?x64xf32> {
  %w = llm.weight "w" quant <bits = 8, group = 32, scheme = symmetric> at 0 : tensor<64x96xf32>
  %y = llm.matmul %x, %w transpose_b : tensor<1x?x96xf32>, tensor<64x96xf32> -> tensor<1x?x64xf32>
  return %y : tensor<1x?x64xf32>
}
// VNNI-LABEL: func.func private @__llm_matmul_q8g32s_
// VNNI-NOT: vpdpbusd
// VNNI: scf.parallel
// VNNI-NOT: vpdpbusd
// VNNI: arith.sitofp {{.*}} : vector<16xi8> to vector<16xf32>
// VNNI-NOT: vpdpbusd

// FMA-LABEL: func.func private @__llm_matmul_q8g32s_
// FMA-NOT: vpdpbusd
