// RUN: llm-opt %s -split-input-file -llm-batch-decode -verify-diagnostics | FileCheck %s
// RUN: llm-opt %s -split-input-file -llm-batch-decode -llm-plan-memory=max-tokens=512 -verify-diagnostics | FileCheck %s --check-prefix=PLAN

// The batched step: tokens [rows, 1], one position per row, the same cache;
// position_ids and attention take the per-row positions, every other
// token-dependent value gets [rows, 1, ...]; weights keep their shapes.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: tensor<1x?xi64>, %{{.*}}: index
// CHECK-LABEL: func.func @forward_batch(
// CHECK-SAME: %[[TOK:.*]]: tensor<?x1xi64>, %[[POS:.*]]: tensor<?xi64>, %[[KV:.*]]: !llm.kv_cache<2 x 2 x 64 x 16, f32, #llm.kv_layout<paged, batch = 4, block = 16>>)
// CHECK-SAME: -> tensor<?x1x32xf32>
// CHECK-SAME: llm.max_rows = 4 : i64
// CHECK: %[[P:.*]] = llm.position_ids %[[TOK]], [%[[POS]] : tensor<?xi64>] : tensor<?x1xi64> -> tensor<?x1xi64>
// CHECK: llm.embed %{{.*}}, %[[TOK]] : tensor<32x64xf32>, tensor<?x1xi64> -> tensor<?x1x64xf32>
// CHECK: llm.matmul {{.*}} : tensor<?x1x64xf32>, tensor<64x64xf32> -> tensor<?x1x64xf32>
// CHECK: llm.rope %{{.*}}, %[[P]] {{.*}} : tensor<?x1x64xf32>, tensor<?x1xi64>
// CHECK: llm.attention {{.*}} cache %[[KV]][%[[POS]] : tensor<?xi64>]
// CHECK-SAME: : tensor<?x1x64xf32>, tensor<?x1x32xf32>, tensor<?x1x32xf32> -> tensor<?x1x64xf32>
// CHECK: llm.slice {{.*}} : tensor<?x1x64xf32> -> tensor<?x1x64xf32>
// CHECK: return %{{.*}} : tensor<?x1x32xf32>

// The batched step's arena holds 4 rows, the single step's 64 tokens (the
// cache's capacity).
// PLAN-LABEL: func.func @forward(
// PLAN-SAME: llm.arena_max_tokens = 64 : i64
// PLAN-LABEL: func.func @forward_batch(
// PLAN-SAME: llm.arena_max_tokens = 4 : i64
!kv = !llm.kv_cache<2 x 2 x 64 x 16, f32, #llm.kv_layout<paged, batch = 4, block = 16>>
module {
  func.func @forward(%tokens: tensor<1x?xi64>, %start: index, %cache: !kv) -> tensor<1x1x32xf32> {
    %table = llm.weight "embed" : tensor<32x64xf32>
    %wq = llm.weight "wq" : tensor<64x64xf32>
    %wk = llm.weight "wk" : tensor<32x64xf32>
    %head = llm.weight "head" : tensor<32x64xf32>
    %pos = llm.position_ids %tokens, [%start] : tensor<1x?xi64> -> tensor<1x?xi64>
    %x = llm.embed %table, %tokens : tensor<32x64xf32>, tensor<1x?xi64> -> tensor<1x?x64xf32>
    %q = llm.matmul %x, %wq transpose_b : tensor<1x?x64xf32>, tensor<64x64xf32> -> tensor<1x?x64xf32>
    %k = llm.matmul %x, %wk transpose_b : tensor<1x?x64xf32>, tensor<32x64xf32> -> tensor<1x?x32xf32>
    %qr = llm.rope %q, %pos {num_heads = 4 : i64, theta = 1.0e4 : f64} : tensor<1x?x64xf32>, tensor<1x?xi64>
    %kr = llm.rope %k, %pos {num_heads = 2 : i64, theta = 1.0e4 : f64} : tensor<1x?x32xf32>, tensor<1x?xi64>
    %a = llm.attention %qr, %kr, %k cache %cache[%start] : !kv
           {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
           : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32> -> tensor<1x?x64xf32>
    %last = llm.slice %a {axis = 1 : i64, start = -1 : i64} : tensor<1x?x64xf32> -> tensor<1x1x64xf32>
    %logits = llm.matmul %last, %head transpose_b : tensor<1x1x64xf32>, tensor<32x64xf32> -> tensor<1x1x32xf32>
    return %logits : tensor<1x1x32xf32>
  }
}

// -----

// Only position_ids and attention have a per-row form of the start.
!kv = !llm.kv_cache<1 x 1 x 16 x 16, f32, #llm.kv_layout<paged, batch = 2, block = 16>>
module {
  func.func @forward(%tokens: tensor<1x?xi64>, %start: index, %cache: !kv) -> tensor<1x1x16xf32> {
    %w = llm.weight "w" : tensor<1x1x16xf32>
    // expected-error @+1 {{llm-batch-decode: the start position feeds arith.index_cast, which has no per-row form}}
    %i = arith.index_cast %start : index to i64
    return %w : tensor<1x1x16xf32>
  }
}

// -----

// The step to batch must have the single-sequence signature.
module {
  // expected-error @+1 {{llm-batch-decode: @forward must take (tokens: tensor<1x?xi64>, start: index, !llm.kv_cache) and return tensor<1x1xVxf32> logits}}
  func.func @forward(%tokens: tensor<1x?xi64>) -> tensor<1x1x16xf32> {
    %w = llm.weight "w" : tensor<1x1x16xf32>
    return %w : tensor<1x1x16xf32>
  }
}
