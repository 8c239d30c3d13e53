//===- Elementwise.cpp - add/mul/silu/gelu -> vector kernels ---------------===//
//
// Part of Frugal. Same-shape operands run as one flat vector loop; a rank-1
// operand broadcast along the rows (a bias) runs row by row; any other
// broadcast falls back to a scalar loop nest.
//
//===----------------------------------------------------------------------===//

#include "lowering/LLMToKernels/KernelBuilder.h"

#include <cmath>

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::kernels;

namespace {

using ScalarFn =
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value)>;

/// Applies `fn` (elementwise; works on scalars and vectors) to a flat range.
void flatMap(OpBuilder &b, Location loc, ValueRange inputs, Value out,
             int64_t width,
             llvm::function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  SmallVector<Value> flatIn;
  for (Value in : inputs)
    flatIn.push_back(collapseToFlat(b, loc, in));
  Value flatOut = collapseToFlat(b, loc, out);
  Value n = dimOf(b, loc, flatOut, 0);
  forEachChunk(
      b, loc, n, width,
      [&](OpBuilder &nb, Location l, Value i) {
        SmallVector<Value> vs;
        for (Value in : flatIn)
          vs.push_back(loadVec(nb, l, width, in, {i}));
        storeVec(nb, l, fn(nb, l, vs), flatOut, {i});
      },
      [&](OpBuilder &nb, Location l, Value i) {
        SmallVector<Value> vs;
        for (Value in : flatIn)
          vs.push_back(memref::LoadOp::create(nb, l, in, ValueRange{i}));
        memref::StoreOp::create(nb, l, fn(nb, l, vs), flatOut, ValueRange{i});
      });
}

/// out[idx] = fn(lhs[bcast(idx)], rhs[bcast(idx)]) with scalar loops.
void broadcastLoops(OpBuilder &b, Location loc, Value lhs, Value rhs, Value out,
                    ScalarFn fn) {
  auto outType = cast<MemRefType>(out.getType());
  int64_t rank = outType.getRank();
  SmallVector<Value> ivs;
  auto operandIndices = [&](OpBuilder &nb, Location l, Value operand) {
    auto type = cast<MemRefType>(operand.getType());
    SmallVector<Value> idx;
    int64_t offset = rank - type.getRank();
    for (int64_t i = 0; i < type.getRank(); ++i) {
      bool broadcast = type.getDimSize(i) == 1 &&
                       outType.getDimSize(i + offset) != 1;
      idx.push_back(broadcast ? cIdx(nb, l, 0) : ivs[i + offset]);
    }
    return idx;
  };
  std::function<void(OpBuilder &, Location, int64_t)> build =
      [&](OpBuilder &nb, Location l, int64_t d) {
        if (d == rank) {
          Value x = memref::LoadOp::create(nb, l, lhs, operandIndices(nb, l, lhs));
          Value y = memref::LoadOp::create(nb, l, rhs, operandIndices(nb, l, rhs));
          memref::StoreOp::create(nb, l, fn(nb, l, x, y), out, ivs);
          return;
        }
        forLoop(nb, l, cIdx(nb, l, 0), dimOf(nb, l, out, d), 1,
                [&](OpBuilder &ib, Location il, Value iv) {
                  ivs.push_back(iv);
                  build(ib, il, d + 1);
                  ivs.pop_back();
                });
      };
  build(b, loc, 0);
}

template <typename OpTy, typename ArithOp>
struct BinaryToKernel : public KernelPattern<OpTy> {
  using KernelPattern<OpTy>::KernelPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = this->convertedResultType(op);
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    auto lhsType = cast<MemRefType>(lhs.getType());
    auto rhsType = cast<MemRefType>(rhs.getType());
    // The result's dynamic extents come from an operand of full rank.
    Value shapeSource = lhsType.getRank() == resultType.getRank() ? lhs : rhs;
    SmallVector<int64_t> dims = llvm::to_vector(
        llvm::seq<int64_t>(0, resultType.getRank()));
    std::string name = ("__llm_" + op->getName().stripDialect() +
                        mangle(TypeRange{lhsType, rhsType}))
                           .str();
    int64_t width = this->options.vectorWidth;
    auto fn = [](OpBuilder &b, Location l, Value x, Value y) -> Value {
      return ArithOp::create(b, l, x, y);
    };
    bool sameShape = lhsType.getShape() == resultType.getShape() &&
                     rhsType.getShape() == resultType.getShape();
    int64_t lastDim = resultType.getShape().back();
    bool rowBias = lhsType.getShape() == resultType.getShape() &&
                   rhsType.getRank() == 1 && rhsType.getDimSize(0) == lastDim &&
                   !ShapedType::isDynamic(lastDim);
    emitKernelCall(
        rewriter, op, name, {lhs, rhs}, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, shapeSource, dims),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          if (sameShape) {
            flatMap(b, loc, {args[0], args[1]}, args[2], width,
                    [&](OpBuilder &nb, Location l, ValueRange vs) {
                      return fn(nb, l, vs[0], vs[1]);
                    });
            return;
          }
          if (rowBias) {
            Value x = collapseToRows(b, loc, args[0]);
            Value out = collapseToRows(b, loc, args[2]);
            Value bias = args[1];
            Value d = dimOf(b, loc, x, 1);
            forLoop(b, loc, cIdx(b, loc, 0), dimOf(b, loc, x, 0), 1,
                    [&](OpBuilder &fb, Location l, Value row) {
                      forEachChunk(
                          fb, l, d, width,
                          [&](OpBuilder &nb, Location nl, Value k) {
                            Value v = fn(nb, nl,
                                         loadVec(nb, nl, width, x, {row, k}),
                                         loadVec(nb, nl, width, bias, {k}));
                            storeVec(nb, nl, v, out, {row, k});
                          },
                          [&](OpBuilder &nb, Location nl, Value k) {
                            Value v = fn(
                                nb, nl,
                                memref::LoadOp::create(nb, nl, x, ValueRange{row, k}),
                                memref::LoadOp::create(nb, nl, bias, ValueRange{k}));
                            memref::StoreOp::create(nb, nl, v, out,
                                                    ValueRange{row, k});
                          });
                    });
            return;
          }
          broadcastLoops(b, loc, args[0], args[1], args[2], fn);
        });
    return success();
  }
};

Value splatLike(OpBuilder &b, Location loc, Value like, float value) {
  Value c = cF32(b, loc, value);
  if (auto vt = dyn_cast<VectorType>(like.getType()))
    return vector::BroadcastOp::create(b, loc, vt, c);
  return c;
}

/// x * sigmoid(x) = x / (1 + exp(-x)).
Value silu(OpBuilder &b, Location loc, Value x) {
  Value negX = arith::NegFOp::create(b, loc, x);
  Value e = math::ExpOp::create(b, loc, negX);
  Value denom = arith::AddFOp::create(b, loc, splatLike(b, loc, x, 1.0f), e);
  return arith::DivFOp::create(b, loc, x, denom);
}

/// 0.5 x (1 + erf(x / sqrt 2)), or the tanh approximation.
Value gelu(OpBuilder &b, Location loc, Value x, bool tanhForm) {
  Value inner;
  if (tanhForm) {
    Value x3 = arith::MulFOp::create(b, loc, x, arith::MulFOp::create(b, loc, x, x));
    Value poly = arith::AddFOp::create(
        b, loc, x,
        arith::MulFOp::create(b, loc, splatLike(b, loc, x, 0.044715f), x3));
    Value scaled = arith::MulFOp::create(
        b, loc, splatLike(b, loc, x, static_cast<float>(std::sqrt(2.0 / M_PI))),
        poly);
    inner = math::TanhOp::create(b, loc, scaled);
  } else {
    Value scaled = arith::MulFOp::create(
        b, loc, x, splatLike(b, loc, x, static_cast<float>(M_SQRT1_2)));
    inner = math::ErfOp::create(b, loc, scaled);
  }
  Value onePlus = arith::AddFOp::create(b, loc, splatLike(b, loc, x, 1.0f), inner);
  Value half = arith::MulFOp::create(b, loc, splatLike(b, loc, x, 0.5f), x);
  return arith::MulFOp::create(b, loc, half, onePlus);
}

template <typename OpTy>
struct UnaryToKernel : public KernelPattern<OpTy> {
  using KernelPattern<OpTy>::KernelPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = this->convertedResultType(op);
    bool tanhForm = false;
    if constexpr (std::is_same_v<OpTy, GeluOp>)
      tanhForm = op.getTanh();
    std::string name = ("__llm_" + op->getName().stripDialect() +
                        (tanhForm ? "_tanh" : "") +
                        mangle(TypeRange{adaptor.getInput().getType()}))
                           .str();
    SmallVector<int64_t> dims = llvm::to_vector(
        llvm::seq<int64_t>(0, resultType.getRank()));
    int64_t width = this->options.vectorWidth;
    emitKernelCall(
        rewriter, op, name, {adaptor.getInput()}, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getInput(), dims),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          flatMap(b, loc, {args[0]}, args[1], width,
                  [&](OpBuilder &nb, Location l, ValueRange vs) {
                    if constexpr (std::is_same_v<OpTy, GeluOp>)
                      return gelu(nb, l, vs[0], tanhForm);
                    else
                      return silu(nb, l, vs[0]);
                  });
        });
    return success();
  }
};

} // namespace

void kernels::populateElementwiseKernelPatterns(const TypeConverter &converter,
                                                RewritePatternSet &patterns,
                                                const KernelOptions &options) {
  patterns.add<BinaryToKernel<AddOp, arith::AddFOp>,
               BinaryToKernel<MulOp, arith::MulFOp>, UnaryToKernel<SiluOp>,
               UnaryToKernel<GeluOp>>(converter, patterns.getContext(), options);
}
