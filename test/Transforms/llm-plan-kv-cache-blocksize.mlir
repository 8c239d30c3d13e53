// RUN: llm-opt %s -split-input-file -llm-plan-kv-cache="layout=paged target=%S/Inputs/cost-target.json target-param=bandwidth=4e9" 2>/dev/null | FileCheck %s --check-prefix=PLAN
// RUN: llm-opt %s -split-input-file -llm-plan-kv-cache="layout=paged target=%S/Inputs/cost-target.json target-param=bandwidth=4e9" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: llm-opt %s -split-input-file -llm-plan-kv-cache="kv-dtype=int8 layout=paged target=%S/Inputs/cost-target.json target-param=bandwidth=4e9" 2>/dev/null | FileCheck %s --check-prefix=INT8
// RUN: llm-opt %s -split-input-file -llm-plan-kv-cache="layout=paged block-size=8 target=%S/Inputs/cost-target.json target-param=bandwidth=4e9" 2>/dev/null | FileCheck %s --check-prefix=OPTION
// RUN: llm-opt %s -split-input-file -llm-plan-kv-cache="layout=paged block-size=8 target=%S/Inputs/cost-target.json target-param=bandwidth=4e9" -o /dev/null 2>&1 | count 0
// RUN: llm-opt %s -split-input-file -llm-plan-kv-cache="layout=paged target=%S/../../passes/CostModel/targets/sm_90.json" 2>/dev/null | FileCheck %s --check-prefix=GPU
// RUN: llm-opt %s -split-input-file -llm-plan-kv-cache="target=%S/Inputs/no-such-target.json" 2>/dev/null | FileCheck %s --check-prefix=UNUSED
// RUN: not llm-opt %s -split-input-file -llm-plan-kv-cache="layout=paged target=%S/Inputs/no-such-target.json" 2>&1 | FileCheck %s --check-prefix=MISSING

// llm-plan-kv-cache with block-size=0 asks the cost model for the paged
// block size. The test target streams attention at 4 GB/s and a CPU block
// start costs 100 ns (the time of 400 bytes), so a block adds
// 400 / (block * bytes per position) to decode attention, and wastes half a
// block plus the rounding of max_seq per sequence: the best block grows
// with fewer bytes per position. An explicit block-size wins, without a
// remark. On a GPU a block start costs the time of 64 bytes whatever the
// bandwidth, so blocks are smaller.

// f32, head_dim 128 (512 bytes per position and head): 32 positions
// (+2.4% attention, 1.6% waste) beat 64 (+1.2%, 3.1%).
// PLAN-LABEL: func.func @f32_head128
// PLAN-SAME: #llm.kv_layout<paged, batch = 1, block = 32>
// PLAN-SAME: llm.kv_plan = {block_attention_overhead = 2.440000e-02 : f64, block_memory_waste = 1.560000e-02 : f64, block_size = 32 : i64, block_size_source = "cost-model", block_target = "test-target"
// REMARK: remark: paged KV block of 32 positions (cost model, test-target): 16.0 KiB per head and block; decode attention at context 1024 {{.*}} (+2.4%, 100.00 ns per block at 4.00 GB/s), expected waste 1.6% (64 KiB per sequence); candidates (block: attention + waste = cost): 16: +4.9% + 0.8% = 5.7%, 32: +2.4% + 1.6% = 4.0%, 64: +1.2% + 3.1% = 4.3%, 128: +0.6% + 6.2% = 6.9%, 256: +0.3% + 12.5% = 12.8%
// GPU-LABEL: func.func @f32_head128
// GPU-SAME: #llm.kv_layout<paged, batch = 1, block = 16>
// GPU-SAME: block_target = "sm_90"
// OPTION-LABEL: func.func @f32_head128
// OPTION-SAME: #llm.kv_layout<paged, batch = 1, block = 8>
// OPTION-SAME: llm.kv_plan = {block_size = 8 : i64, block_size_source = "option", bytes_per_token = 4096 : i64
func.func @f32_head128(%kv: !llm.kv_cache<2 x 2 x 1024 x 128, f32>) {
  return
}

// -----

// f32, head_dim 64 (256 bytes per position): 64 positions.
// PLAN-LABEL: func.func @f32_head64
// PLAN-SAME: #llm.kv_layout<paged, batch = 1, block = 64>
// PLAN-SAME: block_size = 64 : i64, block_size_source = "cost-model"
// REMARK: remark: paged KV block of 64 positions (cost model, test-target): 16.0 KiB per head and block;
// REMARK-SAME: candidates (block: attention + waste = cost): 16: +9.8% + 0.8% = 10.5%, 32: +4.9% + 1.6% = 6.4%, 64: +2.4% + 3.1% = 5.6%, 128: +1.2% + 6.2% = 7.5%, 256: +0.6% + 12.5% = 13.1%
// int8 keeps 66 bytes per position (64 codes and an f16 scale, read as a
// second stream): 128 positions.
// INT8-LABEL: func.func @f32_head64
// INT8-SAME: !llm.kv_cache<2 x 2 x 1024 x 64, i8, #llm.kv_layout<paged, batch = 1, block = 128>>
// INT8-SAME: block_size = 128 : i64, block_size_source = "cost-model"
// OPTION-LABEL: func.func @f32_head64
// OPTION-SAME: #llm.kv_layout<paged, batch = 1, block = 8>
func.func @f32_head64(%kv: !llm.kv_cache<2 x 2 x 1024 x 64, f32>) {
  return
}

// -----

// A short context: rounding 100 positions up to whole blocks wastes 12, 28
// and 28 positions with blocks of 16, 32 and 64, so 16 wins.
// PLAN-LABEL: func.func @short_context
// PLAN-SAME: #llm.kv_layout<paged, batch = 1, block = 16>
// REMARK: remark: paged KV block of 16 positions
// REMARK-SAME: candidates (block: attention + waste = cost): 16: +10.9% + 20.0% = 30.9%, 32: +6.2% + 44.0% = 50.2%, 64: +3.1% + 60.0% = 63.1%
func.func @short_context(%kv: !llm.kv_cache<2 x 2 x 100 x 64, f32>) {
  return
}

// -----

// Below 16 positions the only candidate is the largest power of two that
// fits.
// PLAN-LABEL: func.func @tiny_context
// PLAN-SAME: #llm.kv_layout<paged, batch = 1, block = 8>
func.func @tiny_context(%kv: !llm.kv_cache<1 x 1 x 12 x 64, f32>) {
  return
}

// -----

// The target is only read when a block size must be chosen; a missing one
// is an error then.
// UNUSED-LABEL: func.func @needs_target
// UNUSED-SAME: #llm.kv_layout<contiguous, batch = 1>
// MISSING: error: cannot choose the KV block size: {{.*}}no-such-target.json
func.func @needs_target(%kv: !llm.kv_cache<2 x 2 x 1024 x 64, f32>) {
  return
}
