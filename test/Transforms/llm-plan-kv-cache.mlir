// RUN: llm-opt %s -split-input-file -llm-plan-kv-cache | FileCheck %s --check-prefix=DEFAULT
// RUN: llm-opt %s -split-input-file -llm-plan-kv-cache="kv-dtype=int8" | FileCheck %s --check-prefix=INT8
// RUN: llm-opt %s -split-input-file -llm-plan-kv-cache="kv-dtype=f16 max-batch=4 target=%S/Inputs/cost-target.json target-param=bandwidth=4e9" | FileCheck %s --check-prefix=PAGED
// RUN: llm-opt %s -split-input-file -llm-plan-kv-cache="layout=paged block-size=16" | FileCheck %s --check-prefix=BLOCK

// A 2-layer, 2-head cache of 1024 positions of head_dim 64 as imported.
// Without options the plan keeps f32 in one contiguous region
// (2 * 2 layers * 2 heads * 1024 * 64 * 4 bytes); int8 quarters the data
// and adds one f16 scale per token, head and K/V; four sequences in f16
// share a paged pool of blocks of 64 positions (the cost model's choice on
// the test target, llm-plan-kv-cache-blocksize.mlir) behind a 256-byte
// block table; an explicit block size wins.
// DEFAULT-LABEL: func.func @forward
// DEFAULT-SAME: !llm.kv_cache<2 x 2 x 1024 x 64, f32, #llm.kv_layout<contiguous, batch = 1>>
// DEFAULT-SAME: llm.kv_plan = {block_size = 0 : i64, bytes_per_token = 2048 : i64, dtype = "f32", layout = "contiguous", max_batch = 1 : i64, total_bytes = 2097152 : i64, window = 0 : i64}
// DEFAULT: llm.attention {{.*}} cache %{{.*}} : !llm.kv_cache<2 x 2 x 1024 x 64, f32, #llm.kv_layout<contiguous, batch = 1>>
// INT8-LABEL: func.func @forward
// INT8-SAME: !llm.kv_cache<2 x 2 x 1024 x 64, i8, #llm.kv_layout<contiguous, batch = 1>>
// INT8-SAME: bytes_per_token = 528 : i64, dtype = "int8", layout = "contiguous"
// INT8-SAME: total_bytes = 540672 : i64
// PAGED-LABEL: func.func @forward
// PAGED-SAME: !llm.kv_cache<2 x 2 x 1024 x 64, f16, #llm.kv_layout<paged, batch = 4, block = 64>>
// PAGED-SAME: block_size = 64 : i64, block_size_source = "cost-model", block_target = "test-target", bytes_per_token = 1024 : i64, dtype = "f16", layout = "paged", max_batch = 4 : i64, total_bytes = 4194560 : i64
// BLOCK-LABEL: func.func @forward
// BLOCK-SAME: #llm.kv_layout<paged, batch = 1, block = 16>
// BLOCK-SAME: block_size = 16 : i64
func.func @forward(%q: tensor<1x?x256xf32>, %k: tensor<1x?x128xf32>, %kv: !llm.kv_cache<2 x 2 x 1024 x 64, f32>, %p: index) -> tensor<1x?x256xf32> {
  %o = llm.attention %q, %k, %k cache %kv[%p] : !llm.kv_cache<2 x 2 x 1024 x 64, f32>
         {layer = 1 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
         : tensor<1x?x256xf32>, tensor<1x?x128xf32>, tensor<1x?x128xf32> -> tensor<1x?x256xf32>
  return %o : tensor<1x?x256xf32>
}

// -----

// A model with a sliding window shorter than the cache (llm.sliding_window
// from its config) gets a ring buffer of `window` positions per sequence,
// whatever the layout option (even an explicit paged one).
// DEFAULT-LABEL: func.func @mistral_like
// DEFAULT-SAME: !llm.kv_cache<2 x 2 x 1024 x 64, f32, #llm.kv_layout<ring, batch = 1, window = 256>>
// DEFAULT-SAME: layout = "ring"
// DEFAULT-SAME: total_bytes = 524288 : i64, window = 256 : i64
// INT8-LABEL: func.func @mistral_like
// INT8-SAME: !llm.kv_cache<2 x 2 x 1024 x 64, i8, #llm.kv_layout<ring, batch = 1, window = 256>>
// PAGED-LABEL: func.func @mistral_like
// PAGED-SAME: #llm.kv_layout<ring, batch = 4, window = 256>
// BLOCK-LABEL: func.func @mistral_like
// BLOCK-SAME: #llm.kv_layout<ring, batch = 1, window = 256>
module attributes {llm.sliding_window = 256 : i64} {
  func.func @mistral_like(%kv: !llm.kv_cache<2 x 2 x 1024 x 64, f32>) {
    return
  }
}

// -----

// A window at least as long as the cache changes nothing: contiguous.
// DEFAULT-LABEL: func.func @long_window
// DEFAULT-SAME: #llm.kv_layout<contiguous, batch = 1>
module attributes {llm.sliding_window = 4096 : i64} {
  func.func @long_window(%kv: !llm.kv_cache<2 x 2 x 1024 x 64, f32>) {
    return
  }
}

// -----

// Functions without a cache are left alone.
// DEFAULT-LABEL: func.func @no_cache
// DEFAULT-NOT: llm.kv_plan
func.func @no_cache(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
