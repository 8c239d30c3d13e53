// RUN: llm-opt %s -split-input-file -verify-diagnostics -llm-plan-kv-cache="kv-dtype=f8"
// RUN: not llm-opt %s -llm-plan-kv-cache="layout=paged block-size=24" 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not llm-opt %s -llm-plan-kv-cache="layout=paged block-size=256" 2>&1 | FileCheck %s --check-prefix=LARGE

// The options are checked: an unknown dtype names the accepted ones, a
// block size must be a power of two no larger than the cache.
// expected-error @+1 {{kv-dtype must be f32, f16 or int8, got 'f8'}}
func.func @bad_option(%kv: !llm.kv_cache<2 x 2 x 128 x 16, f32>) {
  return
}
// BLOCK: block-size must be 0 or a power of two, got 24
// LARGE: block-size 256 exceeds the KV capacity of 128 positions
