//===- FuseAttention.cpp - Raise op-by-op attention into llm.attention -----===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/RaisingUtils.h"

#include "mlir/IR/Matchers.h"

#include <cmath>

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMFUSEATTENTION
#include "passes/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;

namespace {

constexpr int64_t kPerm0213[] = {0, 2, 1, 3};
constexpr int64_t kPerm0231[] = {0, 2, 3, 1};
constexpr int64_t kPerm0132[] = {0, 1, 3, 2};

/// A value split into heads: `x` is [B, S, heads * headDim].
struct Heads {
  Value x;
  int64_t heads = 0, headDim = 0, repeat = 1;
};

/// transpose(reshape(x : [B,S,H*D] -> [B,S,H,D]), perm) with the given perm.
std::optional<Heads> matchSplit(Value v, ArrayRef<int64_t> perm) {
  std::optional<HeadSplit> split = matchHeadSplit(v, perm);
  if (!split)
    return std::nullopt;
  return Heads{split->x3d, split->heads.getDimSize(2),
               split->heads.getDimSize(3), 1};
}

/// [B, H, S, D] heads, optionally with KV heads repeated for GQA:
/// reshape(expand(reshape(h : [B,Hkv,S,D] -> [B,Hkv,1,S,D]) -> [B,Hkv,n,S,D])
///   -> [B,Hkv*n,S,D]).
std::optional<Heads> matchHeads(Value v) {
  if (auto split = matchSplit(v, kPerm0213))
    return split;
  auto merge = v.getDefiningOp<ReshapeOp>();
  if (!merge)
    return std::nullopt;
  auto expand = merge.getInput().getDefiningOp<ExpandOp>();
  if (!expand)
    return std::nullopt;
  auto unsqueeze = expand.getInput().getDefiningOp<ReshapeOp>();
  if (!unsqueeze)
    return std::nullopt;
  auto expanded = expand.getResult().getType();
  if (expanded.getRank() != 5 || expanded.isDynamicDim(2) ||
      unsqueeze.getResult().getType().getRank() != 5 ||
      unsqueeze.getResult().getType().getDimSize(2) != 1)
    return std::nullopt;
  std::optional<Heads> base = matchSplit(unsqueeze.getInput(), kPerm0213);
  if (!base)
    return std::nullopt;
  base->repeat = expanded.getDimSize(2);
  return base;
}

/// Keys transposed for the score matmul: [B, H, D, S].
std::optional<Heads> matchKeysT(Value v) {
  if (auto composed = matchSplit(v, kPerm0231))
    return composed;
  auto transpose = v.getDefiningOp<TransposeOp>();
  if (!transpose || transpose.getPermutation() != ArrayRef<int64_t>(kPerm0132))
    return std::nullopt;
  return matchHeads(transpose.getInput());
}

/// Whether `mask` ([..., Sq, Skv], constant) keeps exactly the causal
/// lower triangle: `keep(i, j)` is true on and below the shifted diagonal.
bool isCausal(DenseElementsAttr mask, llvm::function_ref<bool(int64_t)> keep) {
  auto type = cast<ShapedType>(mask.getType());
  if (type.getRank() < 2 || !type.hasStaticShape())
    return false;
  int64_t sq = type.getDimSize(type.getRank() - 2);
  int64_t skv = type.getDimSize(type.getRank() - 1);
  int64_t offset = skv - sq;
  for (int64_t flat = 0, n = type.getNumElements(); flat < n; ++flat) {
    int64_t j = flat % skv, i = (flat / skv) % sq;
    if (keep(flat) != (j <= i + offset))
      return false;
  }
  return true;
}

/// Parses the mask around `masked`; sets `scores` and `causal`.
bool matchMask(Value masked, Value &scores, bool &causal) {
  causal = false;
  if (auto add = masked.getDefiningOp<AddOp>()) {
    for (auto [s, m] : {std::pair(add.getLhs(), add.getRhs()),
                        std::pair(add.getRhs(), add.getLhs())}) {
      DenseElementsAttr mask;
      if (!matchPattern(m, m_Constant(&mask)) ||
          !isa<FloatType>(mask.getElementType()))
        continue;
      auto values = llvm::to_vector(mask.getValues<APFloat>());
      if (!isCausal(mask, [&](int64_t k) {
            return values[mask.isSplat() ? 0 : k].convertToDouble() == 0.0;
          }))
        continue;
      // Masked positions must be effectively -inf.
      if (!llvm::all_of(values, [](const APFloat &v) {
            double d = v.convertToDouble();
            return d == 0.0 || d <= -1e4;
          }))
        continue;
      scores = s;
      causal = true;
      return true;
    }
    return false;
  }
  if (auto select = masked.getDefiningOp<SelectOp>()) {
    DenseElementsAttr cond;
    std::optional<double> fill = getSplatFloat(select.getFalseValue());
    if (!fill || *fill > -1e4 ||
        !matchPattern(select.getCondition(), m_Constant(&cond)))
      return false;
    auto bits = llvm::to_vector(cond.getValues<bool>());
    if (!isCausal(cond, [&](int64_t k) { return bits[cond.isSplat() ? 0 : k]; }))
      return false;
    scores = select.getTrueValue();
    causal = true;
    return true;
  }
  scores = masked;
  return true;
}

struct RaiseAttention : public OpRewritePattern<ReshapeOp> {
  RaiseAttention(MLIRContext *ctx, int64_t *counter)
      : OpRewritePattern(ctx), counter(counter) {}

  LogicalResult matchAndRewrite(ReshapeOp root,
                                PatternRewriter &rewriter) const override {
    auto resultType = root.getResult().getType();
    if (resultType.getRank() != 3)
      return failure();
    auto merge = root.getInput().getDefiningOp<TransposeOp>();
    if (!merge || merge.getPermutation() != ArrayRef<int64_t>(kPerm0213))
      return failure();
    auto pv = merge.getInput().getDefiningOp<MatmulOp>();
    if (!pv || pv.getTransposeB())
      return failure();
    auto softmax = pv.getLhs().getDefiningOp<SoftmaxOp>();
    if (!softmax)
      return failure();
    int64_t rank = softmax.getInput().getType().getRank();
    int64_t axis = static_cast<int64_t>(softmax.getAxis());
    if (rank != 4 || (axis != -1 && axis != 3))
      return rewriter.notifyMatchFailure(root, "softmax is not over keys");
    Value scaled;
    bool causal;
    if (!matchMask(softmax.getInput(), scaled, causal))
      return rewriter.notifyMatchFailure(root, "unrecognized mask");
    // Scale: scores * c or scores / c.
    Value qk;
    double scale = 1.0;
    if (auto mul = scaled.getDefiningOp<MulOp>()) {
      for (auto [s, c] : {std::pair(mul.getLhs(), mul.getRhs()),
                          std::pair(mul.getRhs(), mul.getLhs())})
        if (std::optional<double> v = getSplatFloat(c)) {
          qk = s;
          scale = *v;
          break;
        }
    } else if (auto div = scaled.getDefiningOp<DivOp>()) {
      if (std::optional<double> v = getSplatFloat(div.getRhs()); v && *v != 0.0) {
        qk = div.getLhs();
        scale = 1.0 / *v;
      }
    } else {
      qk = scaled;
    }
    auto scores = qk ? qk.getDefiningOp<MatmulOp>() : MatmulOp();
    if (!scores || scores.getTransposeB() || !(scale > 0.0))
      return rewriter.notifyMatchFailure(root, "no scaled q k^T");
    std::optional<Heads> q = matchSplit(scores.getLhs(), kPerm0213);
    std::optional<Heads> k = matchKeysT(scores.getRhs());
    std::optional<Heads> v = matchHeads(pv.getRhs());
    if (!q || !k || !v)
      return rewriter.notifyMatchFailure(root, "heads not recognized");
    int64_t kvHeads = k->heads;
    if (q->headDim != k->headDim || v->headDim != q->headDim ||
        v->heads != kvHeads || k->heads * k->repeat != q->heads ||
        v->repeat != k->repeat || q->heads % kvHeads != 0)
      return rewriter.notifyMatchFailure(root, "inconsistent heads");
    if (resultType != q->x.getType())
      return rewriter.notifyMatchFailure(root, "result is not [B, S, H*D]");
    rewriter.replaceOpWithNewOp<AttentionOp>(
        root, resultType, q->x, k->x, v->x, /*cache=*/Value(),
        /*position=*/Value(), rewriter.getI64IntegerAttr(q->heads),
        rewriter.getI64IntegerAttr(kvHeads),
        rewriter.getF32FloatAttr(static_cast<float>(scale)),
        causal ? rewriter.getUnitAttr() : UnitAttr(), IntegerAttr());
    if (counter)
      ++*counter;
    return success();
  }
  int64_t *counter;
};

struct LLMFuseAttentionPass
    : public llm::impl::LLMFuseAttentionBase<LLMFuseAttentionPass> {
  using Base::Base;
  void runOnOperation() override {
    int64_t count = 0;
    if (failed(applyRaisingPatterns(getOperation(), getArgument(),
                                    populateFuseAttentionPatterns, report,
                                    count)))
      return signalPassFailure();
    numFused += count;
  }
};

} // namespace

void mlir::llm::populateFuseAttentionPatterns(RewritePatternSet &patterns,
                                              int64_t *counter) {
  patterns.add<RaiseAttention>(patterns.getContext(), counter);
}
