// RUN: llm-opt %s -split-input-file -convert-llm-to-kernels | FileCheck %s --check-prefix=VNNI
// RUN: llm-opt %s -split-input-file -convert-llm-to-kernels="quant-kernel=fma" | FileCheck %s --check-prefix=FMA

// Symmetric 8-bit (and 4-bit, below) weights: a decode row (one activation row) takes the VNNI
// kernel (activation row quantized once per call, vpdpbusd of u8 weight
// codes and s8 activations, per-group f32 scaling); several rows keep the
// f32 FMA kernel. quant-kernel=fma selects the f32 kernel for every row.
func.func @decode(%x: tensor<1x?x128xf32>) -> tensor<1x?x64xf32> {
  %w = llm.weight "w" quant <bits = 8, group = 32, scheme = symmetric> at 0 : tensor<64x128xf32>
  %y = llm.matmul %x, %w transpose_b : tensor<1x?x128xf32>, tensor<64x128xf32> -> tensor<1x?x64xf32>
  return %y : tensor<1x?x64xf32>
}
// VNNI: func.func private @__llm_matmul_q8g32sv_
// VNNI: scf.if
// VNNI: math.roundeven {{.*}} : vector<16xf32>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"({{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// VNNI: scf.parallel
// VNNI: arith.xori {{.*}} : vector<64xi8>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: vector.fma {{.*}} : vector<16xf32>
// 16 rows' accumulators are reduced together into one vector of outputs.
// VNNI: vector.shuffle
// VNNI: vector.store {{.*}} : memref<?x64xf32>, vector<16xf32>
// VNNI: } else {
// VNNI: scf.parallel
// VNNI: arith.sitofp {{.*}} : vector<16xi8> to vector<16xf32>

// FMA: func.func private @__llm_matmul_q8g32s_
// FMA-NOT: scf.if
// FMA-NOT: vpdpbusd
// FMA: arith.sitofp {{.*}} : vector<16xi8> to vector<16xf32>

// -----

// Symmetric 4-bit codes (stored plus 8, two per byte) are unpacked into
// nibbles, 64 per vpdpbusd.
func.func @decode4(%x: tensor<1x?x128xf32>) -> tensor<1x?x64xf32> {
  %w = llm.weight "w" quant <bits = 4, group = 64, scheme = symmetric> at 0 : tensor<64x128xf32>
  %y = llm.matmul %x, %w transpose_b : tensor<1x?x128xf32>, tensor<64x128xf32> -> tensor<1x?x64xf32>
  return %y : tensor<1x?x64xf32>
}
// VNNI-LABEL: func.func private @__llm_matmul_q4g64sv_
// VNNI: scf.parallel
// VNNI: vector.load {{.*}} vector<32xi8>
// VNNI: arith.shrui {{.*}} : vector<32xi8>
// VNNI: vector.shuffle {{.*}} : vector<32xi8>, vector<32xi8>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"

// FMA-LABEL: func.func private @__llm_matmul_q4g64s_
// FMA-NOT: vpdpbusd
