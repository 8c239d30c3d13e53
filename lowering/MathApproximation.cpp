//===- MathApproximation.cpp - The llm-approximate-math pass ---------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "lowering/Passes.h"

#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMAPPROXIMATEMATH
#include "lowering/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;

namespace {
struct LLMApproximateMathPass
    : public llm::impl::LLMApproximateMathBase<LLMApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // sin and cos stay libm calls: rotary angles reach thousands of
    // radians. rsqrt stays a hardware square root.
    auto approximate = [](StringRef name) {
      return llvm::is_contained({"math.exp", "math.expm1", "math.tanh",
                                 "math.erf", "math.log", "math.log1p",
                                 "math.log2"},
                                name);
    };
    populateMathPolynomialApproximationPatterns(patterns, approximate);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
