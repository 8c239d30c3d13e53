//===- RaisingUtils.cpp - Shared driver of the raising passes --------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

LogicalResult mlir::llm::applyRaisingPatterns(
    Operation *op, StringRef passName,
    llvm::function_ref<void(RewritePatternSet &, int64_t *)> populate,
    bool report, int64_t &count) {
  SmallVector<func::FuncOp> funcs;
  if (auto func = dyn_cast<func::FuncOp>(op))
    funcs.push_back(func);
  else
    op->walk([&](func::FuncOp func) { funcs.push_back(func); });
  count = 0;
  for (func::FuncOp func : funcs) {
    int64_t fused = 0;
    RewritePatternSet patterns(op->getContext());
    populate(patterns, &fused);
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return failure();
    count += fused;
    if (report)
      func.emitRemark() << passName << ": " << fused << " fused";
  }
  return success();
}
