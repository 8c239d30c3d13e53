// RUN: llm-import %S/../../fixtures/tiny-llama | FileCheck %s --check-prefix=LLAMA
// RUN: llm-import %S/../../fixtures/tiny-llama-bf16 | FileCheck %s --check-prefix=LLAMA
// RUN: llm-import %S/../../fixtures/tiny-llama-sharded | FileCheck %s --check-prefix=LLAMA
// RUN: llm-import %S/../../fixtures/tiny-qwen2 | FileCheck %s --check-prefix=QWEN2
// RUN: llm-import %S/../../fixtures/tiny-gpt2 | FileCheck %s --check-prefix=GPT2

// The committed HF fixtures (see test/fixtures/README.md) import: f32 and
// bf16 storage and three shards give the same f32 IR; Qwen2 adds q/k/v
// biases and ties the head; GPT-2 uses Conv1D weights and learned positions.

// LLAMA: module attributes {llm.arch = "llama", llm.bos_token_id = 1 : i64, llm.eos_token_ids = [2], llm.head_dim = 16 : i64, llm.hidden_size = 64 : i64, llm.intermediate_size = 160 : i64, llm.max_context = 128 : i64, llm.max_position_embeddings = 128 : i64, llm.num_heads = 4 : i64, llm.num_kv_heads = 2 : i64, llm.num_layers = 2 : i64, llm.tie_word_embeddings = false, llm.vocab_size = 256 : i64}
// LLAMA: func.func @forward(%{{.*}}: tensor<1x?xi64>, %{{.*}}: index, %{{.*}}: !llm.kv_cache<2 x 2 x 128 x 16, f32>) -> tensor<1x1x256xf32>
// LLAMA: llm.weight "model.embed_tokens.weight" : tensor<256x64xf32>
// LLAMA: llm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xf32>
// LLAMA: llm.weight "model.layers.0.self_attn.k_proj.weight" : tensor<32x64xf32>
// LLAMA-NOT: llm.add
// LLAMA: llm.rope %{{.*}} {num_heads = 2 : i64, theta = 1.000000e+04 : f64} : tensor<1x?x32xf32>
// LLAMA: llm.attention {{.*}} {causal, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64} : tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32> -> tensor<1x?x64xf32>
// LLAMA: llm.weight "model.layers.0.mlp.down_proj.weight" : tensor<64x160xf32>
// LLAMA: llm.attention {{.*}} layer = 1 : i64
// LLAMA: llm.rms_norm {{.*}} eps = 1.000000e-05
// LLAMA: %[[HEAD:.*]] = llm.weight "lm_head.weight" : tensor<256x64xf32>
// LLAMA: %[[LAST:.*]] = llm.slice %{{.*}} {axis = 1 : i64, start = -1 : i64}
// LLAMA: llm.matmul %[[LAST]], %[[HEAD]] transpose_b : tensor<1x1x64xf32>, tensor<256x64xf32> -> tensor<1x1x256xf32>

// QWEN2: llm.arch = "qwen2"
// QWEN2-NOT: llm.sliding_window
// QWEN2: %[[EMB:.*]] = llm.weight "model.embed_tokens.weight" : tensor<256x64xf32>
// QWEN2: %[[Q:.*]] = llm.matmul
// QWEN2: %[[BQ:.*]] = llm.weight "model.layers.0.self_attn.q_proj.bias" : tensor<64xf32>
// QWEN2: llm.add %[[Q]], %[[BQ]] : tensor<1x?x64xf32>, tensor<64xf32> -> tensor<1x?x64xf32>
// QWEN2: llm.weight "model.layers.0.self_attn.k_proj.bias" : tensor<32xf32>
// QWEN2: llm.weight "model.layers.0.self_attn.v_proj.bias" : tensor<32xf32>
// QWEN2: llm.rope %{{.*}} {num_heads = 4 : i64, theta = 1.000000e+06 : f64}
// QWEN2: llm.rms_norm {{.*}} eps = 9.9999999999999995E-7
// QWEN2-NOT: lm_head
// QWEN2: %[[LAST:.*]] = llm.slice %{{.*}} {axis = 1 : i64, start = -1 : i64}
// QWEN2: llm.matmul %[[LAST]], %[[EMB]] transpose_b

// GPT2: llm.arch = "gpt2"
// GPT2: %[[WTE:.*]] = llm.weight "transformer.wte.weight" : tensor<256x64xf32>
// GPT2: llm.weight "transformer.wpe.weight" : tensor<128x64xf32>
// GPT2: llm.weight "transformer.h.0.attn.c_attn.weight" : tensor<64x192xf32>
// GPT2: llm.matmul %{{.*}}, %{{.*}} : tensor<1x?x64xf32>, tensor<64x192xf32> -> tensor<1x?x192xf32>
// GPT2: llm.slice %{{.*}} {axis = 2 : i64, start = 128 : i64} : tensor<1x?x192xf32> -> tensor<1x?x64xf32>
// GPT2: llm.attention {{.*}} {causal, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64}
// GPT2: llm.gelu %{{.*}} tanh : tensor<1x?x256xf32>
// GPT2: %[[LAST:.*]] = llm.slice %{{.*}} {axis = 1 : i64, start = -1 : i64}
// GPT2: llm.matmul %[[LAST]], %[[WTE]] transpose_b : tensor<1x1x64xf32>, tensor<256x64xf32> -> tensor<1x1x256xf32>
