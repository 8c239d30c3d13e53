//===- Batch.cpp - Continuous batching over the paged KV cache -------------===//
//
// Several sequences decode together: each step runs the model's batched
// decode step once for all of them, so every weight is read once per step
// instead of once per sequence. Sequences join as soon as a row is free and
// leave when they stop, taking KV blocks from a shared pool as they grow
// and returning them when they finish.
//
//===----------------------------------------------------------------------===//

#include "llmrt/Generate.h"

#include <algorithm>

namespace llmrt {
namespace {

/// The blocks of a paged KV cache not held by any sequence.
class BlockPool {
public:
  explicit BlockPool(int64_t blocks) {
    free_.reserve(static_cast<size_t>(blocks));
    for (int64_t b = blocks - 1; b >= 0; --b)
      free_.push_back(static_cast<int32_t>(b));
  }
  /// Grows `held` to `count` blocks; false if the pool runs dry.
  bool growTo(std::vector<int32_t> &held, int64_t count) {
    while (static_cast<int64_t>(held.size()) < count) {
      if (free_.empty())
        return false;
      held.push_back(free_.back());
      free_.pop_back();
    }
    return true;
  }
  void release(std::vector<int32_t> &held) {
    free_.insert(free_.end(), held.begin(), held.end());
    held.clear();
  }

private:
  std::vector<int32_t> free_;
};

/// One sequence being generated.
struct Sequence {
  size_t index = 0;
  int64_t pos = 0;         ///< positions in the KV cache
  int32_t last = 0;        ///< the token the next step feeds
  std::vector<int32_t> blocks;
  Sampler sampler;
  GenerateResult result;
  Sequence(size_t index, const SamplerConfig &config, size_t vocab)
      : index(index), sampler(config, vocab) {}
};

} // namespace

bool Session::generateBatch(const std::vector<std::vector<int32_t>> &prompts,
                            const GenerateOptions &opt, int64_t batch,
                            ForwardBatchFn forwardBatch,
                            const SequenceCallback &onDone,
                            std::vector<GenerateResult> &results,
                            BatchStats &stats, std::string &error) {
  stats = BatchStats();
  results.assign(prompts.size(), GenerateResult());
  if (config_.kvLayout != "paged" || !forwardBatch) {
    error = "batched generation needs a model compiled with --max-batch N "
            "(a batched decode step over a paged KV cache); this one has a " +
            config_.kvLayout + " cache for " +
            std::to_string(config_.kvMaxBatch) + " sequence(s)";
    return false;
  }
  if (batch < 1 || batch > config_.kvMaxBatch) {
    error = "--batch " + std::to_string(batch) + " must be between 1 and the " +
            std::to_string(config_.kvMaxBatch) +
            " sequences the model was compiled for (llm-compile --max-batch)";
    return false;
  }
  if (opt.dumpLogits) {
    error = "--dump-logits is not supported with batched generation";
    return false;
  }
  int64_t ctx = 0;
  for (size_t i = 0; i < prompts.size(); ++i)
    if (!checkRequest(prompts[i], opt, ctx, error)) {
      error = "prompt " + std::to_string(i + 1) + ": " + error;
      return false;
    }
  const int64_t blockSize = config_.kvBlockSize;
  const int64_t perSequence = config_.kvBlocksPerSequence;
  if (blockSize < 1 || perSequence < 1 ||
      blockSize * perSequence < config_.maxContext) {
    error = "the model's paged KV cache metadata is inconsistent "
            "(kv_block_size, kv_blocks_per_sequence, max_context)";
    return false;
  }
  const size_t vocab = static_cast<size_t>(config_.vocabSize);
  BlockPool pool(config_.kvMaxBatch * perSequence);
  auto *table = static_cast<int32_t *>(kvCache_);
  // Row `row` of the block table names the blocks of `seq`; entries past
  // them name block 0, which the kernels never read for this row.
  auto bindRow = [&](int64_t row, const Sequence &seq) {
    int32_t *entries = table + row * perSequence;
    std::fill(entries, entries + perSequence, 0);
    std::copy(seq.blocks.begin(), seq.blocks.end(), entries);
  };
  auto blocksFor = [&](int64_t positions) {
    return (positions + blockSize - 1) / blockSize;
  };
  auto finish = [&](Sequence &seq) {
    pool.release(seq.blocks);
    results[seq.index] = std::move(seq.result);
    if (onDone)
      onDone(seq.index, results[seq.index]);
  };
  // Appends a sampled token; true if the sequence goes on.
  auto accept = [&](Sequence &seq, int32_t id) {
    GenerateResult &r = seq.result;
    r.tokens.push_back(id);
    ++r.stats.generatedTokens;
    ++stats.generatedTokens;
    seq.last = id;
    if (config_.isEos(id)) {
      r.stop = StopReason::Eos;
      return false;
    }
    return r.stats.generatedTokens < opt.maxNewTokens;
  };

  const double t0 = nowSeconds();
  std::vector<Sequence> active;
  active.reserve(static_cast<size_t>(batch));
  std::vector<int64_t> rowTokens(static_cast<size_t>(batch));
  std::vector<int64_t> rowPositions(static_cast<size_t>(batch));
  std::vector<float> rowLogits(static_cast<size_t>(batch) * vocab);
  size_t next = 0;
  while (next < prompts.size() || !active.empty()) {
    // Free rows take the next prompts: prefill alone (through row 0 of the
    // table), then sample the first token from the prefill's logits.
    while (static_cast<int64_t>(active.size()) < batch &&
           next < prompts.size()) {
      const std::vector<int32_t> &prompt = prompts[next];
      Sequence seq(next++, opt.sampler, vocab);
      int64_t n = static_cast<int64_t>(prompt.size());
      if (!pool.growTo(seq.blocks, blocksFor(n))) {
        error = "the KV block pool is exhausted";
        return false;
      }
      bindRow(0, seq);
      tokens_.assign(prompt.begin(), prompt.end());
      double p0 = nowSeconds();
      if (!forward(tokens_.data(), n, 0, nullptr, error))
        return false;
      double p1 = nowSeconds();
      seq.pos = n;
      seq.result.stats.promptTokens = n;
      seq.result.stats.prefillSeconds = p1 - p0;
      seq.result.stats.prefillCalls =
          forwardCallsFor(n, config_.maxTokensPerCall);
      seq.result.stats.forwardCalls = 1;
      seq.result.stats.ttftSeconds = p1 - p0;
      stats.prefillTokens += n;
      stats.prefillSeconds += p1 - p0;
      ++stats.sequences;
      if (opt.maxNewTokens > 0 && accept(seq, seq.sampler.sample(logits_.data())))
        active.push_back(std::move(seq));
      else
        finish(seq);
    }
    // A sequence whose context is full stops before its next step.
    for (size_t i = 0; i < active.size();) {
      if (active[i].pos >= ctx) {
        active[i].result.stop = StopReason::ContextFull;
        finish(active[i]);
        active.erase(active.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    if (active.empty())
      continue;

    int64_t rows = static_cast<int64_t>(active.size());
    for (int64_t r = 0; r < rows; ++r) {
      Sequence &seq = active[static_cast<size_t>(r)];
      if (!pool.growTo(seq.blocks, blocksFor(seq.pos + 1))) {
        error = "the KV block pool is exhausted";
        return false;
      }
      bindRow(r, seq);
      rowTokens[static_cast<size_t>(r)] = seq.last;
      rowPositions[static_cast<size_t>(r)] = seq.pos;
    }
    double d0 = nowSeconds();
    forwardBatch(weights_, kvCache_, rowTokens.data(), rowPositions.data(),
                 rows, rowLogits.data());
    ++stats.decodeSteps;
    stats.decodeRows += rows;
    stats.maxRows = std::max(stats.maxRows, rows);
    std::vector<Sequence> going;
    going.reserve(active.size());
    for (int64_t r = 0; r < rows; ++r) {
      Sequence &seq = active[static_cast<size_t>(r)];
      ++seq.pos;
      ++seq.result.stats.forwardCalls;
      ++seq.result.stats.decodeSteps;
      int32_t id = seq.sampler.sample(rowLogits.data() +
                                      static_cast<size_t>(r) * vocab);
      if (accept(seq, id))
        going.push_back(std::move(seq));
      else
        finish(seq);
    }
    active = std::move(going);
    stats.decodeSeconds += nowSeconds() - d0;
  }
  stats.totalSeconds = nowSeconds() - t0;
  return true;
}

} // namespace llmrt
