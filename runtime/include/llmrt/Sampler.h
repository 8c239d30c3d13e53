//===- Sampler.h - Next-token sampling --------------------------*- C++ -*-===//
//
// temperature <= 0 or top_k == 1: greedy argmax (ties -> lowest id).
// Otherwise softmax(logits / temperature), restricted to the top_k highest
// logits (top_k <= 0: all), then to the nucleus: the smallest set of the most
// probable tokens whose probability sums to >= top_p (top_p >= 1: all), then
// one draw from a xoshiro256** generator seeded with `seed` via splitmix64.
// Identical settings and seed give identical sequences on every platform.
//
//===----------------------------------------------------------------------===//

#ifndef LLMRT_SAMPLER_H
#define LLMRT_SAMPLER_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace llmrt {

struct SamplerConfig {
  float temperature = 0.0f;
  int32_t topK = 0;
  float topP = 1.0f;
  uint64_t seed = 0;
};

/// xoshiro256** (Blackman & Vigna), seeded through splitmix64.
class Rng {
public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  /// Uniform double in [0, 1).
  double uniform();

private:
  uint64_t s_[4];
};

/// Index of the largest value, lowest index on ties.
int32_t argmax(const float *logits, size_t n);

class Sampler {
public:
  /// Scratch space for `vocabSize` candidates is allocated here, once.
  Sampler(const SamplerConfig &config, size_t vocabSize);

  int32_t sample(const float *logits);
  const SamplerConfig &config() const { return config_; }

private:
  struct Cand {
    float prob;
    int32_t id;
  };
  SamplerConfig config_;
  size_t vocabSize_;
  Rng rng_;
  std::vector<Cand> cands_;
};

} // namespace llmrt

#endif // LLMRT_SAMPLER_H
