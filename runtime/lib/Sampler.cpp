//===- Sampler.cpp - Greedy, temperature, top-k, top-p sampling -----------===//

#include "llmrt/Sampler.h"

#include <algorithm>
#include <cmath>

namespace llmrt {
namespace {

uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

} // namespace

Rng::Rng(uint64_t seed) {
  for (uint64_t &s : s_)
    s = splitmix64(seed);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return double(next() >> 11) * 0x1.0p-53; }

int32_t argmax(const float *logits, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (logits[i] > logits[best])
      best = i;
  return static_cast<int32_t>(best);
}

Sampler::Sampler(const SamplerConfig &config, size_t vocabSize)
    : config_(config), vocabSize_(vocabSize), rng_(config.seed),
      cands_(vocabSize) {}

int32_t Sampler::sample(const float *logits) {
  const size_t n = vocabSize_;
  if (n == 0)
    return -1;
  if (!(config_.temperature > 0.0f) || config_.topK == 1 || n == 1)
    return argmax(logits, n);

  // Higher logit first, lower id on ties: a strict total order, so the
  // candidate set never depends on the sort algorithm.
  auto higher = [](const Cand &a, const Cand &b) {
    return a.prob != b.prob ? a.prob > b.prob : a.id < b.id;
  };
  size_t m = n;
  for (size_t i = 0; i < n; ++i)
    cands_[i] = {logits[i], static_cast<int32_t>(i)};
  if (config_.topK > 0 && static_cast<size_t>(config_.topK) < n) {
    m = static_cast<size_t>(config_.topK);
    std::partial_sort(cands_.begin(), cands_.begin() + m, cands_.end(),
                      higher);
  }
  float maxLogit = cands_[0].prob;
  for (size_t i = 1; i < m; ++i)
    maxLogit = std::max(maxLogit, cands_[i].prob);
  const float invT = 1.0f / config_.temperature;
  double sum = 0.0;
  for (size_t i = 0; i < m; ++i) {
    float p = std::exp((cands_[i].prob - maxLogit) * invT);
    cands_[i].prob = p;
    sum += p;
  }

  if (config_.topP > 0.0f && config_.topP < 1.0f && m > 1) {
    // Sort only the tokens with probability >= (1 - top_p) / (m - 1): the
    // sorted prefix down to that cutoff is the same as in the full order, so
    // if it already reaches top_p the nucleus is the same (llama2.c's trick).
    // Otherwise fall back to sorting every candidate.
    const double cutoff = (1.0 - config_.topP) / double(m - 1) * sum;
    const double target = config_.topP * sum;
    size_t k = 0;
    for (size_t i = 0; i < m; ++i)
      if (cands_[i].prob >= cutoff)
        std::swap(cands_[k++], cands_[i]);
    size_t keep = 0;
    for (int attempt = 0; attempt < 2 && keep == 0; ++attempt) {
      if (attempt == 1)
        k = m;
      std::sort(cands_.begin(), cands_.begin() + k, higher);
      double cum = 0.0;
      for (size_t i = 0; i < k; ++i) {
        cum += cands_[i].prob;
        if (cum >= target) {
          keep = i + 1;
          break;
        }
      }
    }
    if (keep == 0)
      keep = m; // rounding: the whole set
    m = std::max<size_t>(keep, 1);
    sum = 0.0;
    for (size_t i = 0; i < m; ++i)
      sum += cands_[i].prob;
  }

  const double r = rng_.uniform() * sum;
  double cum = 0.0;
  for (size_t i = 0; i < m; ++i) {
    cum += cands_[i].prob;
    if (r < cum)
      return cands_[i].id;
  }
  return cands_[m - 1].id; // rounding
}

} // namespace llmrt
