// RUN: llm-opt %s -split-input-file -mlir-print-op-on-diagnostic=false -llm-cost-report="target=%S/Inputs/cost-target.json context=1000" -verify-diagnostics -o /dev/null
// RUN: llm-opt %s -mlir-print-op-on-diagnostic=false -llm-cost-report="target=%S/Inputs/cost-target.json phase=prefill tokens=64 per-layer=false" -o /dev/null 2>&1 | FileCheck %s --check-prefix=PREFILL
// RUN: llm-opt %s -mlir-print-op-on-diagnostic=false -llm-cost-report="target=%S/Inputs/cost-target.json context=1000 per-op=false per-layer=false target-param=price=36 target-param=carbon=50" -o /dev/null 2>&1 | FileCheck %s --check-prefix=OVERRIDE
// RUN: llm-opt %s -llm-cost-report="target=%S/Inputs/cost-target.json per-op=false per-layer=false json=-" -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=JSON
// RUN: not llm-opt %s -llm-cost-report="target=%S/Inputs/no-such-target.json" -o /dev/null 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not llm-opt %s -llm-cost-report="target=%S/Inputs/cost-target.json phase=train" -o /dev/null 2>&1 | FileCheck %s --check-prefix=PHASE
// RUN: not llm-opt %s -llm-cost-report="target=%S/Inputs/cost-target.json target-param=power.idle_w=hot" -o /dev/null 2>&1 | FileCheck %s --check-prefix=PARAM
// RUN: not llm-opt %s -llm-cost-report="target=%S/Inputs/cost-target.json target-param=memory_bandwidth=0" -o /dev/null 2>&1 | FileCheck %s --check-prefix=ZERO

// The test target (Inputs/cost-target.json): 1 TFLOP/s f32, 4 TOP/s int8,
// 100 GB/s, 1 us per op, 10 W idle, 1 pJ/FLOP f32, 0.5 pJ/op int8,
// 10 pJ/byte, 500 gCO2/kWh, $3.6/hour.

// A decode step of a one-layer MLP and an LM head. Ops are grouped by the
// layer index in their weights' names; ops without weights (silu) join the
// group before them, the reshape is a view and costs nothing.
//
// `up` (gemv_f32, memory efficiency 0.5) moves 3547392 bytes: 70.948 us at
// 50 GB/s + 1 us = 71.948 us; energy = 10 W * 71.948 us + 1 pJ * 1769472
// FLOPs + 10 pJ * 3547392 bytes = 756.722 uJ. silu streams 12288 bytes at
// full bandwidth: 0.123 + 1 us. The int4 `down` weight computes at the int8
// peak and is memory-bound at 25 GB/s: 506112 bytes take 20.244 + 1 us. The
// head (no layer index) reads its 1000x576 f32 table: 46.206 + 1 us.

// expected-remark @+3 {{layer.0: 3 ops, 94.315 us, 986.472 uJ}}
// expected-remark @+2 {{head: 1 ops, 47.206 us, 496.316 uJ}}
// expected-remark @+1 {{decode step (1 tokens, context 1000) on test-target: 141.521 us, 1.483 mJ, 4/4 ops memory-bound; per token: 141.521 us, 7066.1 tok/s, 1.483 mJ, 0.000206 gCO2/1k tokens, $0.142/1M tokens}}
func.func @mlp(%x: tensor<1x?x576xf32>) -> tensor<1x1x1000xf32> {
  %up = llm.weight "model.layers.0.mlp.up_proj.weight" : tensor<1536x576xf32>
  %down = llm.weight "model.layers.0.mlp.down_proj.weight" quant <bits = 4, group = 32, scheme = symmetric> : tensor<576x1536xf32>
  %head = llm.weight "lm_head.weight" : tensor<1000x576xf32>
  // expected-remark @+1 {{gemv_f32 f32: 71.948 us (memory-bound), 756.722 uJ}}
  %0 = llm.matmul %x, %up transpose_b : tensor<1x?x576xf32>, tensor<1536x576xf32> -> tensor<1x?x1536xf32>
  // expected-remark @+1 {{elementwise f32: 1.123 us (memory-bound), 11.359 uJ}}
  %1 = llm.silu %0 : tensor<1x?x1536xf32>
  // expected-remark @+1 {{gemv_int4 int4: 21.244 us (memory-bound), 218.391 uJ}}
  %2 = llm.matmul %1, %down transpose_b : tensor<1x?x1536xf32>, tensor<576x1536xf32> -> tensor<1x?x576xf32>
  %3 = llm.reshape %2 : tensor<1x?x576xf32> -> tensor<1x1x576xf32>
  // expected-remark @+1 {{gemv_f32 f32: 47.206 us (memory-bound), 496.316 uJ}}
  %4 = llm.matmul %3, %head transpose_b : tensor<1x1x576xf32>, tensor<1000x576xf32> -> tensor<1x1x1000xf32>
  return %4 : tensor<1x1x1000xf32>
}

// A 64-token prefill makes `up` a GEMM: 113246208 FLOPs at 0.5 TFLOP/s
// (compute efficiency 0.5) = 226.492 us, more than its 40.796 us of memory
// time, so it is compute-bound. Per-token figures divide by 64.
// PREFILL: remark: gemm_f32 f32: 227.492 us (compute-bound)
// PREFILL: remark: prefill step (64 tokens, context 0) on test-target:
// PREFILL-SAME: per token:

// -----

// Attention over a KV cache reads the cached positions: at context 1000,
// 1000 x (2 x 3 heads x 64 f32) = 1536000 bytes plus q, k, v and the new
// entry, 1543680 bytes in all: 15.437 us at 100 GB/s + 1 us (attention has
// no factors in the test target, so they are 1).

// The attention's `layer` attribute names its group.
// expected-remark @+2 {{layer.1: 1 ops, 16.437 us, 182.156 uJ}}
// expected-remark @+1 {{decode step (1 tokens, context 1000) on test-target: 16.437 us, 182.156 uJ, 1/1 ops memory-bound; per token: 16.437 us, 60839.1 tok/s, 182.156 uJ, 2.53e-05 gCO2/1k tokens, $0.0164/1M tokens}}
func.func @attend(%q: tensor<1x1x576xf32>, %k: tensor<1x1x192xf32>, %v: tensor<1x1x192xf32>, %pos: index, %kv: !llm.kv_cache<2 x 3 x 2048 x 64, f32>) -> tensor<1x1x576xf32> {
  // expected-remark @+1 {{attention f32: 16.437 us (memory-bound), 182.156 uJ}}
  %0 = llm.attention %q, %k, %v cache %kv[%pos] : !llm.kv_cache<2 x 3 x 2048 x 64, f32> {causal, layer = 1 : i64, num_heads = 9 : i64, num_kv_heads = 3 : i64} : tensor<1x1x576xf32>, tensor<1x1x192xf32>, tensor<1x1x192xf32> -> tensor<1x1x576xf32>
  return %0 : tensor<1x1x576xf32>
}
// Overrides of price ($36/hour) and carbon (50 gCO2/kWh) scale the MLP's
// per-token figures; the step itself is unchanged.
// OVERRIDE: remark: decode step (1 tokens, context 1000) on test-target: 141.521 us, 1.483 mJ, 4/4 ops memory-bound; per token: 141.521 us, 7066.1 tok/s, 1.483 mJ, 2.06e-05 gCO2/1k tokens, $1.42/1M tokens
// OVERRIDE: remark: decode step (1 tokens, context 1000) on test-target: 16.437 us, 182.156 uJ, 1/1 ops memory-bound; per token: 16.437 us, 60839.1 tok/s, 182.156 uJ, 2.53e-06 gCO2/1k tokens, $0.164/1M tokens

// JSON: "functions": [
// JSON: "function": "mlp"
// JSON: "memory": {
// JSON: "activation_bytes":
// JSON: "compression_ratio": 1.479
// JSON: "f32_weight_bytes": 9381888
// JSON: "parameters": 2345472
// JSON: "weight_bytes": 6340608
// JSON: "step": {
// JSON: "groups": [
// JSON: "name": "layer.0"
// JSON: "name": "head"
// JSON: "phase": "decode"
// JSON: "target": {
// JSON: "name": "test-target"

// MISSING: error: llm-cost-report: target file {{.*}}no-such-target.json does not exist
// PHASE: error: llm-cost-report: phase must be prefill or decode, got 'train'
// PARAM: error: llm-cost-report: target parameter 'power.idle_w=hot': expected a number after '=', got 'hot'
// ZERO: error: llm-cost-report: {{.*}}cost-target.json: key 'memory_bandwidth': expected a positive number, got 0
