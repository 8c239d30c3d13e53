// A tiny generated llama GGUF: F32/F16/BF16/Q8_0/Q4_0/Q4_1 tensors, nested
// metadata arrays, tied embeddings (no output.weight); GGUF v2 and a 64-byte
// alignment read the same. Q8_0/Q4_0/Q4_1 matmul weights keep their
// quantization as the equivalent #llm.quant (transcoded when packed).
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_gguf.py valid %t/valid.gguf
// RUN: llm-import %t/valid.gguf | FileCheck %s
// RUN: %python %S/Inputs/make_gguf.py version2 %t/v2.gguf
// RUN: llm-import %t/v2.gguf | FileCheck %s
// RUN: %python %S/Inputs/make_gguf.py alignment-64 %t/a64.gguf
// RUN: llm-import %t/a64.gguf | FileCheck %s

// CHECK: llm.head_dim = 8 : i64, llm.hidden_size = 32 : i64
// CHECK-SAME: llm.num_heads = 4 : i64, llm.num_kv_heads = 2 : i64, llm.num_layers = 1 : i64, llm.tie_word_embeddings = true, llm.vocab_size = 16 : i64
// CHECK: llm.weight "model.embed_tokens.weight" : tensor<16x32xf32>
// CHECK: llm.weight "model.layers.0.self_attn.q_proj.weight" quant <bits = 8, group = 32, scheme = symmetric> : tensor<32x32xf32>
// CHECK: llm.weight "model.layers.0.self_attn.k_proj.weight" quant <bits = 4, group = 32, scheme = symmetric> : tensor<16x32xf32>
// CHECK: llm.weight "model.layers.0.self_attn.v_proj.weight" quant <bits = 4, group = 32, scheme = asymmetric> : tensor<16x32xf32>
// CHECK: llm.rope {{.*}}interleaved
// CHECK: llm.weight "model.layers.0.mlp.gate_proj.weight" : tensor<64x32xf32>
// CHECK-NOT: lm_head
