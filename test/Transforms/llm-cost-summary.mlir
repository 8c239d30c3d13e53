// RUN: llm-opt %s -split-input-file -llm-cost-summary -verify-diagnostics
// RUN: llm-opt %s -llm-cost-summary="tokens=4 per-op=false" -o /dev/null 2>&1 | FileCheck %s --check-prefix=PREFILL

// Per-op and per-function cost remarks for a decode step (tokens = 1); with
// tokens = 4 (a 4-token prefill) the FLOPs scale by 4. Weights are costed by
// their consumers: the int4 g32 `down` weight is read as 442368 bytes of
// packed integers plus 55296 bytes of f16 scales.

// expected-remark @+1 {{total: flops = 3546624, bytes_read = 4051200, bytes_written = 14592, flops_per_byte = 0.872}}
func.func @mlp(%x: tensor<1x?x576xf32>) -> tensor<1x?x576xf32> {
  %up = llm.weight "up" : tensor<1536x576xf32>
  %down = llm.weight "down" quant <bits = 4, group = 32, scheme = symmetric> : tensor<576x1536xf32>
  // expected-remark @+1 {{flops = 1769472, bytes_read = 3541248, bytes_written = 6144}}
  %0 = llm.matmul %x, %up transpose_b : tensor<1x?x576xf32>, tensor<1536x576xf32> -> tensor<1x?x1536xf32>
  // expected-remark @+1 {{flops = 7680, bytes_read = 6144, bytes_written = 6144}}
  %1 = llm.silu %0 : tensor<1x?x1536xf32>
  // expected-remark @+1 {{flops = 1769472, bytes_read = 503808, bytes_written = 2304}}
  %2 = llm.matmul %1, %down transpose_b : tensor<1x?x1536xf32>, tensor<576x1536xf32> -> tensor<1x?x576xf32>
  return %2 : tensor<1x?x576xf32>
}

// PREFILL-NOT: remark: flops
// PREFILL: remark: total: flops = 14186496, bytes_read = 4094976, bytes_written = 58368, flops_per_byte = 3.416

