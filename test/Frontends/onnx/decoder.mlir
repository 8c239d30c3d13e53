// An onnxruntime-genai decoder export (the tiny-llama fixture) imports as
// @forward over one KV cache: packed QKV sliced three ways, rotary tables
// from cos_cache/sin_cache, one llm.attention per GroupQueryAttention node
// (layer = its index), SkipSimplifiedLayerNormalization as add + rms_norm,
// and the last hidden row sliced before the lm_head MatMul. The attention
// mask subgraph is not imported.

// RUN: llm-import %S/../../fixtures/tiny-llama-onnx/model.onnx | FileCheck %s

// CHECK-LABEL: func.func @forward(
// CHECK-SAME:    %[[TOK:.*]]: tensor<1x?xi64>, %[[START:.*]]: index, %[[KV:.*]]: !llm.kv_cache<2 x 2 x 128 x 16, f32>) -> tensor<1x1x256xf32>
// CHECK-NOT:   attention_mask
// CHECK:       %[[POS:.*]] = llm.position_ids %[[TOK]], [%[[START]]]
// CHECK:       %[[EMB:.*]] = llm.weight "model.embed_tokens.weight"
// CHECK:       llm.embed %[[EMB]], %[[TOK]]
// CHECK:       %[[QKV:.*]] = llm.matmul
// CHECK:       %[[Q:.*]] = llm.slice %[[QKV]] {axis = 2 : i64, start = 0 : i64} : tensor<1x?x128xf32> -> tensor<1x?x64xf32>
// CHECK:       %[[K:.*]] = llm.slice %[[QKV]] {axis = 2 : i64, start = 64 : i64} : tensor<1x?x128xf32> -> tensor<1x?x32xf32>
// CHECK:       %[[V:.*]] = llm.slice %[[QKV]] {axis = 2 : i64, start = 96 : i64} : tensor<1x?x128xf32> -> tensor<1x?x32xf32>
// CHECK:       %[[COS:.*]] = llm.weight "cos_cache" : tensor<128x8xf32>
// CHECK:       %[[SIN:.*]] = llm.weight "sin_cache" : tensor<128x8xf32>
// CHECK:       %[[QR:.*]] = llm.rope %[[Q]], %[[POS]] tables(%[[COS]], %[[SIN]] : {{.*}}) {num_heads = 4 : i64}
// CHECK:       %[[KR:.*]] = llm.rope %[[K]], %[[POS]] tables(%[[COS]], %[[SIN]] : {{.*}}) {num_heads = 2 : i64}
// CHECK:       llm.attention %[[QR]], %[[KR]], %[[V]] cache %[[KV]][%[[START]]] {{.*}} {causal, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f32}
// CHECK:       %[[SUM:.*]] = llm.add
// CHECK:       llm.rms_norm %[[SUM]]
// CHECK:       llm.attention {{.*}} {causal, layer = 1 : i64
// CHECK:       %[[LAST:.*]] = llm.slice %{{.*}} {axis = 1 : i64, start = -1 : i64} : tensor<1x?x64xf32> -> tensor<1x1x64xf32>
// CHECK:       %[[HEAD:.*]] = llm.weight "lm_head.MatMul.weight" : tensor<64x256xf32>
// CHECK:       %[[LOGITS:.*]] = llm.matmul %[[LAST]], %[[HEAD]] : tensor<1x1x64xf32>, tensor<64x256xf32> -> tensor<1x1x256xf32>
// CHECK:       return %[[LOGITS]]
