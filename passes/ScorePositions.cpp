//===- ScorePositions.cpp - Logits at every position of a step ------------===//
//
// Part of Frugal. Derives `@<function>_all` from a model's `@<function>`:
// the same step, but returning the logits of every new token instead of the
// last one's, so that scoring a text (perplexity, fidelity) takes one call
// per chunk of tokens instead of one per token.
//
//===----------------------------------------------------------------------===//

#include "passes/MemoryPlan.h"
#include "passes/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/SetVector.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMSCOREPOSITIONS
#include "passes/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;

namespace {

/// Whether `slice` keeps the last token of a `[1, ?, ...]` value.
bool selectsLastToken(SliceOp slice) {
  auto input = dyn_cast<RankedTensorType>(slice.getInput().getType());
  auto result = dyn_cast<RankedTensorType>(slice.getResult().getType());
  return input && result && slice.getAxis() == 1u &&
         static_cast<int64_t>(slice.getStart()) == -1 &&
         input.getRank() >= 2 && input.getDimSize(0) == 1 &&
         input.isDynamicDim(1) && result.getDimSize(1) == 1;
}

struct LLMScorePositionsPass
    : public llm::impl::LLMScorePositionsBase<LLMScorePositionsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto source = module.lookupSymbol<func::FuncOp>(function);
    if (!source) {
      module.emitError("llm-score-positions: no function @") << function;
      return signalPassFailure();
    }
    if (maxRows < 1) {
      source.emitError("llm-score-positions: max-rows must be at least 1, "
                       "got ")
          << static_cast<int64_t>(maxRows);
      return signalPassFailure();
    }
    std::string name = function + "_all";
    if (auto old = module.lookupSymbol<func::FuncOp>(name))
      old.erase();
    if (failed(derive(module, source, name)))
      return signalPassFailure();
  }

  LogicalResult derive(ModuleOp module, func::FuncOp source, StringRef name) {
    FunctionType type = source.getFunctionType();
    auto tokens = type.getNumInputs() >= 1
                      ? dyn_cast<RankedTensorType>(type.getInput(0))
                      : RankedTensorType();
    auto logits = type.getNumResults() == 1
                      ? dyn_cast<RankedTensorType>(type.getResult(0))
                      : RankedTensorType();
    if (!source.getBody().hasOneBlock() || !tokens ||
        tokens.getShape() != ArrayRef<int64_t>{1, ShapedType::kDynamic} ||
        !logits || logits.getRank() != 3 || logits.getDimSize(0) != 1 ||
        logits.getDimSize(1) != 1)
      return source.emitError("llm-score-positions: @")
             << source.getSymName()
             << " must take tokens: tensor<1x?xi64> first and return "
                "tensor<1x1xVxf32> logits";

    OpBuilder b(module.getContext());
    b.setInsertionPointAfter(source);
    auto all = cast<func::FuncOp>(b.clone(*source));
    all.setSymName(name);
    Block &body = all.getBody().front();

    // The last-token selections on the way from the tokens to the logits
    // go; what they fed then sees every token.
    llvm::SetVector<Operation *> fromTokens;
    getForwardSlice(body.getArgument(0), &fromTokens);
    SmallVector<SliceOp> lasts;
    for (Operation *op : fromTokens)
      if (auto slice = dyn_cast<SliceOp>(op); slice && selectsLastToken(slice))
        lasts.push_back(slice);
    if (lasts.empty()) {
      all.erase();
      return source.emitError("llm-score-positions: @")
             << source.getSymName()
             << " has no llm.slice of the last token (axis 1, start -1) "
                "to remove";
    }
    llvm::SetVector<Operation *> after;
    for (SliceOp slice : lasts) {
      getForwardSlice(slice.getResult(), &after);
      slice.getResult().replaceAllUsesWith(slice.getInput());
      // A later selection may be in an earlier one's forward slice.
      after.remove(slice);
      slice.erase();
    }
    // Their token extent, 1 after the selection, is the call's again.
    for (Operation *op : after)
      for (Value result : op->getResults()) {
        auto tensor = dyn_cast<RankedTensorType>(result.getType());
        if (!tensor || tensor.getRank() < 2 || tensor.getDimSize(0) != 1 ||
            tensor.getDimSize(1) != 1)
          continue;
        SmallVector<int64_t> shape(tensor.getShape());
        shape[1] = ShapedType::kDynamic;
        result.setType(tensor.clone(shape));
      }

    auto ret = cast<func::ReturnOp>(body.getTerminator());
    all.setType(FunctionType::get(module.getContext(), body.getArgumentTypes(),
                                  ret.getOperandTypes()));
    auto result = dyn_cast<RankedTensorType>(ret.getOperandTypes()[0]);
    if (!result || !result.isDynamicDim(1)) {
      all.erase();
      return source.emitError("llm-score-positions: the logits of @")
             << source.getSymName()
             << " do not follow the tokens after the last-token slice is "
                "removed";
    }
    all->setAttr(kMaxRowsAttr, b.getI64IntegerAttr(maxRows));
    if (failed(mlir::verify(all)))
      return all.emitError("llm-score-positions: the every-position step "
                           "of @")
             << source.getSymName() << " does not verify (see above)";
    return success();
  }
};

} // namespace
