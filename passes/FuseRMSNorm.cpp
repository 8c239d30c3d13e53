//===- FuseRMSNorm.cpp - Raise spelled-out RMS norms into llm.rms_norm -----===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/RaisingUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMFUSERMSNORM
#include "passes/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;

namespace {

/// Calls `fn(a, b)` and, if it fails, `fn(b, a)`.
template <typename Fn>
bool eitherOrder(Value a, Value b, Fn fn) {
  return fn(a, b) || fn(b, a);
}

/// Matches mean(x^2) over the last axis, keeping it; sets `x`.
bool matchMeanSquare(Value value, Value &x) {
  auto mean = value.getDefiningOp<ReduceMeanOp>();
  if (!mean || !mean.getKeepdims())
    return false;
  int64_t rank = mean.getInput().getType().getRank();
  if (mean.getAxes() != ArrayRef<int64_t>{rank - 1})
    return false;
  Value sq = mean.getInput();
  if (auto pow = sq.getDefiningOp<PowOp>()) {
    if (getSplatFloat(pow.getRhs()) != 2.0)
      return false;
    x = pow.getLhs();
    return true;
  }
  if (auto mul = sq.getDefiningOp<MulOp>()) {
    if (mul.getLhs() != mul.getRhs())
      return false;
    x = mul.getLhs();
    return true;
  }
  return false;
}

/// Matches sqrt(mean(x^2) + eps); sets `x` and `eps`.
bool matchRootMeanSquare(Value value, Value &x, double &eps) {
  auto sqrt = value.getDefiningOp<SqrtOp>();
  if (!sqrt)
    return false;
  auto add = sqrt.getInput().getDefiningOp<AddOp>();
  if (!add)
    return false;
  return eitherOrder(add.getLhs(), add.getRhs(), [&](Value mean, Value c) {
    std::optional<double> e = getSplatFloat(c);
    if (!e || !matchMeanSquare(mean, x))
      return false;
    eps = *e;
    return true;
  });
}

/// Matches x / rms(x) in its three spellings; sets `x` and `eps`.
bool matchNormalized(Value value, Value &x, double &eps) {
  if (auto div = value.getDefiningOp<DivOp>()) {
    Value inner;
    return matchRootMeanSquare(div.getRhs(), inner, eps) &&
           inner == div.getLhs() && (x = inner, true);
  }
  auto mul = value.getDefiningOp<MulOp>();
  if (!mul)
    return false;
  return eitherOrder(mul.getLhs(), mul.getRhs(), [&](Value candidate, Value inv) {
    Value root;
    if (auto rcp = inv.getDefiningOp<ReciprocalOp>())
      root = rcp.getInput();
    else if (auto div = inv.getDefiningOp<DivOp>(); div && getSplatFloat(div.getLhs()) == 1.0)
      root = div.getRhs();
    else
      return false;
    Value inner;
    if (!matchRootMeanSquare(root, inner, eps) || inner != candidate)
      return false;
    x = inner;
    return true;
  });
}

struct RaiseRMSNorm : public OpRewritePattern<MulOp> {
  RaiseRMSNorm(MLIRContext *ctx, int64_t *counter)
      : OpRewritePattern(ctx), counter(counter) {}

  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    Value x, weight;
    double eps = 0;
    bool matched = eitherOrder(op.getLhs(), op.getRhs(), [&](Value norm, Value w) {
      auto wType = dyn_cast<RankedTensorType>(w.getType());
      auto type = op.getResult().getType();
      if (!wType || wType.getRank() != 1 ||
          wType.getDimSize(0) != type.getShape().back() ||
          ShapedType::isDynamic(wType.getDimSize(0)))
        return false;
      if (!matchNormalized(norm, x, eps) || x.getType() != type)
        return false;
      weight = w;
      return true;
    });
    if (!matched)
      return failure();
    rewriter.replaceOpWithNewOp<RMSNormOp>(op, op.getResult().getType(), x,
                                           weight, rewriter.getF64FloatAttr(eps));
    if (counter)
      ++*counter;
    return success();
  }
  int64_t *counter;
};

struct LLMFuseRMSNormPass
    : public llm::impl::LLMFuseRMSNormBase<LLMFuseRMSNormPass> {
  using Base::Base;
  void runOnOperation() override {
    int64_t count = 0;
    if (failed(applyRaisingPatterns(getOperation(), getArgument(),
                                    populateFuseRMSNormPatterns, report, count)))
      return signalPassFailure();
    numFused += count;
  }
};

} // namespace

void mlir::llm::populateFuseRMSNormPatterns(RewritePatternSet &patterns,
                                            int64_t *counter) {
  patterns.add<RaiseRMSNorm>(patterns.getContext(), counter);
}
