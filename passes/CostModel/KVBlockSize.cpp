//===- KVBlockSize.cpp - Paged KV block size from the cost model ----------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/CostModel/KVBlockSize.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/MathExtras.h"

#include <cassert>

using namespace mlir::llm::cost;

KVBlockChoice
mlir::llm::cost::chooseKVBlockSize(const KVBlockQuery &query,
                                   const TargetDescription &target) {
  assert(query.numLayers > 0 && query.numHeads > 0 && query.headDim > 0 &&
         query.maxSeq > 0 && query.elementBytes > 0 && "bad KV cache sizes");
  KVBlockChoice choice;
  choice.target = target.name;
  choice.bandwidth =
      target.memoryBandwidth * target.getEfficiency("attention").memory;
  choice.blockStartSeconds = target.kind == "gpu"
                                 ? kGPUBlockStartBytes / choice.bandwidth
                                 : kCPUBlockStartSeconds;

  // Streams of one decode step: each layer reads every head's keys and
  // values (an int8 cache also their scales, stored apart).
  const double streams = 2.0 * query.numLayers * query.numHeads;
  const double runsPerBlock = query.hasScales ? 2.0 : 1.0;
  const double rowBytes = static_cast<double>(query.getRowBytes());
  const int64_t maxSeq = query.maxSeq;
  choice.contiguousSeconds = streams * maxSeq * rowBytes / choice.bandwidth;

  llvm::SmallVector<int64_t> sizes;
  for (int64_t b = kMinKVBlockSize; b <= kMaxKVBlockSize && b <= maxSeq; b *= 2)
    sizes.push_back(b);
  if (sizes.empty())
    sizes.push_back(int64_t(1) << llvm::Log2_64(maxSeq));

  for (int64_t b : sizes) {
    KVBlockCandidate c;
    c.blockSize = b;
    int64_t blocks = llvm::divideCeil(maxSeq, b);
    c.attentionSeconds =
        choice.contiguousSeconds +
        streams * blocks * runsPerBlock * choice.blockStartSeconds;
    c.attentionOverhead = c.attentionSeconds / choice.contiguousSeconds - 1.0;
    c.wastedPositions = 0.5 * b + static_cast<double>(blocks * b - maxSeq);
    c.memoryWaste = c.wastedPositions / maxSeq;
    c.wastedBytes = c.wastedPositions * streams * rowBytes;
    c.objective = c.attentionOverhead + c.memoryWaste;
    choice.candidates.push_back(c);
  }
  for (size_t i = 1; i < choice.candidates.size(); ++i)
    if (choice.candidates[i].objective < choice.getChosen().objective)
      choice.chosen = i;
  return choice;
}
