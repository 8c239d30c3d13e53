// RUN: llm-opt %s -split-input-file -convert-llm-to-kernels -verify-diagnostics | FileCheck %s

// Attention reads and writes exactly the layout llm-plan-kv-cache planned:
// the cache is one byte buffer viewed as keys/values (and scales, and a block
// table); earlier positions are read through the layout, the step's own keys
// come from the operands, and the step is appended after the parallel loop.

// Contiguous f16: loads widen to f32, the append narrows to f16.
// CHECK-LABEL: func.func @contiguous_f16
// CHECK-SAME: memref<32768xi8>
// CHECK: call @__llm_attention_{{.*}}_causal_kvf16_contiguous_b1(
// CHECK: func.func private @__llm_attention
// CHECK: memref.view %{{.*}}[%{{.*}}][] : memref<32768xi8> to memref<2x2x1x2x128x16xf16>
// CHECK: scf.parallel
// CHECK: vector.load %{{.*}} : memref<2x2x1x2x128x16xf16>, vector<16xf16>
// CHECK: arith.extf %{{.*}} : vector<16xf16> to vector<16xf32>
// CHECK: scf.reduce
// CHECK: arith.truncf %{{.*}} : vector<16xf32> to vector<16xf16>
// CHECK: vector.store %{{.*}} : memref<2x2x1x2x128x16xf16>, vector<16xf16>
func.func @contiguous_f16(%q: tensor<1x?x64xf32>, %k: tensor<1x?x32xf32>,
                          %kv: !llm.kv_cache<2 x 2 x 128 x 16, f16, #llm.kv_layout<contiguous, batch = 1>>,
                          %start: index) -> tensor<1x?x64xf32> {
  %o = llm.attention %q, %k, %k cache %kv[%start] : !llm.kv_cache<2 x 2 x 128 x 16, f16, #llm.kv_layout<contiguous, batch = 1>>
         {layer = 1 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
         : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32> -> tensor<1x?x64xf32>
  return %o : tensor<1x?x64xf32>
}

// -----

// Int8: codes and per-token, per-head f16 scales (after the codes); reads
// convert codes to f32 and apply the key scale to the dot product and the
// value scale to the softmax weight; writes quantize with max|x| / 127
// rounded to f16, clamping the codes to [-127, 127].
// CHECK-LABEL: func.func @contiguous_int8
// CHECK-SAME: memref<18432xi8>
// CHECK: func.func private @__llm_attention{{.*}}_kvi8_contiguous_b1(
// CHECK-DAG: memref.view %{{.*}}[%{{.*}}][] : memref<18432xi8> to memref<2x2x1x2x128x16xi8>
// CHECK-DAG: memref.view %{{.*}}[%{{.*}}][] : memref<18432xi8> to memref<2x2x1x2x128xf16>
// CHECK: scf.parallel
// CHECK: memref.load %{{.*}} : memref<2x2x1x2x128xf16>
// CHECK: arith.sitofp %{{.*}} : vector<16xi8> to vector<16xf32>
// CHECK: scf.reduce
// CHECK: vector.reduction <maxnumf>
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: math.roundeven
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: memref.store %{{.*}} : memref<2x2x1x2x128xf16>
// CHECK: arith.fptosi %{{.*}} : vector<16xf32> to vector<16xi8>
func.func @contiguous_int8(%q: tensor<1x?x64xf32>, %k: tensor<1x?x32xf32>,
                           %kv: !llm.kv_cache<2 x 2 x 128 x 16, i8, #llm.kv_layout<contiguous, batch = 1>>,
                           %start: index) -> tensor<1x?x64xf32> {
  %o = llm.attention %q, %k, %k cache %kv[%start] : !llm.kv_cache<2 x 2 x 128 x 16, i8, #llm.kv_layout<contiguous, batch = 1>>
         {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
         : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32> -> tensor<1x?x64xf32>
  return %o : tensor<1x?x64xf32>
}

// -----

// Paged: a 64-byte block table [1 x 4] of i32 first, then the pool of 4
// blocks of 32 positions; every position is found through the table
// (logical block t / 32, slot t % 32), both when reading and appending.
// CHECK-LABEL: func.func @paged_f32
// CHECK-SAME: memref<65600xi8>
// CHECK: func.func private @__llm_attention{{.*}}_kvf32_paged_b1_bs32(
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG: memref.view %{{.*}}[%[[C64]]][] : memref<65600xi8> to memref<2x2x4x2x32x16xf32>
// CHECK-DAG: memref.view %{{.*}}[%{{.*}}][] : memref<65600xi8> to memref<1x4xi32>
// CHECK: scf.parallel
// CHECK: arith.remui
// CHECK: arith.divui
// CHECK: %[[E:.*]] = memref.load %{{.*}} : memref<1x4xi32>
// CHECK: arith.index_cast %[[E]] : i32 to index
// CHECK: scf.reduce
// CHECK: memref.load %{{.*}} : memref<1x4xi32>
// CHECK: vector.store %{{.*}} : memref<2x2x4x2x32x16xf32>, vector<16xf32>
func.func @paged_f32(%q: tensor<1x?x64xf32>, %k: tensor<1x?x32xf32>,
                     %kv: !llm.kv_cache<2 x 2 x 128 x 16, f32, #llm.kv_layout<paged, batch = 1, block = 32>>,
                     %start: index) -> tensor<1x?x64xf32> {
  %o = llm.attention %q, %k, %k cache %kv[%start] : !llm.kv_cache<2 x 2 x 128 x 16, f32, #llm.kv_layout<paged, batch = 1, block = 32>>
         {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
         : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32> -> tensor<1x?x64xf32>
  return %o : tensor<1x?x64xf32>
}

// -----

// Ring buffer of a 32-position sliding window: position t lives in slot
// t % 32, and a query at position p attends only to (p - 32, p].
// CHECK-LABEL: func.func @ring_f32
// CHECK-SAME: memref<16384xi8>
// CHECK: func.func private @__llm_attention{{.*}}_kvf32_ring_b1_w32(
// CHECK: memref.view %{{.*}}[%{{.*}}][] : memref<16384xi8> to memref<2x2x1x2x32x16xf32>
// CHECK: scf.parallel
// CHECK: %[[W:.*]] = arith.constant 31 : index
// CHECK: %[[PAST:.*]] = arith.cmpi ugt, %{{.*}}, %[[W]] : index
// CHECK: arith.select %[[PAST]]
// CHECK: arith.remui
// CHECK: scf.reduce
// CHECK: arith.remui
// CHECK: vector.store %{{.*}} : memref<2x2x1x2x32x16xf32>, vector<16xf32>
func.func @ring_f32(%q: tensor<1x?x64xf32>, %k: tensor<1x?x32xf32>,
                    %kv: !llm.kv_cache<2 x 2 x 128 x 16, f32, #llm.kv_layout<ring, batch = 1, window = 32>>,
                    %start: index) -> tensor<1x?x64xf32> {
  %o = llm.attention %q, %k, %k cache %kv[%start] : !llm.kv_cache<2 x 2 x 128 x 16, f32, #llm.kv_layout<ring, batch = 1, window = 32>>
         {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
         : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32> -> tensor<1x?x64xf32>
  return %o : tensor<1x?x64xf32>
}

// -----

// A batch larger than the planned number of sequences is rejected.
func.func @too_many_sequences(%q: tensor<2x1x64xf32>, %k: tensor<2x1x32xf32>,
                              %kv: !llm.kv_cache<2 x 2 x 128 x 16, f32, #llm.kv_layout<contiguous, batch = 1>>,
                              %start: index) -> tensor<2x1x64xf32> {
  // expected-error @+2 {{attention with a KV cache of 1 sequence(s) needs a static batch size of at most 1}}
  // expected-error @+1 {{failed to legalize operation 'llm.attention'}}
  %o = llm.attention %q, %k, %k cache %kv[%start] : !llm.kv_cache<2 x 2 x 128 x 16, f32, #llm.kv_layout<contiguous, batch = 1>>
         {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
         : tensor<2x1x64xf32>, tensor<2x1x32xf32>, tensor<2x1x32xf32> -> tensor<2x1x64xf32>
  return %o : tensor<2x1x64xf32>
}

// -----

// A batched decode step (llm-batch-decode): one position per row, a dynamic
// batch checked against the cache's sequences; each row reads its own
// position inside the parallel loop and when appending, and reaches its
// sequence's blocks through its row of the block table.
// CHECK-LABEL: func.func @per_row_positions
// CHECK: call @__llm_attention_Dx1x64xf32_Dx1x32xf32_Dx1x32xf32_131136xi8_Dxi64_{{.*}}_kvf32_paged_b4_bs16(
// CHECK: call @__llm_position_ids_Dx1xi64_Dxi64(
// CHECK: func.func private @__llm_attention_Dx1x64xf32
// CHECK-SAME: %[[POS:[a-z0-9]+]]: memref<?xi64>
// CHECK: cf.assert %{{.*}}, "attention: more rows than the KV cache's 4 sequences"
// CHECK: scf.parallel
// CHECK: memref.load %[[POS]][%{{.*}}] : memref<?xi64>
// Keys go 16 at a time: their scores form one vector, one max and one
// vector exp per block, then the remaining keys one by one.
// CHECK: scf.for
// CHECK: vector.from_elements {{.*}} : vector<16xf32>
// CHECK: vector.reduction <maxnumf>, %{{.*}} : vector<16xf32> into f32
// CHECK: math.exp %{{.*}} : vector<16xf32>
// CHECK: scf.for
// CHECK: math.exp %{{.*}} : f32
// CHECK: scf.reduce
// CHECK: scf.for
// CHECK: memref.load %[[POS]][%{{.*}}] : memref<?xi64>
// CHECK: memref.load %{{.*}}[%{{.*}}, %{{.*}}] : memref<4x4xi32>
// CHECK: func.func private @__llm_position_ids_Dx1xi64_Dxi64(
// CHECK: memref.load %{{.*}}[%{{.*}}] : memref<?xi64>
!kv = !llm.kv_cache<2 x 2 x 64 x 16, f32, #llm.kv_layout<paged, batch = 4, block = 16>>
func.func @per_row_positions(%q: tensor<?x1x64xf32>, %k: tensor<?x1x32xf32>, %kv: !kv,
                             %pos: tensor<?xi64>, %tok: tensor<?x1xi64>)
    -> (tensor<?x1x64xf32>, tensor<?x1xi64>) {
  %o = llm.attention %q, %k, %k cache %kv[%pos : tensor<?xi64>] : !kv
         {layer = 1 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
         : tensor<?x1x64xf32>, tensor<?x1x32xf32>, tensor<?x1x32xf32> -> tensor<?x1x64xf32>
  %p = llm.position_ids %tok, [%pos : tensor<?xi64>] : tensor<?x1xi64> -> tensor<?x1xi64>
  return %o, %p : tensor<?x1x64xf32>, tensor<?x1xi64>
}
