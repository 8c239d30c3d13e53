//===- RaisingUtils.cpp - Shared driver of the raising passes --------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/RaisingUtils.h"
#include "passes/Passes.h"

#include "mlir/IR/Matchers.h"

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

std::optional<double> mlir::llm::getSplatFloat(Value value) {
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || !attr.isSplat() ||
      !isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  return attr.getSplatValue<APFloat>().convertToDouble();
}

std::optional<mlir::llm::HeadSplit> mlir::llm::matchHeadSplit(Value value,
                                                   ArrayRef<int64_t> perm) {
  auto transpose = value.getDefiningOp<TransposeOp>();
  if (!transpose || transpose.getPermutation() != perm)
    return std::nullopt;
  auto reshape = transpose.getInput().getDefiningOp<ReshapeOp>();
  if (!reshape)
    return std::nullopt;
  auto in = reshape.getInput().getType();
  auto out = reshape.getResult().getType();
  if (in.getRank() != 3 || out.getRank() != 4 ||
      in.getDimSize(0) != out.getDimSize(0) ||
      in.getDimSize(1) != out.getDimSize(1) || out.isDynamicDim(2) ||
      out.isDynamicDim(3) || in.isDynamicDim(2) ||
      in.getDimSize(2) != out.getDimSize(2) * out.getDimSize(3))
    return std::nullopt;
  return mlir::llm::HeadSplit{reshape.getInput(), out};
}
