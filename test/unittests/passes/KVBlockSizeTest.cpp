//===- KVBlockSizeTest.cpp - Paged KV block size --------------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/CostModel/KVBlockSize.h"

#include <gtest/gtest.h>

using namespace mlir::llm::cost;

namespace {

/// A CPU streaming attention at 4 GB/s: a 100 ns block start costs the time
/// of 400 bytes.
TargetDescription cpuTarget() {
  TargetDescription t;
  t.name = "cpu-test";
  t.kind = "cpu";
  t.memoryBandwidth = 8e9;
  t.efficiency["attention"] = Efficiency{1.0, 0.5, std::nullopt};
  return t;
}

KVBlockQuery query(int64_t headDim, int64_t elementBytes, int64_t maxSeq,
                   bool scales = false) {
  KVBlockQuery q;
  q.numLayers = 2;
  q.numHeads = 2;
  q.headDim = headDim;
  q.maxSeq = maxSeq;
  q.elementBytes = elementBytes;
  q.hasScales = scales;
  return q;
}

TEST(KVBlockSize, FiguresOfEachCandidate) {
  KVBlockChoice c = chooseKVBlockSize(query(128, 4, 1024), cpuTarget());
  EXPECT_EQ(c.target, "cpu-test");
  EXPECT_DOUBLE_EQ(c.bandwidth, 4e9);
  EXPECT_DOUBLE_EQ(c.blockStartSeconds, 100e-9);
  // 8 streams (K and V of 2 layers x 2 heads) of 1024 x 512 bytes.
  EXPECT_DOUBLE_EQ(c.contiguousSeconds, 8 * 1024 * 512 / 4e9);
  ASSERT_EQ(c.candidates.size(), 5u);
  const KVBlockCandidate &b32 = c.candidates[1];
  EXPECT_EQ(b32.blockSize, 32);
  // One block start (400 bytes' time) per 32 x 512 bytes read.
  EXPECT_NEAR(b32.attentionOverhead, 400.0 / (32 * 512), 1e-12);
  EXPECT_DOUBLE_EQ(b32.wastedPositions, 16);
  EXPECT_DOUBLE_EQ(b32.memoryWaste, 16.0 / 1024);
  EXPECT_DOUBLE_EQ(b32.wastedBytes, 16.0 * 8 * 512);
  EXPECT_EQ(c.getBlockSize(), 32);
}

TEST(KVBlockSize, FewerBytesPerPositionGiveLargerBlocks) {
  TargetDescription t = cpuTarget();
  EXPECT_EQ(chooseKVBlockSize(query(128, 4, 1024), t).getBlockSize(), 32);
  EXPECT_EQ(chooseKVBlockSize(query(64, 4, 1024), t).getBlockSize(), 64);
  // int8 codes plus a separately stored scale: two streams per block.
  EXPECT_EQ(chooseKVBlockSize(query(64, 1, 1024, true), t).getBlockSize(), 128);
}

TEST(KVBlockSize, RoundingOfTheContextCounts) {
  KVBlockChoice c = chooseKVBlockSize(query(64, 4, 100), cpuTarget());
  ASSERT_EQ(c.candidates.size(), 3u); // 16, 32, 64 fit in 100
  EXPECT_DOUBLE_EQ(c.candidates[0].wastedPositions, 8 + 12);
  EXPECT_DOUBLE_EQ(c.candidates[2].wastedPositions, 32 + 28);
  EXPECT_EQ(c.getBlockSize(), 16);
}

TEST(KVBlockSize, ShortContextTakesTheLargestFittingPowerOfTwo) {
  KVBlockChoice c = chooseKVBlockSize(query(64, 4, 12), cpuTarget());
  ASSERT_EQ(c.candidates.size(), 1u);
  EXPECT_EQ(c.getBlockSize(), 8);
}

TEST(KVBlockSize, GPUBlockStartIsBandwidthIndependent) {
  TargetDescription t = cpuTarget();
  t.kind = "gpu";
  KVBlockChoice slow = chooseKVBlockSize(query(128, 4, 1024), t);
  t.memoryBandwidth *= 100;
  KVBlockChoice fast = chooseKVBlockSize(query(128, 4, 1024), t);
  EXPECT_DOUBLE_EQ(fast.blockStartSeconds * fast.bandwidth, 64);
  EXPECT_NEAR(slow.getChosen().objective, fast.getChosen().objective, 1e-12);
  EXPECT_EQ(fast.getBlockSize(), 16);
}

} // namespace
