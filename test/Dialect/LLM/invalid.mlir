// RUN: llm-opt %s -split-input-file -verify-diagnostics

// Every verifier error of the llm dialect, one case each.

// Weight names must be non-empty.
func.func @weight_empty_name() {
  // expected-error @+1 {{weight name must not be empty}}
  %0 = llm.weight "" : tensor<4xf32>
  return
}

// -----

// Weights have static shapes.
func.func @weight_dynamic() {
  // expected-error @+1 {{weight must have a static shape}}
  %0 = llm.weight "w" : tensor<?x4xf32>
  return
}

// -----

// A quantization group must divide the row length.
func.func @weight_group_does_not_divide() {
  // expected-error @+1 {{quantization group 32 does not divide the innermost dimension 48}}
  %0 = llm.weight "w" quant <bits = 4, group = 32, scheme = symmetric> : tensor<8x48xf32>
  return
}

// -----

// Scalars cannot be quantized group-wise.
func.func @weight_quant_scalar() {
  // expected-error @+1 {{a quantized weight must have rank >= 1}}
  %0 = llm.weight "w" quant <bits = 8, group = 0, scheme = symmetric> : tensor<f32>
  return
}

// -----

func.func @quant_bits() {
  // expected-error @+1 {{quantization bits must be in [2, 8], got 16}}
  %0 = llm.weight "w" quant <bits = 16, group = 32, scheme = symmetric> : tensor<8x64xf32>
  return
}

// -----

func.func @quant_group() {
  // expected-error @+1 {{quantization group must be 0 (per row) or a power of two >= 8, got 24}}
  %0 = llm.weight "w" quant <bits = 4, group = 24, scheme = symmetric> : tensor<8x48xf32>
  return
}

// -----

// expected-error @+1 {{KV cache dimensions must be positive, got 2 x 0 x 128 x 16}}
func.func @kv_cache_zero_heads(%c: !llm.kv_cache<2 x 0 x 128 x 16, f32>) {
  return
}

// -----

// expected-error @+1 {{KV cache element type must be f32, f16, bf16 or i8, got 'i32'}}
func.func @kv_cache_element_type(%c: !llm.kv_cache<2 x 4 x 128 x 16, i32>) {
  return
}

// -----

// expected-error @+1 {{paged KV layout needs a power-of-two block size, got 24}}
func.func @kv_layout_block() attributes {layout = #llm.kv_layout<paged, batch = 1, block = 24>} {
  return
}

// -----

// expected-error @+1 {{only a ring KV layout has a window}}
func.func @kv_layout_window() attributes {layout = #llm.kv_layout<contiguous, batch = 1, window = 8>} {
  return
}

// -----

// expected-error @+1 {{a ring KV layout's window (128) must be below max_seq (128); use a contiguous layout}}
func.func @kv_layout_ring_window(%c: !llm.kv_cache<2 x 4 x 128 x 16, f32, #llm.kv_layout<ring, batch = 1, window = 128>>) {
  return
}

// -----

// expected-error @+1 {{KV layout batch must be positive, got 0}}
func.func @kv_layout_batch() attributes {layout = #llm.kv_layout<contiguous, batch = 0>} {
  return
}

// -----

// expected-error @+1 {{expected contiguous, paged or ring, got 'striped'}}
func.func @kv_layout_kind() attributes {layout = #llm.kv_layout<striped, batch = 1>} {
  return
}

// -----

func.func @embed_table_rank(%t: tensor<100xf32>, %ids: tensor<1x4xi64>) {
  // expected-error @+1 {{embedding table must be rank 2 [vocab, hidden], got rank 1}}
  %0 = llm.embed %t, %ids : tensor<100xf32>, tensor<1x4xi64> -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_result_rank(%t: tensor<100x8xf32>, %ids: tensor<1x4xi64>) {
  // expected-error @+1 {{result rank must be ids rank + 1 (3), got 2}}
  %0 = llm.embed %t, %ids : tensor<100x8xf32>, tensor<1x4xi64> -> tensor<4x8xf32>
  return
}

// -----

func.func @embed_result_dim(%t: tensor<100x8xf32>, %ids: tensor<1x4xi64>) {
  // expected-error @+1 {{result dimension 1 (5) does not match ids dimension 4}}
  %0 = llm.embed %t, %ids : tensor<100x8xf32>, tensor<1x4xi64> -> tensor<1x5x8xf32>
  return
}

// -----

func.func @embed_hidden(%t: tensor<100x8xf32>, %ids: tensor<1x4xi64>) {
  // expected-error @+1 {{result hidden size 16 does not match table hidden size 8}}
  %0 = llm.embed %t, %ids : tensor<100x8xf32>, tensor<1x4xi64> -> tensor<1x4x16xf32>
  return
}

// -----

func.func @embed_element_type(%t: tensor<100x8xf32>, %ids: tensor<1x4xi64>) {
  // expected-error @+1 {{result element type must match the table's}}
  %0 = llm.embed %t, %ids : tensor<100x8xf32>, tensor<1x4xi64> -> tensor<1x4x8xf16>
  return
}

// -----

func.func @matmul_lhs_rank(%a: tensor<16xf32>, %b: tensor<16x8xf32>) {
  // expected-error @+1 {{lhs must have rank >= 2, got rank 1}}
  %0 = llm.matmul %a, %b : tensor<16xf32>, tensor<16x8xf32> -> tensor<8xf32>
  return
}

// -----

func.func @matmul_rhs_rank(%a: tensor<2x4x16xf32>, %b: tensor<2x2x16x8xf32>) {
  // expected-error @+1 {{rhs must be rank 2 or have the rank of lhs (3), got rank 4}}
  %0 = llm.matmul %a, %b : tensor<2x4x16xf32>, tensor<2x2x16x8xf32> -> tensor<2x4x8xf32>
  return
}

// -----

func.func @matmul_element_types(%a: tensor<4x16xf32>, %b: tensor<16x8xf16>) {
  // expected-error @+1 {{operand and result element types must match}}
  %0 = llm.matmul %a, %b : tensor<4x16xf32>, tensor<16x8xf16> -> tensor<4x8xf32>
  return
}

// -----

// With transpose_b the weight is [N, K].
func.func @matmul_contraction(%a: tensor<4x16xf32>, %b: tensor<16x8xf32>) {
  // expected-error @+1 {{contraction size mismatch: lhs has K = 16, rhs has K = 8}}
  %0 = llm.matmul %a, %b transpose_b : tensor<4x16xf32>, tensor<16x8xf32> -> tensor<4x16xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x4x16xf32>, %b: tensor<3x16x8xf32>) {
  // expected-error @+1 {{batch dimension 0 differs: lhs 2, rhs 3}}
  %0 = llm.matmul %a, %b : tensor<2x4x16xf32>, tensor<3x16x8xf32> -> tensor<2x4x8xf32>
  return
}

// -----

func.func @matmul_result(%a: tensor<4x16xf32>, %b: tensor<16x8xf32>) {
  // expected-error @+1 {{result shape [4, 9] does not match expected [4, 8]}}
  %0 = llm.matmul %a, %b : tensor<4x16xf32>, tensor<16x8xf32> -> tensor<4x9xf32>
  return
}

// -----

func.func @norm_weight_rank(%x: tensor<2x8xf32>, %g: tensor<1x8xf32>) {
  // expected-error @+1 {{weight must be rank 1, got rank 2}}
  %0 = llm.rms_norm %x, %g eps = 1.0e-05 : tensor<2x8xf32>, tensor<1x8xf32>
  return
}

// -----

func.func @norm_input_rank(%x: tensor<f32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{input must have rank >= 1}}
  %0 = llm.rms_norm %x, %g eps = 1.0e-05 : tensor<f32>, tensor<8xf32>
  return
}

// -----

func.func @norm_weight_size(%x: tensor<2x8xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{weight size 4 does not match the last input dimension 8}}
  %0 = llm.rms_norm %x, %g eps = 1.0e-05 : tensor<2x8xf32>, tensor<4xf32>
  return
}

// -----

func.func @norm_weight_type(%x: tensor<2x8xf32>, %g: tensor<8xf16>) {
  // expected-error @+1 {{weight element type 'f16' does not match input element type 'f32'}}
  %0 = llm.rms_norm %x, %g eps = 1.0e-05 : tensor<2x8xf32>, tensor<8xf16>
  return
}

// -----

func.func @norm_epsilon(%x: tensor<2x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{epsilon must be non-negative}}
  %0 = llm.rms_norm %x, %g eps = -1.0 : tensor<2x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<7xf32>) {
  // expected-error @+1 {{bias size 7 does not match the last input dimension 8}}
  %0 = llm.layer_norm %x, %g bias %b eps = 1.0e-05 : tensor<2x8xf32>, tensor<8xf32>, tensor<7xf32>
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<2x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{epsilon must be non-negative}}
  %0 = llm.layer_norm %x, %g eps = -1.0e-05 : tensor<2x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = llm.softmax %x {axis = 2 : i64} : tensor<2x8xf32>
  return
}

// -----

func.func @rope_rank(%x: tensor<4x64xf32>, %p: tensor<1x4xi64>) {
  // expected-error @+1 {{input must be rank 3 [batch, seq, heads * head_dim], got rank 2}}
  %0 = llm.rope %x, %p {num_heads = 2 : i64, theta = 1.0e+04 : f64} : tensor<4x64xf32>, tensor<1x4xi64>
  return
}

// -----

func.func @rope_heads(%x: tensor<1x4x64xf32>, %p: tensor<1x4xi64>) {
  // expected-error @+1 {{number of heads must be positive, got 0}}
  %0 = llm.rope %x, %p {num_heads = 0 : i64, theta = 1.0e+04 : f64} : tensor<1x4x64xf32>, tensor<1x4xi64>
  return
}

// -----

func.func @rope_dynamic_hidden(%x: tensor<1x4x?xf32>, %p: tensor<1x4xi64>) {
  // expected-error @+1 {{input hidden dimension must be static}}
  %0 = llm.rope %x, %p {num_heads = 2 : i64, theta = 1.0e+04 : f64} : tensor<1x4x?xf32>, tensor<1x4xi64>
  return
}

// -----

func.func @rope_divisible(%x: tensor<1x4x64xf32>, %p: tensor<1x4xi64>) {
  // expected-error @+1 {{input hidden size 64 is not divisible by 3 heads}}
  %0 = llm.rope %x, %p {num_heads = 3 : i64, theta = 1.0e+04 : f64} : tensor<1x4x64xf32>, tensor<1x4xi64>
  return
}

// -----

func.func @rope_rotary_dim(%x: tensor<1x4x64xf32>, %p: tensor<1x4xi64>) {
  // expected-error @+1 {{rotary_dim must be even and in (0, head_dim = 32], got 33}}
  %0 = llm.rope %x, %p {num_heads = 2 : i64, theta = 1.0e+04 : f64, rotary_dim = 33 : i64} : tensor<1x4x64xf32>, tensor<1x4xi64>
  return
}

// -----

func.func @rope_theta(%x: tensor<1x4x64xf32>, %p: tensor<1x4xi64>) {
  // expected-error @+1 {{theta must be positive}}
  %0 = llm.rope %x, %p {num_heads = 2 : i64, theta = 0.0 : f64} : tensor<1x4x64xf32>, tensor<1x4xi64>
  return
}

// -----

func.func @rope_positions(%x: tensor<1x4x64xf32>, %p: tensor<1x5xi64>) {
  // expected-error @+1 {{positions shape [1, 5] must be [batch, seq] of the input [1, 4]}}
  %0 = llm.rope %x, %p {num_heads = 2 : i64, theta = 1.0e+04 : f64} : tensor<1x4x64xf32>, tensor<1x5xi64>
  return
}

// -----

func.func @attention_gqa_ratio(%q: tensor<1x4x64xf32>, %kv: tensor<1x4x48xf32>) {
  // expected-error @+1 {{num_heads (4) must be a multiple of num_kv_heads (3)}}
  %0 = llm.attention %q, %kv, %kv {num_heads = 4 : i64, num_kv_heads = 3 : i64}
         : tensor<1x4x64xf32>, tensor<1x4x48xf32>, tensor<1x4x48xf32> -> tensor<1x4x64xf32>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<1x4x64xf32>, %kv: tensor<1x4x64xf32>) {
  // expected-error @+1 {{key/value head_dim (32, 32) must equal the query head_dim (16)}}
  %0 = llm.attention %q, %kv, %kv {num_heads = 4 : i64, num_kv_heads = 2 : i64}
         : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32> -> tensor<1x4x64xf32>
  return
}

// -----

func.func @attention_key_heads(%q: tensor<1x4x64xf32>, %kv: tensor<1x4x30xf32>) {
  // expected-error @+1 {{key hidden size 30 is not divisible by 4 heads}}
  %0 = llm.attention %q, %kv, %kv {num_heads = 4 : i64, num_kv_heads = 4 : i64}
         : tensor<1x4x64xf32>, tensor<1x4x30xf32>, tensor<1x4x30xf32> -> tensor<1x4x64xf32>
  return
}

// -----

func.func @attention_element_types(%q: tensor<1x4x64xf32>, %kv: tensor<1x4x64xf16>) {
  // expected-error @+1 {{query, key, value and result element types must match}}
  %0 = llm.attention %q, %kv, %kv {num_heads = 4 : i64, num_kv_heads = 4 : i64}
         : tensor<1x4x64xf32>, tensor<1x4x64xf16>, tensor<1x4x64xf16> -> tensor<1x4x64xf32>
  return
}

// -----

func.func @attention_batch(%q: tensor<1x4x64xf32>, %kv: tensor<2x4x64xf32>) {
  // expected-error @+1 {{batch sizes of query, key and value differ}}
  %0 = llm.attention %q, %kv, %kv {num_heads = 4 : i64, num_kv_heads = 4 : i64}
         : tensor<1x4x64xf32>, tensor<2x4x64xf32>, tensor<2x4x64xf32> -> tensor<1x4x64xf32>
  return
}

// -----

func.func @attention_kv_lengths(%q: tensor<1x4x64xf32>, %k: tensor<1x4x64xf32>, %v: tensor<1x5x64xf32>) {
  // expected-error @+1 {{key and value sequence lengths differ}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 4 : i64}
         : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x5x64xf32> -> tensor<1x4x64xf32>
  return
}

// -----

func.func @attention_result(%q: tensor<1x4x64xf32>, %kv: tensor<1x4x64xf32>) {
  // expected-error @+1 {{result type 'tensor<1x5x64xf32>' must equal the query type 'tensor<1x4x64xf32>'}}
  %0 = llm.attention %q, %kv, %kv {num_heads = 4 : i64, num_kv_heads = 4 : i64}
         : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32> -> tensor<1x5x64xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<1x4x64xf32>, %kv: tensor<1x4x64xf32>) {
  // expected-error @+1 {{scale must be positive}}
  %0 = llm.attention %q, %kv, %kv {num_heads = 4 : i64, num_kv_heads = 4 : i64, scale = -1.0 : f32}
         : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32> -> tensor<1x4x64xf32>
  return
}

// -----

// The custom syntax cannot express a position without a cache; the generic
// form can.
func.func @attention_position_without_cache(%q: tensor<1x4x64xf32>, %kv: tensor<1x4x64xf32>, %p: index) {
  // expected-error @+1 {{a position requires a cache}}
  %0 = "llm.attention"(%q, %kv, %kv, %p) <{num_heads = 4 : i64, num_kv_heads = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 1>}>
         : (tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>, index) -> tensor<1x4x64xf32>
  return
}

// -----

func.func @attention_layer_without_cache(%q: tensor<1x4x64xf32>, %kv: tensor<1x4x64xf32>) {
  // expected-error @+1 {{'layer' requires a cache}}
  %0 = llm.attention %q, %kv, %kv {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64}
         : tensor<1x4x64xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32> -> tensor<1x4x64xf32>
  return
}

// -----

func.func @attention_causal_lengths(%q: tensor<1x4x64xf32>, %kv: tensor<1x6x64xf32>) {
  // expected-error @+1 {{causal attention without a cache needs equal query and key sequence lengths}}
  %0 = llm.attention %q, %kv, %kv {num_heads = 4 : i64, num_kv_heads = 4 : i64, causal}
         : tensor<1x4x64xf32>, tensor<1x6x64xf32>, tensor<1x6x64xf32> -> tensor<1x4x64xf32>
  return
}

// -----

func.func @attention_cache_without_position(%q: tensor<1x1x64xf32>, %kv: tensor<1x1x64xf32>, %c: !llm.kv_cache<2 x 4 x 16 x 16, f32>) {
  // expected-error @+1 {{a cache requires a position}}
  %0 = "llm.attention"(%q, %kv, %kv, %c) <{layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>}>
         : (tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>, !llm.kv_cache<2 x 4 x 16 x 16, f32>) -> tensor<1x1x64xf32>
  return
}

// -----

func.func @attention_cache_without_layer(%q: tensor<1x1x64xf32>, %kv: tensor<1x1x64xf32>, %c: !llm.kv_cache<2 x 4 x 16 x 16, f32>, %p: index) {
  // expected-error @+1 {{a cache requires a 'layer' attribute}}
  %0 = llm.attention %q, %kv, %kv cache %c[%p] : !llm.kv_cache<2 x 4 x 16 x 16, f32> {num_heads = 4 : i64, num_kv_heads = 4 : i64}
         : tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32> -> tensor<1x1x64xf32>
  return
}

// -----

func.func @attention_cache_layer_range(%q: tensor<1x1x64xf32>, %kv: tensor<1x1x64xf32>, %c: !llm.kv_cache<2 x 4 x 16 x 16, f32>, %p: index) {
  // expected-error @+1 {{layer 2 is out of range for a cache of 2 layers}}
  %0 = llm.attention %q, %kv, %kv cache %c[%p] : !llm.kv_cache<2 x 4 x 16 x 16, f32> {layer = 2 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64}
         : tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32> -> tensor<1x1x64xf32>
  return
}

// -----

func.func @attention_cache_heads(%q: tensor<1x1x64xf32>, %kv: tensor<1x1x32xf32>, %c: !llm.kv_cache<2 x 4 x 16 x 16, f32>, %p: index) {
  // expected-error @+1 {{cache holds 4 heads of dim 16, attention needs 2 heads of dim 16}}
  %0 = llm.attention %q, %kv, %kv cache %c[%p] : !llm.kv_cache<2 x 4 x 16 x 16, f32> {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64}
         : tensor<1x1x64xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32> -> tensor<1x1x64xf32>
  return
}

// -----

func.func @attention_cache_capacity(%q: tensor<1x32x64xf32>, %kv: tensor<1x32x64xf32>, %c: !llm.kv_cache<2 x 4 x 16 x 16, f32>, %p: index) {
  // expected-error @+1 {{key sequence length 32 exceeds the cache capacity 16}}
  %0 = llm.attention %q, %kv, %kv cache %c[%p] : !llm.kv_cache<2 x 4 x 16 x 16, f32> {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64}
         : tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32> -> tensor<1x32x64xf32>
  return
}

// -----

// Broadcasting is checked by the shared trait.
func.func @add_broadcast(%a: tensor<2x8xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{operands don't have broadcast-compatible shapes}}
  %0 = llm.add %a, %b : tensor<2x8xf32>, tensor<3xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @reshape_element_type(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{reshape must not change the element type}}
  %0 = llm.reshape %x : tensor<2x8xf32> -> tensor<16xf16>
  return
}

// -----

func.func @reshape_count(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{element count changes from 16 to 18}}
  %0 = llm.reshape %x : tensor<2x8xf32> -> tensor<2x9xf32>
  return
}

// -----

func.func @reshape_dynamic(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{result may have at most one dynamic dimension}}
  %0 = llm.reshape %x : tensor<?x8xf32> -> tensor<?x?x4xf32>
  return
}

// -----

func.func @transpose_rank(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{permutation has 3 entries for an input of rank 2}}
  %0 = llm.transpose %x [0, 1, 2] : tensor<2x8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @transpose_not_permutation(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{permutation is not a permutation of [0, 2)}}
  %0 = llm.transpose %x [1, 1] : tensor<2x8xf32> -> tensor<8x8xf32>
  return
}

// -----

func.func @transpose_element_type(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{transpose must not change the element type}}
  %0 = llm.transpose %x [1, 0] : tensor<2x8xf32> -> tensor<8x2xf16>
  return
}

// -----

func.func @transpose_result(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{result shape [2, 8] does not match expected [8, 2]}}
  %0 = llm.transpose %x [1, 0] : tensor<2x8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @weight_offset_alignment() {
  // expected-error @+1 {{weight offset must be a non-negative multiple of 64, got 100}}
  %0 = llm.weight "w" at 100 : tensor<4xf32>
  return
}

// -----

func.func @position_ids_rank(%t: tensor<4xi64>, %s: index) {
  // expected-error @+1 {{tokens must be rank 2 [batch, seq], got rank 1}}
  %0 = llm.position_ids %t, [%s] : tensor<4xi64> -> tensor<4xi64>
  return
}

// -----

func.func @position_ids_shape(%t: tensor<1x4xi64>, %s: index) {
  // expected-error @+1 {{result shape [1, 5] must equal the tokens shape [1, 4]}}
  %0 = llm.position_ids %t, [%s] : tensor<1x4xi64> -> tensor<1x5xi64>
  return
}

// -----

func.func @position_ids_rows(%t: tensor<4x1xi64>, %s: tensor<3xi64>) {
  // expected-error @+1 {{per-row starts [3] must have one entry per row of the tokens [4, 1]}}
  %0 = llm.position_ids %t, [%s : tensor<3xi64>] : tensor<4x1xi64> -> tensor<4x1xi64>
  return
}

// -----

!kv = !llm.kv_cache<2 x 2 x 64 x 16, f32, #llm.kv_layout<paged, batch = 4, block = 16>>
func.func @attention_rows(%q: tensor<4x1x64xf32>, %k: tensor<4x1x32xf32>, %kv: !kv, %p: tensor<2xi64>) {
  // expected-error @+1 {{per-row positions [2] must have one entry per query row, batch 4}}
  %0 = llm.attention %q, %k, %k cache %kv[%p : tensor<2xi64>] : !kv
         {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
         : tensor<4x1x64xf32>, tensor<4x1x32xf32>, tensor<4x1x32xf32> -> tensor<4x1x64xf32>
  return
}

// -----

func.func @slice_axis(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = llm.slice %x {axis = 2 : i64, start = 0 : i64} : tensor<2x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @slice_rank(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{result must have the input's rank and element type}}
  %0 = llm.slice %x {axis = 1 : i64, start = 0 : i64} : tensor<2x8xf32> -> tensor<8xf32>
  return
}

// -----

func.func @slice_other_dim(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{dimension 0 changes from 2 to 3 outside the sliced axis}}
  %0 = llm.slice %x {axis = 1 : i64, start = 0 : i64} : tensor<2x8xf32> -> tensor<3x4xf32>
  return
}

// -----

func.func @slice_dynamic_size(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{slice size along axis 1 must be static and positive}}
  %0 = llm.slice %x {axis = 1 : i64, start = 0 : i64} : tensor<2x8xf32> -> tensor<2x?xf32>
  return
}

// -----

func.func @slice_bounds(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{slice [6, 10) is out of bounds for extent 8}}
  %0 = llm.slice %x {axis = 1 : i64, start = 6 : i64} : tensor<2x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @slice_from_end(%x: tensor<2x?xf32>) {
  // expected-error @+1 {{a slice counted from the end (start = -1) cannot be longer than 1}}
  %0 = llm.slice %x {axis = 1 : i64, start = -1 : i64} : tensor<2x?xf32> -> tensor<2x2xf32>
  return
}

// -----

func.func @trilu_rank(%x: tensor<8xf32>) {
  // expected-error @+1 {{input must have rank >= 2}}
  %0 = llm.trilu %x : tensor<8xf32>
  return
}

// -----

func.func @reduce_mean_no_axes(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{needs at least one axis}}
  %0 = llm.reduce_mean %x {axes = array<i64>} : tensor<2x8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @reduce_mean_axis(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = llm.reduce_mean %x {axes = array<i64: 2>} : tensor<2x8xf32> -> tensor<2xf32>
  return
}

// -----

func.func @reduce_mean_order(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{axes must be strictly increasing}}
  %0 = llm.reduce_mean %x {axes = array<i64: 2, 1>} : tensor<2x8x4xf32> -> tensor<2xf32>
  return
}

// -----

func.func @reduce_mean_shape(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{result shape [2] does not match expected [2, 1]}}
  %0 = llm.reduce_mean %x {axes = array<i64: 1>, keepdims} : tensor<2x8xf32> -> tensor<2xf32>
  return
}

// -----

func.func @reduce_mean_type(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{result element type must match the input's}}
  %0 = llm.reduce_mean %x {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2xf16>
  return
}

// -----

func.func @gather_axis(%x: tensor<2x8xf32>, %i: tensor<3xi64>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = llm.gather %x, %i {axis = 2 : i64} : tensor<2x8xf32>, tensor<3xi64> -> tensor<2x3xf32>
  return
}

// -----

func.func @gather_shape(%x: tensor<2x8xf32>, %i: tensor<3xi64>) {
  // expected-error @+1 {{result shape [2, 8] does not match expected [3, 8]}}
  %0 = llm.gather %x, %i {axis = 0 : i64} : tensor<2x8xf32>, tensor<3xi64> -> tensor<2x8xf32>
  return
}

// -----

func.func @gather_type(%x: tensor<2x8xf32>, %i: tensor<3xi64>) {
  // expected-error @+1 {{result element type must match the data's}}
  %0 = llm.gather %x, %i {axis = 0 : i64} : tensor<2x8xf32>, tensor<3xi64> -> tensor<3x8xf16>
  return
}

// -----

func.func @concat_empty() {
  // expected-error @+1 {{needs at least one input}}
  %0 = "llm.concat"() <{axis = 0 : i64}> : () -> tensor<2xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = llm.concat %a {axis = 2 : i64} : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{inputs must have the result's rank and element type}}
  %0 = llm.concat %a, %b {axis = 1 : i64} : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_other_dim(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+1 {{input dimension 0 (4) differs from the result's (2)}}
  %0 = llm.concat %a, %b {axis = 1 : i64} : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_extent(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+1 {{result extent along axis 1 is 7, the inputs sum to 6}}
  %0 = llm.concat %a, %b {axis = 1 : i64} : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x7xf32>
  return
}

// -----

func.func @expand_type(%x: tensor<1x4xf32>) {
  // expected-error @+1 {{result element type must match the input's}}
  %0 = llm.expand %x : tensor<1x4xf32> -> tensor<3x4xf16>
  return
}

// -----

func.func @expand_rank(%x: tensor<1x4xf32>) {
  // expected-error @+1 {{cannot expand rank 2 to rank 1}}
  %0 = llm.expand %x : tensor<1x4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @expand_dim(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{input dimension 0 (2) cannot broadcast to 3}}
  %0 = llm.expand %x : tensor<2x4xf32> -> tensor<3x4xf32>
  return
}

// -----

func.func @expand_dynamic(%x: tensor<1x4xf32>) {
  // expected-error @+1 {{a dynamic result dimension needs a dynamic input dimension to take its extent from}}
  %0 = llm.expand %x : tensor<1x4xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @rope_theta_and_tables(%x: tensor<1x4x64xf32>, %p: tensor<1x4xi64>, %c: tensor<16x16xf32>) {
  // expected-error @+1 {{theta and tables are exclusive}}
  %0 = llm.rope %x, %p tables(%c, %c : tensor<16x16xf32>, tensor<16x16xf32>) {num_heads = 2 : i64, theta = 1.0e+04 : f64} : tensor<1x4x64xf32>, tensor<1x4xi64>
  return
}

// -----

func.func @rope_table_shape(%x: tensor<1x4x64xf32>, %p: tensor<1x4xi64>, %c: tensor<16x8xf32>) {
  // expected-error @+1 {{rotary tables must be [max_positions, 16], got 'tensor<16x8xf32>'}}
  %0 = llm.rope %x, %p tables(%c, %c : tensor<16x8xf32>, tensor<16x8xf32>) {num_heads = 2 : i64} : tensor<1x4x64xf32>, tensor<1x4xi64>
  return
}

// -----

func.func @rope_one_table(%x: tensor<1x4x64xf32>, %p: tensor<1x4xi64>, %c: tensor<16x16xf32>) {
  // expected-error @+1 {{cos and sin tables come together}}
  %0 = "llm.rope"(%x, %p, %c) <{num_heads = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0>}> : (tensor<1x4x64xf32>, tensor<1x4xi64>, tensor<16x16xf32>) -> tensor<1x4x64xf32>
  return
}
