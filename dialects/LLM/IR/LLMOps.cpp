//===- LLMOps.cpp - llm dialect operations ---------------------------------===//
//
// Part of Frugal. Verifiers, folders and canonicalization patterns; the cost
// interface implementations live in LLMCost.cpp.
//
//===----------------------------------------------------------------------===//

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallBitVector.h"

#include <cmath>

using namespace mlir;
using namespace mlir::llm;

//===----------------------------------------------------------------------===//
// custom<Position>: `[%pos]` (an index) or `[%rows : tensor<?xi64>]`
//===----------------------------------------------------------------------===//

static ParseResult parsePosition(OpAsmParser &parser,
                                 OpAsmParser::UnresolvedOperand &position,
                                 Type &type) {
  if (parser.parseLSquare() || parser.parseOperand(position))
    return failure();
  type = parser.getBuilder().getIndexType();
  if (succeeded(parser.parseOptionalColon()) && parser.parseType(type))
    return failure();
  return parser.parseRSquare();
}

static ParseResult
parsePosition(OpAsmParser &parser,
              std::optional<OpAsmParser::UnresolvedOperand> &position,
              Type &type) {
  OpAsmParser::UnresolvedOperand operand;
  if (parsePosition(parser, operand, type))
    return failure();
  position = operand;
  return success();
}

static void printPosition(OpAsmPrinter &printer, Operation *, Value position,
                          Type type) {
  printer << "[" << position;
  if (!type.isIndex())
    printer << " : " << type;
  printer << "]";
}

#define GET_OP_CLASSES
#include "dialects/LLM/IR/LLMOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// True if `a` and `b` are equal or at least one is dynamic.
static bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

static std::string shapeToString(ArrayRef<int64_t> shape) {
  std::string result;
  llvm::raw_string_ostream os(result);
  os << "[";
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return result;
}

/// Checks that a `[hidden]` parameter tensor (norm weight/bias) matches the
/// last dimension and element type of `input`.
static LogicalResult verifyChannelParam(Operation *op, StringRef what,
                                        RankedTensorType input,
                                        RankedTensorType param) {
  if (param.getRank() != 1)
    return op->emitOpError() << what << " must be rank 1, got rank "
                             << param.getRank();
  if (input.getRank() < 1)
    return op->emitOpError() << "input must have rank >= 1";
  if (!dimsCompatible(param.getDimSize(0), input.getShape().back()))
    return op->emitOpError()
           << what << " size " << param.getDimSize(0)
           << " does not match the last input dimension "
           << input.getShape().back();
  if (param.getElementType() != input.getElementType())
    return op->emitOpError() << what << " element type "
                             << param.getElementType()
                             << " does not match input element type "
                             << input.getElementType();
  return success();
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("weight name must not be empty");
  auto type = getResult().getType();
  if (!type.hasStaticShape())
    return emitOpError("weight must have a static shape, got ")
           << type;
  if (getTransposed() && type.getRank() != 2)
    return emitOpError("only rank-2 weights can be transposed");
  if (auto offset = getOffset(); offset && (*offset < 0 || *offset % 64 != 0))
    return emitOpError("weight offset must be a non-negative multiple of 64, "
                       "got ")
           << *offset;
  if (auto quant = getQuantAttr()) {
    if (type.getRank() < 1)
      return emitOpError("a quantized weight must have rank >= 1");
    int64_t row = type.getShape().back();
    if (quant.getGroup() != 0 && row % quant.getGroup() != 0)
      return emitOpError("quantization group ")
             << quant.getGroup() << " does not divide the innermost dimension "
             << row;
  }
  return success();
}

LogicalResult PositionIdsOp::verify() {
  auto tokens = getTokens().getType();
  auto result = getResult().getType();
  if (tokens.getRank() != 2)
    return emitOpError("tokens must be rank 2 [batch, seq], got rank ")
           << tokens.getRank();
  if (result.getRank() != 2 ||
      !dimsCompatible(result.getDimSize(0), tokens.getDimSize(0)) ||
      !dimsCompatible(result.getDimSize(1), tokens.getDimSize(1)))
    return emitOpError("result shape ")
           << shapeToString(result.getShape()) << " must equal the tokens shape "
           << shapeToString(tokens.getShape());
  if (auto rows = dyn_cast<RankedTensorType>(getStart().getType()))
    if (!dimsCompatible(rows.getDimSize(0), tokens.getDimSize(0)))
      return emitOpError("per-row starts ")
             << shapeToString(rows.getShape())
             << " must have one entry per row of the tokens "
             << shapeToString(tokens.getShape());
  return success();
}

int64_t WeightOp::getStorageBytes() {
  auto type = getResult().getType();
  if (auto quant = getQuantAttr())
    return quant.getStorageBytes(type.getShape());
  return type.getNumElements() * type.getElementTypeBitWidth() / 8;
}

//===----------------------------------------------------------------------===//
// EmbedOp
//===----------------------------------------------------------------------===//

LogicalResult EmbedOp::verify() {
  auto table = getTable().getType();
  auto ids = getIds().getType();
  auto result = getResult().getType();
  if (table.getRank() != 2)
    return emitOpError("embedding table must be rank 2 [vocab, hidden], got "
                       "rank ")
           << table.getRank();
  if (result.getRank() != ids.getRank() + 1)
    return emitOpError("result rank must be ids rank + 1 (")
           << ids.getRank() + 1 << "), got " << result.getRank();
  for (auto [i, pair] : llvm::enumerate(
           llvm::zip(ids.getShape(), result.getShape().drop_back())))
    if (!dimsCompatible(std::get<0>(pair), std::get<1>(pair)))
      return emitOpError("result dimension ")
             << i << " (" << std::get<1>(pair)
             << ") does not match ids dimension " << std::get<0>(pair);
  if (!dimsCompatible(result.getShape().back(), table.getDimSize(1)))
    return emitOpError("result hidden size ")
           << result.getShape().back() << " does not match table hidden size "
           << table.getDimSize(1);
  if (result.getElementType() != table.getElementType())
    return emitOpError("result element type must match the table's");
  return success();
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  auto lhs = getLhs().getType();
  auto rhs = getRhs().getType();
  auto result = getResult().getType();
  if (lhs.getRank() < 2)
    return emitOpError("lhs must have rank >= 2, got rank ") << lhs.getRank();
  if (rhs.getRank() != 2 && rhs.getRank() != lhs.getRank())
    return emitOpError("rhs must be rank 2 or have the rank of lhs (")
           << lhs.getRank() << "), got rank " << rhs.getRank();
  if (lhs.getElementType() != rhs.getElementType() ||
      lhs.getElementType() != result.getElementType())
    return emitOpError("operand and result element types must match");

  int64_t rhsRank = rhs.getRank();
  int64_t k = lhs.getShape().back();
  int64_t rhsK = getTransposeB() ? rhs.getDimSize(rhsRank - 1)
                                 : rhs.getDimSize(rhsRank - 2);
  int64_t n = getTransposeB() ? rhs.getDimSize(rhsRank - 2)
                              : rhs.getDimSize(rhsRank - 1);
  if (!dimsCompatible(k, rhsK))
    return emitOpError("contraction size mismatch: lhs has K = ")
           << k << ", rhs has K = " << rhsK;
  if (rhsRank > 2)
    for (int64_t i = 0; i < rhsRank - 2; ++i)
      if (!dimsCompatible(lhs.getDimSize(i), rhs.getDimSize(i)))
        return emitOpError("batch dimension ")
               << i << " differs: lhs " << lhs.getDimSize(i) << ", rhs "
               << rhs.getDimSize(i);

  SmallVector<int64_t> expected(lhs.getShape().drop_back());
  expected.push_back(n);
  if (result.getRank() != static_cast<int64_t>(expected.size()) ||
      !llvm::all_of(llvm::zip(expected, result.getShape()), [](auto p) {
        return dimsCompatible(std::get<0>(p), std::get<1>(p));
      }))
    return emitOpError("result shape ")
           << shapeToString(result.getShape()) << " does not match expected "
           << shapeToString(expected);
  return success();
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

static LogicalResult verifyEpsilon(Operation *op, APFloat epsilon) {
  if (epsilon.isNegative() || epsilon.isNaN())
    return op->emitOpError("epsilon must be non-negative");
  return success();
}

LogicalResult RMSNormOp::verify() {
  if (failed(verifyChannelParam(*this, "weight", getInput().getType(),
                                getWeight().getType())))
    return failure();
  return verifyEpsilon(*this, getEpsilonAttr().getValue());
}

LogicalResult LayerNormOp::verify() {
  if (failed(verifyChannelParam(*this, "weight", getInput().getType(),
                                getWeight().getType())))
    return failure();
  if (getBias() &&
      failed(verifyChannelParam(*this, "bias", getInput().getType(),
                                cast<RankedTensorType>(getBias().getType()))))
    return failure();
  return verifyEpsilon(*this, getEpsilonAttr().getValue());
}

LogicalResult SoftmaxOp::verify() {
  int64_t rank = getInput().getType().getRank();
  int64_t axis = getAxis();
  if (axis < -rank || axis >= rank)
    return emitOpError("axis ") << axis << " is out of range for rank " << rank;
  return success();
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

/// Common checks for `[batch, seq, heads * head_dim]` activations.
static LogicalResult verifyHeads(Operation *op, StringRef what,
                                 RankedTensorType type, int64_t numHeads,
                                 int64_t &headDim) {
  if (type.getRank() != 3)
    return op->emitOpError()
           << what << " must be rank 3 [batch, seq, heads * head_dim], got "
           << "rank " << type.getRank();
  if (numHeads <= 0)
    return op->emitOpError() << "number of heads must be positive, got "
                             << numHeads;
  int64_t hidden = type.getDimSize(2);
  if (ShapedType::isDynamic(hidden))
    return op->emitOpError() << what << " hidden dimension must be static";
  if (hidden % numHeads != 0)
    return op->emitOpError() << what << " hidden size " << hidden
                             << " is not divisible by " << numHeads
                             << " heads";
  headDim = hidden / numHeads;
  return success();
}

int64_t RopeOp::getHeadDim() {
  return getInput().getType().getDimSize(2) / getNumHeads();
}

int64_t RopeOp::getEffectiveRotaryDim() {
  return getRotaryDim() ? *getRotaryDim() : getHeadDim();
}

LogicalResult RopeOp::verify() {
  int64_t headDim;
  auto input = getInput().getType();
  if (failed(verifyHeads(*this, "input", input, getNumHeads(), headDim)))
    return failure();
  int64_t rotary = getRotaryDim() ? *getRotaryDim() : headDim;
  if (rotary <= 0 || rotary % 2 != 0 || rotary > headDim)
    return emitOpError("rotary_dim must be even and in (0, head_dim = ")
           << headDim << "], got " << rotary;
  if (static_cast<bool>(getCosCache()) != static_cast<bool>(getSinCache()))
    return emitOpError("cos and sin tables come together");
  if (getCosCache()) {
    if (getTheta())
      return emitOpError("theta and tables are exclusive");
    for (Value table : {getCosCache(), getSinCache()}) {
      auto type = cast<RankedTensorType>(table.getType());
      if (type.getRank() != 2 || !dimsCompatible(type.getDimSize(1), rotary / 2))
        return emitOpError("rotary tables must be [max_positions, ")
               << rotary / 2 << "], got " << type;
      if (type.getElementType() != input.getElementType())
        return emitOpError("rotary tables must have the input's element type");
    }
  } else if (!getTheta() || getTheta()->convertToDouble() <= 0.0) {
    return emitOpError("theta must be positive");
  }
  auto positions = getPositions().getType();
  if (positions.getRank() != 2 ||
      !dimsCompatible(positions.getDimSize(0), input.getDimSize(0)) ||
      !dimsCompatible(positions.getDimSize(1), input.getDimSize(1)))
    return emitOpError("positions shape ")
           << shapeToString(positions.getShape())
           << " must be [batch, seq] of the input "
           << shapeToString(input.getShape().take_front(2));
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

int64_t AttentionOp::getHeadDim() {
  return getQuery().getType().getDimSize(2) / getNumHeads();
}

float AttentionOp::getEffectiveScale() {
  if (auto scale = getScale())
    return scale->convertToFloat();
  return 1.0f / std::sqrt(static_cast<float>(getHeadDim()));
}

LogicalResult AttentionOp::verify() {
  auto query = getQuery().getType();
  auto key = getKey().getType();
  auto value = getValue().getType();
  auto result = getResult().getType();
  int64_t numHeads = getNumHeads(), numKVHeads = getNumKvHeads();
  int64_t headDim, keyHeadDim, valueHeadDim;
  if (failed(verifyHeads(*this, "query", query, numHeads, headDim)) ||
      failed(verifyHeads(*this, "key", key, numKVHeads, keyHeadDim)) ||
      failed(verifyHeads(*this, "value", value, numKVHeads, valueHeadDim)))
    return failure();
  if (numHeads % numKVHeads != 0)
    return emitOpError("num_heads (")
           << numHeads << ") must be a multiple of num_kv_heads ("
           << numKVHeads << ")";
  if (keyHeadDim != headDim || valueHeadDim != headDim)
    return emitOpError("key/value head_dim (")
           << keyHeadDim << ", " << valueHeadDim
           << ") must equal the query head_dim (" << headDim << ")";
  if (key.getElementType() != query.getElementType() ||
      value.getElementType() != query.getElementType() ||
      result.getElementType() != query.getElementType())
    return emitOpError("query, key, value and result element types must "
                       "match");
  if (!dimsCompatible(key.getDimSize(0), query.getDimSize(0)) ||
      !dimsCompatible(value.getDimSize(0), query.getDimSize(0)))
    return emitOpError("batch sizes of query, key and value differ");
  if (!dimsCompatible(key.getDimSize(1), value.getDimSize(1)))
    return emitOpError("key and value sequence lengths differ");
  if (result.getShape() != query.getShape())
    return emitOpError("result type ")
           << result << " must equal the query type " << query;
  if (auto scale = getScale(); scale && !(scale->convertToFloat() > 0.0f))
    return emitOpError("scale must be positive");

  if (!getCache()) {
    if (getPosition())
      return emitOpError("a position requires a cache");
    if (getLayer())
      return emitOpError("'layer' requires a cache");
    if (getCausal() && !dimsCompatible(query.getDimSize(1), key.getDimSize(1)))
      return emitOpError("causal attention without a cache needs equal query "
                         "and key sequence lengths");
    return success();
  }
  if (!getPosition())
    return emitOpError("a cache requires a position");
  auto cache = cast<KVCacheType>(getCache().getType());
  if (auto rows = dyn_cast<RankedTensorType>(getPosition().getType()))
    if (!dimsCompatible(rows.getDimSize(0), query.getDimSize(0)))
      return emitOpError("per-row positions ")
             << shapeToString(rows.getShape())
             << " must have one entry per query row, batch "
             << query.getDimSize(0);
  if (!getLayer())
    return emitOpError("a cache requires a 'layer' attribute");
  int64_t layer = *getLayer();
  if (layer < 0 || layer >= cache.getNumLayers())
    return emitOpError("layer ")
           << layer << " is out of range for a cache of "
           << cache.getNumLayers() << " layers";
  if (cache.getNumHeads() != numKVHeads || cache.getHeadDim() != headDim)
    return emitOpError("cache holds ")
           << cache.getNumHeads() << " heads of dim " << cache.getHeadDim()
           << ", attention needs " << numKVHeads << " heads of dim "
           << headDim;
  if (!ShapedType::isDynamic(key.getDimSize(1)) &&
      key.getDimSize(1) > cache.getMaxSeq())
    return emitOpError("key sequence length ")
           << key.getDimSize(1) << " exceeds the cache capacity "
           << cache.getMaxSeq();
  return success();
}

//===----------------------------------------------------------------------===//
// ReshapeOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto input = getInput().getType();
  auto result = getResult().getType();
  if (input.getElementType() != result.getElementType())
    return emitOpError("reshape must not change the element type");
  if (input.hasStaticShape() && result.hasStaticShape() &&
      input.getNumElements() != result.getNumElements())
    return emitOpError("element count changes from ")
           << input.getNumElements() << " to " << result.getNumElements();
  if (llvm::count_if(result.getShape(), ShapedType::isDynamic) > 1)
    return emitOpError("result may have at most one dynamic dimension");
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) -> reshape(x).
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// SliceOp
//===----------------------------------------------------------------------===//

LogicalResult SliceOp::verify() {
  auto input = getInput().getType();
  auto result = getResult().getType();
  int64_t axis = getAxis(), start = getStart();
  if (axis < 0 || axis >= input.getRank())
    return emitOpError("axis ") << axis << " is out of range for rank "
                                << input.getRank();
  if (result.getRank() != input.getRank() ||
      input.getElementType() != result.getElementType())
    return emitOpError("result must have the input's rank and element type");
  for (int64_t i = 0; i < input.getRank(); ++i)
    if (i != axis && !dimsCompatible(input.getDimSize(i), result.getDimSize(i)))
      return emitOpError("dimension ")
             << i << " changes from " << input.getDimSize(i) << " to "
             << result.getDimSize(i) << " outside the sliced axis";
  int64_t size = result.getDimSize(axis);
  if (ShapedType::isDynamic(size) || size <= 0)
    return emitOpError("slice size along axis ")
           << axis << " must be static and positive";
  int64_t extent = input.getDimSize(axis);
  if (!ShapedType::isDynamic(extent)) {
    int64_t begin = start < 0 ? extent + start : start;
    if (begin < 0 || begin + size > extent)
      return emitOpError("slice [")
             << begin << ", " << begin + size << ") is out of bounds for extent "
             << extent;
  } else if (start < 0 && -start < size) {
    return emitOpError("a slice counted from the end (start = ")
           << start << ") cannot be longer than " << -start;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::verify() {
  auto input = getInput().getType();
  auto result = getResult().getType();
  ArrayRef<int64_t> perm = getPermutation();
  if (static_cast<int64_t>(perm.size()) != input.getRank())
    return emitOpError("permutation has ")
           << perm.size() << " entries for an input of rank "
           << input.getRank();
  llvm::SmallBitVector seen(perm.size());
  for (int64_t p : perm) {
    if (p < 0 || p >= input.getRank() || seen.test(p))
      return emitOpError("permutation is not a permutation of [0, ")
             << input.getRank() << ")";
    seen.set(p);
  }
  if (input.getElementType() != result.getElementType())
    return emitOpError("transpose must not change the element type");
  SmallVector<int64_t> expected;
  for (int64_t p : perm)
    expected.push_back(input.getDimSize(p));
  if (result.getRank() != input.getRank() ||
      !llvm::all_of(llvm::zip(expected, result.getShape()), [](auto p) {
        return dimsCompatible(std::get<0>(p), std::get<1>(p));
      }))
    return emitOpError("result shape ")
           << shapeToString(result.getShape()) << " does not match expected "
           << shapeToString(expected);
  return success();
}

static bool isIdentityPermutation(ArrayRef<int64_t> perm) {
  for (auto [i, p] : llvm::enumerate(perm))
    if (static_cast<int64_t>(i) != p)
      return false;
  return true;
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  if (isIdentityPermutation(getPermutation()) &&
      getInput().getType() == getType())
    return getInput();
  return {};
}

namespace {
/// transpose(transpose(x, p1), p2) -> transpose(x, p1 o p2).
struct ComposeTransposes : public OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto producer = op.getInput().getDefiningOp<TransposeOp>();
    if (!producer)
      return failure();
    ArrayRef<int64_t> inner = producer.getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t p : op.getPermutation())
      composed.push_back(inner[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(),
                                             producer.getInput(), composed);
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<ComposeTransposes>(context);
}
