//===- Norm.cpp - Normalizations and softmax -> row kernels
//----------------===//
//
// Part of Frugal. Each kernel walks the rows of its input (all dimensions
// but the last) and reduces along the last dimension with vector
// accumulators.
//
//===----------------------------------------------------------------------===//

#include "lowering/LLMToKernels/KernelBuilder.h"

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::kernels;

namespace {

Value splat(OpBuilder &b, Location loc, Value scalar, int64_t width) {
  return vector::BroadcastOp::create(b, loc, vecType(b, width), scalar);
}

/// Row-wise: sum_k f(x[k]) with vector and scalar forms of f.
Value rowSum(OpBuilder &b, Location loc, Value x, Value row, Value d,
             int64_t width,
             llvm::function_ref<Value(OpBuilder &, Location, Value)> f) {
  return sumChunks(
      b, loc, d, width,
      [&](OpBuilder &nb, Location l, Value k) {
        return f(nb, l, loadVec(nb, l, width, x, {row, k}));
      },
      [&](OpBuilder &nb, Location l, Value k) {
        return f(nb, l, memref::LoadOp::create(nb, l, x, ValueRange{row, k}));
      });
}

/// y[row, k] = f(x[row, k], k) over the row, vector and scalar forms.
void rowMap(
    OpBuilder &b, Location loc, Value x, Value y, Value row, Value d,
    int64_t width,
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value, bool)> f) {
  forEachChunk(
      b, loc, d, width,
      [&](OpBuilder &nb, Location l, Value k) {
        Value v = f(nb, l, loadVec(nb, l, width, x, {row, k}), k, true);
        storeVec(nb, l, v, y, {row, k});
      },
      [&](OpBuilder &nb, Location l, Value k) {
        Value v = f(nb, l, memref::LoadOp::create(nb, l, x, ValueRange{row, k}),
                    k, false);
        memref::StoreOp::create(nb, l, v, y, ValueRange{row, k});
      });
}

Value loadParam(OpBuilder &b, Location loc, Value param, Value k, bool vec,
                int64_t width) {
  if (vec)
    return loadVec(b, loc, width, param, {k});
  return memref::LoadOp::create(b, loc, param, ValueRange{k});
}

Value broadcastIf(OpBuilder &b, Location loc, Value scalar, bool vec,
                  int64_t width) {
  return vec ? splat(b, loc, scalar, width) : scalar;
}

struct RMSNormToKernel : public KernelPattern<RMSNormOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(RMSNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    float eps = static_cast<float>(op.getEpsilon().convertToDouble());
    std::string name = "__llm_rms_norm" +
                       mangle(TypeRange{adaptor.getInput().getType()}) +
                       "_eps" + std::to_string(llvm::bit_cast<uint32_t>(eps));
    int64_t width = options.vectorWidth;
    SmallVector<int64_t> dims =
        llvm::to_vector(llvm::seq<int64_t>(0, resultType.getRank()));
    emitKernelCall(
        rewriter, op, name, {adaptor.getInput(), adaptor.getWeight()},
        resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getInput(),
                     dims),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value x = collapseToRows(b, loc, args[0]);
          Value g = args[1];
          Value y = collapseToRows(b, loc, args[2]);
          Value rows = dimOf(b, loc, x, 0), d = dimOf(b, loc, x, 1);
          Value dF = arith::UIToFPOp::create(
              b, loc, b.getF32Type(),
              arith::IndexCastOp::create(b, loc, b.getI64Type(), d));
          forLoop(
              b, loc, cIdx(b, loc, 0), rows, 1,
              [&](OpBuilder &fb, Location l, Value row) {
                Value ss = rowSum(
                    fb, l, x, row, d, width,
                    [](OpBuilder &nb, Location nl, Value v) {
                      return arith::MulFOp::create(nb, nl, v, v).getResult();
                    });
                Value mean = arith::DivFOp::create(fb, l, ss, dF);
                Value inv = math::RsqrtOp::create(
                    fb, l,
                    arith::AddFOp::create(fb, l, mean, cF32(fb, l, eps)));
                rowMap(fb, l, x, y, row, d, width,
                       [&](OpBuilder &nb, Location nl, Value v, Value k,
                           bool vec) {
                         Value s = arith::MulFOp::create(
                             nb, nl, v, broadcastIf(nb, nl, inv, vec, width));
                         return arith::MulFOp::create(
                                    nb, nl, s,
                                    loadParam(nb, nl, g, k, vec, width))
                             .getResult();
                       });
              });
        });
    return success();
  }
};

struct LayerNormToKernel : public KernelPattern<LayerNormOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    float eps = static_cast<float>(op.getEpsilon().convertToDouble());
    bool hasBias = static_cast<bool>(adaptor.getBias());
    std::string name = "__llm_layer_norm" +
                       mangle(TypeRange{adaptor.getInput().getType()}) +
                       (hasBias ? "_bias" : "") + "_eps" +
                       std::to_string(llvm::bit_cast<uint32_t>(eps));
    int64_t width = options.vectorWidth;
    SmallVector<Value> operands = {adaptor.getInput(), adaptor.getWeight()};
    if (hasBias)
      operands.push_back(adaptor.getBias());
    SmallVector<int64_t> dims =
        llvm::to_vector(llvm::seq<int64_t>(0, resultType.getRank()));
    emitKernelCall(
        rewriter, op, name, operands, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getInput(),
                     dims),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value x = collapseToRows(b, loc, args[0]);
          Value g = args[1];
          Value bias = hasBias ? args[2] : Value();
          Value y = collapseToRows(b, loc, args.back());
          Value rows = dimOf(b, loc, x, 0), d = dimOf(b, loc, x, 1);
          Value dF = arith::UIToFPOp::create(
              b, loc, b.getF32Type(),
              arith::IndexCastOp::create(b, loc, b.getI64Type(), d));
          forLoop(
              b, loc, cIdx(b, loc, 0), rows, 1,
              [&](OpBuilder &fb, Location l, Value row) {
                Value sum =
                    rowSum(fb, l, x, row, d, width,
                           [](OpBuilder &, Location, Value v) { return v; });
                Value mean = arith::DivFOp::create(fb, l, sum, dF);
                Value var = rowSum(
                    fb, l, x, row, d, width,
                    [&](OpBuilder &nb, Location nl, Value v) {
                      Value m = v.getType().isF32()
                                    ? mean
                                    : splat(nb, nl, mean, width);
                      Value c = arith::SubFOp::create(nb, nl, v, m);
                      return arith::MulFOp::create(nb, nl, c, c).getResult();
                    });
                var = arith::DivFOp::create(fb, l, var, dF);
                Value inv = math::RsqrtOp::create(
                    fb, l, arith::AddFOp::create(fb, l, var, cF32(fb, l, eps)));
                rowMap(fb, l, x, y, row, d, width,
                       [&](OpBuilder &nb, Location nl, Value v, Value k,
                           bool vec) {
                         Value c = arith::SubFOp::create(
                             nb, nl, v, broadcastIf(nb, nl, mean, vec, width));
                         Value s = arith::MulFOp::create(
                             nb, nl, c, broadcastIf(nb, nl, inv, vec, width));
                         Value r = arith::MulFOp::create(
                             nb, nl, s, loadParam(nb, nl, g, k, vec, width));
                         if (bias)
                           r = arith::AddFOp::create(
                               nb, nl, r,
                               loadParam(nb, nl, bias, k, vec, width));
                         return r;
                       });
              });
        });
    return success();
  }
};

struct SoftmaxToKernel : public KernelPattern<SoftmaxOp> {
  using KernelPattern::KernelPattern;

  /// Softmax along an inner axis: scalar loops over the other dimensions,
  /// three passes along the axis.
  LogicalResult lowerAlongAxis(SoftmaxOp op, OpAdaptor adaptor,
                               ConversionPatternRewriter &rewriter,
                               MemRefType resultType, int64_t axis) const {
    std::string name = "__llm_softmax" +
                       mangle(TypeRange{adaptor.getInput().getType()}) + "_a" +
                       std::to_string(axis);
    int64_t rank = resultType.getRank();
    SmallVector<int64_t> dims = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    emitKernelCall(
        rewriter, op, name, {adaptor.getInput()}, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getInput(),
                     dims),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value x = args[0], y = args[1];
          Value n = dimOf(b, loc, x, axis);
          forAllIndices(
              b, loc, x,
              [&](OpBuilder &nb, Location l, ValueRange ivs) {
                auto at = [&](Value k) {
                  SmallVector<Value> idx(ivs);
                  idx.insert(idx.begin() + axis, k);
                  return idx;
                };
                auto reduce = [&](float init, bool isMax, bool writeExp,
                                  Value mx) {
                  auto loop = scf::ForOp::create(
                      nb, l, cIdx(nb, l, 0), n, cIdx(nb, l, 1),
                      ValueRange{cF32(nb, l, init)},
                      [&](OpBuilder &fb, Location fl, Value k, ValueRange acc) {
                        Value v = memref::LoadOp::create(fb, fl, x, at(k));
                        Value r;
                        if (isMax) {
                          r = arith::MaxNumFOp::create(fb, fl, acc[0], v);
                        } else {
                          Value e = math::ExpOp::create(
                              fb, fl, arith::SubFOp::create(fb, fl, v, mx));
                          if (writeExp)
                            memref::StoreOp::create(fb, fl, e, y, at(k));
                          r = arith::AddFOp::create(fb, fl, acc[0], e);
                        }
                        scf::YieldOp::create(fb, fl, r);
                      });
                  return loop.getResult(0);
                };
                Value mx = reduce(-std::numeric_limits<float>::infinity(), true,
                                  false, Value());
                Value sum = reduce(0.0f, false, true, mx);
                Value inv =
                    arith::DivFOp::create(nb, l, cF32(nb, l, 1.0f), sum);
                forLoop(nb, l, cIdx(nb, l, 0), n, 1,
                        [&](OpBuilder &fb, Location fl, Value k) {
                          Value e = memref::LoadOp::create(fb, fl, y, at(k));
                          memref::StoreOp::create(
                              fb, fl, arith::MulFOp::create(fb, fl, e, inv), y,
                              at(k));
                        });
              },
              axis);
        });
    return success();
  }

  LogicalResult
  matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    int64_t rank = resultType.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    if (axis != rank - 1)
      return lowerAlongAxis(op, adaptor, rewriter, resultType, axis);
    std::string name =
        "__llm_softmax" + mangle(TypeRange{adaptor.getInput().getType()});
    int64_t width = options.vectorWidth;
    SmallVector<int64_t> dims = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    emitKernelCall(
        rewriter, op, name, {adaptor.getInput()}, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getInput(),
                     dims),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value x = collapseToRows(b, loc, args[0]);
          Value y = collapseToRows(b, loc, args[1]);
          Value rows = dimOf(b, loc, x, 0), d = dimOf(b, loc, x, 1);
          forLoop(
              b, loc, cIdx(b, loc, 0), rows, 1,
              [&](OpBuilder &fb, Location l, Value row) {
                Value mx = maxChunks(
                    fb, l, d, width,
                    [&](OpBuilder &nb, Location nl, Value k) {
                      return loadVec(nb, nl, width, x, {row, k});
                    },
                    [&](OpBuilder &nb, Location nl, Value k) {
                      return memref::LoadOp::create(nb, nl, x,
                                                    ValueRange{row, k})
                          .getResult();
                    });
                rowMap(
                    fb, l, x, y, row, d, width,
                    [&](OpBuilder &nb, Location nl, Value v, Value, bool vec) {
                      Value s = arith::SubFOp::create(
                          nb, nl, v, broadcastIf(nb, nl, mx, vec, width));
                      return math::ExpOp::create(nb, nl, s).getResult();
                    });
                Value sum =
                    rowSum(fb, l, y, row, d, width,
                           [](OpBuilder &, Location, Value v) { return v; });
                Value inv =
                    arith::DivFOp::create(fb, l, cF32(fb, l, 1.0f), sum);
                rowMap(
                    fb, l, y, y, row, d, width,
                    [&](OpBuilder &nb, Location nl, Value v, Value, bool vec) {
                      return arith::MulFOp::create(
                                 nb, nl, v,
                                 broadcastIf(nb, nl, inv, vec, width))
                          .getResult();
                    });
              });
        });
    return success();
  }
};

struct ReduceMeanToKernel : public KernelPattern<ReduceMeanOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(ReduceMeanOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    auto inType = cast<MemRefType>(adaptor.getInput().getType());
    if (!inType.getElementType().isF32())
      return op.emitOpError("the CPU lowering computes in f32 only");
    SmallVector<int64_t> axes(op.getAxes());
    bool keep = op.getKeepdims();
    std::string name =
        "__llm_reduce_mean" + mangle(TypeRange{inType}) + (keep ? "_keep" : "");
    for (int64_t a : axes)
      name += "_" + std::to_string(a);
    // Result dimension -> input dimension.
    SmallVector<int64_t> outToIn;
    for (int64_t d = 0; d < inType.getRank(); ++d)
      if (!llvm::is_contained(axes, d))
        outToIn.push_back(d);
      else if (keep)
        outToIn.push_back(-1);
    SmallVector<Value> dyn;
    for (int64_t d = 0; d < resultType.getRank(); ++d)
      if (resultType.isDynamicDim(d))
        dyn.push_back(
            dimOf(rewriter, op.getLoc(), adaptor.getInput(), outToIn[d]));
    emitKernelCall(
        rewriter, op, name, {adaptor.getInput()}, resultType, dyn,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value x = args[0], y = args[1];
          int64_t inRank = inType.getRank();
          // Zero the result, accumulate every input element into its slot,
          // then divide by the number of reduced elements.
          forAllIndices(
              b, loc, y, [&](OpBuilder &nb, Location l, ValueRange ivs) {
                memref::StoreOp::create(nb, l, cF32(nb, l, 0.0f), y, ivs);
              });
          auto outIndices = [&](OpBuilder &nb, Location l, ValueRange ivs) {
            SmallVector<Value> idx;
            for (int64_t d = 0; d < inRank; ++d) {
              if (!llvm::is_contained(axes, d))
                idx.push_back(ivs[d]);
              else if (keep)
                idx.push_back(cIdx(nb, l, 0));
            }
            return idx;
          };
          forAllIndices(
              b, loc, x, [&](OpBuilder &nb, Location l, ValueRange ivs) {
                SmallVector<Value> o = outIndices(nb, l, ivs);
                Value acc = memref::LoadOp::create(nb, l, y, o);
                Value v = memref::LoadOp::create(nb, l, x, ivs);
                memref::StoreOp::create(
                    nb, l, arith::AddFOp::create(nb, l, acc, v), y, o);
              });
          Value count = cIdx(b, loc, 1);
          for (int64_t a : axes)
            count = arith::MulIOp::create(b, loc, count, dimOf(b, loc, x, a));
          Value countF = arith::UIToFPOp::create(
              b, loc, b.getF32Type(),
              arith::IndexCastOp::create(b, loc, b.getI64Type(), count));
          forAllIndices(
              b, loc, y, [&](OpBuilder &nb, Location l, ValueRange ivs) {
                Value v = memref::LoadOp::create(nb, l, y, ivs);
                memref::StoreOp::create(
                    nb, l, arith::DivFOp::create(nb, l, v, countF), y, ivs);
              });
        });
    return success();
  }
};

} // namespace

void kernels::populateNormKernelPatterns(const TypeConverter &converter,
                                         RewritePatternSet &patterns,
                                         const KernelOptions &options) {
  patterns.add<RMSNormToKernel, LayerNormToKernel, SoftmaxToKernel,
               ReduceMeanToKernel>(converter, patterns.getContext(), options);
}
