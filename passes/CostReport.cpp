//===- CostReport.cpp - Predicted latency and energy remarks ---------------===//
//
// Part of Frugal. Wires the cost model (passes/CostModel) into a pass:
// remarks per op, per layer and per step, and an optional JSON file.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/CostModel/CostModel.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/ToolOutputFile.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMCOSTREPORT
#include "passes/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::cost;

namespace {

/// "12.345 us" / "1.234 ms" / "1.234 s".
std::string formatSeconds(double seconds) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (seconds < 1e-3)
    os << llvm::format("%.3f us", seconds * 1e6);
  else if (seconds < 1.0)
    os << llvm::format("%.3f ms", seconds * 1e3);
  else
    os << llvm::format("%.3f s", seconds);
  return text;
}

std::string formatJoules(double joules) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (joules < 1e-3)
    os << llvm::format("%.3f uJ", joules * 1e6);
  else if (joules < 1.0)
    os << llvm::format("%.3f mJ", joules * 1e3);
  else
    os << llvm::format("%.3f J", joules);
  return text;
}

struct LLMCostReportPass
    : public llm::impl::LLMCostReportBase<LLMCostReportPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<Phase> stepPhase = parsePhase(phase);
    if (!stepPhase) {
      module.emitError("llm-cost-report: phase must be prefill or decode, "
                       "got '")
          << phase << "'";
      return signalPassFailure();
    }
    if (tokens < 0 || context < 0) {
      module.emitError("llm-cost-report: tokens and context must be >= 0");
      return signalPassFailure();
    }
    int64_t stepTokens =
        tokens > 0 ? tokens : (*stepPhase == Phase::Prefill ? 128 : 1);
    std::vector<std::string> overrides(targetParams.begin(),
                                       targetParams.end());
    llvm::Expected<TargetDescription> loaded = loadTarget(target, overrides);
    if (!loaded) {
      module.emitError("llm-cost-report: ")
          << llvm::toString(loaded.takeError());
      return signalPassFailure();
    }
    const TargetDescription &desc = *loaded;
    StepQuery query{*stepPhase, stepTokens, context};

    llvm::json::Array functions;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      StepEstimate step = estimateStep(func, desc, query);
      if (step.ops.empty())
        continue;
      report(func, step, desc);
      llvm::json::Object entry{{"function", func.getSymName()},
                               {"step", toJSON(step, desc, perOp)},
                               {"memory", toJSON(estimateMemory(func, query))}};
      functions.push_back(std::move(entry));
    }
    if (!json.empty()) {
      llvm::json::Value out = llvm::json::Object{
          {"target", toJSON(desc)}, {"functions", std::move(functions)}};
      std::string error;
      auto file = openOutputFile(json, &error);
      if (!file) {
        module.emitError("llm-cost-report: ") << error;
        return signalPassFailure();
      }
      file->os() << llvm::formatv("{0:2}", out) << "\n";
      file->keep();
    }
  }

  void report(func::FuncOp func, const StepEstimate &step,
              const TargetDescription &desc) {
    if (perOp)
      for (const OpEstimate &e : step.ops)
        e.op->emitRemark() << e.opClass << " " << e.dtype << ": "
                           << formatSeconds(e.seconds) << " ("
                           << (e.isMemoryBound() ? "memory" : "compute")
                           << "-bound), " << formatJoules(e.joules);
    if (perLayer)
      for (const GroupEstimate &g : step.groups)
        func.emitRemark() << g.name << ": " << g.numOps << " ops, "
                          << formatSeconds(g.seconds) << ", "
                          << formatJoules(g.joules);
    TokenFigures token = step.perToken(desc);
    std::string rates;
    llvm::raw_string_ostream os(rates);
    os << llvm::format("%.1f tok/s", token.tokensPerSecond) << ", "
       << formatJoules(token.joules) << ", "
       << llvm::format("%.3g gCO2/1k tokens, $%.3g/1M tokens",
                       token.gramsCO2Per1kTokens, token.usdPer1MTokens);
    func.emitRemark() << stringifyPhase(step.query.phase) << " step ("
                      << step.query.tokens << " tokens, context "
                      << step.query.context << ") on " << desc.name << ": "
                      << formatSeconds(step.seconds) << ", "
                      << formatJoules(step.joules) << ", "
                      << step.numMemoryBound << "/" << step.ops.size()
                      << " ops memory-bound; per token: "
                      << formatSeconds(token.seconds) << ", " << rates;
  }
};

} // namespace
