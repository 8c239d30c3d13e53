//===- CostModelTest.cpp - Cost model arithmetic and target loading --------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/CostModel/CostModel.h"

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::cost;
namespace json = llvm::json;

namespace {

/// 1 TFLOP/s f32, 4 TOP/s int8, 100 GB/s, 1 us per op, 10 W idle.
const char *kTarget = R"({
  "name": "unit", "kind": "cpu",
  "peak_flops": {"f32": 1e12, "int8": 4e12},
  "memory_bandwidth": 1e11,
  "op_overhead_s": 1e-6,
  "efficiency": {"gemv_f32": {"compute": 1.0, "memory": 0.5},
                 "gemm_f32": {"compute": 0.5}},
  "power": {"idle_w": 10, "pj_per_flop": {"f32": 2, "int8": 0.5},
            "pj_per_byte": 10},
  "carbon_g_per_kwh": 500,
  "price_usd_per_hour": 3.6
})";

TargetDescription unitTarget() {
  auto value = json::parse(kTarget);
  EXPECT_TRUE(bool(value));
  auto target = parseTarget(*value, "unit.json");
  EXPECT_TRUE(bool(target)) << llvm::toString(target.takeError());
  return std::move(*target);
}

/// The message of a failed parse of `text` (after `overrides`).
std::string parseError(llvm::StringRef text,
                       std::vector<std::string> overrides = {}) {
  auto value = json::parse(text);
  if (!value)
    return "invalid JSON: " + llvm::toString(value.takeError());
  for (const std::string &assignment : overrides)
    if (llvm::Error err = applyOverride(*value, assignment, "t.json"))
      return llvm::toString(std::move(err));
  auto target = parseTarget(*value, "t.json");
  if (target)
    return "";
  return llvm::toString(target.takeError());
}

TEST(CostModel, MemoryBoundOpTakesBytesOverEffectiveBandwidth) {
  TargetDescription t = unitTarget();
  OpCost cost{/*flops=*/2'000'000, /*bytesRead=*/4'000'000,
              /*bytesWritten=*/1'000'000};
  Estimate e = estimateCost(cost, "gemv_f32", "f32", t);
  EXPECT_DOUBLE_EQ(e.computeSeconds, 2e-6);
  // 5 MB at 100 GB/s * 0.5.
  EXPECT_DOUBLE_EQ(e.memorySeconds, 100e-6);
  EXPECT_TRUE(e.isMemoryBound());
  EXPECT_DOUBLE_EQ(e.seconds, 101e-6);
  // 10 W * 101 us + 2 pJ * 2e6 + 10 pJ * 5e6.
  EXPECT_NEAR(e.joules, 1010e-6 + 4e-6 + 50e-6, 1e-12);
}

TEST(CostModel, ComputeBoundOpUsesDtypePeakAndEfficiency) {
  TargetDescription t = unitTarget();
  OpCost cost{1'000'000'000, 1'000'000, 0};
  Estimate f32 = estimateCost(cost, "gemm_f32", "f32", t);
  // 1 GFLOP at 1 TFLOP/s * 0.5.
  EXPECT_DOUBLE_EQ(f32.computeSeconds, 2e-3);
  EXPECT_FALSE(f32.isMemoryBound());
  EXPECT_DOUBLE_EQ(f32.seconds, 2e-3 + 1e-6);
  // int4 computes at the int8 peak with int8's energy; a class without
  // factors runs at the full peak.
  Estimate int4 = estimateCost(cost, "gemm_int4", "int4", t);
  EXPECT_DOUBLE_EQ(int4.computeSeconds, 0.25e-3);
  EXPECT_NEAR(int4.joules - 10 * int4.seconds, 0.5e-12 * 1e9 + 10e-12 * 1e6,
              1e-12);
  // An unknown dtype computes at the f32 peak.
  EXPECT_DOUBLE_EQ(estimateCost(cost, "gemm_int8", "f16", t).computeSeconds,
                   1e-3);
}

TEST(CostModel, WorklessOpHasNoOverhead) {
  Estimate e = estimateCost(OpCost{}, "data", "f32", unitTarget());
  EXPECT_EQ(e.seconds, 0.0);
  EXPECT_EQ(e.joules, 0.0);
}

TEST(CostModel, FittedEfficiencyReproducesTheMeasurement) {
  TargetDescription t = unitTarget();
  Efficiency prior{0.7, 0.9, std::nullopt};
  // Memory-bound: 5 MB measured in 201 us -> 200 us busy, 50 us ideal.
  OpCost gemv{2'000'000, 4'000'000, 1'000'000};
  Efficiency fitted = fitEfficiency(gemv, "f32", 201e-6, t, prior);
  EXPECT_DOUBLE_EQ(fitted.memory, 0.25);
  EXPECT_DOUBLE_EQ(fitted.compute, 0.7);
  t.efficiency["gemv_f32"] = fitted;
  EXPECT_NEAR(estimateCost(gemv, "gemv_f32", "f32", t).seconds, 201e-6, 1e-15);
  // Compute-bound: 1 GFLOP in 4 ms -> compute factor 0.25.
  OpCost gemm{1'000'000'000, 1'000'000, 0};
  fitted = fitEfficiency(gemm, "f32", 4e-3 + 1e-6, t, prior);
  EXPECT_DOUBLE_EQ(fitted.compute, 0.25);
  EXPECT_DOUBLE_EQ(fitted.memory, 0.9);
  // Faster than the roofline: capped at 1.
  EXPECT_DOUBLE_EQ(fitEfficiency(gemm, "f32", 0.5e-3, t, prior).compute, 1.0);
  // A named ceiling is fitted even where the other one binds: 5 MB in
  // 201 us read as compute gives 2 MFLOP / 200 us = 1% of the peak.
  fitted = fitEfficiency(gemv, "f32", 201e-6, t, prior, Ceiling::Compute);
  EXPECT_DOUBLE_EQ(fitted.compute, 0.01);
  EXPECT_DOUBLE_EQ(fitted.memory, 0.9);
}

TEST(CostModel, FittedOverheadSpreadsTheUnexplainedTimeOverOps) {
  TargetDescription t = unitTarget();
  // Two memory-bound GEMVs of 5 MB at 50 GB/s (100 us each) and one
  // compute-bound GEMM of 1 GFLOP at 0.5 TFLOP/s (2 ms).
  OpCost gemv{2'000'000, 5'000'000, 0};
  OpCost gemm{1'000'000'000, 1'000'000, 0};
  std::vector<Estimate> ops = {estimateCost(gemv, "gemv_f32", "f32", t),
                               estimateCost(gemv, "gemv_f32", "f32", t),
                               estimateCost(gemm, "gemm_f32", "f32", t)};
  // 2.2 ms busy; measured 2.5 ms -> 100 us per op.
  EXPECT_NEAR(fitOpOverhead(ops, 2.5e-3, 1e-6), 100e-6, 1e-12);
  // The target's own overhead in the estimates does not count twice.
  t.opOverheadSeconds = 50e-6;
  ops[0] = estimateCost(gemv, "gemv_f32", "f32", t);
  EXPECT_NEAR(fitOpOverhead(ops, 2.5e-3, 1e-6), 100e-6, 1e-12);
  // Faster than the roofline: the floor (an empty op's cost).
  EXPECT_DOUBLE_EQ(fitOpOverhead(ops, 2.0e-3, 3e-6), 3e-6);
  EXPECT_DOUBLE_EQ(fitOpOverhead({}, 1.0, 3e-6), 3e-6);
  // Fitted back, the sequence's predicted time is the measurement.
  t.opOverheadSeconds = fitOpOverhead(ops, 2.5e-3, 1e-6);
  double total = 0;
  for (const OpCost &cost : {gemv, gemv, gemm})
    total += estimateCost(cost, cost.flops > 1e8 ? "gemm_f32" : "gemv_f32",
                          "f32", t)
                 .seconds;
  EXPECT_NEAR(total, 2.5e-3, 1e-12);
}

TEST(CostModel, ClassOverheadReplacesTheTargetsOwn) {
  // The unit target with an int8 GEMV class of its own overhead.
  auto value = json::parse(kTarget);
  ASSERT_TRUE(bool(value));
  (*value->getAsObject()->getObject("efficiency"))["gemv_int8"] =
      json::Object{{"memory", 0.5}, {"overhead_s", 5e-5}};
  auto t = parseTarget(*value, "unit.json");
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  // 5 MB at 50 GB/s + 50 us; other classes keep op_overhead_s (1 us).
  OpCost gemv{2'000'000, 5'000'000, 0};
  EXPECT_NEAR(estimateCost(gemv, "gemv_int8", "f32", *t).seconds, 150e-6,
              1e-12);
  EXPECT_NEAR(estimateCost(gemv, "gemv_f32", "f32", *t).seconds, 101e-6,
              1e-12);
  // It survives the JSON round trip llm-calibrate writes.
  auto again = parseTarget(toJSON(*t), "again.json");
  ASSERT_TRUE(bool(again)) << llvm::toString(again.takeError());
  EXPECT_EQ(again->getEfficiency("gemv_int8").overheadSeconds, 5e-5);
  EXPECT_FALSE(again->getEfficiency("gemv_f32").overheadSeconds);
  EXPECT_NE(parseError(R"({"name": "x", "kind": "cpu",
    "peak_flops": {"f32": 1}, "memory_bandwidth": 1,
    "efficiency": {"gemv_f32": {"overhead_s": -1}}})"), "");
}

TEST(CostModel, PerTokenFiguresDivideByTokensAndPriceTheTime) {
  TargetDescription t = unitTarget();
  StepEstimate step;
  step.query = StepQuery::prefill(4);
  step.seconds = 0.4;
  step.joules = 36.0;
  TokenFigures f = step.perToken(t);
  EXPECT_DOUBLE_EQ(f.seconds, 0.1);
  EXPECT_DOUBLE_EQ(f.tokensPerSecond, 10.0);
  EXPECT_DOUBLE_EQ(f.joules, 9.0);
  // 9 kJ per 1k tokens = 2.5e-3 kWh at 500 g/kWh.
  EXPECT_DOUBLE_EQ(f.gramsCO2Per1kTokens, 1.25);
  // 1e5 s per 1M tokens at $3.6/hour.
  EXPECT_NEAR(f.usdPer1MTokens, 100.0, 1e-9);
}

TEST(TargetLoader, ErrorsNameFileKeyAndExpectation) {
  EXPECT_EQ(parseError(kTarget), "");
  EXPECT_EQ(parseError(R"({"name": "x", "kind": "cpu"})"),
            "t.json: key 'peak_flops': missing (expected an object)");
  EXPECT_EQ(parseError(kTarget, {"power.idle_w=-1"}),
            "t.json: key 'power.idle_w': expected a non-negative number, got "
            "-1.000000");
  EXPECT_EQ(parseError(kTarget, {"efficiency.gemv_f32.memory=1.5"}),
            "t.json: key 'efficiency.gemv_f32': efficiency factors must be in "
            "(0, 1]");
  EXPECT_EQ(parseError(kTarget, {"efficiency.gemv_f16.memory=0.5"}),
            "t.json: key 'efficiency.gemv_f16': unknown op class (expected one "
            "of gemv_f32, gemm_f32, gemv_int8, gemm_int8, gemv_int4, "
            "gemm_int4, attention, elementwise, data)");
  EXPECT_EQ(parseError(kTarget, {"peak_flops.f32=0"}),
            "t.json: key 'peak_flops.f32': missing or zero (expected a "
            "positive number: every target computes in f32)");
  EXPECT_NE(parseError(kTarget, {"bogus=1"}).find(
                "t.json: key 'bogus': unknown key (expected one of name,"),
            std::string::npos);
  std::string wrongType = R"({"name": "x", "kind": "cpu",
      "peak_flops": {"f32": "fast"}})";
  EXPECT_EQ(parseError(wrongType),
            "t.json: key 'peak_flops.f32': expected a number, got a string");
  EXPECT_EQ(parseError(R"({"name": "x", "kind": "tpu"})"),
            "t.json: key 'kind': expected \"cpu\" or \"gpu\", got \"tpu\"");
  EXPECT_EQ(parseError("[1]"),
            "t.json: expected a JSON object at the top level, got an array");
}

TEST(TargetLoader, OverridesTakeAliasesAndDottedPaths) {
  auto value = json::parse(kTarget);
  ASSERT_TRUE(bool(value));
  for (const char *assignment :
       {"carbon=50", "price=0.5", "idle=3", "efficiency.attention.memory=0.6",
        "links.pcie=3.2e10"})
    ASSERT_FALSE(bool(applyOverride(*value, assignment, "t.json")))
        << assignment;
  auto t = parseTarget(*value, "t.json");
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->carbonGramsPerKWh, 50.0);
  EXPECT_EQ(t->priceUsdPerHour, 0.5);
  EXPECT_EQ(t->idleWatts, 3.0);
  EXPECT_EQ(t->getEfficiency("attention").memory, 0.6);
  EXPECT_EQ(t->getEfficiency("attention").compute, 1.0);
  EXPECT_EQ(t->linkBandwidth.lookup("pcie"), 3.2e10);

  EXPECT_EQ(llvm::toString(applyOverride(*value, "carbon", "t.json")),
            "target parameter 'carbon': expected key=value, e.g. carbon=50");
  EXPECT_EQ(llvm::toString(applyOverride(*value, "price=cheap", "t.json")),
            "target parameter 'price=cheap': expected a number after '=', got "
            "'cheap'");
  EXPECT_EQ(llvm::toString(applyOverride(*value, "name.x=1", "t.json")),
            "target parameter 'name.x=1': 'name' in t.json is not an object");
}

TEST(TargetLoader, RoundTripsThroughJSON) {
  TargetDescription t = unitTarget();
  auto again = parseTarget(toJSON(t), "again");
  ASSERT_TRUE(bool(again)) << llvm::toString(again.takeError());
  EXPECT_EQ(again->name, "unit");
  EXPECT_EQ(again->peakFlops.lookup("int8"), 4e12);
  EXPECT_EQ(again->getEfficiency("gemv_f32").memory, 0.5);
  EXPECT_EQ(again->picojoulesPerByte, 10.0);
  EXPECT_EQ(again->opOverheadSeconds, 1e-6);
}

TEST(TargetLoader, ShippedTargetsLoadWithTheirPublishedFigures) {
  struct Expected {
    const char *name;
    double bandwidth, f16;
  } shipped[] = {{"sm_80", 2.039e12, 312e12},
                 {"sm_90", 3.35e12, 989.4e12},
                 {"gfx942", 5.3e12, 1307.4e12}};
  for (const Expected &want : shipped) {
    auto t = loadTarget(getBuiltinTargetDir() + "/" + want.name + ".json");
    ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
    EXPECT_EQ(t->name, want.name);
    EXPECT_EQ(t->kind, "gpu");
    EXPECT_EQ(t->memoryBandwidth, want.bandwidth);
    EXPECT_EQ(t->getPeakFlops("f16"), want.f16);
    EXPECT_FALSE(t->sources.empty());
  }
  auto host = loadTarget(getBuiltinTargetDir() + "/host-cpu.json");
  ASSERT_TRUE(bool(host)) << llvm::toString(host.takeError());
  EXPECT_EQ(host->kind, "cpu");
  auto missing = loadTarget("no-such-target");
  ASSERT_FALSE(bool(missing));
  EXPECT_NE(llvm::toString(missing.takeError())
                .find("unknown target 'no-such-target' (looked for "),
            std::string::npos);
}

class StepTest : public ::testing::Test {
protected:
  StepTest() {
    context.loadDialect<LLMDialect, func::FuncDialect>();
  }
  MLIRContext context;
};

TEST_F(StepTest, GroupsOpsByLayerAndSumsThem) {
  auto module = parseSourceString<ModuleOp>(R"(
    func.func @f(%ids: tensor<1x?xi64>, %pos: index,
                 %kv: !llm.kv_cache<2 x 2 x 64 x 8, f32>) -> tensor<1x1x100xf32> {
      %table = llm.weight "embed.weight" : tensor<100x16xf32>
      %x = llm.embed %table, %ids : tensor<100x16xf32>, tensor<1x?xi64> -> tensor<1x?x16xf32>
      %w0 = llm.weight "blk.0.ffn_up.weight" : tensor<32x16xf32>
      %h0 = llm.matmul %x, %w0 transpose_b : tensor<1x?x16xf32>, tensor<32x16xf32> -> tensor<1x?x32xf32>
      %a0 = llm.silu %h0 : tensor<1x?x32xf32>
      %w1 = llm.weight "blk.1.ffn_down.weight" quant <bits = 8, group = 32, scheme = symmetric> : tensor<16x32xf32>
      %h1 = llm.matmul %a0, %w1 transpose_b : tensor<1x?x32xf32>, tensor<16x32xf32> -> tensor<1x?x16xf32>
      %last = llm.slice %h1 {axis = 1 : i64, start = -1 : i64} : tensor<1x?x16xf32> -> tensor<1x1x16xf32>
      %y = llm.matmul %last, %table transpose_b : tensor<1x1x16xf32>, tensor<100x16xf32> -> tensor<1x1x100xf32>
      return %y : tensor<1x1x100xf32>
    })",
                                            &context);
  ASSERT_TRUE(module);
  auto func = *module->getOps<func::FuncOp>().begin();
  TargetDescription t = unitTarget();
  StepEstimate step = estimateStep(func, t, StepQuery::prefill(8));
  ASSERT_EQ(step.ops.size(), 6u);
  std::vector<std::string> groups;
  for (const GroupEstimate &g : step.groups)
    groups.push_back(g.name + ":" + std::to_string(g.numOps));
  EXPECT_EQ(groups, (std::vector<std::string>{"embed:1", "layer.0:2",
                                              "layer.1:2", "head:1"}));
  EXPECT_EQ(step.ops[1].opClass, "gemm_f32");
  EXPECT_EQ(step.ops[3].opClass, "gemm_int8");
  EXPECT_EQ(step.ops[3].dtype, "int8");
  EXPECT_EQ(step.ops[5].opClass, "gemv_f32");
  double seconds = 0;
  OpCost total;
  for (const OpEstimate &e : step.ops) {
    seconds += e.seconds;
    total += e.cost;
  }
  EXPECT_DOUBLE_EQ(step.seconds, seconds);
  EXPECT_EQ(step.total, total);

  MemoryEstimate memory = estimateMemory(func, StepQuery::prefill(8));
  EXPECT_EQ(memory.parameters, 100 * 16 + 32 * 16 + 16 * 32);
  // f32 table and up weight; int8 down: 512 codes + 16 f16 scales.
  EXPECT_EQ(memory.weightBytes, (100 * 16 + 32 * 16) * 4 + 512 + 16 * 2);
  EXPECT_EQ(memory.f32WeightBytes, memory.parameters * 4);
  // Keys and values of 2 heads x 8 f32 per layer and token.
  EXPECT_EQ(memory.kvBytesPerToken, 2 * 2 * 2 * 8 * 4);
  EXPECT_EQ(memory.kvCacheBytes, memory.kvBytesPerToken * 64);
  // The peak is at the silu, whose input and output are live (the embedding
  // died at the up projection): 8 x (32 + 32) f32.
  EXPECT_EQ(memory.activationBytes, 8 * (32 + 32) * 4);
}

} // namespace
