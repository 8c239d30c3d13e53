//===- KVBlockSize.h - Paged KV block size from the cost model --*- C++ -*-===//
//
// Part of Frugal. A paged KV cache splits each sequence's positions into
// blocks reached through a block table. Small blocks waste little memory
// (a sequence leaves half a block empty on average, and the capacity is
// rounded up to whole blocks) but make decode attention restart its stream
// at every block; large blocks stream at memory bandwidth but waste more.
// chooseKVBlockSize evaluates the candidate sizes on a target description
// and picks the one with the smallest sum of the two relative costs
// (docs/CostModel.md, "Paged KV block size").
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_PASSES_COSTMODEL_KVBLOCKSIZE_H
#define FRUGAL_PASSES_COSTMODEL_KVBLOCKSIZE_H

#include "passes/CostModel/Target.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir {
namespace llm {
namespace cost {

/// The cache being planned (its element type already chosen).
struct KVBlockQuery {
  int64_t numLayers = 0;
  /// KV heads.
  int64_t numHeads = 0;
  int64_t headDim = 0;
  /// Positions per sequence (max_context).
  int64_t maxSeq = 0;
  int64_t elementBytes = 4;
  /// An int8 cache keeps one f16 scale per position, head and K/V, stored
  /// apart from the data: a second stream per block.
  bool hasScales = false;

  /// Bytes of one position of one head's keys (or values), scale included.
  int64_t getRowBytes() const {
    return headDim * elementBytes + (hasScales ? 2 : 0);
  }
};

/// The figures of one block size.
struct KVBlockCandidate {
  int64_t blockSize = 0;
  /// Decode attention reading a full context (max_context positions, all
  /// layers, heads, keys and values), per token.
  double attentionSeconds = 0;
  /// attentionSeconds over the contiguous cache's time, minus 1.
  double attentionOverhead = 0;
  /// Expected unused positions per sequence, layer, head and K/V: half a
  /// block plus the rounding of max_context up to whole blocks.
  double wastedPositions = 0;
  /// wastedPositions / max_context: the fraction of a sequence's cache.
  double memoryWaste = 0;
  /// Expected unused bytes per sequence (all layers, heads, K and V).
  double wastedBytes = 0;
  /// What the choice minimizes: attentionOverhead + memoryWaste.
  double objective = 0;
};

struct KVBlockChoice {
  /// The target whose figures were used.
  std::string target;
  /// Effective bandwidth of attention reads (memory_bandwidth times the
  /// attention class's memory efficiency), bytes/s.
  double bandwidth = 0;
  /// What starting a block costs: the block-table lookup and the restart of
  /// the stream.
  double blockStartSeconds = 0;
  /// Decode attention over a contiguous cache at max_context, per token.
  double contiguousSeconds = 0;
  /// Every candidate, smallest block first.
  std::vector<KVBlockCandidate> candidates;
  /// Index of the chosen one in `candidates`.
  size_t chosen = 0;

  const KVBlockCandidate &getChosen() const { return candidates[chosen]; }
  int64_t getBlockSize() const { return getChosen().blockSize; }
};

/// Smallest and largest candidate block sizes (powers of two in between).
constexpr int64_t kMinKVBlockSize = 16;
constexpr int64_t kMaxKVBlockSize = 256;

/// Cost of starting a block on a CPU: one DRAM latency (the block-table entry
/// is a dependent load and the hardware prefetcher restarts on the new
/// block's pages).
constexpr double kCPUBlockStartSeconds = 100e-9;
/// On a GPU other warps hide the latency; a block start costs the bytes of
/// the block-table sector and of the partially used sector at the block's
/// first position.
constexpr double kGPUBlockStartBytes = 64;

/// Evaluates the powers of two from kMinKVBlockSize to kMaxKVBlockSize that
/// fit in max_context (when none does, the largest power of two that does)
/// and picks the one with the smallest objective (the smaller block on a
/// tie). `query` must have positive sizes.
KVBlockChoice chooseKVBlockSize(const KVBlockQuery &query,
                                const TargetDescription &target);

} // namespace cost
} // namespace llm
} // namespace mlir

#endif // FRUGAL_PASSES_COSTMODEL_KVBLOCKSIZE_H
