//===- Generate.cpp - Model config and the generation loop ----------------===//

#include "llmrt/Generate.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>

namespace llmrt {
namespace {

bool parseInt(const std::string &s, int64_t &out) {
  if (s.empty() || s.size() > 20)
    return false;
  errno = 0;
  char *end = nullptr;
  long long v = strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  out = v;
  return true;
}

} // namespace

bool parseIdList(const std::string &text, std::vector<int32_t> &out) {
  out.clear();
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ',' || text[i] == ' '))
      ++i;
    if (i == text.size())
      break;
    size_t j = i;
    while (j < text.size() && text[j] != ',' && text[j] != ' ')
      ++j;
    int64_t v;
    if (!parseInt(text.substr(i, j - i), v) || v < 0 || v > INT32_MAX)
      return false;
    out.push_back(static_cast<int32_t>(v));
    i = j;
  }
  return true;
}

bool parseModelConfig(const ModelFile &file, ModelConfig &c,
                      std::string &error) {
  auto fail = [&](const std::string &msg) {
    error = file.name() + ": " + msg;
    return false;
  };
  auto getInt = [&](const char *key, bool required, int64_t lo, int64_t hi,
                    int64_t &out) {
    const std::string *v = file.get(key);
    if (!v)
      return !required ? true
                       : fail(std::string("missing metadata key \"") + key +
                              "\"");
    if (!parseInt(*v, out) || out < lo || out > hi)
      return fail(std::string("metadata \"") + key + "\": expected an " +
                  "integer in [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "], found \"" + *v + "\"");
    return true;
  };
  auto getStr = [&](const char *key, std::string &out) {
    if (const std::string *v = file.get(key))
      out = *v;
  };
  int64_t vocab = 0, ctx = 0, kv = 0, bos = -1, addBos = 0;
  if (!getInt("vocab_size", true, 1, INT32_MAX, vocab) ||
      !getInt("max_context", true, 1, INT32_MAX, ctx) ||
      !getInt("kv_cache_bytes", true, 0, INT64_MAX / 2, kv) ||
      !getInt("bos_id", false, -1, vocab - 1, bos) ||
      !getInt("add_bos", false, 0, 1, addBos))
    return false;
  c.vocabSize = vocab;
  c.maxContext = ctx;
  c.kvCacheBytes = static_cast<uint64_t>(kv);
  c.bosId = static_cast<int32_t>(bos);
  c.addBos = addBos != 0;
  // Optional keys: files written before KV planning are contiguous f32.
  c.trainedContext = 0;
  c.kvLayout = "contiguous";
  c.kvDtype = "f32";
  c.kvMaxBatch = 1;
  c.kvWindow = c.kvBlockSize = c.kvBlocksPerSequence = 0;
  if (!getInt("trained_context", false, 1, INT32_MAX, c.trainedContext) ||
      !getInt("kv_max_batch", false, 1, INT32_MAX, c.kvMaxBatch) ||
      !getInt("kv_window", false, 0, INT32_MAX, c.kvWindow) ||
      !getInt("kv_block_size", false, 0, INT32_MAX, c.kvBlockSize) ||
      !getInt("kv_blocks_per_sequence", false, 0, INT32_MAX,
              c.kvBlocksPerSequence))
    return false;
  if (c.trainedContext > 0 && c.maxContext > c.trainedContext)
    return fail("metadata \"max_context\" (" + std::to_string(c.maxContext) +
                ") exceeds \"trained_context\" (" +
                std::to_string(c.trainedContext) + ")");
  getStr("kv_layout", c.kvLayout);
  getStr("kv_dtype", c.kvDtype);
  if (c.kvLayout != "contiguous" && c.kvLayout != "paged" &&
      c.kvLayout != "ring")
    return fail("metadata \"kv_layout\": expected contiguous, paged or ring, "
                "found \"" + c.kvLayout + "\"");
  if (c.kvLayout == "ring" && c.kvWindow == 0)
    return fail("metadata \"kv_layout\" is ring but \"kv_window\" is missing");
  if (c.kvLayout == "paged") {
    if (c.kvBlocksPerSequence == 0 || c.kvBlockSize == 0)
      return fail("a paged KV cache needs \"kv_block_size\" and "
                  "\"kv_blocks_per_sequence\"");
    if (c.kvBlocksPerSequence * c.kvBlockSize < c.maxContext)
      return fail("the paged KV cache's blocks do not cover max_context");
    if (static_cast<uint64_t>(c.kvMaxBatch * c.kvBlocksPerSequence * 4) >
        c.kvCacheBytes)
      return fail("the KV block table does not fit in kv_cache_bytes");
  }
  int64_t arena = 0, weightsBytes = 0, overhead = 0, predicted = 0;
  if (!getInt("max_tokens_per_call", false, 0, INT32_MAX,
              c.maxTokensPerCall) ||
      !getInt("score_rows", false, 0, INT32_MAX, c.scoreRows) ||
      !getInt("arena_bytes", false, 0, INT64_MAX / 8, arena) ||
      !getInt("weights_bytes", false, 0, INT64_MAX / 8, weightsBytes) ||
      !getInt("runtime_overhead_bytes", false, 0, INT64_MAX / 8, overhead) ||
      !getInt("predicted_peak_bytes", false, 0, INT64_MAX / 2, predicted))
    return false;
  c.arenaBytes = static_cast<uint64_t>(arena);
  c.weightsBytes = static_cast<uint64_t>(weightsBytes);
  c.runtimeOverheadBytes = static_cast<uint64_t>(overhead);
  c.predictedPeakBytes = static_cast<uint64_t>(predicted);
  if (c.addBos && c.bosId < 0)
    return fail("metadata \"add_bos\" is 1 but \"bos_id\" is -1");
  c.eosIds.clear();
  if (const std::string *v = file.get("eos_ids")) {
    if (!parseIdList(*v, c.eosIds))
      return fail("metadata \"eos_ids\": expected comma-separated ids, "
                  "found \"" + *v + "\"");
    for (int32_t id : c.eosIds)
      if (id >= vocab)
        return fail("metadata \"eos_ids\": id " + std::to_string(id) +
                    " is not below vocab_size " + std::to_string(vocab));
  }
  getStr("arch", c.arch);
  getStr("model_name", c.modelName);
  getStr("chat_template", c.chatTemplate);
  getStr("default_system_prompt", c.defaultSystemPrompt);
  getStr("pre_tokenizer", c.preTokenizer);
  if (c.chatTemplate != "chatml" && c.chatTemplate != "none")
    return fail("metadata \"chat_template\": expected chatml or none, found "
                "\"" + c.chatTemplate + "\"");
  return true;
}

uint64_t availableMemoryBytes() {
  FILE *f = fopen("/proc/meminfo", "r");
  if (!f)
    return 0;
  char line[256];
  unsigned long long kib = 0;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
      break;
  fclose(f);
  return static_cast<uint64_t>(kib) * 1024;
}

Session::~Session() {
  if (kvCache_)
    munmap(kvCache_, kvMapped_);
}

std::unique_ptr<Session> Session::create(const ModelConfig &config,
                                         const uint8_t *weights,
                                         ForwardFn forward,
                                         std::string &error) {
  if (!forward) {
    error = "no forward function";
    return nullptr;
  }
  std::unique_ptr<Session> s(new Session());
  s->config_ = config;
  s->weights_ = weights;
  s->forward_ = forward;
  // The whole KV cache is reserved and committed here, so generation never
  // runs out of memory half-way: refuse a cache larger than what is free.
  auto mib = [](uint64_t bytes) {
    return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB";
  };
  // The activation arena (a global of the model object) needs its pages too.
  uint64_t available = availableMemoryBytes();
  if (available > 0 && config.kvCacheBytes + config.arenaBytes > available) {
    error = "cannot reserve the KV cache: " + mib(config.kvCacheBytes) +
            " (" + config.kvLayout + ", " + config.kvDtype + ", " +
            std::to_string(config.maxContext) + " positions)" +
            (config.arenaBytes ? " and the " + mib(config.arenaBytes) +
                                     " activation arena"
                               : std::string()) +
            " but only " + mib(available) +
            " of memory is available; compile with a smaller --max-context "
            "or --kv-dtype f16/int8";
    return nullptr;
  }
  // Anonymous pages are zero-filled and page-aligned (so 64-byte aligned).
  s->kvMapped_ = static_cast<size_t>(config.kvCacheBytes > 0
                                         ? config.kvCacheBytes
                                         : 64);
  void *kv = mmap(nullptr, s->kvMapped_, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (kv == MAP_FAILED) {
    error = "cannot reserve the KV cache (" + mib(config.kvCacheBytes) +
            "): " + strerror(errno);
    return nullptr;
  }
  s->kvCache_ = kv;
  // Paged cache: sequence b owns blocks [b * n, (b + 1) * n) of the pool.
  if (config.kvLayout == "paged") {
    auto *table = static_cast<int32_t *>(kv);
    int64_t n = config.kvBlocksPerSequence;
    for (int64_t i = 0; i < config.kvMaxBatch * n; ++i)
      table[i] = static_cast<int32_t>(i);
  }
  s->logits_.assign(static_cast<size_t>(config.vocabSize), 0.0f);
  s->tokens_.reserve(static_cast<size_t>(config.maxContext));
  return s;
}

int64_t forwardCallsFor(int64_t tokens, int64_t maxTokensPerCall) {
  if (maxTokensPerCall <= 0 || tokens <= maxTokensPerCall)
    return 1;
  return (tokens + maxTokensPerCall - 1) / maxTokensPerCall;
}

bool Session::forward(const int64_t *tokens, int64_t n, int64_t pos,
                      FILE *dump, std::string &error) {
  // The model's activation arena holds max_tokens_per_call tokens: a longer
  // input runs in consecutive calls; the last one leaves its logits.
  int64_t calls = forwardCallsFor(n, config_.maxTokensPerCall);
  for (int64_t i = 0, done = 0; i < calls; ++i) {
    int64_t count = i + 1 < calls ? config_.maxTokensPerCall : n - done;
    forward_(weights_, kvCache_, tokens + done, count, pos + done,
             logits_.data());
    done += count;
  }
  if (dump && fwrite(logits_.data(), sizeof(float), logits_.size(), dump) !=
                  logits_.size()) {
    error = std::string("cannot write logits: ") + strerror(errno);
    return false;
  }
  return true;
}

bool Session::checkRequest(const std::vector<int32_t> &prompt,
                           const GenerateOptions &opt, int64_t &ctx,
                           std::string &error) const {
  ctx = config_.maxContext;
  if (opt.maxContext > 0) {
    if (config_.trainedContext > 0 && opt.maxContext > config_.trainedContext) {
      error = "--max-context " + std::to_string(opt.maxContext) +
              " exceeds the model's trained context of " +
              std::to_string(config_.trainedContext) + " tokens";
      return false;
    }
    if (opt.maxContext > config_.maxContext) {
      error = "--max-context " + std::to_string(opt.maxContext) +
              " exceeds the model's KV capacity of " +
              std::to_string(config_.maxContext) +
              " tokens (recompile with llm-compile --max-context " +
              std::to_string(opt.maxContext) + ")";
      return false;
    }
    ctx = opt.maxContext;
  }
  if (prompt.empty()) {
    error = "the prompt is empty";
    return false;
  }
  if (static_cast<int64_t>(prompt.size()) > ctx) {
    error = "the prompt has " + std::to_string(prompt.size()) +
            " tokens but the context holds only " + std::to_string(ctx);
    return false;
  }
  for (int32_t id : prompt)
    if (id < 0 || id >= config_.vocabSize) {
      error = "token id " + std::to_string(id) + " is out of range [0, " +
              std::to_string(config_.vocabSize) + ")";
      return false;
    }
  return true;
}

bool Session::generate(const std::vector<int32_t> &prompt,
                       const GenerateOptions &opt,
                       const TokenCallback &onToken, GenerateResult &result,
                       std::string &error) {
  result = GenerateResult();
  GenerateStats &st = result.stats;
  int64_t ctx = 0;
  if (!checkRequest(prompt, opt, ctx, error))
    return false;
  tokens_.assign(prompt.begin(), prompt.end());
  Sampler sampler(opt.sampler, static_cast<size_t>(config_.vocabSize));

  st.promptTokens = static_cast<int64_t>(prompt.size());
  const double t0 = nowSeconds();
  if (!forward(tokens_.data(), st.promptTokens, 0, opt.dumpLogits, error))
    return false;
  st.forwardCalls = 1;
  st.prefillCalls = forwardCallsFor(st.promptTokens, config_.maxTokensPerCall);
  const double t1 = nowSeconds();
  st.prefillSeconds = t1 - t0;
  int64_t pos = st.promptTokens;
  double decodeStart = 0;
  while (st.generatedTokens < opt.maxNewTokens) {
    if (st.generatedTokens > 0) {
      // Feed the last sampled token; it needs a free KV slot.
      if (pos >= ctx) {
        result.stop = StopReason::ContextFull;
        break;
      }
      int64_t last = tokens_.back();
      if (!forward(&last, 1, pos, opt.dumpLogits, error))
        return false;
      ++pos;
      ++st.forwardCalls;
      ++st.decodeSteps;
    }
    int32_t next = sampler.sample(logits_.data());
    if (st.generatedTokens == 0) {
      decodeStart = nowSeconds();
      st.ttftSeconds = decodeStart - t0;
    }
    ++st.generatedTokens;
    result.tokens.push_back(next);
    tokens_.push_back(next);
    if (config_.isEos(next)) {
      result.stop = StopReason::Eos;
      break;
    }
    if (onToken)
      onToken(next);
  }
  if (st.generatedTokens > 0)
    st.decodeSeconds = nowSeconds() - decodeStart;
  return true;
}

//===----------------------------------------------------------------------===//
// Perplexity and fidelity
//===----------------------------------------------------------------------===//

namespace {

constexpr char kLogitsMagic[4] = {'F', 'L', 'G', 'T'};
constexpr uint32_t kLogitsVersion = 1;

/// ln(sum(exp(x))) in double, shifted by the max for range.
double logSumExp(const float *x, int64_t n) {
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i)
    mx = std::max(mx, x[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += std::exp(double(x[i]) - double(mx));
  return double(mx) + std::log(sum);
}

bool writeAll(FILE *f, const void *data, size_t bytes, std::string &error) {
  if (fwrite(data, 1, bytes, f) != bytes) {
    error = std::string("cannot write logits: ") + strerror(errno);
    return false;
  }
  return true;
}

bool readAll(FILE *f, void *data, size_t bytes, std::string &error) {
  if (fread(data, 1, bytes, f) != bytes) {
    error = feof(f) ? "the reference logits end early (a different text, "
                      "--ctx or --max-tokens?)"
                    : std::string("cannot read reference logits: ") +
                          strerror(errno);
    return false;
  }
  return true;
}

} // namespace

double PerplexityResult::perplexity() const {
  return tokens > 0 ? std::exp(nll / double(tokens)) : 0.0;
}

double PerplexityResult::referencePerplexity() const {
  return tokens > 0 ? std::exp(referenceNll / double(tokens)) : 0.0;
}

double PerplexityResult::perplexityDelta(double z) const {
  if (tokens == 0)
    return 0.0;
  double n = double(tokens), mean = (nll - referenceNll) / n;
  double variance =
      tokens > 1 ? std::max(0.0, deltaSquares / n - mean * mean) * n / (n - 1)
                 : 0.0;
  return std::expm1(mean + z * std::sqrt(variance / n));
}

bool writeLogitsHeader(FILE *f, int64_t vocab, std::string &error) {
  uint32_t header[2] = {kLogitsVersion, static_cast<uint32_t>(vocab)};
  return writeAll(f, kLogitsMagic, 4, error) &&
         writeAll(f, header, sizeof(header), error);
}

bool readLogitsHeader(FILE *f, int64_t vocab, std::string &error) {
  char magic[4];
  uint32_t header[2];
  if (!readAll(f, magic, 4, error) || !readAll(f, header, sizeof(header), error))
    return false;
  if (memcmp(magic, kLogitsMagic, 4) != 0 || header[0] != kLogitsVersion) {
    error = "not a logits file (written by --save-logits)";
    return false;
  }
  if (header[1] != static_cast<uint32_t>(vocab)) {
    error = "the reference logits have a vocabulary of " +
            std::to_string(header[1]) + ", this model " +
            std::to_string(vocab);
    return false;
  }
  return true;
}

double negLogLikelihood(const float *logits, int64_t vocab, int32_t target) {
  return logSumExp(logits, vocab) - double(logits[target]);
}

namespace {
/// KL(reference || logits) given both log-sum-exps.
double klDivergence(const float *reference, double lseRef,
                    const float *logits, double lse, int64_t vocab) {
  double kl = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    double logP = double(reference[i]) - lseRef;
    double logQ = double(logits[i]) - lse;
    kl += std::exp(logP) * (logP - logQ);
  }
  return std::max(kl, 0.0);
}
} // namespace

double klDivergence(const float *reference, const float *logits,
                    int64_t vocab) {
  return klDivergence(reference, logSumExp(reference, vocab), logits,
                      logSumExp(logits, vocab), vocab);
}

bool Session::perplexity(const std::vector<int32_t> &tokens,
                         const PerplexityOptions &opt, PerplexityResult &result,
                         std::string &error) {
  result = PerplexityResult();
  const int64_t vocab = config_.vocabSize;
  int64_t ctx = opt.context > 0 ? opt.context : config_.maxContext;
  if (ctx > config_.maxContext) {
    error = "--ctx " + std::to_string(ctx) +
            " exceeds the model's KV capacity of " +
            std::to_string(config_.maxContext) + " tokens";
    return false;
  }
  const bool bos = opt.bosId >= 0;
  if (ctx < 2) {
    error = "--ctx must be at least 2";
    return false;
  }
  for (int32_t id : tokens)
    if (id < 0 || id >= vocab) {
      error = "token id " + std::to_string(id) + " is out of range [0, " +
              std::to_string(vocab) + ")";
      return false;
    }
  if (opt.saveLogits && !writeLogitsHeader(opt.saveLogits, vocab, error))
    return false;
  std::vector<float> reference;
  if (opt.referenceLogits) {
    if (!readLogitsHeader(opt.referenceLogits, vocab, error))
      return false;
    reference.resize(static_cast<size_t>(vocab));
    result.haveReference = true;
  }
  const int64_t limit = opt.maxTokens > 0 ? opt.maxTokens : INT64_MAX;
  int64_t agree = 0;
  double klSum = 0;
  // Scores `logits` (one position's) as the prediction of `target`.
  auto score = [&](const float *logits, int32_t target) {
    // Each row's log-sum-exp once: it serves the NLL and the KL.
    double lse = logSumExp(logits, vocab);
    double nll = lse - double(logits[target]);
    result.nll += nll;
    if (opt.saveLogits &&
        (!writeAll(opt.saveLogits, &target, sizeof(target), error) ||
         !writeAll(opt.saveLogits, logits, sizeof(float) * vocab, error)))
      return false;
    if (opt.referenceLogits) {
      int32_t refTarget = -1;
      if (!readAll(opt.referenceLogits, &refTarget, sizeof(refTarget),
                   error) ||
          !readAll(opt.referenceLogits, reference.data(),
                   sizeof(float) * reference.size(), error))
        return false;
      if (refTarget != target) {
        error = "the reference logits were computed on other tokens "
                "(position " + std::to_string(result.tokens) + ": " +
                std::to_string(refTarget) + " vs " + std::to_string(target) +
                ")";
        return false;
      }
      double lseRef = logSumExp(reference.data(), vocab);
      double delta = nll - (lseRef - double(reference[target]));
      result.referenceNll += nll - delta;
      result.deltaSquares += delta * delta;
      klSum += klDivergence(reference.data(), lseRef, logits, lse, vocab);
      agree += argmax(reference.data(), vocab) == argmax(logits, vocab);
    }
    ++result.tokens;
    return true;
  };
  // The every-position step scores a window in calls of scoreRows tokens.
  const int64_t rows = opt.forwardAll ? config_.scoreRows : 0;
  std::vector<float> rowLogits(static_cast<size_t>(rows * vocab));
  const double t0 = nowSeconds();
  const int64_t total = static_cast<int64_t>(tokens.size());
  // Each window holds [BOS] + up to (ctx - bos) text tokens; the logits of
  // each of its positions but the last score the token after it.
  std::vector<int64_t> window;
  int64_t start = 0;
  while (start < total && result.tokens < limit) {
    int64_t len = std::min<int64_t>(ctx - (bos ? 1 : 0), total - start);
    if (!bos && len < 2)
      break;
    ++result.windows;
    window.clear();
    if (bos)
      window.push_back(opt.bosId);
    window.insert(window.end(), tokens.begin() + start,
                  tokens.begin() + start + len);
    // Positions whose logits are scored.
    int64_t scored = std::min<int64_t>(
        static_cast<int64_t>(window.size()) - 1, limit - result.tokens);
    if (rows > 0) {
      for (int64_t p0 = 0; p0 < scored; p0 += rows) {
        int64_t n = std::min(rows, scored - p0);
        opt.forwardAll(weights_, kvCache_, window.data() + p0, n, p0,
                       rowLogits.data());
        for (int64_t r = 0; r < n; ++r)
          if (!score(rowLogits.data() + r * vocab,
                     static_cast<int32_t>(window[p0 + r + 1])))
            return false;
      }
    } else {
      for (int64_t p = 0; p < scored; ++p)
        if (!forward(&window[p], 1, p, nullptr, error) ||
            !score(logits_.data(), static_cast<int32_t>(window[p + 1])))
          return false;
    }
    start += len;
  }
  result.seconds = nowSeconds() - t0;
  if (result.tokens == 0) {
    error = "the text has too few tokens to score";
    return false;
  }
  if (result.haveReference) {
    result.meanKL = klSum / double(result.tokens);
    result.top1Agreement = double(agree) / double(result.tokens);
  }
  return true;
}

} // namespace llmrt
