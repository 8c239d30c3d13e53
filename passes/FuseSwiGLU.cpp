//===- FuseSwiGLU.cpp - Raise x * sigmoid(x) into llm.silu -----------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMFUSESWIGLU
#include "passes/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;

namespace {

struct RaiseSiLU : public OpRewritePattern<MulOp> {
  RaiseSiLU(MLIRContext *ctx, int64_t *counter)
      : OpRewritePattern(ctx), counter(counter) {}

  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [x, s] : {std::pair(op.getLhs(), op.getRhs()),
                        std::pair(op.getRhs(), op.getLhs())}) {
      auto sigmoid = s.getDefiningOp<SigmoidOp>();
      if (!sigmoid || sigmoid.getInput() != x ||
          x.getType() != op.getResult().getType())
        continue;
      rewriter.replaceOpWithNewOp<SiluOp>(op, x);
      if (counter)
        ++*counter;
      return success();
    }
    return failure();
  }
  int64_t *counter;
};

struct LLMFuseSwiGLUPass
    : public llm::impl::LLMFuseSwiGLUBase<LLMFuseSwiGLUPass> {
  using Base::Base;
  void runOnOperation() override {
    int64_t count = 0;
    if (failed(applyRaisingPatterns(getOperation(), getArgument(),
                                    populateFuseSwiGLUPatterns, report, count)))
      return signalPassFailure();
    numFused += count;
  }
};

} // namespace

void mlir::llm::populateFuseSwiGLUPatterns(RewritePatternSet &patterns,
                                           int64_t *counter) {
  patterns.add<RaiseSiLU>(patterns.getContext(), counter);
}
