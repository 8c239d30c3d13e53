//===- FuseRoPE.cpp - Raise op-by-op rotary embeddings into llm.rope -------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/RaisingUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"

#include <cstring>

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMFUSEROPE
#include "passes/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;

namespace {

constexpr int64_t kPerm0213[] = {0, 2, 1, 3};

/// Heads split from a [B, S, H*D] value: transpose(reshape(x3d), [0,2,1,3]).
struct Split {
  Value x3d;
  RankedTensorType split; // [B, S, H, D]
};

std::optional<Split> matchSplit(Value v) {
  std::optional<HeadSplit> split = matchHeadSplit(v, kPerm0213);
  if (!split)
    return std::nullopt;
  return Split{split->x3d, split->heads};
}

bool isLastAxis(int64_t axis) { return axis == 3 || axis == -1; }

/// `s` is llm.slice(x) on the last axis taking `half` channels from `start`.
bool isHalfSlice(Value s, Value x, int64_t start, int64_t half) {
  auto slice = s.getDefiningOp<SliceOp>();
  if (!slice || slice.getInput() != x ||
      !isLastAxis(static_cast<int64_t>(slice.getAxis())) ||
      slice.getResult().getType().getDimSize(3) != half)
    return false;
  int64_t begin = static_cast<int64_t>(slice.getStart());
  return begin == start || (start > 0 && begin == -start);
}

/// rotate_half(x) = concat(neg(x[..., D/2:]), x[..., :D/2]) on the last axis.
bool isRotateHalf(Value v, Value x, int64_t headDim) {
  auto concat = v.getDefiningOp<ConcatOp>();
  if (!concat || concat.getInputs().size() != 2 ||
      !isLastAxis(static_cast<int64_t>(concat.getAxis())))
    return false;
  auto neg = concat.getInputs()[0].getDefiningOp<NegOp>();
  int64_t half = headDim / 2;
  return neg && isHalfSlice(neg.getInput(), x, half, half) &&
         isHalfSlice(concat.getInputs()[1], x, 0, half);
}

/// Where a [B or 1, 1, S, D] cos or sin operand comes from: rows of a
/// constant [P, D] `table` gathered by `ids`, or (no `ids`) a constant
/// [S, D] already indexed by positions 0..S-1.
struct TableSource {
  DenseElementsAttr table;
  Value ids;
};

Value peelReshapes(Value v) {
  while (auto reshape = v.getDefiningOp<ReshapeOp>())
    v = reshape.getInput();
  return v;
}

/// `type` (the cos/sin operand of the multiply) broadcasts against heads
/// [B, H, S, D] as [B or 1, 1, S, D], possibly with leading 1s dropped.
bool isPerPosition(RankedTensorType type, RankedTensorType heads) {
  int64_t rank = type.getRank();
  if (rank < 2 || rank > 4 || type.getDimSize(rank - 1) != heads.getDimSize(3))
    return false;
  if (type.getDimSize(rank - 2) != heads.getDimSize(2) &&
      !(ShapedType::isDynamic(type.getDimSize(rank - 2)) ||
        heads.isDynamicDim(2)))
    return false;
  if (rank >= 3 && type.getDimSize(rank - 3) != 1)
    return false;
  return rank < 4 || type.getDimSize(0) == 1 ||
         type.getDimSize(0) == heads.getDimSize(0);
}

std::optional<TableSource> matchTable(Value v, RankedTensorType heads) {
  auto type = cast<RankedTensorType>(v.getType());
  if (!isPerPosition(type, heads))
    return std::nullopt;
  int64_t headDim = heads.getDimSize(3);
  Value base = peelReshapes(v);
  if (auto gather = base.getDefiningOp<GatherOp>()) {
    // gather(table, ids [Bi, S] or [S], axis 0) : [Bi, S, D] or [S, D].
    if (gather.getAxis() != 0)
      return std::nullopt;
    auto ids = gather.getIndices().getType();
    auto gathered = gather.getResult().getType();
    if (ids.getRank() < 1 || ids.getRank() > 2 ||
        gathered.getRank() != ids.getRank() + 1)
      return std::nullopt;
    // The reshapes only insert the heads axis: [Bi, S, D] -> [Bi, 1, S, D].
    if (ids.getRank() == 2 && type.getRank() == 4 &&
        type.getDimSize(0) != gathered.getDimSize(0))
      return std::nullopt;
    if (ids.getRank() == 2 && type.getRank() < 4 && gathered.getDimSize(0) != 1)
      return std::nullopt;
    Value data = gather.getData();
    // Gathering from a prefix of the table reads the same rows.
    if (auto slice = data.getDefiningOp<SliceOp>())
      if (slice.getAxis() == 0 && slice.getStart() == 0)
        data = slice.getInput();
    DenseElementsAttr table;
    if (!matchPattern(data, m_Constant(&table)))
      return std::nullopt;
    auto tableType = cast<RankedTensorType>(table.getType());
    if (tableType.getRank() != 2 || tableType.getDimSize(1) != headDim)
      return std::nullopt;
    return TableSource{table, gather.getIndices()};
  }
  // Constants already indexed for a static sequence: [1, ..., 1, S, D].
  DenseElementsAttr table;
  if (heads.isDynamicDim(2) || !matchPattern(base, m_Constant(&table)))
    return std::nullopt;
  auto tableType = cast<RankedTensorType>(table.getType());
  int64_t rank = tableType.getRank();
  if (rank < 2 || tableType.getDimSize(rank - 1) != headDim ||
      tableType.getDimSize(rank - 2) != heads.getDimSize(2) ||
      tableType.getNumElements() != heads.getDimSize(2) * headDim)
    return std::nullopt;
  // A constant [1, 1, S, D] operand is the table itself, read as [S, D].
  if (rank != 2)
    table = table.reshape(RankedTensorType::get(
        {heads.getDimSize(2), headDim}, tableType.getElementType()));
  return TableSource{table, Value()};
}

/// The first halves of the rows of `table` ([P, D]) as a [P, D/2] table,
/// provided every row is cat(h, h); null otherwise.
DenseElementsAttr halfTable(DenseElementsAttr table, Type elementType) {
  auto type = cast<RankedTensorType>(table.getType());
  if (type.getElementType() != elementType || !isa<FloatType>(elementType))
    return {};
  int64_t rows = type.getDimSize(0), dim = type.getDimSize(1), half = dim / 2;
  auto halfType = RankedTensorType::get({rows, half}, elementType);
  if (table.isSplat())
    return table.resizeSplat(halfType);
  unsigned bits = elementType.getIntOrFloatBitWidth();
  if (bits % 8 != 0)
    return {};
  size_t width = bits / 8;
  ArrayRef<char> raw = table.getRawData();
  if (raw.size() != static_cast<size_t>(rows * dim) * width)
    return {};
  std::vector<char> out(static_cast<size_t>(rows * half) * width);
  size_t rowBytes = dim * width, halfBytes = half * width;
  for (int64_t r = 0; r < rows; ++r) {
    const char *row = raw.data() + r * rowBytes;
    // Bitwise equality: the raised rope must compute exactly the same.
    if (std::memcmp(row, row + halfBytes, halfBytes) != 0)
      return {};
    std::memcpy(out.data() + r * halfBytes, row, halfBytes);
  }
  return DenseElementsAttr::getFromRawBuffer(halfType, out);
}

/// x * cos + rotate_half(x) * sin on heads [B, H, S, D] split from a
/// [B, S, H*D] value; becomes transpose(reshape(llm.rope(x3d))) so that
/// llm-fuse-attention still sees its heads split.
struct RaiseRoPE : public OpRewritePattern<AddOp> {
  RaiseRoPE(MLIRContext *ctx, int64_t *counter)
      : OpRewritePattern(ctx), counter(counter) {}

  LogicalResult matchAndRewrite(AddOp root,
                                PatternRewriter &rewriter) const override {
    auto resultType = root.getResult().getType();
    if (resultType.getRank() != 4)
      return failure();
    for (auto [a, b] : {std::pair(root.getLhs(), root.getRhs()),
                        std::pair(root.getRhs(), root.getLhs())}) {
      auto mulCos = a.getDefiningOp<MulOp>();
      auto mulSin = b.getDefiningOp<MulOp>();
      if (!mulCos || !mulSin)
        continue;
      for (auto [x, cos] : {std::pair(mulCos.getLhs(), mulCos.getRhs()),
                            std::pair(mulCos.getRhs(), mulCos.getLhs())}) {
        if (x.getType() != resultType)
          continue;
        std::optional<Split> split = matchSplit(x);
        if (!split)
          continue;
        int64_t headDim = resultType.getDimSize(3);
        if (headDim % 2 != 0)
          continue;
        for (auto [r, sin] : {std::pair(mulSin.getLhs(), mulSin.getRhs()),
                              std::pair(mulSin.getRhs(), mulSin.getLhs())}) {
          if (!isRotateHalf(r, x, headDim))
            continue;
          if (succeeded(rewrite(root, *split, cos, sin, rewriter)))
            return success();
        }
      }
    }
    return rewriter.notifyMatchFailure(root, "not x * cos + rotate_half(x) * sin");
  }

  LogicalResult rewrite(AddOp root, const Split &split, Value cos, Value sin,
                        PatternRewriter &rewriter) const {
    auto heads = root.getResult().getType();
    std::optional<TableSource> c = matchTable(cos, heads);
    std::optional<TableSource> s = matchTable(sin, heads);
    if (!c || !s || c->ids != s->ids)
      return rewriter.notifyMatchFailure(root, "cos and sin tables not recognized");
    Type elementType = heads.getElementType();
    DenseElementsAttr cosHalf = halfTable(c->table, elementType);
    DenseElementsAttr sinHalf = halfTable(s->table, elementType);
    if (!cosHalf || !sinHalf)
      return rewriter.notifyMatchFailure(root, "table halves differ");

    Location loc = root.getLoc();
    auto x3dType = cast<RankedTensorType>(split.x3d.getType());
    int64_t batch = x3dType.getDimSize(0), seq = x3dType.getDimSize(1);
    Value positions = c->ids;
    if (!positions) {
      // Static tables: positions 0..S-1 for every sequence of the batch.
      if (ShapedType::isDynamic(batch) || ShapedType::isDynamic(seq))
        return rewriter.notifyMatchFailure(root, "static tables, dynamic shape");
      SmallVector<int64_t> ids;
      for (int64_t bi = 0; bi < batch; ++bi)
        for (int64_t i = 0; i < seq; ++i)
          ids.push_back(i);
      auto type = RankedTensorType::get({batch, seq}, rewriter.getI64Type());
      positions = arith::ConstantOp::create(
          rewriter, loc, DenseIntElementsAttr::get(type, ArrayRef(ids)));
    } else {
      auto idsType = cast<RankedTensorType>(positions.getType());
      if (idsType.getRank() == 1) {
        positions = ReshapeOp::create(
            rewriter, loc,
            RankedTensorType::get({1, idsType.getDimSize(0)},
                                  idsType.getElementType()),
            positions);
        idsType = cast<RankedTensorType>(positions.getType());
      }
      if (idsType.getDimSize(0) != batch) {
        // Ids shared by the batch: broadcast them to [B, S].
        if (idsType.getDimSize(0) != 1 || ShapedType::isDynamic(batch))
          return rewriter.notifyMatchFailure(root, "position ids batch");
        positions = ExpandOp::create(
            rewriter, loc,
            RankedTensorType::get({batch, idsType.getDimSize(1)},
                                  idsType.getElementType()),
            positions);
      }
    }
    Value cosTable = arith::ConstantOp::create(rewriter, loc, cosHalf);
    Value sinTable = arith::ConstantOp::create(rewriter, loc, sinHalf);
    int64_t numHeads = heads.getDimSize(1);
    Value rope = RopeOp::create(
        rewriter, loc, x3dType, split.x3d, positions, cosTable, sinTable,
        rewriter.getI64IntegerAttr(numHeads), FloatAttr(), IntegerAttr(),
        UnitAttr());
    Value split4 = ReshapeOp::create(rewriter, loc,
                                     split.split, rope);
    rewriter.replaceOpWithNewOp<TransposeOp>(
        root, heads, split4, rewriter.getDenseI64ArrayAttr(kPerm0213));
    if (counter)
      ++*counter;
    return success();
  }

  int64_t *counter;
};

struct LLMFuseRoPEPass : public llm::impl::LLMFuseRoPEBase<LLMFuseRoPEPass> {
  using Base::Base;
  void runOnOperation() override {
    int64_t count = 0;
    if (failed(applyRaisingPatterns(getOperation(), getArgument(),
                                    populateFuseRoPEPatterns, report, count)))
      return signalPassFailure();
    numFused += count;
  }
};

} // namespace

void mlir::llm::populateFuseRoPEPatterns(RewritePatternSet &patterns,
                                         int64_t *counter) {
  patterns.add<RaiseRoPE>(patterns.getContext(), counter);
}
