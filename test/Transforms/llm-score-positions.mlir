// RUN: llm-opt %s -split-input-file -llm-score-positions=max-rows=8 -verify-diagnostics | FileCheck %s
// RUN: llm-opt %s -split-input-file -llm-score-positions=max-rows=8 -llm-plan-memory=max-tokens=512 -verify-diagnostics | FileCheck %s --check-prefix=PLAN
// RUN: not llm-opt %s -split-input-file -llm-score-positions=max-rows=0 2>&1 | FileCheck %s --check-prefix=ROWS
// ROWS: llm-score-positions: max-rows must be at least 1, got 0

// The every-position step: the same arguments, the last-token slice gone,
// the final norm and the logits matmul over every token; the source step is
// kept as it was.
// CHECK-LABEL: func.func @forward(
// CHECK: llm.slice %{{.*}} {axis = 1 : i64, start = -1 : i64}
// CHECK: return %{{.*}} : tensor<1x1x32xf32>
// CHECK-LABEL: func.func @forward_all(
// CHECK-SAME: %[[TOK:.*]]: tensor<1x?xi64>, %[[START:.*]]: index, %[[KV:.*]]: !llm.kv_cache<2 x 2 x 64 x 16, f32>)
// CHECK-SAME: -> tensor<1x?x32xf32>
// CHECK-SAME: llm.max_rows = 8 : i64
// CHECK: %[[A:.*]] = llm.attention {{.*}} cache %[[KV]][%[[START]]]
// CHECK: %[[QKV:.*]] = llm.slice %{{.*}} {axis = 2 : i64, start = 0 : i64} : tensor<1x?x64xf32> -> tensor<1x?x32xf32>
// CHECK-NOT: start = -1
// CHECK: %[[N:.*]] = llm.rms_norm %[[A]], %{{.*}} eps = {{.*}} : tensor<1x?x64xf32>, tensor<64xf32>
// CHECK: %[[L:.*]] = llm.matmul %[[N]], %{{.*}} transpose_b : tensor<1x?x64xf32>, tensor<32x64xf32> -> tensor<1x?x32xf32>
// CHECK: return %[[L]] : tensor<1x?x32xf32>

// The every-position step's arena holds max-rows tokens, the source's the
// cache's capacity.
// PLAN-LABEL: func.func @forward(
// PLAN-SAME: llm.arena_max_tokens = 64 : i64
// PLAN-LABEL: func.func @forward_all(
// PLAN-SAME: llm.arena_max_tokens = 8 : i64
!kv = !llm.kv_cache<2 x 2 x 64 x 16, f32>
module {
  func.func @forward(%tokens: tensor<1x?xi64>, %start: index, %cache: !kv) -> tensor<1x1x32xf32> {
    %table = llm.weight "embed" : tensor<32x64xf32>
    %wk = llm.weight "wk" : tensor<32x64xf32>
    %g = llm.weight "norm" : tensor<64xf32>
    %head = llm.weight "head" : tensor<32x64xf32>
    %x = llm.embed %table, %tokens : tensor<32x64xf32>, tensor<1x?xi64> -> tensor<1x?x64xf32>
    %k = llm.matmul %x, %wk transpose_b : tensor<1x?x64xf32>, tensor<32x64xf32> -> tensor<1x?x32xf32>
    %a = llm.attention %x, %k, %k cache %cache[%start] : !kv
           {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
           : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32> -> tensor<1x?x64xf32>
    // Other slices stay.
    %half = llm.slice %a {axis = 2 : i64, start = 0 : i64} : tensor<1x?x64xf32> -> tensor<1x?x32xf32>
    %last = llm.slice %a {axis = 1 : i64, start = -1 : i64} : tensor<1x?x64xf32> -> tensor<1x1x64xf32>
    %n = llm.rms_norm %last, %g eps = 1.0e-05 : tensor<1x1x64xf32>, tensor<64xf32>
    %logits = llm.matmul %n, %head transpose_b : tensor<1x1x64xf32>, tensor<32x64xf32> -> tensor<1x1x32xf32>
    return %logits : tensor<1x1x32xf32>
  }
}

// -----

// A step that does not select its last token has nothing to derive.
module {
  // expected-error @+1 {{llm-score-positions: @forward has no llm.slice of the last token (axis 1, start -1) to remove}}
  func.func @forward(%tokens: tensor<1x?xi64>) -> tensor<1x1x16xf32> {
    %w = llm.weight "w" : tensor<1x1x16xf32>
    return %w : tensor<1x1x16xf32>
  }
}

// -----

// The step must take the tokens and return one position's logits.
module {
  // expected-error @+1 {{llm-score-positions: @forward must take tokens: tensor<1x?xi64> first and return tensor<1x1xVxf32> logits}}
  func.func @forward(%tokens: tensor<2x?xi64>) -> tensor<1x1x16xf32> {
    %w = llm.weight "w" : tensor<1x1x16xf32>
    return %w : tensor<1x1x16xf32>
  }
}

// -----

// expected-error @+1 {{llm-score-positions: no function @forward}}
module {
}
