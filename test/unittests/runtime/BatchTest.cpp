//===- BatchTest.cpp - Continuous batching over a paged KV cache ----------===//
//
// A toy model that really uses the paged cache: every call stores its tokens
// at the (block, slot) the block table gives for their positions, and its
// logits are a hash of everything the sequence holds, read back through the
// table. Batched generation must give every sequence exactly what it gets
// alone; a block shared by two live sequences, a stale table row or a wrong
// position changes the hash.
//
//===----------------------------------------------------------------------===//

#include "llmrt/Generate.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace llmrt;

namespace {

constexpr int64_t kVocab = 16, kContext = 32, kSequences = 3, kBlock = 4;
constexpr int64_t kBlocksPerSequence = kContext / kBlock;
constexpr int64_t kPoolOffset = 256; // bytes: after the block table
const uint8_t kWeights[64] = {0};

int32_t *slotOf(void *kv, int64_t row, int64_t pos) {
  auto *table = static_cast<int32_t *>(kv);
  int32_t block = table[row * kBlocksPerSequence + pos / kBlock];
  EXPECT_GE(block, 0);
  EXPECT_LT(block, kSequences * kBlocksPerSequence);
  auto *pool = reinterpret_cast<int32_t *>(static_cast<char *>(kv) +
                                           kPoolOffset);
  return pool + block * kBlock + pos % kBlock;
}

/// Stores `token` at `pos` of row `row`, then writes the logits of the
/// sequence [0, pos]: one-hot at a hash of its tokens and positions.
void step(void *kv, int64_t row, int64_t token, int64_t pos, float *logits) {
  *slotOf(kv, row, pos) = static_cast<int32_t>(token);
  uint64_t h = 0;
  for (int64_t q = 0; q <= pos; ++q)
    h = h * 31 + static_cast<uint64_t>(*slotOf(kv, row, q)) * (q + 7);
  for (int64_t v = 0; v < kVocab; ++v)
    logits[v] = v == static_cast<int64_t>(h % kVocab) ? 1.0f : 0.0f;
}

int64_t gBatchCalls = 0, gMostRows = 0;

void pagedForward(const uint8_t *, void *kv, const int64_t *tokens, int64_t n,
                  int64_t start, float *logits) {
  for (int64_t i = 0; i < n; ++i)
    step(kv, 0, tokens[i], start + i, logits);
}

void pagedForwardBatch(const uint8_t *, void *kv, const int64_t *tokens,
                       const int64_t *positions, int64_t rows,
                       float *logits) {
  ++gBatchCalls;
  gMostRows = std::max(gMostRows, rows);
  for (int64_t r = 0; r < rows; ++r)
    step(kv, r, tokens[r], positions[r], logits + r * kVocab);
}

ModelConfig pagedConfig() {
  ModelConfig c;
  c.vocabSize = kVocab;
  c.maxContext = kContext;
  c.kvCacheBytes = 4096;
  c.kvLayout = "paged";
  c.kvMaxBatch = kSequences;
  c.kvBlockSize = kBlock;
  c.kvBlocksPerSequence = kBlocksPerSequence;
  c.eosIds = {3};
  return c;
}

std::vector<std::vector<int32_t>> prompts() {
  return {{1},        {2, 5, 7},          {9, 9, 9, 9, 9},
          {4, 6},     {11, 12, 13, 14, 15, 1, 2, 8, 10},
          {5},        {7, 7, 1, 0, 2, 6}, {14, 13}};
}

std::vector<GenerateResult> alone(const GenerateOptions &opt) {
  std::vector<GenerateResult> out;
  for (const std::vector<int32_t> &p : prompts()) {
    std::string error;
    auto s = Session::create(pagedConfig(), kWeights, pagedForward, error);
    EXPECT_TRUE(s) << error;
    GenerateResult r;
    EXPECT_TRUE(s->generate(p, opt, nullptr, r, error)) << error;
    out.push_back(r);
  }
  return out;
}

void expectSameAsAlone(const GenerateOptions &opt, int64_t batch,
                       bool someStopEarly) {
  std::vector<GenerateResult> single = alone(opt);
  std::string error;
  auto s = Session::create(pagedConfig(), kWeights, pagedForward, error);
  ASSERT_TRUE(s) << error;
  std::vector<GenerateResult> results;
  std::vector<size_t> finished;
  BatchStats stats;
  gBatchCalls = gMostRows = 0;
  ASSERT_TRUE(s->generateBatch(
      prompts(), opt, batch, pagedForwardBatch,
      [&](size_t i, const GenerateResult &) { finished.push_back(i); },
      results, stats, error))
      << error;
  ASSERT_EQ(results.size(), single.size());
  int64_t generated = 0, stops = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].tokens, single[i].tokens) << "sequence " << i;
    EXPECT_EQ(results[i].stop, single[i].stop) << "sequence " << i;
    EXPECT_EQ(results[i].stats.promptTokens, single[i].stats.promptTokens);
    generated += static_cast<int64_t>(single[i].tokens.size());
    stops += single[i].stop == StopReason::Eos;
  }
  // Every sequence reported once; with greedy choices the hash makes some
  // stop at EOS early, so later prompts join while others still run.
  EXPECT_EQ(finished.size(), results.size());
  if (someStopEarly)
    EXPECT_GT(stops, 0);
  EXPECT_EQ(stats.sequences, static_cast<int64_t>(results.size()));
  EXPECT_EQ(stats.generatedTokens, generated);
  EXPECT_EQ(stats.maxRows, batch);
  EXPECT_EQ(gMostRows, batch);
  EXPECT_EQ(stats.decodeSteps, gBatchCalls);
  EXPECT_EQ(stats.decodeRows + stats.sequences, generated);
}

TEST(BatchedGeneration, EverySequenceMatchesItsSingleRun) {
  GenerateOptions opt;
  opt.maxNewTokens = 12;
  for (int64_t batch = 1; batch <= kSequences; ++batch)
    expectSameAsAlone(opt, batch, /*someStopEarly=*/true);
}

TEST(BatchedGeneration, SamplingUsesEachSequencesOwnSampler) {
  GenerateOptions opt;
  opt.maxNewTokens = 10;
  opt.sampler.temperature = 0.9f;
  opt.sampler.seed = 42;
  expectSameAsAlone(opt, kSequences, /*someStopEarly=*/false);
}

TEST(BatchedGeneration, ContextLimitStopsEachSequence) {
  GenerateOptions opt;
  opt.maxNewTokens = 30;
  opt.maxContext = 12;
  std::vector<GenerateResult> single = alone(opt);
  std::string error;
  auto s = Session::create(pagedConfig(), kWeights, pagedForward, error);
  ASSERT_TRUE(s) << error;
  std::vector<GenerateResult> results;
  BatchStats stats;
  ASSERT_TRUE(s->generateBatch(prompts(), opt, 2, pagedForwardBatch, nullptr,
                               results, stats, error))
      << error;
  bool full = false;
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].tokens, single[i].tokens) << "sequence " << i;
    EXPECT_EQ(results[i].stop, single[i].stop);
    full |= results[i].stop == StopReason::ContextFull;
  }
  EXPECT_TRUE(full);
}

TEST(BatchedGeneration, RejectsWhatItCannotRun) {
  std::string error;
  auto s = Session::create(pagedConfig(), kWeights, pagedForward, error);
  ASSERT_TRUE(s) << error;
  std::vector<GenerateResult> results;
  BatchStats stats;
  GenerateOptions opt;
  EXPECT_FALSE(s->generateBatch(prompts(), opt, kSequences + 1,
                                pagedForwardBatch, nullptr, results, stats,
                                error));
  EXPECT_EQ(error, "--batch 4 must be between 1 and the 3 sequences the model "
                   "was compiled for (llm-compile --max-batch)");
  EXPECT_FALSE(s->generateBatch(prompts(), opt, 2, nullptr, nullptr, results,
                                stats, error));
  EXPECT_NE(error.find("needs a model compiled with --max-batch N"),
            std::string::npos)
      << error;
  EXPECT_FALSE(s->generateBatch({{1}, {}}, opt, 2, pagedForwardBatch, nullptr,
                                results, stats, error));
  EXPECT_EQ(error, "prompt 2: the prompt is empty");

  ModelConfig contiguous = pagedConfig();
  contiguous.kvLayout = "contiguous";
  auto c = Session::create(contiguous, kWeights, pagedForward, error);
  ASSERT_TRUE(c) << error;
  EXPECT_FALSE(c->generateBatch(prompts(), opt, 2, pagedForwardBatch, nullptr,
                                results, stats, error));
  EXPECT_NE(error.find("this one has a contiguous cache for 3 sequence(s)"),
            std::string::npos)
      << error;
}

} // namespace
