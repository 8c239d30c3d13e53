//===- TransposeWeights.cpp - Lay [K, N] matmul weights out as [N, K] ------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMTRANSPOSEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;

namespace {

/// A weight every user of which multiplies by it as the (plain) rhs.
bool onlyPlainMatmulRhs(WeightOp weight) {
  if (weight.getTransposed() || weight.getQuant() ||
      weight.getResult().getType().getRank() != 2 ||
      weight.getResult().use_empty())
    return false;
  return llvm::all_of(weight.getResult().getUses(), [](OpOperand &use) {
    auto matmul = dyn_cast<MatmulOp>(use.getOwner());
    return matmul && use.getOperandNumber() == 1 && !matmul.getTransposeB();
  });
}

struct LLMTransposeWeightsPass
    : public llm::impl::LLMTransposeWeightsBase<LLMTransposeWeightsPass> {
  void runOnOperation() override {
    SmallVector<WeightOp> weights;
    getOperation()->walk([&](WeightOp op) {
      if (onlyPlainMatmulRhs(op))
        weights.push_back(op);
    });
    for (WeightOp weight : weights) {
      auto type = weight.getResult().getType();
      auto transposedType = RankedTensorType::get(
          {type.getDimSize(1), type.getDimSize(0)}, type.getElementType());
      OpBuilder b(weight);
      auto stored = WeightOp::create(b, weight.getLoc(), transposedType,
                                     weight.getNameAttr(), QuantAttr(),
                                     IntegerAttr(), b.getUnitAttr());
      for (OpOperand &use : llvm::make_early_inc_range(weight.getResult().getUses())) {
        auto matmul = cast<MatmulOp>(use.getOwner());
        matmul.getRhsMutable().assign(stored);
        matmul.setTransposeB(true);
      }
      weight.erase();
      ++numTransposed;
    }
  }
};

} // namespace
