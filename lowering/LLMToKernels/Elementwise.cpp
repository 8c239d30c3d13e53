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

/// out[idx] = fn(inputs[bcast(idx)]...) with scalar loops (any element
/// types, numpy broadcasting of static size-1 dimensions).
void broadcastLoops(
    OpBuilder &b, Location loc, ValueRange inputs, Value out,
    llvm::function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  auto outType = cast<MemRefType>(out.getType());
  int64_t rank = outType.getRank();
  forAllIndices(b, loc, out, [&](OpBuilder &nb, Location l, ValueRange ivs) {
    SmallVector<Value> loaded;
    for (Value in : inputs) {
      auto type = cast<MemRefType>(in.getType());
      int64_t offset = rank - type.getRank();
      SmallVector<Value> idx;
      for (int64_t i = 0; i < type.getRank(); ++i) {
        bool broadcast = type.getDimSize(i) == 1 &&
                         outType.getDimSize(i + offset) != 1;
        idx.push_back(broadcast ? cIdx(nb, l, 0) : ivs[i + offset]);
      }
      loaded.push_back(memref::LoadOp::create(nb, l, in, idx));
    }
    memref::StoreOp::create(nb, l, fn(nb, l, loaded), out, ivs);
  });
}

/// Dynamic result sizes of an elementwise op: from the first operand of full
/// rank whose dimension is not a broadcast 1.
SmallVector<Value> elementwiseDynSizes(OpBuilder &b, Location loc,
                                       MemRefType resultType,
                                       ValueRange operands) {
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < resultType.getRank(); ++d) {
    if (!resultType.isDynamicDim(d))
      continue;
    Value size;
    for (Value operand : operands) {
      auto type = cast<MemRefType>(operand.getType());
      int64_t od = d - (resultType.getRank() - type.getRank());
      if (od >= 0 && type.isDynamicDim(od)) {
        size = dimOf(b, loc, operand, od);
        break;
      }
    }
    sizes.push_back(size);
  }
  return sizes;
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
    std::string name = ("__llm_" + op->getName().stripDialect() +
                        mangle(TypeRange{lhsType, rhsType}))
                           .str();
    int64_t width = this->options.vectorWidth;
    auto fn = [](OpBuilder &b, Location l, Value x, Value y) -> Value {
      return ArithOp::create(b, l, x, y);
    };
    bool f32 = resultType.getElementType().isF32();
    bool sameShape = f32 && lhsType.getShape() == resultType.getShape() &&
                     rhsType.getShape() == resultType.getShape();
    int64_t lastDim = resultType.getShape().back();
    bool rowBias = f32 && lhsType.getShape() == resultType.getShape() &&
                   rhsType.getRank() == 1 && rhsType.getDimSize(0) == lastDim &&
                   !ShapedType::isDynamic(lastDim);
    emitKernelCall(
        rewriter, op, name, {lhs, rhs}, resultType,
        elementwiseDynSizes(rewriter, op.getLoc(), resultType, {lhs, rhs}),
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
          broadcastLoops(b, loc, {args[0], args[1]}, args[2],
                         [&](OpBuilder &nb, Location l, ValueRange vs) {
                           return fn(nb, l, vs[0], vs[1]);
                         });
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

/// The math of each unary op, on a scalar or a vector.
Value applyUnary(SiluOp, OpBuilder &b, Location l, Value x) { return silu(b, l, x); }
Value applyUnary(GeluOp op, OpBuilder &b, Location l, Value x) {
  return gelu(b, l, x, op.getTanh());
}
Value applyUnary(SqrtOp, OpBuilder &b, Location l, Value x) {
  return math::SqrtOp::create(b, l, x);
}
Value applyUnary(ReciprocalOp, OpBuilder &b, Location l, Value x) {
  return arith::DivFOp::create(b, l, splatLike(b, l, x, 1.0f), x);
}
Value applyUnary(TanhOp, OpBuilder &b, Location l, Value x) {
  return math::TanhOp::create(b, l, x);
}
Value applyUnary(ErfOp, OpBuilder &b, Location l, Value x) {
  return math::ErfOp::create(b, l, x);
}
Value applyUnary(SigmoidOp, OpBuilder &b, Location l, Value x) {
  Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x));
  Value denom = arith::AddFOp::create(b, l, splatLike(b, l, x, 1.0f), e);
  return arith::DivFOp::create(b, l, splatLike(b, l, x, 1.0f), denom);
}
Value applyUnary(ExpOp, OpBuilder &b, Location l, Value x) {
  return math::ExpOp::create(b, l, x);
}
Value applyUnary(NegOp, OpBuilder &b, Location l, Value x) {
  return arith::NegFOp::create(b, l, x);
}

template <typename OpTy>
struct UnaryToKernel : public KernelPattern<OpTy> {
  using KernelPattern<OpTy>::KernelPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = this->convertedResultType(op);
    if (!resultType.getElementType().isF32())
      return op.emitOpError("the CPU lowering computes in f32 only");
    std::string variant;
    if constexpr (std::is_same_v<OpTy, GeluOp>)
      variant = op.getTanh() ? "_tanh" : "";
    std::string name = ("__llm_" + op->getName().stripDialect() + variant +
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
                    return applyUnary(op, nb, l, vs[0]);
                  });
        });
    return success();
  }
};

Value compareValues(OpBuilder &b, Location l, ComparePredicate pred, Value x,
                    Value y) {
  if (isa<FloatType>(x.getType())) {
    arith::CmpFPredicate p;
    switch (pred) {
    case ComparePredicate::eq: p = arith::CmpFPredicate::OEQ; break;
    case ComparePredicate::ne: p = arith::CmpFPredicate::UNE; break;
    case ComparePredicate::lt: p = arith::CmpFPredicate::OLT; break;
    case ComparePredicate::le: p = arith::CmpFPredicate::OLE; break;
    case ComparePredicate::gt: p = arith::CmpFPredicate::OGT; break;
    case ComparePredicate::ge: p = arith::CmpFPredicate::OGE; break;
    }
    return arith::CmpFOp::create(b, l, p, x, y);
  }
  arith::CmpIPredicate p;
  switch (pred) {
  case ComparePredicate::eq: p = arith::CmpIPredicate::eq; break;
  case ComparePredicate::ne: p = arith::CmpIPredicate::ne; break;
  case ComparePredicate::lt: p = arith::CmpIPredicate::slt; break;
  case ComparePredicate::le: p = arith::CmpIPredicate::sle; break;
  case ComparePredicate::gt: p = arith::CmpIPredicate::sgt; break;
  case ComparePredicate::ge: p = arith::CmpIPredicate::sge; break;
  }
  return arith::CmpIOp::create(b, l, p, x, y);
}

struct CompareToKernel : public KernelPattern<CompareOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(CompareOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    ComparePredicate pred = op.getPredicate();
    std::string name = ("__llm_compare_" + stringifyComparePredicate(pred) +
                        mangle(TypeRange{adaptor.getLhs().getType(),
                                         adaptor.getRhs().getType()}))
                           .str();
    ValueRange operands = adaptor.getOperands();
    emitKernelCall(rewriter, op, name, operands, resultType,
                   elementwiseDynSizes(rewriter, op.getLoc(), resultType, operands),
                   [&](OpBuilder &b, Location loc, ValueRange args) {
                     broadcastLoops(b, loc, args.drop_back(), args.back(),
                                    [&](OpBuilder &nb, Location l, ValueRange vs) {
                                      return compareValues(nb, l, pred, vs[0], vs[1]);
                                    });
                   });
    return success();
  }
};

struct SelectToKernel : public KernelPattern<SelectOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(SelectOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    ValueRange operands = adaptor.getOperands();
    std::string name = "__llm_select" + mangle(operands.getTypes());
    emitKernelCall(rewriter, op, name, operands, resultType,
                   elementwiseDynSizes(rewriter, op.getLoc(), resultType, operands),
                   [&](OpBuilder &b, Location loc, ValueRange args) {
                     broadcastLoops(b, loc, args.drop_back(), args.back(),
                                    [&](OpBuilder &nb, Location l, ValueRange vs) {
                                      return arith::SelectOp::create(nb, l, vs[0],
                                                                     vs[1], vs[2])
                                          .getResult();
                                    });
                   });
    return success();
  }
};

/// Converts a scalar between element types with ONNX Cast semantics.
Value castValue(OpBuilder &b, Location l, Value x, Type to) {
  Type from = x.getType();
  if (from == to)
    return x;
  auto fromF = dyn_cast<FloatType>(from), toF = dyn_cast<FloatType>(to);
  if (to.isInteger(1)) {
    if (fromF)
      return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNE, x,
                                   arith::ConstantOp::create(b, l, b.getFloatAttr(from, 0.0)));
    return arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, x,
                                 arith::ConstantOp::create(b, l, b.getIntegerAttr(from, 0)));
  }
  if (fromF && toF)
    return fromF.getWidth() < toF.getWidth()
               ? arith::ExtFOp::create(b, l, to, x).getResult()
               : arith::TruncFOp::create(b, l, to, x).getResult();
  if (fromF)
    return arith::FPToSIOp::create(b, l, to, x);
  if (toF)
    return from.isInteger(1) ? arith::UIToFPOp::create(b, l, to, x).getResult()
                             : arith::SIToFPOp::create(b, l, to, x).getResult();
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (fw < tw)
    return from.isInteger(1) ? arith::ExtUIOp::create(b, l, to, x).getResult()
                             : arith::ExtSIOp::create(b, l, to, x).getResult();
  return arith::TruncIOp::create(b, l, to, x);
}

struct CastToKernel : public KernelPattern<CastOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(CastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    std::string name = "__llm_cast" + mangle(TypeRange{adaptor.getInput().getType(),
                                                       resultType});
    SmallVector<int64_t> dims = llvm::to_vector(
        llvm::seq<int64_t>(0, resultType.getRank()));
    Type to = resultType.getElementType();
    emitKernelCall(
        rewriter, op, name, {adaptor.getInput()}, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getInput(), dims),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          broadcastLoops(b, loc, {args[0]}, args[1],
                         [&](OpBuilder &nb, Location l, ValueRange vs) {
                           return castValue(nb, l, vs[0], to);
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
               BinaryToKernel<MulOp, arith::MulFOp>,
               BinaryToKernel<SubOp, arith::SubFOp>,
               BinaryToKernel<DivOp, arith::DivFOp>,
               BinaryToKernel<PowOp, math::PowFOp>, UnaryToKernel<SiluOp>,
               UnaryToKernel<GeluOp>, UnaryToKernel<SqrtOp>,
               UnaryToKernel<ReciprocalOp>, UnaryToKernel<TanhOp>,
               UnaryToKernel<ErfOp>, UnaryToKernel<SigmoidOp>,
               UnaryToKernel<ExpOp>, UnaryToKernel<NegOp>, CompareToKernel,
               SelectToKernel, CastToKernel>(converter, patterns.getContext(),
                                             options);
}
