//===- ModelConfigTest.cpp - config.json defaults and names ---------------===//
//
// Part of Frugal. Error messages are covered by lit tests through
// llm-import; these check defaults and per-family field names.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/ModelConfig.h"

#include "gtest/gtest.h"

using namespace frugal::safetensors;

namespace {

ModelConfig parseOk(llvm::StringRef json) {
  llvm::Expected<ModelConfig> cfg = parseModelConfig(json, "config.json");
  EXPECT_TRUE(bool(cfg)) << llvm::toString(cfg.takeError());
  return cfg ? *cfg : ModelConfig();
}

std::string errorOf(llvm::StringRef json) {
  llvm::Expected<ModelConfig> cfg = parseModelConfig(json, "config.json");
  return cfg ? std::string("<no error>") : llvm::toString(cfg.takeError());
}

TEST(ModelConfig, LlamaDefaults) {
  ModelConfig c = parseOk(R"({"architectures": ["LlamaForCausalLM"],
      "model_type": "llama", "vocab_size": 49152, "hidden_size": 576,
      "intermediate_size": 1536, "num_hidden_layers": 30,
      "num_attention_heads": 9, "bos_token_id": 1, "eos_token_id": 2,
      "sliding_window": null, "rope_scaling": null})");
  EXPECT_EQ(c.family, ModelFamily::Llama);
  EXPECT_EQ(c.modelType, "llama");
  EXPECT_EQ(c.numKVHeads, 9);
  EXPECT_EQ(c.headDim, 64);
  EXPECT_EQ(c.ropeTheta, 10000.0);
  EXPECT_EQ(c.normEps, 1e-6);
  EXPECT_EQ(c.maxPositions, 2048);
  EXPECT_FALSE(c.tieWordEmbeddings);
  EXPECT_FALSE(c.qkvBias);
  EXPECT_FALSE(c.slidingWindow);
  EXPECT_EQ(c.bosTokenId, 1);
  EXPECT_EQ(c.eosTokenIds, std::vector<int64_t>{2});
}

TEST(ModelConfig, SmolLM2StyleLlama) {
  ModelConfig c = parseOk(R"({"architectures": ["LlamaForCausalLM"],
      "model_type": "llama", "vocab_size": 49152, "hidden_size": 576,
      "intermediate_size": 1536, "num_hidden_layers": 30,
      "num_attention_heads": 9, "num_key_value_heads": 3,
      "rms_norm_eps": 1e-05, "rope_theta": 100000, "max_position_embeddings": 8192,
      "tie_word_embeddings": true, "eos_token_id": [2, 7],
      "attention_bias": false, "head_dim": 64})");
  EXPECT_EQ(c.numKVHeads, 3);
  EXPECT_EQ(c.ropeTheta, 100000.0);
  EXPECT_EQ(c.normEps, 1e-5);
  EXPECT_EQ(c.maxPositions, 8192);
  EXPECT_TRUE(c.tieWordEmbeddings);
  EXPECT_EQ(c.bosTokenId, -1);
  EXPECT_EQ(c.eosTokenIds, (std::vector<int64_t>{2, 7}));
}

TEST(ModelConfig, ArchitecturesAloneSelectTheFamily) {
  ModelConfig c = parseOk(R"({"architectures": ["Qwen2ForCausalLM"],
      "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
      "num_hidden_layers": 1, "num_attention_heads": 2,
      "num_key_value_heads": 1, "head_dim": 16})");
  EXPECT_EQ(c.modelType, "qwen2");
  EXPECT_TRUE(c.qkvBias);
  EXPECT_FALSE(c.oBias);
  EXPECT_EQ(c.headDim, 16); // explicit, not hidden / heads
  EXPECT_EQ(c.maxPositions, 32768);
}

TEST(ModelConfig, SlidingWindowIsRecorded) {
  ModelConfig c = parseOk(R"({"model_type": "mistral", "vocab_size": 10,
      "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
      "num_attention_heads": 2, "sliding_window": 4096})");
  EXPECT_EQ(c.slidingWindow, 4096);
  // Qwen2 only uses its window when use_sliding_window is set.
  ModelConfig q = parseOk(R"({"model_type": "qwen2", "vocab_size": 10,
      "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
      "num_attention_heads": 2, "sliding_window": 4096,
      "use_sliding_window": false})");
  EXPECT_FALSE(q.slidingWindow);
}

TEST(ModelConfig, LlamaAttentionAndMlpBias) {
  ModelConfig c = parseOk(R"({"model_type": "llama", "vocab_size": 10,
      "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
      "num_attention_heads": 2, "attention_bias": true, "mlp_bias": true})");
  EXPECT_TRUE(c.qkvBias);
  EXPECT_TRUE(c.oBias);
  EXPECT_TRUE(c.mlpBias);
}

TEST(ModelConfig, RopeParametersDefaultCarriesTheta) {
  ModelConfig c = parseOk(R"({"model_type": "llama", "vocab_size": 10,
      "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
      "num_attention_heads": 2,
      "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0}})");
  EXPECT_EQ(c.ropeTheta, 500000.0);
  EXPECT_EQ(errorOf(R"({"model_type": "llama", "vocab_size": 10,
      "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
      "num_attention_heads": 2, "rope_scaling": {"type": "linear"}})"),
            "config.json: rope_scaling type linear not supported yet");
}

TEST(ModelConfig, GPT2NamesAndDefaults) {
  ModelConfig c = parseOk(R"({"architectures": ["GPT2LMHeadModel"],
      "model_type": "gpt2", "vocab_size": 50257, "n_embd": 768,
      "n_layer": 12, "n_head": 12, "n_inner": null,
      "bos_token_id": 50256, "eos_token_id": 50256})");
  EXPECT_EQ(c.family, ModelFamily::GPT2);
  EXPECT_EQ(c.hiddenSize, 768);
  EXPECT_EQ(c.intermediateSize, 3072);
  EXPECT_EQ(c.numLayers, 12);
  EXPECT_EQ(c.numHeads, 12);
  EXPECT_EQ(c.numKVHeads, 12);
  EXPECT_EQ(c.headDim, 64);
  EXPECT_EQ(c.maxPositions, 1024);
  EXPECT_EQ(c.normEps, 1e-5);
  EXPECT_TRUE(c.tieWordEmbeddings);
  EXPECT_TRUE(c.geluTanh);
  EXPECT_FALSE(c.attentionScale);
  EXPECT_EQ(c.bosTokenId, 50256);
}

TEST(ModelConfig, GPT2Options) {
  ModelConfig c = parseOk(R"({"model_type": "gpt2", "vocab_size": 10,
      "n_embd": 8, "n_layer": 1, "n_head": 2, "n_inner": 20,
      "n_positions": 32, "activation_function": "gelu",
      "scale_attn_weights": false, "tie_word_embeddings": false})");
  EXPECT_EQ(c.intermediateSize, 20);
  EXPECT_EQ(c.maxPositions, 32);
  EXPECT_FALSE(c.geluTanh);
  EXPECT_EQ(c.attentionScale, 1.0f);
  EXPECT_FALSE(c.tieWordEmbeddings);
}

TEST(ModelConfig, Errors) {
  EXPECT_EQ(errorOf("[]"), "config.json: not a JSON object");
  EXPECT_EQ(errorOf(R"({"model_type": "llama", "vocab_size": 10,
      "hidden_size": 9, "intermediate_size": 16, "num_hidden_layers": 1,
      "num_attention_heads": 2})"),
            "config.json: hidden size 9 is not a multiple of the number of "
            "heads (2)");
  EXPECT_EQ(errorOf(R"({"model_type": "gpt2", "vocab_size": 10,
      "n_embd": 8, "n_layer": 1, "n_head": 2,
      "scale_attn_by_inverse_layer_idx": true})"),
            "config.json: scale_attn_by_inverse_layer_idx is not supported "
            "yet");
  EXPECT_EQ(errorOf(R"({"model_type": "llama", "vocab_size": 10,
      "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
      "num_attention_heads": 2, "eos_token_id": "2"})"),
            "config.json: 'eos_token_id' must be an integer or a list of "
            "integers");
  EXPECT_EQ(errorOf(R"({"model_type": "llama", "vocab_size": 10,
      "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
      "num_attention_heads": 2, "tie_word_embeddings": 1})"),
            "config.json: 'tie_word_embeddings' must be true or false");
  EXPECT_EQ(errorOf(R"({"model_type": 3})"),
            "config.json: 'model_type' must be a string");
}

} // namespace
