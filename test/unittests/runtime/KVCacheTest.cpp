//===- KVCacheTest.cpp - KV reservation, plan metadata, context limits ----===//

#include "llmrt/Generate.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <unistd.h>

using namespace llmrt;

namespace {

constexpr int64_t kVocab = 8;
const uint8_t kWeights[64] = {0};

/// The block table a paged cache's kernels see on every call.
std::vector<int32_t> gTable;
int64_t gTableEntries = 0;

void recordingForward(const uint8_t *, void *kv, const int64_t *tokens,
                      int64_t n, int64_t, float *logits) {
  gTable.assign(static_cast<int32_t *>(kv),
                static_cast<int32_t *>(kv) + gTableEntries);
  for (int64_t v = 0; v < kVocab; ++v)
    logits[v] = v == (tokens[n - 1] + 1) % kVocab ? 1.0f : 0.0f;
}

std::string parse(const std::vector<std::pair<std::string, std::string>> &m,
                  ModelConfig &c) {
  std::vector<uint8_t> bytes = test::makeModelBytes(m, test::makeVocab({}), "");
  std::string error;
  auto f = ModelFile::openMemory(bytes.data(), bytes.size(), "m", error);
  EXPECT_TRUE(f) << error;
  return parseModelConfig(*f, c, error) ? std::string() : error;
}

std::vector<std::pair<std::string, std::string>>
withBase(std::vector<std::pair<std::string, std::string>> extra) {
  std::vector<std::pair<std::string, std::string>> m = {
      {"vocab_size", "8"}, {"max_context", "64"}, {"kv_cache_bytes", "4096"}};
  m.insert(m.end(), extra.begin(), extra.end());
  return m;
}

TEST(KVPlanMetadata, ParsesLayouts) {
  ModelConfig c;
  ASSERT_EQ(parse(withBase({{"trained_context", "8192"},
                            {"kv_layout", "paged"},
                            {"kv_dtype", "int8"},
                            {"kv_max_batch", "2"},
                            {"kv_block_size", "16"},
                            {"kv_blocks_per_sequence", "4"}}),
                  c),
            "");
  EXPECT_EQ(c.trainedContext, 8192);
  EXPECT_EQ(c.kvLayout, "paged");
  EXPECT_EQ(c.kvDtype, "int8");
  EXPECT_EQ(c.kvMaxBatch, 2);
  EXPECT_EQ(c.kvBlockSize, 16);
  EXPECT_EQ(c.kvBlocksPerSequence, 4);

  ModelConfig r;
  ASSERT_EQ(parse(withBase({{"kv_layout", "ring"}, {"kv_window", "32"}}), r), "");
  EXPECT_EQ(r.kvLayout, "ring");
  EXPECT_EQ(r.kvWindow, 32);

  // Files written before KV planning are contiguous f32.
  ModelConfig old;
  ASSERT_EQ(parse(withBase({}), old), "");
  EXPECT_EQ(old.kvLayout, "contiguous");
  EXPECT_EQ(old.trainedContext, 0);
}

TEST(KVPlanMetadata, RejectsInconsistentPlans) {
  ModelConfig c;
  EXPECT_EQ(parse(withBase({{"trained_context", "32"}}), c),
            "m: metadata \"max_context\" (64) exceeds \"trained_context\" (32)");
  EXPECT_EQ(parse(withBase({{"kv_layout", "striped"}}), c),
            "m: metadata \"kv_layout\": expected contiguous, paged or ring, "
            "found \"striped\"");
  EXPECT_EQ(parse(withBase({{"kv_layout", "ring"}}), c),
            "m: metadata \"kv_layout\" is ring but \"kv_window\" is missing");
  EXPECT_EQ(parse(withBase({{"kv_layout", "paged"}, {"kv_block_size", "16"},
                            {"kv_blocks_per_sequence", "2"}}),
                  c),
            "m: the paged KV cache's blocks do not cover max_context");
  EXPECT_EQ(parse(withBase({{"kv_layout", "paged"}}), c),
            "m: a paged KV cache needs \"kv_block_size\" and "
            "\"kv_blocks_per_sequence\"");
}

ModelConfig pagedConfig() {
  ModelConfig c;
  c.vocabSize = kVocab;
  c.maxContext = 64;
  c.kvCacheBytes = 4096;
  c.kvLayout = "paged";
  c.kvMaxBatch = 2;
  c.kvBlockSize = 16;
  c.kvBlocksPerSequence = 4;
  return c;
}

TEST(KVReservation, PagedBlockTableIsSetUpBeforeTheFirstCall) {
  ModelConfig c = pagedConfig();
  std::string error;
  auto s = Session::create(c, kWeights, recordingForward, error);
  ASSERT_TRUE(s) << error;
  gTableEntries = c.kvMaxBatch * c.kvBlocksPerSequence;
  GenerateOptions opt;
  opt.maxNewTokens = 2;
  GenerateResult r;
  ASSERT_TRUE(s->generate({1, 2}, opt, nullptr, r, error)) << error;
  // Sequence b owns blocks [4b, 4b + 4) of the pool.
  EXPECT_EQ(gTable, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(KVReservation, CacheLargerThanMemoryFailsBeforeGeneration) {
  if (availableMemoryBytes() == 0)
    GTEST_SKIP() << "no /proc/meminfo";
  ModelConfig c = pagedConfig();
  c.kvLayout = "contiguous";
  c.kvCacheBytes = uint64_t(1) << 50; // 1 PiB
  std::string error;
  auto s = Session::create(c, kWeights, recordingForward, error);
  EXPECT_FALSE(s);
  EXPECT_NE(error.find("cannot reserve the KV cache: 1073741824 MiB "
                       "(contiguous, f32, 64 positions) but only "),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("compile with a smaller --max-context"),
            std::string::npos);
}

TEST(KVReservation, WholeCacheIsCommittedUpFront) {
  ModelConfig c = pagedConfig();
  c.kvLayout = "contiguous";
  c.kvCacheBytes = 64 << 20;
  auto residentMb = [] {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
      return -1.0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
      resident = -1;
    fclose(f);
    return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1 << 20);
  };
  double before = residentMb();
  if (before < 0)
    GTEST_SKIP() << "no /proc/self/statm";
  std::string error;
  auto s = Session::create(c, kWeights, recordingForward, error);
  ASSERT_TRUE(s) << error;
  // Populated, not lazily faulted in: resident memory grew by the 64 MiB
  // before any forward call touched the cache.
  EXPECT_GE(residentMb() - before, 60.0);
}

TEST(ContextLimit, MaxContextBeyondTrainingIsAnError) {
  ModelConfig c = pagedConfig();
  c.trainedContext = 48;
  c.maxContext = 48;
  std::string error;
  auto s = Session::create(c, kWeights, recordingForward, error);
  ASSERT_TRUE(s) << error;
  GenerateOptions opt;
  opt.maxContext = 100;
  GenerateResult r;
  EXPECT_FALSE(s->generate({1}, opt, nullptr, r, error));
  EXPECT_EQ(error, "--max-context 100 exceeds the model's trained context of "
                   "48 tokens");
  // Within training but beyond the compiled KV capacity.
  c.trainedContext = 4096;
  s = Session::create(c, kWeights, recordingForward, error);
  ASSERT_TRUE(s) << error;
  EXPECT_FALSE(s->generate({1}, opt, nullptr, r, error));
  EXPECT_EQ(error, "--max-context 100 exceeds the model's KV capacity of 48 "
                   "tokens (recompile with llm-compile --max-context 100)");
}

TEST(ContextLimit, GenerationStopsWhenTheContextIsFull) {
  ModelConfig c = pagedConfig();
  std::string error;
  auto s = Session::create(c, kWeights, recordingForward, error);
  ASSERT_TRUE(s) << error;
  GenerateOptions opt;
  opt.maxContext = 5;
  opt.maxNewTokens = 100;
  GenerateResult r;
  ASSERT_TRUE(s->generate({1, 2, 3}, opt, nullptr, r, error)) << error;
  EXPECT_EQ(r.stop, StopReason::ContextFull);
  // Positions 0-2 prompt, 3-4 fed back; the token sampled after position 4
  // is returned but has no slot to be fed into.
  EXPECT_EQ(r.tokens, (std::vector<int32_t>{4, 5, 6}));
}

} // namespace
