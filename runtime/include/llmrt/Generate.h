//===- Generate.h - Model config, generation loop, metrics ------*- C++ -*-===//
//
// The loop is independent of how the math runs: it calls the model through a
// ForwardFn (the compiled model's `frugal_forward`, or a fake in tests).
//
//===----------------------------------------------------------------------===//

#ifndef LLMRT_GENERATE_H
#define LLMRT_GENERATE_H

#include "llmrt/ModelFile.h"
#include "llmrt/Sampler.h"
#include "llmrt/llmrt.h"

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace llmrt {

using ForwardFn = llmrt_forward_fn;
using ForwardBatchFn = llmrt_forward_batch_fn;

/// The metadata keys the runtime uses.
struct ModelConfig {
  std::string arch, modelName;
  int64_t vocabSize = 0;    ///< vocab_size (required, > 0)
  int64_t maxContext = 0;   ///< max_context: KV capacity in tokens (required)
  uint64_t kvCacheBytes = 0; ///< kv_cache_bytes (required)
  /// trained_context: positions the model was trained on (0: unknown);
  /// max_context and --max-context may not exceed it.
  int64_t trainedContext = 0;
  /// The KV plan of llm-plan-kv-cache: kv_layout (contiguous, paged, ring),
  /// kv_dtype, kv_max_batch sequences, kv_window (ring), and for paged
  /// caches kv_block_size and kv_blocks_per_sequence (the block table,
  /// [max_batch][blocks_per_sequence] i32 at the start of the buffer).
  std::string kvLayout = "contiguous";
  std::string kvDtype = "f32";
  int64_t kvMaxBatch = 1, kvWindow = 0, kvBlockSize = 0,
          kvBlocksPerSequence = 0;
  /// The activation arena of llm-plan-memory: a forward call processes at
  /// most max_tokens_per_call tokens (0: any count); longer prompts are
  /// prefilled in chunks. The memory prediction of llm-compile: the peak
  /// resident memory is weights_bytes + arena_bytes + kv_cache_bytes +
  /// runtime_overhead_bytes = predicted_peak_bytes (0 when absent).
  int64_t maxTokensPerCall = 0;
  /// score_rows: the most tokens per call of the model's every-position
  /// step (frugal_forward_all; 0: none).
  int64_t scoreRows = 0;
  uint64_t arenaBytes = 0, weightsBytes = 0, runtimeOverheadBytes = 0,
           predictedPeakBytes = 0;
  int32_t bosId = -1;       ///< bos_id, -1 if none
  std::vector<int32_t> eosIds; ///< eos_ids, comma-separated
  /// Whether `id` is one of eosIds.
  bool isEos(int32_t id) const {
    for (int32_t e : eosIds)
      if (e == id)
        return true;
    return false;
  }
  bool addBos = false;      ///< add_bos
  std::string chatTemplate = "none"; ///< chat_template: chatml | none
  std::string defaultSystemPrompt;
  std::string preTokenizer = "gpt2"; ///< pre_tokenizer: gpt2 | smollm | none | spm
};

/// Reads and checks the metadata; returns false with `error` naming the key.
bool parseModelConfig(const ModelFile &file, ModelConfig &config,
                      std::string &error);

/// Parses "1,2,3" (also space-separated) into ids; false on bad syntax.
bool parseIdList(const std::string &text, std::vector<int32_t> &out);

struct GenerateOptions {
  int64_t maxNewTokens = 64;
  int64_t maxContext = 0; ///< 0: the model's max_context; else <= it
  SamplerConfig sampler;
  /// Receives vocab_size f32 per step: the prefill's last token, then each
  /// decode step.
  FILE *dumpLogits = nullptr;
};

enum class StopReason { Length, Eos, ContextFull };

struct GenerateStats {
  int64_t promptTokens = 0;
  int64_t generatedTokens = 0; ///< including an EOS that stopped generation
  int64_t forwardCalls = 0; ///< the prefill + decode steps
  int64_t prefillCalls = 0; ///< model calls of the prefill (chunks)
  int64_t decodeSteps = 0; ///< forward calls after the prefill
  double prefillSeconds = 0; ///< the prefill forward call
  double ttftSeconds = 0;    ///< start of prefill -> first token sampled
  double decodeSeconds = 0;  ///< all decode steps (forward + sampling)
};

struct GenerateResult {
  std::vector<int32_t> tokens; ///< generated ids, including a final EOS
  StopReason stop = StopReason::Length;
  GenerateStats stats;
};

/// Fidelity of a model on a text: perplexity, and against the logits of a
/// reference model on the same tokens, KL divergence and top-1 agreement.
struct PerplexityOptions {
  /// Window length in tokens (0: the model's max_context; else <= it). The
  /// text is cut into consecutive windows; each restarts at position 0 (with
  /// BOS first if bosId >= 0), and every token after a window's first is
  /// scored from the logits of the position before it.
  int64_t context = 0;
  /// Prepended to every window when >= 0 (then every text token is scored).
  int32_t bosId = -1;
  /// Score at most this many tokens (0: all).
  int64_t maxTokens = 0;
  /// Receives the logits of every scored position (logits file format).
  FILE *saveLogits = nullptr;
  /// Logits of a reference model written by saveLogits on the same text.
  FILE *referenceLogits = nullptr;
  /// The model's every-position step: when set (and the model's score_rows
  /// > 0), each window runs in calls of score_rows tokens instead of one
  /// call per token.
  ForwardFn forwardAll = nullptr;
};

struct PerplexityResult {
  int64_t tokens = 0;  ///< scored tokens
  int64_t windows = 0;
  double nll = 0;      ///< sum of -ln p(token)
  double seconds = 0;  ///< forward calls and scoring
  bool haveReference = false;
  double meanKL = 0;   ///< mean over positions of KL(reference || this), nats
  double top1Agreement = 0; ///< fraction of positions with the same argmax
  /// Sum over positions of the reference's -ln p(token), and of the square
  /// of d = (this model's -ln p) - (the reference's).
  double referenceNll = 0, deltaSquares = 0;
  double perplexity() const;
  double referencePerplexity() const;
  /// ppl / reference ppl - 1 at the mean of d plus `z` standard errors of
  /// that mean (positions taken as independent: an approximate interval
  /// of the perplexity increase; z = 0 gives the measured increase).
  double perplexityDelta(double z = 0) const;
};

/// Logits file: "FLGT", u32 version (1), u32 vocab size, then per scored
/// position an i32 target token id and vocab f32 logits (little-endian).
bool writeLogitsHeader(FILE *f, int64_t vocab, std::string &error);
bool readLogitsHeader(FILE *f, int64_t vocab, std::string &error);

/// -ln softmax(logits)[target], in double.
double negLogLikelihood(const float *logits, int64_t vocab, int32_t target);
/// KL(softmax(reference) || softmax(logits)) in nats.
double klDivergence(const float *reference, const float *logits,
                    int64_t vocab);

/// Model calls that process `tokens` tokens when one call takes at most
/// `maxTokensPerCall` (0: any count).
int64_t forwardCallsFor(int64_t tokens, int64_t maxTokensPerCall);

/// Called for each generated token that is not an EOS, as soon as sampled.
using TokenCallback = std::function<void(int32_t id)>;

/// Figures of a batched generation (Session::generateBatch).
struct BatchStats {
  int64_t sequences = 0;
  int64_t maxRows = 0;        ///< the most sequences decoded together
  int64_t prefillTokens = 0;  ///< prompt tokens of all sequences
  int64_t generatedTokens = 0; ///< all sampled tokens (incl. final EOSes)
  int64_t decodeSteps = 0;    ///< batched forward calls
  int64_t decodeRows = 0;     ///< rows over all batched calls
  double prefillSeconds = 0;  ///< prefill forward calls
  double decodeSeconds = 0;   ///< batched forward calls + their sampling
  double totalSeconds = 0;
};

/// Called with a sequence's index in the request list when it finishes.
using SequenceCallback =
    std::function<void(size_t index, const GenerateResult &result)>;

/// Owns the buffers of one generation: the KV cache (kv_cache_bytes,
/// zero-filled, 64-byte aligned, every page committed up front; a paged
/// cache's block table maps each sequence's blocks to its own range of the
/// pool) and the logits, allocated once. create() fails with a clear message
/// when the cache does not fit in the available memory.
class Session {
public:
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  static std::unique_ptr<Session> create(const ModelConfig &config,
                                         const uint8_t *weights,
                                         ForwardFn forward,
                                         std::string &error);

  /// Prefills `prompt` (in chunks of at most max_tokens_per_call tokens),
  /// then samples and decodes one token per call until maxNewTokens, an EOS
  /// id, or a full context.
  bool generate(const std::vector<int32_t> &prompt,
                const GenerateOptions &options, const TokenCallback &onToken,
                GenerateResult &result, std::string &error);

  /// Generates for every prompt of `prompts` with continuous batching: up
  /// to `batch` sequences decode together, one `forwardBatch` call per step
  /// (every weight read once for all of them); a finished sequence frees
  /// its KV blocks and the next prompt is prefilled and joins the next step.
  /// The cache must be paged: each sequence takes blocks from the pool as it
  /// grows, and before each call the block table's row r names the blocks
  /// of the sequence in row r. Every sequence gets a sampler of its own
  /// (same options and seed), so its tokens are those generate() gives it
  /// alone. `results[i]` belongs to `prompts[i]`; options.dumpLogits is not
  /// supported.
  bool generateBatch(const std::vector<std::vector<int32_t>> &prompts,
                     const GenerateOptions &options, int64_t batch,
                     ForwardBatchFn forwardBatch,
                     const SequenceCallback &onDone,
                     std::vector<GenerateResult> &results, BatchStats &stats,
                     std::string &error);

  /// Scores `tokens` (the text, without BOS) window by window, one token
  /// per forward call so that every position's logits are seen.
  bool perplexity(const std::vector<int32_t> &tokens,
                  const PerplexityOptions &options, PerplexityResult &result,
                  std::string &error);

  const float *logits() const { return logits_.data(); }

private:
  Session() = default;
  /// The context limit of `options` (ctx) and a check of the prompt.
  bool checkRequest(const std::vector<int32_t> &prompt,
                    const GenerateOptions &options, int64_t &ctx,
                    std::string &error) const;
  bool forward(const int64_t *tokens, int64_t n, int64_t pos, FILE *dump,
               std::string &error);

  ModelConfig config_;
  const uint8_t *weights_ = nullptr;
  ForwardFn forward_ = nullptr;
  void *kvCache_ = nullptr;
  size_t kvMapped_ = 0;
  std::vector<float> logits_;
  std::vector<int64_t> tokens_;
};

/// MemAvailable of /proc/meminfo in bytes (0 when unknown).
uint64_t availableMemoryBytes();

/// Monotonic clock in seconds.
double nowSeconds();
/// Peak resident set size of the process in MiB (getrusage ru_maxrss).
double peakRssMb();
/// The human-readable metrics lines (stderr in the CLI).
void printMetrics(FILE *out, const GenerateStats &stats);
/// The single `bench: ...` line.
void printBenchLine(FILE *out, const GenerateStats &stats);
/// The `batch: ...` line of a batched generation.
void printBatchLine(FILE *out, const BatchStats &stats);
/// The `memory: ...` line: llm-compile's predicted peak memory, its parts,
/// and the measured peak RSS (nothing without a prediction in the model).
void printMemoryLine(FILE *out, const ModelConfig &config);
/// The `perplexity: ...` line, and a `fidelity: ...` line with a reference.
void printPerplexity(FILE *out, const PerplexityResult &result);

/// The CLI behind `./model`; returns the exit code. Output goes to `out` and
/// `err` so tests can capture it.
int runCli(int argc, char **argv, ForwardFn forward, FILE *out, FILE *err);
/// The same with the model's whole backend (its batched decode step too).
int runCli(int argc, char **argv, const llmrt_backend &backend, FILE *out,
           FILE *err);

} // namespace llmrt

#endif // LLMRT_GENERATE_H
