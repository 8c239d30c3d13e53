//===- ModelConfig.h - Hugging Face config.json -----------------*- C++ -*-===//
//
// Part of Frugal. The hyperparameters of a decoder-only model, read from a
// Hugging Face config.json (Llama, Mistral, Qwen2 and GPT-2 families;
// SmolLM2 is a Llama).
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_SAFETENSORS_MODELCONFIG_H
#define FRUGAL_FRONTENDS_SAFETENSORS_MODELCONFIG_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace frugal::safetensors {

/// How the layers are built.
enum class ModelFamily {
  /// Pre-norm RMSNorm, rotary embeddings, SwiGLU MLP: llama, mistral, qwen2.
  Llama,
  /// Pre-norm LayerNorm, learned positions, GELU MLP, Conv1D weights.
  GPT2,
};

struct ModelConfig {
  /// The HF model_type: "llama", "mistral", "qwen2" or "gpt2".
  std::string modelType;
  ModelFamily family = ModelFamily::Llama;

  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKVHeads = 0;
  int64_t headDim = 0;
  /// rms_norm_eps (llama family) or layer_norm_epsilon (gpt2).
  double normEps = 1e-6;
  double ropeTheta = 10000.0;
  /// Rotate adjacent channel pairs (GGUF's layout of q/k weights) instead
  /// of the two halves of each head (HF's).
  bool ropeInterleaved = false;
  /// max_position_embeddings, or n_positions for gpt2.
  int64_t maxPositions = 2048;
  bool tieWordEmbeddings = false;
  /// Biases on the q/k/v projections (qwen2, or llama's attention_bias).
  bool qkvBias = false;
  /// Bias on the output projection (llama's attention_bias).
  bool oBias = false;
  /// Biases on gate/up/down (llama's mlp_bias).
  bool mlpBias = false;
  /// GELU with the tanh approximation (gpt2's gelu_new); false is exact erf.
  bool geluTanh = true;
  /// Attention score scale; nullopt means 1/sqrt(head_dim).
  std::optional<float> attentionScale;
  /// Attention window (mistral; qwen2 with use_sliding_window), imported as
  /// the module's `llm.sliding_window`: llm-plan-kv-cache gives it a ring
  /// cache and attention sees only the last `slidingWindow` positions.
  std::optional<int64_t> slidingWindow;
  int64_t bosTokenId = -1;
  std::vector<int64_t> eosTokenIds;
};

/// Parses the text of a config.json; errors are prefixed with `fileName`.
llvm::Expected<ModelConfig> parseModelConfig(llvm::StringRef jsonText,
                                             llvm::StringRef fileName);

/// Reads `path`: a config.json, or a directory holding one.
llvm::Expected<ModelConfig> loadModelConfig(llvm::StringRef path);

} // namespace frugal::safetensors

#endif // FRUGAL_FRONTENDS_SAFETENSORS_MODELCONFIG_H
