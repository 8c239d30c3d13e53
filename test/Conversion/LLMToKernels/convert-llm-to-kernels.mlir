// RUN: llm-opt %s -split-input-file -convert-llm-to-kernels -verify-diagnostics | FileCheck %s

// The llm -> kernels lowering: calls to shared kernels on memrefs, weights
// as views of the blob argument, frees after last use, results as
// out-parameters.

// Weights become views of a leading blob argument; the result becomes a
// trailing out-parameter that the last kernel writes directly; identical
// matmuls share one kernel; intermediates are freed after their last use.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[BLOB:.*]]: memref<?xi8>, %[[X:.*]]: memref<1x?x64xf32>, %[[OUT:.*]]: memref<1x?x64xf32>)
// CHECK-SAME: llvm.emit_c_interface
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[W:.*]] = memref.view %[[BLOB]][%[[C0]]][] : memref<?xi8> to memref<64x64xf32>
// CHECK: %[[A:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<1x?x64xf32>
// CHECK: call @[[MM:__llm_matmul_tb_1xDx64xf32_64x64xf32]](%[[X]], %[[W]], %[[A]])
// CHECK: %[[S:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<1x?x64xf32>
// CHECK: call @__llm_silu_1xDx64xf32(%[[A]], %[[S]])
// CHECK: memref.dealloc %[[A]]
// CHECK: call @[[MM]](%[[S]], %[[W]], %[[OUT]])
// CHECK: memref.dealloc %[[S]]
// CHECK-NEXT: return
// CHECK: func.func private @[[MM]](
// The matmul kernel: a parallel loop over blocks of output channels, a
// register-blocked K loop of vector FMAs, and horizontal sums as pairwise
// trees (16 -> 8 -> 4 -> 2 -> 1 lanes).
// CHECK: scf.parallel
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [8, 9, 10, 11, 12, 13, 14, 15] : vector<16xf32>, vector<16xf32>
// CHECK: arith.addf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK: arith.addf %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK: arith.addf %{{.*}}, %{{.*}} : vector<2xf32>
// CHECK: arith.addf %{{.*}}, %{{.*}} : vector<1xf32>
// CHECK: vector.extract %{{.*}}[0] : f32 from vector<1xf32>
// CHECK: func.func private @__llm_silu_1xDx64xf32(
// CHECK: math.exp {{.*}} : vector<16xf32>
// CHECK-NOT: func.func private @[[MM]](
func.func @mlp(%x: tensor<1x?x64xf32>) -> tensor<1x?x64xf32> {
  %w = llm.weight "w" at 0 : tensor<64x64xf32>
  %0 = llm.matmul %x, %w transpose_b : tensor<1x?x64xf32>, tensor<64x64xf32> -> tensor<1x?x64xf32>
  %1 = llm.silu %0 : tensor<1x?x64xf32>
  %2 = llm.matmul %1, %w transpose_b : tensor<1x?x64xf32>, tensor<64x64xf32> -> tensor<1x?x64xf32>
  return %2 : tensor<1x?x64xf32>
}

// -----

// An unplanned KV cache becomes memref<2 x layers x heads x capacity x
// head_dim>; attention with a cache runs one parallel task per (head, query)
// with an online softmax, then appends the new keys/values.
// CHECK-LABEL: func.func @decode_attention
// CHECK-SAME: %{{.*}}: memref<2x2x2x128x16xf32>
// CHECK: call @__llm_rope_1xDx64xf32_1xDxi64_h4_r16_t10000(
// CHECK: call @__llm_attention_{{.*}}_h4_kv2_s{{[0-9]+}}_causal_kvf32(
// CHECK: func.func private @__llm_rope
// CHECK: memref.get_global @__llm_rope_inv_freq_16_10000
// CHECK: math.cos
// CHECK: math.sin
// CHECK: func.func private @__llm_attention
// CHECK: scf.parallel
// CHECK: arith.maxnumf
// CHECK: math.exp
// CHECK: vector.fma
// CHECK: vector.store {{.*}} : memref<2x2x2x128x16xf32>, vector<16xf32>
func.func @decode_attention(%q: tensor<1x?x64xf32>, %k: tensor<1x?x32xf32>, %v: tensor<1x?x32xf32>,
                            %pos: tensor<1x?xi64>, %kv: !llm.kv_cache<2 x 2 x 128 x 16, f32>,
                            %start: index) -> tensor<1x?x64xf32> {
  %qr = llm.rope %q, %pos {num_heads = 4 : i64, theta = 1.0e+04 : f64} : tensor<1x?x64xf32>, tensor<1x?xi64>
  %o = llm.attention %qr, %k, %v cache %kv[%start] : !llm.kv_cache<2 x 2 x 128 x 16, f32>
         {layer = 1 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
         : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32> -> tensor<1x?x64xf32>
  return %o : tensor<1x?x64xf32>
}

// -----

// Norms, embedding, positions, slices and elementwise ops each get a kernel.
// CHECK-LABEL: func.func @misc
// CHECK: call @__llm_position_ids_1xDxi64(
// CHECK: call @__llm_embed_100x64xf32_1xDxi64(
// CHECK: call @__llm_layer_norm_1xDx64xf32_bias_eps{{[0-9]+}}(
// CHECK: call @__llm_rms_norm_1xDx64xf32_eps{{[0-9]+}}(
// CHECK: call @__llm_add_1xDx64xf32_64xf32(
// CHECK: call @__llm_gelu_tanh_1xDx64xf32(
// CHECK: call @__llm_softmax_1xDx64xf32(
// CHECK: call @__llm_slice_1xDx64xf32_1x1x64xf32_a1_sm1(
// CHECK: call @__llm_reshape_1x1x64xf32_4x16xf32(
// CHECK: call @__llm_transpose_4x16xf32_1_0(
func.func @misc(%tokens: tensor<1x?xi64>, %start: index) -> tensor<16x4xf32> {
  %table = llm.weight "table" at 0 : tensor<100x64xf32>
  %g = llm.weight "g" at 25600 : tensor<64xf32>
  %p = llm.position_ids %tokens, [%start] : tensor<1x?xi64> -> tensor<1x?xi64>
  %h = llm.embed %table, %p : tensor<100x64xf32>, tensor<1x?xi64> -> tensor<1x?x64xf32>
  %l = llm.layer_norm %h, %g bias %g eps = 1.0e-05 : tensor<1x?x64xf32>, tensor<64xf32>, tensor<64xf32>
  %r = llm.rms_norm %l, %g eps = 1.0e-05 : tensor<1x?x64xf32>, tensor<64xf32>
  %a = llm.add %r, %g : tensor<1x?x64xf32>, tensor<64xf32> -> tensor<1x?x64xf32>
  %e = llm.gelu %a tanh : tensor<1x?x64xf32>
  %s = llm.softmax %e : tensor<1x?x64xf32>
  %last = llm.slice %s {axis = 1 : i64, start = -1 : i64} : tensor<1x?x64xf32> -> tensor<1x1x64xf32>
  %m = llm.reshape %last : tensor<1x1x64xf32> -> tensor<4x16xf32>
  %t = llm.transpose %m [1, 0] : tensor<4x16xf32> -> tensor<16x4xf32>
  return %t : tensor<16x4xf32>
}

// -----

// Weights must be packed (carry an offset) before lowering.
func.func @unpacked(%x: tensor<1x1x64xf32>) -> tensor<1x1x64xf32> {
  // expected-error @+1 {{weight 'w' has no offset in the weights file; pack the weights (llm-compile does) before lowering}}
  %w = llm.weight "w" : tensor<64x64xf32>
  %0 = llm.matmul %x, %w transpose_b : tensor<1x1x64xf32>, tensor<64x64xf32> -> tensor<1x1x64xf32>
  return %0 : tensor<1x1x64xf32>
}

// -----

// Weights of a GPT-2 style [K, N] layout use the kernel vectorized along N.
// CHECK-LABEL: func.func @plain_matmul
// CHECK: call @__llm_matmul_1xDx64xf32_64x32xf32(
// CHECK: func.func private @__llm_matmul_1xDx64xf32_64x32xf32(
// CHECK: scf.parallel
// CHECK: vector.broadcast
// CHECK: vector.fma
func.func @plain_matmul(%x: tensor<1x?x64xf32>) -> tensor<1x?x32xf32> {
  %w = llm.weight "w" at 0 : tensor<64x32xf32>
  %0 = llm.matmul %x, %w : tensor<1x?x64xf32>, tensor<64x32xf32> -> tensor<1x?x32xf32>
  return %0 : tensor<1x?x32xf32>
}

// -----

// Tensor constants (values an importer folded) become private constant
// globals read with memref.get_global; a returned one is copied out.
// CHECK-LABEL: memref.global "private" constant @__llm_constant : memref<3xi64> = dense<[3, 4, 5]>
// CHECK-LABEL: func.func @tensor_constant
// CHECK: %[[G:.*]] = memref.get_global @__llm_constant : memref<3xi64>
// CHECK: memref.copy %[[G]], %{{.*}} : memref<3xi64> to memref<3xi64>
func.func @tensor_constant(%x: tensor<3x4x5xf32>) -> tensor<3xi64> {
  %c = arith.constant dense<[3, 4, 5]> : tensor<3xi64>
  return %c : tensor<3xi64>
}
