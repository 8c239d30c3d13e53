// llm-calibrate measures this machine and writes a target that the cost
// model loads: every field parses, and a step predicted with it is positive.
// RUN: llm-calibrate --quick --num-threads=1 -o %t.json --target-param=price=0.5 2>&1 | FileCheck %s --check-prefix=LOG
// RUN: llm-opt %s -mlir-print-op-on-diagnostic=false -llm-cost-report="target=%t.json per-op=false per-layer=false" -o /dev/null 2>&1 | FileCheck %s
// RUN: not llm-calibrate --quick -o %t.bad.json --target-param=efficiency.gemv_f32.memory=2 2>&1 | FileCheck %s --check-prefix=BAD

// LOG: read bandwidth: {{[0-9.]+}} GB/s (1 thread)
// LOG: per-op overhead:
// LOG: gemv_f32
// LOG: gemv_int4
// LOG: attention
// LOG: gemv_int4 {{.*}} GEMVs 576<->1536 int4 g32 {{.*}} us/op
// LOG: wrote {{.*}}.json

// CHECK: remark: decode step (1 tokens, context 0) on host-cpu: {{[0-9.]+ (us|ms|s)}},
// CHECK-SAME: $
// BAD: error: the result: key 'efficiency.gemv_f32': efficiency factors must be in (0, 1]
func.func @step(%x: tensor<1x1x576xf32>) -> tensor<1x1x1536xf32> {
  %w = llm.weight "model.layers.0.mlp.up_proj.weight" : tensor<1536x576xf32>
  %y = llm.matmul %x, %w transpose_b : tensor<1x1x576xf32>, tensor<1536x576xf32> -> tensor<1x1x1536xf32>
  return %y : tensor<1x1x1536xf32>
}
