//===- Metrics.cpp - Timing and memory metrics ----------------------------===//
//
// prefill tok/s = prompt tokens / prefill forward time; TTFT = start of the
// prefill to the first sampled token; decode tok/s = decode steps (forward +
// sampling of one token each) / their time.
//
//===----------------------------------------------------------------------===//

#include "llmrt/Generate.h"

#include <sys/resource.h>
#include <time.h>

namespace llmrt {
namespace {

double rate(double count, double seconds) {
  return seconds > 0 ? count / seconds : 0.0;
}

} // namespace

double nowSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double peakRssMb() {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return 0.0;
  return double(ru.ru_maxrss) / 1024.0; // Linux reports KiB
}

void printMetrics(FILE *out, const GenerateStats &s) {
  fprintf(out,
          "prompt tokens:   %lld\n"
          "prefill:         %.1f tok/s\n"
          "time to first token: %.1f ms\n"
          "decoded tokens:  %lld\n"
          "decode:          %.1f tok/s\n"
          "peak RSS:        %.1f MB\n",
          static_cast<long long>(s.promptTokens),
          rate(double(s.promptTokens), s.prefillSeconds), s.ttftSeconds * 1e3,
          static_cast<long long>(s.generatedTokens),
          rate(double(s.decodeSteps), s.decodeSeconds), peakRssMb());
}

void printBenchLine(FILE *out, const GenerateStats &s) {
  fprintf(out,
          "bench: prompt_tokens=%lld prefill_tok_s=%.1f decode_tokens=%lld "
          "decode_tok_s=%.1f ttft_ms=%.1f peak_rss_mb=%.1f\n",
          static_cast<long long>(s.promptTokens),
          rate(double(s.promptTokens), s.prefillSeconds),
          static_cast<long long>(s.generatedTokens),
          rate(double(s.decodeSteps), s.decodeSeconds), s.ttftSeconds * 1e3,
          peakRssMb());
}

void printBatchLine(FILE *out, const BatchStats &s) {
  fprintf(out,
          "batch: sequences=%lld max_rows=%lld mean_rows=%.2f "
          "prefill_tokens=%lld prefill_tok_s=%.1f decode_steps=%lld "
          "decode_tokens=%lld decode_tok_s=%.1f generated=%lld "
          "total_s=%.3f tok_s=%.1f peak_rss_mb=%.1f\n",
          static_cast<long long>(s.sequences),
          static_cast<long long>(s.maxRows),
          s.decodeSteps ? double(s.decodeRows) / double(s.decodeSteps) : 0.0,
          static_cast<long long>(s.prefillTokens),
          rate(double(s.prefillTokens), s.prefillSeconds),
          static_cast<long long>(s.decodeSteps),
          static_cast<long long>(s.decodeRows),
          rate(double(s.decodeRows), s.decodeSeconds),
          static_cast<long long>(s.generatedTokens), s.totalSeconds,
          rate(double(s.generatedTokens), s.totalSeconds), peakRssMb());
}

void printMemoryLine(FILE *out, const ModelConfig &c) {
  if (c.predictedPeakBytes == 0)
    return;
  auto mb = [](uint64_t bytes) { return double(bytes) / (1024.0 * 1024.0); };
  double predicted = mb(c.predictedPeakBytes), measured = peakRssMb();
  fprintf(out,
          "memory: predicted_peak_mb=%.1f peak_rss_mb=%.1f error_pct=%+.1f "
          "weights_mb=%.1f arena_mb=%.1f kv_mb=%.1f runtime_mb=%.1f "
          "max_tokens_per_call=%lld\n",
          predicted, measured,
          measured > 0 ? 100.0 * (predicted - measured) / measured : 0.0,
          mb(c.weightsBytes), mb(c.arenaBytes), mb(c.kvCacheBytes),
          mb(c.runtimeOverheadBytes),
          static_cast<long long>(c.maxTokensPerCall));
}

void printPerplexity(FILE *out, const PerplexityResult &r) {
  fprintf(out,
          "perplexity: tokens=%lld windows=%lld ppl=%.4f nll=%.6f "
          "seconds=%.1f tok_s=%.1f\n",
          static_cast<long long>(r.tokens), static_cast<long long>(r.windows),
          r.perplexity(), r.tokens > 0 ? r.nll / double(r.tokens) : 0.0,
          r.seconds, rate(double(r.tokens), r.seconds));
  if (r.haveReference)
    fprintf(out,
            "fidelity: tokens=%lld mean_kl=%.6f top1_agreement=%.4f "
            "ref_ppl=%.4f ppl_delta_pct=%.2f ppl_delta_lo_pct=%.2f "
            "ppl_delta_hi_pct=%.2f\n",
            static_cast<long long>(r.tokens), r.meanKL, r.top1Agreement,
            r.referencePerplexity(), 100.0 * r.perplexityDelta(),
            100.0 * r.perplexityDelta(-1.96), 100.0 * r.perplexityDelta(1.96));
}

} // namespace llmrt
