//===- Shape.cpp - Embedding, positions and data-movement kernels ----------===//
//
// Part of Frugal. llm.embed, llm.position_ids, llm.slice, llm.reshape and
// llm.transpose. (llm.weight is turned into a view of the weights blob by
// the pass itself, before the conversion.)
//
//===----------------------------------------------------------------------===//

#include "lowering/LLMToKernels/KernelBuilder.h"

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::kernels;

namespace {

/// dst[dstRow, k] = src[srcRow, k] for k < n, vectorized.
void copyRow(OpBuilder &b, Location loc, Value src, Value srcRow, Value dst,
             Value dstRow, Value n, int64_t width) {
  forEachChunk(
      b, loc, n, width,
      [&](OpBuilder &nb, Location l, Value k) {
        storeVec(nb, l, loadVec(nb, l, width, src, {srcRow, k}), dst,
                 {dstRow, k});
      },
      [&](OpBuilder &nb, Location l, Value k) {
        Value v = memref::LoadOp::create(nb, l, src, ValueRange{srcRow, k});
        memref::StoreOp::create(nb, l, v, dst, ValueRange{dstRow, k});
      });
}

SmallVector<int64_t> allDims(MemRefType type) {
  return llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
}

/// A valid row of a [vocab, ...] table for token id `id`: ids are validated
/// by the runtime; the clamp makes sure a bad one never reads outside.
Value clampedRow(OpBuilder &b, Location loc, Value id, Value vocab) {
  Value row = arith::IndexCastOp::create(b, loc, b.getIndexType(), id);
  Value last = arith::SubIOp::create(b, loc, vocab, cIdx(b, loc, 1));
  row = arith::MinSIOp::create(b, loc, row, last);
  return arith::MaxSIOp::create(b, loc, row, cIdx(b, loc, 0));
}

struct EmbedToKernel : public KernelPattern<EmbedOp> {
  using KernelPattern::KernelPattern;

  /// A quantized table (LLMQuant.h): each selected row is dequantized,
  /// 16 elements at a time, as the matmul kernels dequantize their weights.
  LogicalResult lowerQuantized(EmbedOp op, OpAdaptor adaptor,
                               ConversionPatternRewriter &rewriter,
                               QuantAttr quant, Value bytes) const {
    auto tableType = op.getTable().getType();
    int64_t vocab = tableType.getDimSize(0), hidden = tableType.getDimSize(1);
    QuantLayout layout = getQuantLayout(quant, vocab, hidden);
    if (layout.group % 16 != 0)
      return op.emitOpError("the CPU lowering supports quantized embedding "
                            "tables with groups of a multiple of 16");
    MemRefType resultType = convertedResultType(op);
    bool asymmetric = quant.getScheme() == QuantScheme::asymmetric;
    std::string name = "__llm_embed_q" + std::to_string(quant.getBits()) + "g" +
                       std::to_string(layout.group) + (asymmetric ? "a" : "s") +
                       mangle(TypeRange{adaptor.getIds().getType()}) + "_" +
                       std::to_string(vocab) + "x" + std::to_string(hidden);
    emitKernelCall(
        rewriter, op, name, {bytes, adaptor.getIds()}, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getIds(),
                     allDims(resultType)),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          QuantViews views = viewQuantStorage(b, loc, args[0], quant, layout);
          Value ids = collapseToFlat(b, loc, args[1]);
          Value out = collapseToRows(b, loc, args[2]);
          auto f32x16 = VectorType::get({16}, b.getF32Type());
          forLoop(b, loc, cIdx(b, loc, 0), dimOf(b, loc, ids, 0), 1,
                  [&](OpBuilder &fb, Location l, Value t) {
                    Value id = memref::LoadOp::create(fb, l, ids, ValueRange{t});
                    Value row = clampedRow(fb, l, id, cIdx(fb, l, vocab));
                    forLoop(fb, l, cIdx(fb, l, 0), cIdx(fb, l, layout.groupsPerRow), 1,
                            [&](OpBuilder &gb, Location gl, Value g) {
                      auto param = [&](Value memref) -> Value {
                        Value h = memref::LoadOp::create(gb, gl, memref,
                                                         ValueRange{row, g});
                        Value f = arith::ExtFOp::create(gb, gl, gb.getF32Type(), h);
                        return vector::BroadcastOp::create(gb, gl, f32x16, f);
                      };
                      Value scale = param(views.scales);
                      Value min = asymmetric ? param(views.mins) : Value();
                      Value base = arith::MulIOp::create(gb, gl, g,
                                                         cIdx(gb, gl, layout.group));
                      for (int64_t c = 0; c < layout.group; c += 16) {
                        Value k = arith::AddIOp::create(gb, gl, base, cIdx(gb, gl, c));
                        Value q = loadQuantCodes(gb, gl, views.codes, row, k, quant);
                        Value w = asymmetric
                                      ? vector::FMAOp::create(gb, gl, q, scale, min)
                                            .getResult()
                                      : arith::MulFOp::create(gb, gl, q, scale)
                                            .getResult();
                        storeVec(gb, gl, w, out, {t, k});
                      }
                    });
                  });
        });
    return success();
  }

  LogicalResult
  matchAndRewrite(EmbedOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (auto cast = op.getTable().getDefiningOp<UnrealizedConversionCastOp>())
      if (auto quant = cast->getAttrOfType<QuantAttr>(kQuantizedWeightAttr))
        return lowerQuantized(op, adaptor, rewriter, quant, cast.getOperand(0));
    MemRefType resultType = convertedResultType(op);
    std::string name = "__llm_embed" + mangle(TypeRange{
                                           adaptor.getTable().getType(),
                                           adaptor.getIds().getType()});
    int64_t width = options.vectorWidth;
    SmallVector<int64_t> dims = allDims(resultType);
    emitKernelCall(
        rewriter, op, name, {adaptor.getTable(), adaptor.getIds()}, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getIds(), dims),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value table = args[0];
          Value ids = collapseToFlat(b, loc, args[1]);
          Value out = collapseToRows(b, loc, args[2]);
          Value vocab = dimOf(b, loc, table, 0);
          Value d = dimOf(b, loc, table, 1);
          forLoop(b, loc, cIdx(b, loc, 0), dimOf(b, loc, ids, 0), 1,
                  [&](OpBuilder &fb, Location l, Value t) {
                    Value id = memref::LoadOp::create(fb, l, ids, ValueRange{t});
                    Value row = clampedRow(fb, l, id, vocab);
                    copyRow(fb, l, table, row, out, t, d, width);
                  });
        });
    return success();
  }
};

struct PositionIdsToKernel : public KernelPattern<PositionIdsOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(PositionIdsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    // The start is one index, or a memref of one i64 start per row.
    bool perRow = isa<MemRefType>(adaptor.getStart().getType());
    std::string name =
        "__llm_position_ids" +
        mangle(TypeRange{adaptor.getTokens().getType()}) +
        (perRow ? mangle(TypeRange{adaptor.getStart().getType()}) : "");
    emitKernelCall(
        rewriter, op, name, {adaptor.getTokens(), adaptor.getStart()},
        resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getTokens(),
                     allDims(resultType)),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value out = args[2];
          Type elem = cast<MemRefType>(out.getType()).getElementType();
          forLoop(b, loc, cIdx(b, loc, 0), dimOf(b, loc, out, 0), 1,
                  [&](OpBuilder &fb, Location l, Value bi) {
                    Value start = args[1];
                    if (perRow)
                      start = arith::IndexCastOp::create(
                          fb, l, fb.getIndexType(),
                          memref::LoadOp::create(fb, l, args[1], bi));
                    forLoop(fb, l, cIdx(fb, l, 0), dimOf(fb, l, out, 1), 1,
                            [&](OpBuilder &ib, Location il, Value s) {
                              Value p = arith::AddIOp::create(ib, il, start, s);
                              Value v = arith::IndexCastOp::create(ib, il, elem, p);
                              memref::StoreOp::create(ib, il, v, out,
                                                      ValueRange{bi, s});
                            });
                  });
        });
    return success();
  }
};

/// Scalar loop nest over `out`, reading `in` at `mapIndices(outIndices)`.
void gatherLoops(
    OpBuilder &b, Location loc, Value in, Value out,
    llvm::function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>
        mapIndices) {
  forAllIndices(b, loc, out, [&](OpBuilder &nb, Location l, ValueRange ivs) {
    Value v = memref::LoadOp::create(nb, l, in, mapIndices(nb, l, ivs));
    memref::StoreOp::create(nb, l, v, out, ivs);
  });
}

struct SliceToKernel : public KernelPattern<SliceOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    int64_t axis = op.getAxis(), start = op.getStart();
    std::string name = "__llm_slice" +
                       mangle(TypeRange{adaptor.getInput().getType(),
                                        resultType}) +
                       "_a" + std::to_string(axis) + "_s" +
                       (start < 0 ? "m" + std::to_string(-start)
                                  : std::to_string(start));
    SmallVector<int64_t> dims = allDims(resultType);
    emitKernelCall(
        rewriter, op, name, {adaptor.getInput()}, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getInput(), dims),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value begin = cIdx(b, loc, start);
          if (start < 0)
            begin = arith::AddIOp::create(b, loc, dimOf(b, loc, args[0], axis),
                                          begin);
          gatherLoops(b, loc, args[0], args[1],
                      [&](OpBuilder &nb, Location l, ValueRange ivs) {
                        SmallVector<Value> idx(ivs);
                        idx[axis] = arith::AddIOp::create(nb, l, ivs[axis], begin);
                        return idx;
                      });
        });
    return success();
  }
};

struct ReshapeToKernel : public KernelPattern<ReshapeOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    auto inType = cast<MemRefType>(adaptor.getInput().getType());
    Location loc = op.getLoc();
    // The one dynamic result extent (if any) is the element count divided by
    // the static extents.
    SmallVector<Value> dyn;
    if (!resultType.hasStaticShape()) {
      Value total = cIdx(rewriter, loc, 1);
      for (int64_t i = 0; i < inType.getRank(); ++i)
        total = arith::MulIOp::create(rewriter, loc, total,
                                      dimOf(rewriter, loc, adaptor.getInput(), i));
      int64_t known = 1;
      for (int64_t d : resultType.getShape())
        if (!ShapedType::isDynamic(d))
          known *= d;
      dyn.push_back(arith::DivUIOp::create(rewriter, loc, total,
                                           cIdx(rewriter, loc, known)));
    }
    std::string name =
        "__llm_reshape" + mangle(TypeRange{inType, resultType});
    int64_t width = options.vectorWidth;
    emitKernelCall(rewriter, op, name, {adaptor.getInput()}, resultType, dyn,
                   [&](OpBuilder &b, Location l, ValueRange args) {
                     Value in = collapseToFlat(b, l, args[0]);
                     Value out = collapseToFlat(b, l, args[1]);
                     forEachChunk(
                         b, l, dimOf(b, l, out, 0), width,
                         [&](OpBuilder &nb, Location nl, Value i) {
                           storeVec(nb, nl, loadVec(nb, nl, width, in, {i}), out,
                                    {i});
                         },
                         [&](OpBuilder &nb, Location nl, Value i) {
                           Value v = memref::LoadOp::create(nb, nl, in,
                                                            ValueRange{i});
                           memref::StoreOp::create(nb, nl, v, out, ValueRange{i});
                         });
                   });
    return success();
  }
};

struct TransposeToKernel : public KernelPattern<TransposeOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    SmallVector<int64_t> perm(op.getPermutation());
    std::string name = "__llm_transpose" +
                       mangle(TypeRange{adaptor.getInput().getType()});
    for (int64_t p : perm)
      name += "_" + std::to_string(p);
    emitKernelCall(
        rewriter, op, name, {adaptor.getInput()}, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getInput(),
                     perm),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          gatherLoops(b, loc, args[0], args[1],
                      [&](OpBuilder &, Location, ValueRange ivs) {
                        // Result dim i is input dim perm[i].
                        SmallVector<Value> idx(ivs.size());
                        for (auto [i, p] : llvm::enumerate(perm))
                          idx[p] = ivs[i];
                        return idx;
                      });
        });
    return success();
  }
};

Value zeroOf(OpBuilder &b, Location loc, Type type) {
  if (isa<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, 0.0));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, 0));
}

struct TriluToKernel : public KernelPattern<TriluOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(TriluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    bool upper = op.getUpper();
    int64_t k = static_cast<int64_t>(op.getK());
    std::string name = "__llm_trilu" +
                       mangle(TypeRange{adaptor.getInput().getType()}) +
                       (upper ? "_u" : "_l") + "_k" +
                       (k < 0 ? "m" + std::to_string(-k) : std::to_string(k));
    emitKernelCall(
        rewriter, op, name, {adaptor.getInput()}, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getInput(),
                     allDims(resultType)),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Type elem = resultType.getElementType();
          int64_t rank = resultType.getRank();
          forAllIndices(b, loc, args[1], [&](OpBuilder &nb, Location l, ValueRange ivs) {
            Value i = arith::IndexCastOp::create(nb, l, nb.getI64Type(), ivs[rank - 2]);
            Value j = arith::IndexCastOp::create(nb, l, nb.getI64Type(), ivs[rank - 1]);
            Value diff = arith::SubIOp::create(nb, l, j, i);
            Value kv = arith::ConstantOp::create(nb, l, nb.getI64IntegerAttr(k));
            Value keep = arith::CmpIOp::create(
                nb, l, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
                diff, kv);
            Value x = memref::LoadOp::create(nb, l, args[0], ivs);
            Value y = arith::SelectOp::create(nb, l, keep, x, zeroOf(nb, l, elem));
            memref::StoreOp::create(nb, l, y, args[1], ivs);
          });
        });
    return success();
  }
};

struct GatherToKernel : public KernelPattern<GatherOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    auto dataType = cast<MemRefType>(adaptor.getData().getType());
    auto idxType = cast<MemRefType>(adaptor.getIndices().getType());
    int64_t axis = static_cast<int64_t>(op.getAxis());
    int64_t idxRank = idxType.getRank();
    std::string name = "__llm_gather" +
                       mangle(TypeRange{dataType, idxType}) + "_a" +
                       std::to_string(axis);
    // Result dimension d comes from data (d < axis), indices, or data again.
    Location loc = op.getLoc();
    SmallVector<Value> dyn;
    for (int64_t d = 0; d < resultType.getRank(); ++d) {
      if (!resultType.isDynamicDim(d))
        continue;
      if (d < axis)
        dyn.push_back(dimOf(rewriter, loc, adaptor.getData(), d));
      else if (d < axis + idxRank)
        dyn.push_back(dimOf(rewriter, loc, adaptor.getIndices(), d - axis));
      else
        dyn.push_back(dimOf(rewriter, loc, adaptor.getData(), d - idxRank + 1));
    }
    emitKernelCall(
        rewriter, op, name, {adaptor.getData(), adaptor.getIndices()},
        resultType, dyn, [&](OpBuilder &b, Location kl, ValueRange args) {
          Value data = args[0], indices = args[1], out = args[2];
          Value extent = dimOf(b, kl, data, axis);
          forAllIndices(b, kl, out, [&](OpBuilder &nb, Location l, ValueRange ivs) {
            Value raw = memref::LoadOp::create(
                nb, l, indices, ivs.slice(axis, idxRank));
            Value idx = arith::IndexCastOp::create(nb, l, nb.getIndexType(), raw);
            // Negative indices count from the end.
            Value neg = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt,
                                              idx, cIdx(nb, l, 0));
            idx = arith::SelectOp::create(nb, l, neg,
                                          arith::AddIOp::create(nb, l, idx, extent),
                                          idx);
            SmallVector<Value> dataIdx(ivs.take_front(axis));
            dataIdx.push_back(idx);
            llvm::append_range(dataIdx, ivs.drop_front(axis + idxRank));
            Value v = memref::LoadOp::create(nb, l, data, dataIdx);
            memref::StoreOp::create(nb, l, v, out, ivs);
          });
        });
    return success();
  }
};

struct ConcatToKernel : public KernelPattern<ConcatOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    int64_t axis = static_cast<int64_t>(op.getAxis());
    ValueRange inputs = adaptor.getInputs();
    std::string name = "__llm_concat" + mangle(inputs.getTypes()) + "_a" +
                       std::to_string(axis);
    Location loc = op.getLoc();
    SmallVector<Value> dyn;
    for (int64_t d = 0; d < resultType.getRank(); ++d) {
      if (!resultType.isDynamicDim(d))
        continue;
      if (d != axis) {
        dyn.push_back(dimOf(rewriter, loc, inputs[0], d));
        continue;
      }
      Value total = cIdx(rewriter, loc, 0);
      for (Value in : inputs)
        total = arith::AddIOp::create(rewriter, loc, total,
                                      dimOf(rewriter, loc, in, axis));
      dyn.push_back(total);
    }
    emitKernelCall(rewriter, op, name, inputs, resultType, dyn,
                   [&](OpBuilder &b, Location kl, ValueRange args) {
                     Value out = args.back();
                     Value offset = cIdx(b, kl, 0);
                     for (Value in : args.drop_back()) {
                       forAllIndices(b, kl, in, [&](OpBuilder &nb, Location l,
                                                    ValueRange ivs) {
                         SmallVector<Value> outIdx(ivs);
                         outIdx[axis] = arith::AddIOp::create(nb, l, ivs[axis], offset);
                         Value v = memref::LoadOp::create(nb, l, in, ivs);
                         memref::StoreOp::create(nb, l, v, out, outIdx);
                       });
                       offset = arith::AddIOp::create(b, kl, offset,
                                                      dimOf(b, kl, in, axis));
                     }
                   });
    return success();
  }
};

struct ExpandToKernel : public KernelPattern<ExpandOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(ExpandOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    auto inType = cast<MemRefType>(adaptor.getInput().getType());
    int64_t offset = resultType.getRank() - inType.getRank();
    std::string name = "__llm_expand" + mangle(TypeRange{inType, resultType});
    SmallVector<Value> dyn;
    for (int64_t d = 0; d < resultType.getRank(); ++d)
      if (resultType.isDynamicDim(d))
        dyn.push_back(dimOf(rewriter, op.getLoc(), adaptor.getInput(), d - offset));
    emitKernelCall(rewriter, op, name, {adaptor.getInput()}, resultType, dyn,
                   [&](OpBuilder &b, Location kl, ValueRange args) {
                     gatherLoops(b, kl, args[0], args[1],
                                 [&](OpBuilder &nb, Location l, ValueRange ivs) {
                                   SmallVector<Value> idx;
                                   for (int64_t d = 0; d < inType.getRank(); ++d)
                                     idx.push_back(inType.getDimSize(d) == 1
                                                       ? cIdx(nb, l, 0)
                                                       : ivs[d + offset]);
                                   return idx;
                                 });
                   });
    return success();
  }
};

} // namespace

void kernels::populateShapeKernelPatterns(const TypeConverter &converter,
                                          RewritePatternSet &patterns,
                                          const KernelOptions &options) {
  patterns.add<EmbedToKernel, PositionIdsToKernel, SliceToKernel,
               ReshapeToKernel, TransposeToKernel, TriluToKernel,
               GatherToKernel, ConcatToKernel, ExpandToKernel>(
      converter, patterns.getContext(), options);
}
