//===- CostSummary.cpp - Per-op FLOP and byte remarks ----------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "llvm/Support/Format.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMCOSTSUMMARY
#include "passes/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;

namespace {
struct LLMCostSummaryPass
    : public llm::impl::LLMCostSummaryBase<LLMCostSummaryPass> {
  using Base::Base;

  void runOnOperation() override {
    if (tokens < 1 || pastTokens < 0) {
      getOperation().emitError("llm-cost-summary: tokens must be >= 1 and "
                               "past-tokens >= 0");
      return signalPassFailure();
    }
    CostContext ctx;
    ctx.dynamicDimSize = tokens;
    ctx.pastTokens = pastTokens;

    OpCost total;
    func::FuncOp func = getOperation();
    func.walk([&](CostOpInterface op) {
      OpCost cost = op.getCost(ctx);
      total += cost;
      ++numOpsCosted;
      if (perOp && !isa<WeightOp>(op.getOperation()))
        op->emitRemark() << "flops = " << cost.flops
                         << ", bytes_read = " << cost.bytesRead
                         << ", bytes_written = " << cost.bytesWritten;
    });
    totalFlops += total.flops;
    totalBytes += total.bytesMoved();

    double intensity =
        total.bytesMoved() ? static_cast<double>(total.flops) /
                                 static_cast<double>(total.bytesMoved())
                           : 0.0;
    std::string intensityText;
    llvm::raw_string_ostream(intensityText)
        << llvm::format("%.3f", intensity);
    func.emitRemark() << "total: flops = " << total.flops
                      << ", bytes_read = " << total.bytesRead
                      << ", bytes_written = " << total.bytesWritten
                      << ", flops_per_byte = " << intensityText;
  }
};
} // namespace
