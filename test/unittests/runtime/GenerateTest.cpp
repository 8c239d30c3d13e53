//===- GenerateTest.cpp - The generation loop with a fake model -----------===//

#include "llmrt/Generate.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace llmrt;

namespace {

constexpr int64_t kVocab = 16;

struct Call {
  int64_t n, pos;
};
std::vector<Call> gCalls;

// A toy model: the KV cache stores each token at its position; the logits
// favour (last token + 1) % vocab, and the cache must hold the full history.
void fakeForward(const uint8_t *weights, void *kv, const int64_t *tokens,
                 int64_t n, int64_t pos, float *logits) {
  gCalls.push_back({n, pos});
  auto *cache = static_cast<int64_t *>(kv);
  for (int64_t i = 0; i < pos; ++i)
    EXPECT_GE(cache[i], 100) << "history lost at " << i;
  for (int64_t i = pos; i < 8; ++i)
    EXPECT_EQ(cache[i], 0) << "cache not zero-filled at " << i;
  for (int64_t i = 0; i < n; ++i)
    cache[pos + i] = 100 + tokens[i];
  int64_t last = tokens[n - 1];
  for (int64_t v = 0; v < kVocab; ++v)
    logits[v] = v == (last + 1) % kVocab ? 1.0f : 0.25f * float(v % 3);
  EXPECT_EQ(weights[0], 0xAB);
}

const uint8_t kWeights[64] = {0xAB};

ModelConfig config(int64_t maxContext = 8) {
  ModelConfig c;
  c.vocabSize = kVocab;
  c.maxContext = maxContext;
  c.kvCacheBytes = 8 * sizeof(int64_t) * 4;
  return c;
}

GenerateResult run(const ModelConfig &c, const std::vector<int32_t> &prompt,
                   GenerateOptions opt, std::vector<int32_t> *streamed) {
  gCalls.clear();
  std::string error;
  auto s = Session::create(c, kWeights, fakeForward, error);
  EXPECT_TRUE(s) << error;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s->logits()) % 4, 0u);
  GenerateResult r;
  EXPECT_TRUE(s->generate(prompt, opt, [&](int32_t id) {
    if (streamed)
      streamed->push_back(id);
  }, r, error)) << error;
  return r;
}

TEST(Generate, GreedyIdsAndCallPattern) {
  GenerateOptions opt;
  opt.maxNewTokens = 4;
  std::vector<int32_t> streamed;
  GenerateResult r = run(config(), {3, 4}, opt, &streamed);
  EXPECT_EQ(r.tokens, (std::vector<int32_t>{5, 6, 7, 8}));
  EXPECT_EQ(streamed, r.tokens);
  EXPECT_EQ(r.stop, StopReason::Length);
  ASSERT_EQ(gCalls.size(), 4u); // prefill + 3 decode steps
  EXPECT_EQ(gCalls[0].n, 2);
  EXPECT_EQ(gCalls[0].pos, 0);
  for (size_t i = 1; i < gCalls.size(); ++i) {
    EXPECT_EQ(gCalls[i].n, 1);
    EXPECT_EQ(gCalls[i].pos, int64_t(i + 1));
  }
  EXPECT_EQ(r.stats.promptTokens, 2);
  EXPECT_EQ(r.stats.generatedTokens, 4);
  EXPECT_EQ(r.stats.decodeSteps, 3);
  EXPECT_EQ(r.stats.forwardCalls, 4);
}

TEST(Generate, PrefillsInChunksOfMaxTokensPerCall) {
  ModelConfig c = config();
  c.maxTokensPerCall = 2;
  FILE *dump = tmpfile();
  ASSERT_TRUE(dump);
  GenerateOptions opt;
  opt.maxNewTokens = 2;
  opt.dumpLogits = dump;
  GenerateResult r = run(c, {3, 4, 5, 6, 7}, opt, nullptr);
  // The same tokens as one call would give (the fake model checks that the
  // cache holds the whole history at every call).
  EXPECT_EQ(r.tokens, (std::vector<int32_t>{8, 9}));
  ASSERT_EQ(gCalls.size(), 4u); // 3 prefill chunks + 1 decode step
  EXPECT_EQ(gCalls[0].n, 2);
  EXPECT_EQ(gCalls[0].pos, 0);
  EXPECT_EQ(gCalls[1].n, 2);
  EXPECT_EQ(gCalls[1].pos, 2);
  EXPECT_EQ(gCalls[2].n, 1);
  EXPECT_EQ(gCalls[2].pos, 4);
  EXPECT_EQ(gCalls[3].n, 1);
  EXPECT_EQ(gCalls[3].pos, 5);
  EXPECT_EQ(r.stats.prefillCalls, 3);
  EXPECT_EQ(r.stats.forwardCalls, 2);
  // Logits are dumped once for the prefill (its last token), once per step.
  EXPECT_EQ(ftell(dump), long(2 * kVocab * sizeof(float)));
  fclose(dump);
  EXPECT_EQ(forwardCallsFor(5, 2), 3);
  EXPECT_EQ(forwardCallsFor(4, 2), 2);
  EXPECT_EQ(forwardCallsFor(1, 512), 1);
  EXPECT_EQ(forwardCallsFor(9, 0), 1);
}

TEST(Generate, StopsAtEos) {
  ModelConfig c = config();
  c.eosIds = {2, 7};
  GenerateOptions opt;
  opt.maxNewTokens = 10;
  std::vector<int32_t> streamed;
  GenerateResult r = run(c, {4}, opt, &streamed);
  EXPECT_EQ(r.tokens, (std::vector<int32_t>{5, 6, 7}));
  EXPECT_EQ(streamed, (std::vector<int32_t>{5, 6})); // EOS is not emitted
  EXPECT_EQ(r.stop, StopReason::Eos);
}

TEST(Generate, StopsWhenContextIsFull) {
  GenerateOptions opt;
  opt.maxNewTokens = 100;
  GenerateResult r = run(config(5), {1, 2}, opt, nullptr);
  // Positions 0..4 hold 2 prompt + 3 fed tokens; the 4th sampled token
  // would need position 5.
  EXPECT_EQ(r.tokens, (std::vector<int32_t>{3, 4, 5, 6}));
  EXPECT_EQ(r.stop, StopReason::ContextFull);
  EXPECT_EQ(gCalls.back().pos, 4);
  // --max-context lowers the limit below the model's.
  opt.maxContext = 3;
  r = run(config(5), {1, 2}, opt, nullptr);
  EXPECT_EQ(r.tokens, (std::vector<int32_t>{3, 4}));
  EXPECT_EQ(r.stop, StopReason::ContextFull);
}

TEST(Generate, RejectsPromptLongerThanContext) {
  std::string error;
  auto s = Session::create(config(3), kWeights, fakeForward, error);
  ASSERT_TRUE(s);
  GenerateResult r;
  GenerateOptions opt;
  EXPECT_FALSE(s->generate({1, 2, 3, 4}, opt, nullptr, r, error));
  EXPECT_EQ(error, "the prompt has 4 tokens but the context holds only 3");
  EXPECT_FALSE(s->generate({1, 99}, opt, nullptr, r, error));
  EXPECT_EQ(error, "token id 99 is out of range [0, 16)");
  opt.maxContext = 9;
  EXPECT_FALSE(s->generate({1}, opt, nullptr, r, error));
  EXPECT_EQ(error, "--max-context 9 exceeds the model's KV capacity of 3 "
                   "tokens (recompile with llm-compile --max-context 9)");
}

TEST(Generate, DumpLogitsWritesEveryForwardCall) {
  FILE *dump = tmpfile();
  ASSERT_TRUE(dump);
  GenerateOptions opt;
  opt.maxNewTokens = 5;
  opt.dumpLogits = dump;
  GenerateResult r = run(config(), {0, 1, 2}, opt, nullptr);
  EXPECT_EQ(r.stats.forwardCalls, 5);
  EXPECT_EQ(ftell(dump), long(5 * kVocab * sizeof(float)));
  // The first record is the prefill's last-token logits: favours 3.
  rewind(dump);
  std::vector<float> first(kVocab);
  ASSERT_EQ(fread(first.data(), sizeof(float), kVocab, dump), size_t(kVocab));
  EXPECT_EQ(first[3], 1.0f);
  EXPECT_EQ(first[1], 0.25f);
  fclose(dump);
}

TEST(Generate, ZeroNewTokensStillPrefills) {
  GenerateOptions opt;
  opt.maxNewTokens = 0;
  GenerateResult r = run(config(), {1}, opt, nullptr);
  EXPECT_TRUE(r.tokens.empty());
  EXPECT_EQ(gCalls.size(), 1u);
}

TEST(Generate, SamplingIsSeeded) {
  GenerateOptions opt;
  opt.maxNewTokens = 6;
  opt.sampler.temperature = 2.0f;
  opt.sampler.seed = 11;
  GenerateResult a = run(config(), {1}, opt, nullptr);
  GenerateResult b = run(config(), {1}, opt, nullptr);
  EXPECT_EQ(a.tokens, b.tokens);
}

TEST(ModelConfig, ParsesAndValidatesMetadata) {
  auto parse = [](const std::vector<std::pair<std::string, std::string>> &m,
                  ModelConfig &c) {
    std::vector<uint8_t> bytes =
        test::makeModelBytes(m, test::makeVocab({}), "");
    std::string error;
    auto f = ModelFile::openMemory(bytes.data(), bytes.size(), "m", error);
    EXPECT_TRUE(f) << error;
    return parseModelConfig(*f, c, error) ? std::string() : error;
  };
  ModelConfig c;
  EXPECT_EQ(parse({{"vocab_size", "300"}, {"max_context", "128"},
                   {"kv_cache_bytes", "4096"}, {"bos_id", "1"},
                   {"eos_ids", "2,5"}, {"add_bos", "1"},
                   {"chat_template", "chatml"}, {"unknown", "ignored"}},
                  c),
            "");
  EXPECT_EQ(c.vocabSize, 300);
  EXPECT_EQ(c.eosIds, (std::vector<int32_t>{2, 5}));
  EXPECT_TRUE(c.addBos);
  EXPECT_EQ(c.preTokenizer, "gpt2");
  EXPECT_EQ(c.maxTokensPerCall, 0);
  EXPECT_EQ(c.predictedPeakBytes, 0u);
  EXPECT_EQ(parse({{"vocab_size", "300"}, {"max_context", "128"},
                   {"kv_cache_bytes", "4096"}, {"max_tokens_per_call", "64"},
                   {"arena_bytes", "8192"}, {"weights_bytes", "1000"},
                   {"runtime_overhead_bytes", "100"},
                   {"predicted_peak_bytes", "13388"}},
                  c),
            "");
  EXPECT_EQ(c.maxTokensPerCall, 64);
  EXPECT_EQ(c.arenaBytes, 8192u);
  EXPECT_EQ(c.weightsBytes, 1000u);
  EXPECT_EQ(c.runtimeOverheadBytes, 100u);
  EXPECT_EQ(c.predictedPeakBytes, 13388u);
  EXPECT_EQ(parse({{"vocab_size", "300"}, {"max_context", "128"},
                   {"kv_cache_bytes", "4096"}, {"max_tokens_per_call", "-1"}},
                  c),
            "m: metadata \"max_tokens_per_call\": expected an integer in "
            "[0, 2147483647], found \"-1\"");
  EXPECT_EQ(parse({{"vocab_size", "300"}, {"max_context", "12"}}, c),
            "m: missing metadata key \"kv_cache_bytes\"");
  EXPECT_EQ(parse({{"vocab_size", "30x"}}, c),
            "m: metadata \"vocab_size\": expected an integer in [1, "
            "2147483647], found \"30x\"");
  EXPECT_EQ(parse({{"vocab_size", "3"}, {"max_context", "1"},
                   {"kv_cache_bytes", "0"}, {"eos_ids", "1,3"}},
                  c),
            "m: metadata \"eos_ids\": id 3 is not below vocab_size 3");
}

} // namespace

//===----------------------------------------------------------------------===//
// Perplexity and fidelity
//===----------------------------------------------------------------------===//

namespace {

constexpr int64_t kPplVocab = 8;
std::vector<Call> gPplCalls;
float gBoost = 0; ///< logit of (last + 1) % vocab; the others are 0.

// p(next = (last + 1) % V) = e^b / (e^b + V - 1), every other token
// 1 / (e^b + V - 1).
void pplForward(const uint8_t *, void *, const int64_t *tokens, int64_t n,
                int64_t pos, float *logits) {
  gPplCalls.push_back({n, pos});
  for (int64_t v = 0; v < kPplVocab; ++v)
    logits[v] = 0.0f;
  logits[(tokens[n - 1] + 1) % kPplVocab] = gBoost;
}

// The every-position step of the same model: row i as pplForward on the
// tokens up to i.
void pplForwardAll(const uint8_t *, void *, const int64_t *tokens, int64_t n,
                   int64_t pos, float *logits) {
  gPplCalls.push_back({n, pos});
  for (int64_t i = 0; i < n; ++i) {
    float *row = logits + i * kPplVocab;
    for (int64_t v = 0; v < kPplVocab; ++v)
      row[v] = 0.0f;
    row[(tokens[i] + 1) % kPplVocab] = gBoost;
  }
}

std::unique_ptr<Session> pplSession(int64_t maxContext = 16,
                                    int64_t scoreRows = 0) {
  ModelConfig c;
  c.vocabSize = kPplVocab;
  c.maxContext = maxContext;
  c.scoreRows = scoreRows;
  c.kvCacheBytes = 64;
  std::string error;
  auto s = Session::create(c, kWeights, pplForward, error);
  EXPECT_TRUE(s) << error;
  return s;
}

PerplexityResult score(Session &s, const std::vector<int32_t> &tokens,
                       PerplexityOptions opt) {
  gPplCalls.clear();
  PerplexityResult r;
  std::string error;
  EXPECT_TRUE(s.perplexity(tokens, opt, r, error)) << error;
  return r;
}

} // namespace

TEST(Perplexity, UniformDistributionHasPerplexityVocab) {
  gBoost = 0;
  auto s = pplSession();
  PerplexityResult r = score(*s, {3, 1, 4, 1, 5, 2, 6}, {});
  EXPECT_EQ(r.tokens, 6);
  EXPECT_EQ(r.windows, 1);
  EXPECT_NEAR(r.perplexity(), double(kPplVocab), 1e-9);
  EXPECT_FALSE(r.haveReference);
}

TEST(Perplexity, KnownDistribution) {
  gBoost = 2.0f;
  auto s = pplSession();
  double z = std::exp(2.0) + double(kPplVocab - 1);
  double hit = -std::log(std::exp(2.0) / z), miss = -std::log(1.0 / z);
  // 1→2 and 2→3 follow the model, 3→7 and 7→0 (wraps: follows) ...
  std::vector<int32_t> text = {1, 2, 3, 7, 0, 5};
  PerplexityResult r = score(*s, text, {});
  double nll = hit + hit + miss + hit + miss;
  EXPECT_EQ(r.tokens, 5);
  EXPECT_NEAR(r.nll, nll, 1e-6);
  EXPECT_NEAR(r.perplexity(), std::exp(nll / 5), 1e-6);
  // Token by token from position 0.
  ASSERT_EQ(gPplCalls.size(), 5u);
  for (size_t i = 0; i < gPplCalls.size(); ++i) {
    EXPECT_EQ(gPplCalls[i].n, 1);
    EXPECT_EQ(gPplCalls[i].pos, int64_t(i));
  }
}

TEST(Perplexity, WindowsRestartAtPositionZero) {
  gBoost = 1.0f;
  auto s = pplSession(/*maxContext=*/8);
  std::vector<int32_t> text = {0, 1, 2, 3, 4, 5, 6, 7, 0, 1};
  PerplexityOptions opt;
  opt.context = 4;
  // Windows [0..3] [4..7] [8, 9]: each scores all but its first token.
  PerplexityResult r = score(*s, text, opt);
  EXPECT_EQ(r.windows, 3);
  EXPECT_EQ(r.tokens, 3 + 3 + 1);
  int64_t maxPos = 0;
  for (const Call &c : gPplCalls)
    maxPos = std::max(maxPos, c.pos);
  EXPECT_EQ(maxPos, 2);
  // With BOS first, every text token is scored: 3 per window.
  opt.bosId = 0;
  r = score(*s, text, opt);
  EXPECT_EQ(r.windows, 4);
  EXPECT_EQ(r.tokens, 10);
  // --max-tokens stops early.
  opt.maxTokens = 5;
  r = score(*s, text, opt);
  EXPECT_EQ(r.tokens, 5);
  // A window larger than the KV cache is refused.
  opt.context = 9;
  std::string error;
  EXPECT_FALSE(s->perplexity(text, opt, r, error));
  EXPECT_NE(error.find("KV capacity"), std::string::npos) << error;
}

TEST(Perplexity, IdenticalLogitsHaveZeroKL) {
  gBoost = 3.0f;
  auto s = pplSession();
  std::vector<int32_t> text = {2, 3, 4, 0, 6, 7};
  FILE *logits = tmpfile();
  ASSERT_TRUE(logits);
  PerplexityOptions opt;
  opt.saveLogits = logits;
  PerplexityResult saved = score(*s, text, opt);
  rewind(logits);
  opt.saveLogits = nullptr;
  opt.referenceLogits = logits;
  PerplexityResult r = score(*s, text, opt);
  EXPECT_TRUE(r.haveReference);
  EXPECT_EQ(r.tokens, saved.tokens);
  EXPECT_EQ(r.meanKL, 0.0);
  EXPECT_EQ(r.top1Agreement, 1.0);
  // Another model on the same tokens: positive KL, known in closed form.
  rewind(logits);
  gBoost = 1.0f;
  r = score(*s, text, opt);
  std::vector<float> p(kPplVocab, 0.0f), q(kPplVocab, 0.0f);
  p[1] = 3.0f;
  q[1] = 1.0f;
  double kl = klDivergence(p.data(), q.data(), kPplVocab);
  EXPECT_GT(kl, 0.0);
  EXPECT_NEAR(r.meanKL, kl, 1e-9);
  EXPECT_EQ(r.top1Agreement, 1.0);
  // The perplexity increase over the reference and its interval, from the
  // per-position differences of -ln p: 2->3, 3->4 and 6->7 follow both
  // models, 4->0 and 0->6 neither.
  auto nllOf = [](double boost, bool follows) {
    double z = std::exp(boost) + double(kPplVocab - 1);
    return -std::log((follows ? std::exp(boost) : 1.0) / z);
  };
  double hit = nllOf(1.0, true) - nllOf(3.0, true);
  double miss = nllOf(1.0, false) - nllOf(3.0, false);
  std::vector<double> d = {hit, hit, miss, miss, hit};
  double mean = 0, var = 0;
  for (double v : d)
    mean += v / d.size();
  for (double v : d)
    var += (v - mean) * (v - mean) / (d.size() - 1);
  double se = std::sqrt(var / d.size());
  EXPECT_NEAR(r.referencePerplexity(), saved.perplexity(), 1e-9);
  EXPECT_NEAR(r.perplexityDelta(), std::expm1(mean), 1e-9);
  EXPECT_NEAR(r.perplexityDelta(-1.96), std::expm1(mean - 1.96 * se), 1e-9);
  EXPECT_NEAR(r.perplexityDelta(1.96), std::expm1(mean + 1.96 * se), 1e-9);
  EXPECT_LT(r.perplexityDelta(-1.96), r.perplexityDelta(1.96));
  // Different tokens are refused.
  rewind(logits);
  std::string error;
  EXPECT_FALSE(s->perplexity({2, 3, 5, 0, 6, 7}, opt, r, error));
  EXPECT_NE(error.find("other tokens"), std::string::npos) << error;
  fclose(logits);
}

// With the every-position step, each window runs in calls of score_rows
// tokens from position 0, and scores what token-by-token scoring does: the
// same positions, logits and results.
TEST(Perplexity, EveryPositionStepScoresWindowsInChunks) {
  gBoost = 2.0f;
  std::vector<int32_t> text = {1, 2, 3, 7, 0, 5, 6, 7, 2, 3, 4, 4, 5};
  PerplexityOptions opt;
  opt.context = 8;
  opt.bosId = 0;
  FILE *byToken = tmpfile(), *chunked = tmpfile();
  ASSERT_TRUE(byToken && chunked);
  opt.saveLogits = byToken;
  auto one = pplSession(/*maxContext=*/8);
  PerplexityResult expected = score(*one, text, opt);
  EXPECT_EQ(gPplCalls.size(), text.size());

  auto s = pplSession(/*maxContext=*/8, /*scoreRows=*/3);
  opt.saveLogits = chunked;
  opt.forwardAll = pplForwardAll;
  PerplexityResult r = score(*s, text, opt);
  EXPECT_EQ(r.tokens, expected.tokens);
  EXPECT_EQ(r.windows, expected.windows);
  EXPECT_EQ(r.nll, expected.nll);
  // Windows of BOS + 7 and BOS + 6 text tokens: positions 0-6 in calls of
  // 3, 3 and 1, then 0-5 in two calls of 3.
  std::vector<std::pair<int64_t, int64_t>> calls;
  for (const Call &c : gPplCalls)
    calls.push_back({c.n, c.pos});
  std::vector<std::pair<int64_t, int64_t>> want = {
      {3, 0}, {3, 3}, {1, 6}, {3, 0}, {3, 3}};
  EXPECT_EQ(calls, want);
  // The saved logits (targets and rows) are the same bytes.
  auto contents = [](FILE *f) {
    std::string bytes;
    rewind(f);
    for (int c; (c = fgetc(f)) != EOF;)
      bytes.push_back(static_cast<char>(c));
    return bytes;
  };
  std::string a = contents(byToken), b = contents(chunked);
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  fclose(byToken);
  fclose(chunked);

  // --max-tokens stops inside a call: only the positions it scores run.
  opt.saveLogits = nullptr;
  opt.maxTokens = 5;
  r = score(*s, text, opt);
  EXPECT_EQ(r.tokens, 5);
  calls.clear();
  for (const Call &c : gPplCalls)
    calls.push_back({c.n, c.pos});
  want = {{3, 0}, {2, 3}};
  EXPECT_EQ(calls, want);

  // A model without the step (score_rows 0) scores token by token.
  opt.maxTokens = 0;
  r = score(*one, text, opt);
  EXPECT_EQ(gPplCalls.size(), text.size());
  EXPECT_EQ(r.nll, expected.nll);
}

TEST(Perplexity, KLDivergenceAndArgmax) {
  // p = (1/2, 1/2), q = (1/4, 3/4): KL = 1/2 ln 2 + 1/2 ln(2/3).
  float p[2] = {0.0f, 0.0f};
  float q[2] = {0.0f, std::log(3.0f)};
  EXPECT_NEAR(klDivergence(p, q, 2),
              0.5 * std::log(2.0) + 0.5 * std::log(2.0 / 3.0), 1e-6);
  EXPECT_EQ(klDivergence(q, q, 2), 0.0);
  EXPECT_EQ(argmax(q, 2), 1);
  EXPECT_NEAR(negLogLikelihood(q, 2, 1), -std::log(0.75), 1e-6);
}
