// RUN: llm-opt %s -split-input-file | llm-opt -split-input-file | FileCheck %s
// RUN: llm-opt %s -split-input-file -mlir-print-op-generic | llm-opt -split-input-file | FileCheck %s

// Round-trips every llm op, type and attribute through the custom assembly
// format and the generic form.

// CHECK-LABEL: func.func @weights
// CHECK: llm.weight "model.embed_tokens.weight" : tensor<49152x576xf32>
// CHECK: llm.weight "lm_head.weight" quant <bits = 4, group = 32, scheme = symmetric> : tensor<49152x576xf32>
// CHECK: llm.weight "w8" quant <bits = 8, group = 0, scheme = asymmetric> : tensor<64x64xf16>
func.func @weights() -> (tensor<49152x576xf32>, tensor<49152x576xf32>, tensor<64x64xf16>) {
  %0 = llm.weight "model.embed_tokens.weight" : tensor<49152x576xf32>
  %1 = llm.weight "lm_head.weight" quant <bits = 4, group = 32, scheme = symmetric> : tensor<49152x576xf32>
  %2 = llm.weight "w8" quant <bits = 8, group = 0, scheme = asymmetric> : tensor<64x64xf16>
  return %0, %1, %2 : tensor<49152x576xf32>, tensor<49152x576xf32>, tensor<64x64xf16>
}

// -----

// CHECK-LABEL: func.func @embed
// CHECK-SAME: (%[[T:.*]]: tensor<100x8xbf16>, %[[IDS:.*]]: tensor<2x?xi32>)
// CHECK: llm.embed %[[T]], %[[IDS]] : tensor<100x8xbf16>, tensor<2x?xi32> -> tensor<2x?x8xbf16>
func.func @embed(%t: tensor<100x8xbf16>, %ids: tensor<2x?xi32>) -> tensor<2x?x8xbf16> {
  %0 = llm.embed %t, %ids : tensor<100x8xbf16>, tensor<2x?xi32> -> tensor<2x?x8xbf16>
  return %0 : tensor<2x?x8xbf16>
}

// -----

// CHECK-LABEL: func.func @matmul
// CHECK: llm.matmul %{{.*}}, %{{.*}} transpose_b : tensor<1x?x576xf32>, tensor<1536x576xf32> -> tensor<1x?x1536xf32>
// CHECK: llm.matmul %{{.*}}, %{{.*}} : tensor<4x8x16xf32>, tensor<4x16x2xf32> -> tensor<4x8x2xf32>
func.func @matmul(%x: tensor<1x?x576xf32>, %w: tensor<1536x576xf32>,
                  %a: tensor<4x8x16xf32>, %b: tensor<4x16x2xf32>) -> (tensor<1x?x1536xf32>, tensor<4x8x2xf32>) {
  %0 = llm.matmul %x, %w transpose_b : tensor<1x?x576xf32>, tensor<1536x576xf32> -> tensor<1x?x1536xf32>
  %1 = llm.matmul %a, %b : tensor<4x8x16xf32>, tensor<4x16x2xf32> -> tensor<4x8x2xf32>
  return %0, %1 : tensor<1x?x1536xf32>, tensor<4x8x2xf32>
}

// -----

// CHECK-LABEL: func.func @norms
// CHECK: llm.rms_norm %{{.*}}, %{{.*}} eps = 1.000000e-05 : tensor<1x?x576xf32>, tensor<576xf32>
// CHECK: llm.layer_norm %{{.*}}, %{{.*}} bias %{{.*}} eps = 1.000000e-05 : tensor<1x?x576xf32>, tensor<576xf32>, tensor<576xf32>
// CHECK: llm.layer_norm %{{.*}}, %{{.*}} eps = 0.000000e+00 : tensor<1x?x576xf32>, tensor<576xf32>
func.func @norms(%x: tensor<1x?x576xf32>, %g: tensor<576xf32>, %b: tensor<576xf32>) -> tensor<1x?x576xf32> {
  %0 = llm.rms_norm %x, %g eps = 1.0e-05 : tensor<1x?x576xf32>, tensor<576xf32>
  %1 = llm.layer_norm %0, %g bias %b eps = 1.0e-05 : tensor<1x?x576xf32>, tensor<576xf32>, tensor<576xf32>
  %2 = llm.layer_norm %1, %g eps = 0.0 : tensor<1x?x576xf32>, tensor<576xf32>
  return %2 : tensor<1x?x576xf32>
}

// -----

// CHECK-LABEL: func.func @rope
// CHECK: llm.rope %{{.*}}, %{{.*}} {num_heads = 9 : i64, theta = 1.000000e+04 : f64} : tensor<1x?x576xf32>, tensor<1x?xi64>
// CHECK: llm.rope %{{.*}}, %{{.*}} {interleaved, num_heads = 9 : i64, rotary_dim = 32 : i64, theta = 5.000000e+05 : f64} : tensor<1x?x576xf32>, tensor<1x?xi64>
// CHECK: llm.rope %{{.*}}, %{{.*}} tables(%{{.*}}, %{{.*}} : tensor<2048x32xf32>, tensor<2048x32xf32>) {num_heads = 9 : i64} : tensor<1x?x576xf32>, tensor<1x?xi64>
func.func @rope(%x: tensor<1x?x576xf32>, %pos: tensor<1x?xi64>, %c: tensor<2048x32xf32>, %s: tensor<2048x32xf32>) -> tensor<1x?x576xf32> {
  %0 = llm.rope %x, %pos {num_heads = 9 : i64, theta = 1.0e+04 : f64} : tensor<1x?x576xf32>, tensor<1x?xi64>
  %1 = llm.rope %0, %pos {num_heads = 9 : i64, theta = 5.0e+05 : f64, rotary_dim = 32 : i64, interleaved} : tensor<1x?x576xf32>, tensor<1x?xi64>
  %2 = llm.rope %1, %pos tables(%c, %s : tensor<2048x32xf32>, tensor<2048x32xf32>) {num_heads = 9 : i64} : tensor<1x?x576xf32>, tensor<1x?xi64>
  return %2 : tensor<1x?x576xf32>
}

// -----

// GQA prefill without a cache, and decode against a cache.
// CHECK-LABEL: func.func @attention
// CHECK: llm.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, num_heads = 9 : i64, num_kv_heads = 3 : i64} : tensor<1x?x576xf32>, tensor<1x?x192xf32>, tensor<1x?x192xf32> -> tensor<1x?x576xf32>
// CHECK: llm.attention %{{.*}}, %{{.*}}, %{{.*}} cache %{{.*}}[%{{.*}}] : !llm.kv_cache<30 x 3 x 2048 x 64, f16> {causal, layer = 29 : i64, num_heads = 9 : i64, num_kv_heads = 3 : i64, scale = 1.250000e-01 : f32} : tensor<1x1x576xf32>, tensor<1x1x192xf32>, tensor<1x1x192xf32> -> tensor<1x1x576xf32>
func.func @attention(%q: tensor<1x?x576xf32>, %k: tensor<1x?x192xf32>, %v: tensor<1x?x192xf32>,
                     %q1: tensor<1x1x576xf32>, %k1: tensor<1x1x192xf32>, %v1: tensor<1x1x192xf32>,
                     %kv: !llm.kv_cache<30 x 3 x 2048 x 64, f16>, %pos: index) -> (tensor<1x?x576xf32>, tensor<1x1x576xf32>) {
  %0 = llm.attention %q, %k, %v {num_heads = 9 : i64, num_kv_heads = 3 : i64, causal}
         : tensor<1x?x576xf32>, tensor<1x?x192xf32>, tensor<1x?x192xf32> -> tensor<1x?x576xf32>
  %1 = llm.attention %q1, %k1, %v1 cache %kv[%pos] : !llm.kv_cache<30 x 3 x 2048 x 64, f16>
         {layer = 29 : i64, num_heads = 9 : i64, num_kv_heads = 3 : i64, scale = 0.125 : f32, causal}
         : tensor<1x1x576xf32>, tensor<1x1x192xf32>, tensor<1x1x192xf32> -> tensor<1x1x576xf32>
  return %0, %1 : tensor<1x?x576xf32>, tensor<1x1x576xf32>
}

// -----

// CHECK-LABEL: func.func @kv_cache_types
// CHECK-SAME: !llm.kv_cache<2 x 4 x 128 x 16, f32>
// CHECK-SAME: !llm.kv_cache<2 x 4 x 128 x 16, bf16>
// CHECK-SAME: !llm.kv_cache<2 x 4 x 128 x 16, i8>
func.func @kv_cache_types(%a: !llm.kv_cache<2 x 4 x 128 x 16, f32>,
                          %b: !llm.kv_cache<2 x 4 x 128 x 16, bf16>,
                          %c: !llm.kv_cache<2 x 4 x 128 x 16, i8>) {
  return
}

// -----

// Planned caches carry a #llm.kv_layout; the parameters a kind does not use
// are omitted.
// CHECK-LABEL: func.func @kv_cache_layouts
// CHECK-SAME: !llm.kv_cache<2 x 4 x 128 x 16, f16, #llm.kv_layout<contiguous, batch = 1>>
// CHECK-SAME: !llm.kv_cache<2 x 4 x 128 x 16, i8, #llm.kv_layout<paged, batch = 8, block = 32>>
// CHECK-SAME: !llm.kv_cache<2 x 4 x 128 x 16, f32, #llm.kv_layout<ring, batch = 1, window = 64>>
func.func @kv_cache_layouts(%a: !llm.kv_cache<2 x 4 x 128 x 16, f16, #llm.kv_layout<contiguous, batch = 1>>,
                            %b: !llm.kv_cache<2 x 4 x 128 x 16, i8, #llm.kv_layout<paged, batch = 8, block = 32>>,
                            %c: !llm.kv_cache<2 x 4 x 128 x 16, f32, #llm.kv_layout<ring, batch = 1, window = 64>>) {
  return
}

// -----

// CHECK-LABEL: func.func @elementwise
// CHECK: llm.add %{{.*}}, %{{.*}} : tensor<1x?x576xf32>, tensor<576xf32> -> tensor<1x?x576xf32>
// CHECK: llm.mul %{{.*}}, %{{.*}} : tensor<1x?x576xf32>, tensor<1x?x576xf32> -> tensor<1x?x576xf32>
// CHECK: llm.silu %{{.*}} : tensor<1x?x576xf32>
// CHECK: llm.gelu %{{.*}} : tensor<1x?x576xf32>
// CHECK: llm.gelu %{{.*}} tanh : tensor<1x?x576xf32>
// CHECK: llm.softmax %{{.*}} {axis = 1 : i64} : tensor<1x?x576xf32>
// CHECK: llm.softmax %{{.*}} : tensor<1x?x576xf32>
func.func @elementwise(%x: tensor<1x?x576xf32>, %b: tensor<576xf32>) -> tensor<1x?x576xf32> {
  %0 = llm.add %x, %b : tensor<1x?x576xf32>, tensor<576xf32> -> tensor<1x?x576xf32>
  %1 = llm.mul %0, %x : tensor<1x?x576xf32>, tensor<1x?x576xf32> -> tensor<1x?x576xf32>
  %2 = llm.silu %1 : tensor<1x?x576xf32>
  %3 = llm.gelu %2 : tensor<1x?x576xf32>
  %4 = llm.gelu %3 tanh : tensor<1x?x576xf32>
  %5 = llm.softmax %4 {axis = 1 : i64} : tensor<1x?x576xf32>
  %6 = llm.softmax %5 : tensor<1x?x576xf32>
  return %6 : tensor<1x?x576xf32>
}

// -----

// CHECK-LABEL: func.func @shapes
// CHECK: llm.reshape %{{.*}} : tensor<1x4x576xf32> -> tensor<1x4x9x64xf32>
// CHECK: llm.transpose %{{.*}} [0, 2, 1, 3] : tensor<1x4x9x64xf32> -> tensor<1x9x4x64xf32>
func.func @shapes(%x: tensor<1x4x576xf32>) -> tensor<1x9x4x64xf32> {
  %0 = llm.reshape %x : tensor<1x4x576xf32> -> tensor<1x4x9x64xf32>
  %1 = llm.transpose %0 [0, 2, 1, 3] : tensor<1x4x9x64xf32> -> tensor<1x9x4x64xf32>
  return %1 : tensor<1x9x4x64xf32>
}

// -----

// CHECK-LABEL: func.func @positions_and_slices
// CHECK: llm.position_ids %{{.*}}, [%{{.*}}] : tensor<1x?xi64> -> tensor<1x?xi64>
// CHECK: llm.slice %{{.*}} {axis = 2 : i64, start = 768 : i64} : tensor<1x?x2304xf32> -> tensor<1x?x768xf32>
// CHECK: llm.slice %{{.*}} {axis = 1 : i64, start = -1 : i64} : tensor<1x?x768xf32> -> tensor<1x1x768xf32>
// CHECK: llm.weight "wpe" at 4096 : tensor<128x768xf32>
func.func @positions_and_slices(%t: tensor<1x?xi64>, %start: index, %qkv: tensor<1x?x2304xf32>)
    -> (tensor<1x?xi64>, tensor<1x1x768xf32>, tensor<128x768xf32>) {
  %0 = llm.position_ids %t, [%start] : tensor<1x?xi64> -> tensor<1x?xi64>
  %1 = llm.slice %qkv {axis = 2 : i64, start = 768 : i64} : tensor<1x?x2304xf32> -> tensor<1x?x768xf32>
  %2 = llm.slice %1 {axis = 1 : i64, start = -1 : i64} : tensor<1x?x768xf32> -> tensor<1x1x768xf32>
  %3 = llm.weight "wpe" at 4096 : tensor<128x768xf32>
  return %0, %2, %3 : tensor<1x?xi64>, tensor<1x1x768xf32>, tensor<128x768xf32>
}

// -----

// Per-row positions: a batched decode step's rows at their own positions.
// CHECK-LABEL: func.func @per_row_positions
// CHECK: llm.position_ids %{{.*}}, [%[[P:.*]] : tensor<?xi64>] : tensor<?x1xi64> -> tensor<?x1xi64>
// CHECK: llm.attention %{{.*}}, %{{.*}}, %{{.*}} cache %{{.*}}[%[[P]] : tensor<?xi64>] : !llm.kv_cache
!kv = !llm.kv_cache<2 x 2 x 64 x 16, f32, #llm.kv_layout<paged, batch = 4, block = 16>>
func.func @per_row_positions(%t: tensor<?x1xi64>, %p: tensor<?xi64>, %q: tensor<?x1x64xf32>,
                             %k: tensor<?x1x32xf32>, %kv: !kv) -> (tensor<?x1xi64>, tensor<?x1x64xf32>) {
  %0 = llm.position_ids %t, [%p : tensor<?xi64>] : tensor<?x1xi64> -> tensor<?x1xi64>
  %1 = llm.attention %q, %k, %k cache %kv[%p : tensor<?xi64>] : !kv
         {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
         : tensor<?x1x64xf32>, tensor<?x1x32xf32>, tensor<?x1x32xf32> -> tensor<?x1x64xf32>
  return %0, %1 : tensor<?x1xi64>, tensor<?x1x64xf32>
}

// -----

// Generic tensor ops (the vocabulary of ONNX import).
// CHECK-LABEL: func.func @tensor_ops
// CHECK: llm.sub %{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
// CHECK: llm.div %{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
// CHECK: llm.pow %{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
// CHECK: llm.compare lt, %{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xi1>
// CHECK: llm.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x8xi1>, tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
// CHECK: llm.sqrt %{{.*}} : tensor<2x8xf32>
// CHECK: llm.reciprocal
// CHECK: llm.tanh
// CHECK: llm.erf
// CHECK: llm.sigmoid
// CHECK: llm.exp
// CHECK: llm.neg
// CHECK: llm.cast %{{.*}} : tensor<2x8xf32> -> tensor<2x8xf16>
// CHECK: llm.trilu %{{.*}} {k = 1 : i64, upper} : tensor<2x8xf32>
// CHECK: llm.reduce_mean %{{.*}} {axes = array<i64: 1>, keepdims} : tensor<2x8xf32> -> tensor<2x1xf32>
// CHECK: llm.gather %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<2x8xf32>, tensor<3xi64> -> tensor<2x3xf32>
// CHECK: llm.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<2x8xf32>, tensor<2x3xf32> -> tensor<2x11xf32>
// CHECK: llm.expand %{{.*}} : tensor<8xf32> -> tensor<3x8xf32>
func.func @tensor_ops(%a: tensor<2x8xf32>, %b: tensor<8xf32>, %i: tensor<3xi64>) {
  %0 = llm.sub %a, %b : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  %1 = llm.div %a, %b : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  %2 = llm.pow %a, %b : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  %3 = llm.compare lt, %a, %b : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xi1>
  %4 = llm.select %3, %a, %b : tensor<2x8xi1>, tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  %5 = llm.sqrt %4 : tensor<2x8xf32>
  %6 = llm.reciprocal %5 : tensor<2x8xf32>
  %7 = llm.tanh %6 : tensor<2x8xf32>
  %8 = llm.erf %7 : tensor<2x8xf32>
  %9 = llm.sigmoid %8 : tensor<2x8xf32>
  %10 = llm.exp %9 : tensor<2x8xf32>
  %11 = llm.neg %10 : tensor<2x8xf32>
  %12 = llm.cast %11 : tensor<2x8xf32> -> tensor<2x8xf16>
  %13 = llm.trilu %a {upper, k = 1 : i64} : tensor<2x8xf32>
  %14 = llm.reduce_mean %a {axes = array<i64: 1>, keepdims} : tensor<2x8xf32> -> tensor<2x1xf32>
  %15 = llm.gather %a, %i {axis = 1 : i64} : tensor<2x8xf32>, tensor<3xi64> -> tensor<2x3xf32>
  %16 = llm.concat %a, %15 {axis = 1 : i64} : tensor<2x8xf32>, tensor<2x3xf32> -> tensor<2x11xf32>
  %17 = llm.expand %b : tensor<8xf32> -> tensor<3x8xf32>
  return
}
