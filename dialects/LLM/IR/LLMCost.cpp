//===- LLMCost.cpp - CostOpInterface implementations -----------------------===//
//
// Part of Frugal. FLOPs and bytes of every llm op, from its shapes. The
// conventions are stated on CostOpInterface in LLMInterfaces.td.
//
//===----------------------------------------------------------------------===//

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::llm;

int64_t mlir::llm::getNumElements(ArrayRef<int64_t> shape,
                                  const CostContext &ctx) {
  int64_t n = 1;
  for (int64_t dim : shape)
    n *= ShapedType::isDynamic(dim) ? ctx.dynamicDimSize : dim;
  return n;
}

static int64_t elementBytes(Type type) {
  return (getElementTypeOrSelf(type).getIntOrFloatBitWidth() + 7) / 8;
}

int64_t mlir::llm::getTensorBytes(Value value, const CostContext &ctx) {
  if (auto weight = value.getDefiningOp<WeightOp>())
    return weight.getStorageBytes();
  auto type = cast<RankedTensorType>(value.getType());
  return getNumElements(type.getShape(), ctx) * elementBytes(type);
}

static int64_t numElements(Value value, const CostContext &ctx) {
  return getNumElements(cast<ShapedType>(value.getType()).getShape(), ctx);
}

/// Reads every tensor operand and writes every result once.
static OpCost streamingCost(Operation *op, int64_t flops,
                            const CostContext &ctx) {
  OpCost cost;
  cost.flops = flops;
  for (Value operand : op->getOperands())
    if (isa<RankedTensorType>(operand.getType()))
      cost.bytesRead += getTensorBytes(operand, ctx);
  for (Value result : op->getResults())
    cost.bytesWritten += getTensorBytes(result, ctx);
  return cost;
}

// The weight itself is accounted by its consumers, in its stored layout.
OpCost WeightOp::getCost(const CostContext &) { return {}; }

OpCost EmbedOp::getCost(const CostContext &ctx) {
  // Only the selected rows of the table are read, in its stored layout
  // (a quantized table's codes, scales and mins).
  OpCost cost;
  int64_t vocab = getTable().getType().getDimSize(0);
  int64_t rowBytes = vocab > 0 ? getTensorBytes(getTable(), ctx) / vocab : 0;
  int64_t rows = numElements(getIds(), ctx);
  cost.bytesRead = getTensorBytes(getIds(), ctx) + rows * rowBytes;
  cost.bytesWritten = getTensorBytes(getResult(), ctx);
  return cost;
}

OpCost MatmulOp::getCost(const CostContext &ctx) {
  int64_t k = getLhs().getType().getShape().back();
  if (ShapedType::isDynamic(k))
    k = ctx.dynamicDimSize;
  // Result has [..., M, N] elements, each a K-long dot product.
  return streamingCost(*this, 2 * numElements(getResult(), ctx) * k, ctx);
}

OpCost RMSNormOp::getCost(const CostContext &ctx) {
  int64_t n = numElements(getInput(), ctx);
  int64_t rows = n / std::max<int64_t>(1, getInput().getType().getShape().back());
  // Square-accumulate (2/elem), scale by rsqrt and weight (2/elem), one
  // rsqrt per row.
  return streamingCost(*this, 4 * n + rows, ctx);
}

OpCost LayerNormOp::getCost(const CostContext &ctx) {
  int64_t n = numElements(getInput(), ctx);
  int64_t rows = n / std::max<int64_t>(1, getInput().getType().getShape().back());
  // Mean (1), centred square-accumulate (3), normalize+scale (2), bias (1).
  int64_t perElement = getBias() ? 7 : 6;
  return streamingCost(*this, perElement * n + rows, ctx);
}

OpCost SoftmaxOp::getCost(const CostContext &ctx) {
  // max, subtract, exp, sum, divide.
  return streamingCost(*this, 5 * numElements(getInput(), ctx), ctx);
}

OpCost RopeOp::getCost(const CostContext &ctx) {
  int64_t n = numElements(getInput(), ctx);
  int64_t rotated = n / getHeadDim() * getEffectiveRotaryDim();
  // Each rotated pair: 4 multiplies, 2 adds, one sin and one cos.
  return streamingCost(*this, 4 * rotated, ctx);
}

OpCost AttentionOp::getCost(const CostContext &ctx) {
  auto query = getQuery().getType();
  int64_t batch = getNumElements(query.getShape().take_front(1), ctx);
  int64_t seqQ = getNumElements(query.getShape().slice(1, 1), ctx);
  int64_t seqKV = getNumElements(getKey().getType().getShape().slice(1, 1), ctx);
  int64_t headDim = getHeadDim();
  int64_t past = getCache() ? ctx.pastTokens : 0;
  // A ring-buffer cache (sliding window) holds only the last `window`.
  if (auto cache = dyn_cast_if_present<KVCacheType>(
          getCache() ? getCache().getType() : Type()))
    if (KVLayoutAttr layout = cache.getLayout(); layout && layout.getWindow())
      past = std::min(past, layout.getWindow());

  // Query/key pairs that are scored: causal queries see the past plus the
  // new keys up to and including their own position.
  int64_t pairs;
  if (getCausal())
    pairs = seqQ * past + seqQ * (seqQ + 1) / 2;
  else
    pairs = seqQ * (past + seqKV);
  pairs *= batch * getNumHeads();

  OpCost cost;
  // QK^T and PV are 2*head_dim each per pair; softmax is 5 per pair.
  cost.flops = pairs * (4 * headDim + 5);
  cost.bytesRead = getTensorBytes(getQuery(), ctx) +
                   getTensorBytes(getKey(), ctx) +
                   getTensorBytes(getValue(), ctx);
  cost.bytesWritten = getTensorBytes(getResult(), ctx);
  if (auto cache = dyn_cast_if_present<KVCacheType>(
          getCache() ? getCache().getType() : Type())) {
    int64_t perToken = cache.getBytesPerTokenPerLayer() * batch;
    cost.bytesRead += past * perToken;
    cost.bytesWritten += seqKV * perToken;
  }
  return cost;
}

OpCost AddOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, numElements(getResult(), ctx), ctx);
}

OpCost MulOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, numElements(getResult(), ctx), ctx);
}

OpCost SiluOp::getCost(const CostContext &ctx) {
  // negate, exp, add, divide, multiply.
  return streamingCost(*this, 5 * numElements(getResult(), ctx), ctx);
}

OpCost GeluOp::getCost(const CostContext &ctx) {
  // erf form: scale, erf, add, 2 multiplies; tanh form: cube polynomial
  // (4), tanh, add, 2 multiplies.
  int64_t perElement =
      getTanh() ? 8 : 5;
  return streamingCost(*this, perElement * numElements(getResult(), ctx), ctx);
}

OpCost PositionIdsOp::getCost(const CostContext &ctx) {
  OpCost cost;
  cost.bytesWritten = getTensorBytes(getResult(), ctx);
  return cost;
}

OpCost SliceOp::getCost(const CostContext &ctx) {
  int64_t bytes = getTensorBytes(getResult(), ctx);
  return {0, bytes, bytes};
}

// A reshape of a contiguous tensor is a view; a transpose is a copy.
OpCost ReshapeOp::getCost(const CostContext &) { return {}; }

OpCost TransposeOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, 0, ctx);
}

//===----------------------------------------------------------------------===//
// Generic tensor ops
//===----------------------------------------------------------------------===//

OpCost SubOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, numElements(getResult(), ctx), ctx);
}
OpCost DivOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, numElements(getResult(), ctx), ctx);
}
// pow = exp(b * log(a)): two transcendentals and a multiply.
OpCost PowOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, 3 * numElements(getResult(), ctx), ctx);
}
OpCost CompareOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, numElements(getResult(), ctx), ctx);
}
OpCost SelectOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, numElements(getResult(), ctx), ctx);
}
OpCost SqrtOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, numElements(getResult(), ctx), ctx);
}
OpCost ReciprocalOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, numElements(getResult(), ctx), ctx);
}
OpCost TanhOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, numElements(getResult(), ctx), ctx);
}
OpCost ErfOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, numElements(getResult(), ctx), ctx);
}
// negate, exp, add, divide.
OpCost SigmoidOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, 4 * numElements(getResult(), ctx), ctx);
}
OpCost ExpOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, numElements(getResult(), ctx), ctx);
}
OpCost NegOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, numElements(getResult(), ctx), ctx);
}
OpCost CastOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, numElements(getResult(), ctx), ctx);
}
OpCost TriluOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, 0, ctx);
}
OpCost ReduceMeanOp::getCost(const CostContext &ctx) {
  // One add per input element, one divide per output.
  return streamingCost(*this,
                       numElements(getInput(), ctx) +
                           numElements(getResult(), ctx),
                       ctx);
}
// Data movement: the gathered/copied result is read and written.
OpCost GatherOp::getCost(const CostContext &ctx) {
  int64_t bytes = getTensorBytes(getResult(), ctx);
  return {0, bytes + getTensorBytes(getIndices(), ctx), bytes};
}
OpCost ConcatOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, 0, ctx);
}
OpCost ExpandOp::getCost(const CostContext &ctx) {
  return streamingCost(*this, 0, ctx);
}
