//===- CostTest.cpp - CostOpInterface arithmetic ---------------------------===//
//
// Part of Frugal. Checks the FLOP and byte counts every llm op reports
// against hand-computed values.
//
//===----------------------------------------------------------------------===//

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::llm;

namespace {

class CostTest : public ::testing::Test {
protected:
  CostTest() {
    context.loadDialect<LLMDialect, func::FuncDialect>();
  }

  /// Parses `body` as the body of a function with arguments `args` and
  /// returns the first op of type OpTy.
  template <typename OpTy>
  OpTy parseOp(StringRef args, StringRef body) {
    std::string source = ("func.func @f(" + args + ") {\n" + body +
                          "\n  return\n}\n")
                             .str();
    module = parseSourceString<ModuleOp>(source, &context);
    EXPECT_TRUE(module) << "failed to parse:\n" << source;
    if (!module)
      return nullptr;
    OpTy found;
    module->walk([&](OpTy op) {
      if (!found)
        found = op;
    });
    return found;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

constexpr int64_t kHidden = 576, kInter = 1536;

TEST_F(CostTest, NumElementsBindsDynamicDims) {
  CostContext ctx;
  ctx.dynamicDimSize = 7;
  EXPECT_EQ(getNumElements({1, ShapedType::kDynamic, 64}, ctx), 7 * 64);
  EXPECT_EQ(getNumElements({}, ctx), 1);
}

TEST_F(CostTest, DecodeMatmulF32) {
  auto op = parseOp<MatmulOp>("%x: tensor<1x1x576xf32>", R"(
    %w = llm.weight "up" : tensor<1536x576xf32>
    %y = llm.matmul %x, %w transpose_b
           : tensor<1x1x576xf32>, tensor<1536x576xf32> -> tensor<1x1x1536xf32>)");
  ASSERT_TRUE(op);
  OpCost cost = op.getCost(CostContext());
  EXPECT_EQ(cost.flops, 2 * kInter * kHidden);
  EXPECT_EQ(cost.bytesRead, kHidden * 4 + kInter * kHidden * 4);
  EXPECT_EQ(cost.bytesWritten, kInter * 4);
}

TEST_F(CostTest, PrefillMatmulScalesWithTokens) {
  auto op = parseOp<MatmulOp>("%x: tensor<1x?x576xf32>", R"(
    %w = llm.weight "up" : tensor<1536x576xf32>
    %y = llm.matmul %x, %w transpose_b
           : tensor<1x?x576xf32>, tensor<1536x576xf32> -> tensor<1x?x1536xf32>)");
  ASSERT_TRUE(op);
  CostContext ctx;
  ctx.dynamicDimSize = 16;
  OpCost cost = op.getCost(ctx);
  EXPECT_EQ(cost.flops, 16 * 2 * kInter * kHidden);
  // Weights are read once per step, activations per token.
  EXPECT_EQ(cost.bytesRead, 16 * kHidden * 4 + kInter * kHidden * 4);
  EXPECT_EQ(cost.bytesWritten, 16 * kInter * 4);
}

TEST_F(CostTest, QuantizedWeightCountsPackedBytes) {
  auto op = parseOp<MatmulOp>("%x: tensor<1x1x576xf32>", R"(
    %w = llm.weight "up" quant <bits = 4, group = 32, scheme = symmetric>
           : tensor<1536x576xf32>
    %y = llm.matmul %x, %w transpose_b
           : tensor<1x1x576xf32>, tensor<1536x576xf32> -> tensor<1x1x1536xf32>)");
  ASSERT_TRUE(op);
  OpCost cost = op.getCost(CostContext());
  int64_t packed = kInter * kHidden / 2;            // 4 bits per element.
  int64_t scales = kInter * (kHidden / 32) * 2;     // one f16 per group.
  EXPECT_EQ(cost.bytesRead, kHidden * 4 + packed + scales);
  EXPECT_EQ(cost.flops, 2 * kInter * kHidden);
}

TEST_F(CostTest, QuantAttrStorageBytes) {
  auto asym = QuantAttr::get(&context, 8, 0, QuantScheme::asymmetric);
  // Per-row groups: 10 rows, each with an f16 scale and an f16 zero point.
  EXPECT_EQ(asym.getStorageBytes({10, 64}), 10 * 64 + 10 * 4);
  auto sym = QuantAttr::get(&context, 4, 64, QuantScheme::symmetric);
  EXPECT_EQ(sym.getStorageBytes({128, 128}), 128 * 128 / 2 + 128 * 2 * 2);
}

TEST_F(CostTest, KVCacheBytesPerToken) {
  auto f16 = KVCacheType::get(&context, 30, 3, 2048, 64, Float16Type::get(&context));
  EXPECT_EQ(f16.getBytesPerTokenPerLayer(), 2 * 3 * 64 * 2);
  auto i8 = KVCacheType::get(&context, 30, 3, 2048, 64,
                             IntegerType::get(&context, 8));
  // One byte per element plus an f16 scale per head for K and for V.
  EXPECT_EQ(i8.getBytesPerTokenPerLayer(), 2 * 3 * 64 + 2 * 3 * 2);
}

TEST_F(CostTest, CausalPrefillAttentionCountsUnmaskedPairs) {
  auto op = parseOp<AttentionOp>(
      "%q: tensor<1x8x576xf32>, %k: tensor<1x8x192xf32>, %v: tensor<1x8x192xf32>",
      R"(
    %o = llm.attention %q, %k, %v {num_heads = 9 : i64, num_kv_heads = 3 : i64, causal}
           : tensor<1x8x576xf32>, tensor<1x8x192xf32>, tensor<1x8x192xf32>
           -> tensor<1x8x576xf32>)");
  ASSERT_TRUE(op);
  EXPECT_EQ(op.getHeadDim(), 64);
  EXPECT_FLOAT_EQ(op.getEffectiveScale(), 0.125f);
  OpCost cost = op.getCost(CostContext());
  int64_t pairs = 9 * (8 * 9 / 2); // heads * lower triangle of 8x8.
  EXPECT_EQ(cost.flops, pairs * (4 * 64 + 5));
  EXPECT_EQ(cost.bytesRead, (8 * 576 + 2 * 8 * 192) * 4);
  EXPECT_EQ(cost.bytesWritten, 8 * 576 * 4);
}

TEST_F(CostTest, DecodeAttentionReadsThePastFromTheCache) {
  auto op = parseOp<AttentionOp>(
      "%q: tensor<1x1x576xf32>, %k: tensor<1x1x192xf32>, "
      "%v: tensor<1x1x192xf32>, %kv: !llm.kv_cache<30 x 3 x 2048 x 64, f16>, "
      "%pos: index",
      R"(
    %o = llm.attention %q, %k, %v cache %kv[%pos] : !llm.kv_cache<30 x 3 x 2048 x 64, f16>
           {layer = 4 : i64, num_heads = 9 : i64, num_kv_heads = 3 : i64, causal}
           : tensor<1x1x576xf32>, tensor<1x1x192xf32>, tensor<1x1x192xf32>
           -> tensor<1x1x576xf32>)");
  ASSERT_TRUE(op);
  CostContext ctx;
  ctx.pastTokens = 100;
  OpCost cost = op.getCost(ctx);
  // The new query sees 100 cached keys plus its own.
  EXPECT_EQ(cost.flops, 9 * 101 * (4 * 64 + 5));
  int64_t kvPerToken = 2 * 3 * 64 * 2;
  EXPECT_EQ(cost.bytesRead, (576 + 2 * 192) * 4 + 100 * kvPerToken);
  EXPECT_EQ(cost.bytesWritten, 576 * 4 + kvPerToken);
}

TEST_F(CostTest, SlidingWindowAttentionReadsOnlyTheWindow) {
  auto op = parseOp<AttentionOp>(
      "%q: tensor<1x1x576xf32>, %k: tensor<1x1x192xf32>, "
      "%v: tensor<1x1x192xf32>, "
      "%kv: !llm.kv_cache<30 x 3 x 2048 x 64, f16, #llm.kv_layout<ring, batch = 1, window = 64>>, "
      "%pos: index",
      R"(
    %o = llm.attention %q, %k, %v cache %kv[%pos] : !llm.kv_cache<30 x 3 x 2048 x 64, f16, #llm.kv_layout<ring, batch = 1, window = 64>>
           {layer = 4 : i64, num_heads = 9 : i64, num_kv_heads = 3 : i64, causal}
           : tensor<1x1x576xf32>, tensor<1x1x192xf32>, tensor<1x1x192xf32>
           -> tensor<1x1x576xf32>)");
  ASSERT_TRUE(op);
  CostContext ctx;
  ctx.pastTokens = 1000;
  OpCost cost = op.getCost(ctx);
  // 1000 positions in, the ring holds (and attention reads) the last 64.
  int64_t kvPerToken = 2 * 3 * 64 * 2;
  EXPECT_EQ(cost.bytesRead, (576 + 2 * 192) * 4 + 64 * kvPerToken);
}

TEST_F(CostTest, EmbedReadsOnlySelectedRows) {
  auto op = parseOp<EmbedOp>("%ids: tensor<1x4xi64>", R"(
    %t = llm.weight "embed" : tensor<49152x576xf32>
    %h = llm.embed %t, %ids : tensor<49152x576xf32>, tensor<1x4xi64> -> tensor<1x4x576xf32>)");
  ASSERT_TRUE(op);
  OpCost cost = op.getCost(CostContext());
  EXPECT_EQ(cost.flops, 0);
  EXPECT_EQ(cost.bytesRead, 4 * 8 + 4 * 576 * 4);
  EXPECT_EQ(cost.bytesWritten, 4 * 576 * 4);
}

TEST_F(CostTest, NormsAndElementwise) {
  auto norm = parseOp<RMSNormOp>("%x: tensor<1x2x576xf32>, %g: tensor<576xf32>", R"(
    %n = llm.rms_norm %x, %g eps = 1.0e-05 : tensor<1x2x576xf32>, tensor<576xf32>)");
  ASSERT_TRUE(norm);
  OpCost normCost = norm.getCost(CostContext());
  EXPECT_EQ(normCost.flops, 4 * 2 * 576 + 2);
  EXPECT_EQ(normCost.bytesRead, (2 * 576 + 576) * 4);

  auto add = parseOp<AddOp>("%a: tensor<2x3xf16>, %b: tensor<3xf16>", R"(
    %s = llm.add %a, %b : tensor<2x3xf16>, tensor<3xf16> -> tensor<2x3xf16>)");
  ASSERT_TRUE(add);
  OpCost addCost = add.getCost(CostContext());
  EXPECT_EQ(addCost.flops, 6);
  EXPECT_EQ(addCost.bytesRead, (6 + 3) * 2);
  EXPECT_EQ(addCost.bytesWritten, 6 * 2);
}

TEST_F(CostTest, CostsAccumulate) {
  OpCost a{10, 20, 30}, b{1, 2, 3};
  a += b;
  EXPECT_EQ(a, (OpCost{11, 22, 33}));
  EXPECT_EQ(a.bytesMoved(), 55);
}

} // namespace
