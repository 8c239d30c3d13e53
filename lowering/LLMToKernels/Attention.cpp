//===- Attention.cpp - llm.rope and llm.attention -> CPU kernels -----------===//
//
// Part of Frugal.
//
// Attention with a KV cache first appends the step's keys and values to the
// cache, then runs one task per (query head, query position): one pass over
// the visible keys computing scores (vectorized over head_dim) with an
// online softmax, the weighted sum of values accumulated in head_dim/width
// vector registers. Query heads of a GQA group read the same KV head.
//
//===----------------------------------------------------------------------===//

#include "lowering/LLMToKernels/KernelBuilder.h"

#include <cmath>

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::kernels;

namespace {

Value idxMul(OpBuilder &b, Location loc, Value a, int64_t c) {
  return arith::MulIOp::create(b, loc, a, cIdx(b, loc, c));
}
Value idxAdd(OpBuilder &b, Location loc, Value a, Value c) {
  return arith::AddIOp::create(b, loc, a, c);
}

/// Largest vector width <= maxWidth dividing `n` (1 if none).
int64_t widthDividing(int64_t n, int64_t maxWidth) {
  for (int64_t w = maxWidth; w > 1; w /= 2)
    if (n % w == 0)
      return w;
  return 1;
}

Value loadLanes(OpBuilder &b, Location loc, int64_t lanes, Value memref,
                ValueRange idx) {
  if (lanes == 1)
    return memref::LoadOp::create(b, loc, memref, idx);
  return loadVec(b, loc, lanes, memref, idx);
}

void storeLanes(OpBuilder &b, Location loc, Value v, Value memref,
                ValueRange idx) {
  if (isa<VectorType>(v.getType()))
    storeVec(b, loc, v, memref, idx);
  else
    memref::StoreOp::create(b, loc, v, memref, idx);
}

Value splatLanes(OpBuilder &b, Location loc, Value scalar, int64_t lanes) {
  if (lanes == 1)
    return scalar;
  return vector::BroadcastOp::create(b, loc, vecType(b, lanes), scalar);
}

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

/// A private constant global holding inverse frequencies, computed in f32
/// the way HF transformers does: 1 / theta^(2i / rotary_dim).
Value getInvFreqTable(OpBuilder &b, Location loc, Operation *anchor,
                      double theta, int64_t rotaryDim) {
  auto module = anchor->getParentOfType<ModuleOp>();
  std::string name = "__llm_rope_inv_freq_" + std::to_string(rotaryDim) + "_" +
                     std::to_string(static_cast<int64_t>(theta));
  auto type = MemRefType::get({rotaryDim / 2}, b.getF32Type());
  if (!module.lookupSymbol(name)) {
    SmallVector<float> values;
    for (int64_t i = 0; i < rotaryDim / 2; ++i) {
      float exponent = static_cast<float>(2 * i) / static_cast<float>(rotaryDim);
      values.push_back(1.0f / std::pow(static_cast<float>(theta), exponent));
    }
    OpBuilder mb(module.getContext());
    mb.setInsertionPointToStart(module.getBody());
    auto tensorType = RankedTensorType::get({rotaryDim / 2}, b.getF32Type());
    memref::GlobalOp::create(
        mb, loc, name, mb.getStringAttr("private"), type,
        DenseElementsAttr::get(tensorType, ArrayRef<float>(values)),
        /*constant=*/true, /*alignment=*/nullptr);
  }
  return memref::GetGlobalOp::create(b, loc, type, name);
}

struct RopeToKernel : public KernelPattern<RopeOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(RopeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    int64_t heads = op.getNumHeads(), headDim = op.getHeadDim();
    int64_t rot = op.getEffectiveRotaryDim();
    bool tables = static_cast<bool>(adaptor.getCosCache());
    double theta = tables ? 0.0 : op.getTheta()->convertToDouble();
    bool interleaved = op.getInterleaved();
    SmallVector<Value> operands = {adaptor.getInput(), adaptor.getPositions()};
    if (tables) {
      operands.push_back(adaptor.getCosCache());
      operands.push_back(adaptor.getSinCache());
    }
    std::string name = "__llm_rope" + mangle(ValueRange(operands).getTypes()) +
                       "_h" + std::to_string(heads) + "_r" + std::to_string(rot) +
                       (tables ? "_tables"
                               : "_t" + std::to_string(static_cast<int64_t>(theta))) +
                       (interleaved ? "_il" : "");
    SmallVector<int64_t> dims = {0, 1, 2};
    emitKernelCall(
        rewriter, op, name, operands, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getInput(), dims),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value x = args[0], pos = args[1], out = args.back();
          Value invFreq =
              tables ? Value() : getInvFreqTable(b, loc, op, theta, rot);
          Value zero = cIdx(b, loc, 0);
          forLoop(b, loc, zero, dimOf(b, loc, x, 0), 1, [&](OpBuilder &b1, Location l1, Value bi) {
            forLoop(b1, l1, cIdx(b1, l1, 0), dimOf(b1, l1, x, 1), 1, [&](OpBuilder &b2, Location l2, Value s) {
              Value p = memref::LoadOp::create(b2, l2, pos, ValueRange{bi, s});
              Value pf = arith::SIToFPOp::create(b2, l2, b2.getF32Type(), p);
              Value pi = arith::IndexCastOp::create(b2, l2, b2.getIndexType(), p);
              // Channels past rotary_dim pass through.
              if (rot < headDim)
                forLoop(b2, l2, cIdx(b2, l2, 0), cIdx(b2, l2, heads), 1, [&](OpBuilder &b3, Location l3, Value h) {
                  forLoop(b3, l3, cIdx(b3, l3, rot), cIdx(b3, l3, headDim), 1, [&](OpBuilder &b4, Location l4, Value c) {
                    Value ch = idxAdd(b4, l4, idxMul(b4, l4, h, headDim), c);
                    Value v = memref::LoadOp::create(b4, l4, x, ValueRange{bi, s, ch});
                    memref::StoreOp::create(b4, l4, v, out, ValueRange{bi, s, ch});
                  });
                });
              forLoop(b2, l2, cIdx(b2, l2, 0), cIdx(b2, l2, rot / 2), 1, [&](OpBuilder &b3, Location l3, Value i) {
                Value cosA, sinA;
                if (tables) {
                  cosA = memref::LoadOp::create(b3, l3, args[2], ValueRange{pi, i});
                  sinA = memref::LoadOp::create(b3, l3, args[3], ValueRange{pi, i});
                } else {
                  Value f = memref::LoadOp::create(b3, l3, invFreq, ValueRange{i});
                  Value angle = arith::MulFOp::create(b3, l3, pf, f);
                  cosA = math::CosOp::create(b3, l3, angle);
                  sinA = math::SinOp::create(b3, l3, angle);
                }
                // Channel pair (i0, i1) within a head.
                Value i0 = interleaved ? idxMul(b3, l3, i, 2) : i;
                Value i1 = interleaved ? idxAdd(b3, l3, i0, cIdx(b3, l3, 1))
                                       : idxAdd(b3, l3, i, cIdx(b3, l3, rot / 2));
                forLoop(b3, l3, cIdx(b3, l3, 0), cIdx(b3, l3, heads), 1, [&](OpBuilder &b4, Location l4, Value h) {
                  Value base = idxMul(b4, l4, h, headDim);
                  Value c0 = idxAdd(b4, l4, base, i0), c1 = idxAdd(b4, l4, base, i1);
                  Value x0 = memref::LoadOp::create(b4, l4, x, ValueRange{bi, s, c0});
                  Value x1 = memref::LoadOp::create(b4, l4, x, ValueRange{bi, s, c1});
                  Value y0 = arith::SubFOp::create(
                      b4, l4, arith::MulFOp::create(b4, l4, x0, cosA),
                      arith::MulFOp::create(b4, l4, x1, sinA));
                  Value y1 = arith::AddFOp::create(
                      b4, l4, arith::MulFOp::create(b4, l4, x1, cosA),
                      arith::MulFOp::create(b4, l4, x0, sinA));
                  memref::StoreOp::create(b4, l4, y0, out, ValueRange{bi, s, c0});
                  memref::StoreOp::create(b4, l4, y1, out, ValueRange{bi, s, c1});
                });
              });
            });
          });
        });
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// Where the keys/values of one attention come from.
struct KVSource {
  Value keys, values; // memrefs
  bool fromCache;
  int64_t layer;
  Value batch; // batch index (no-cache form)
  /// Indices of element `d` of key/value position `t` of KV head `g`.
  SmallVector<Value> indices(OpBuilder &b, Location loc, Value t, Value g,
                             Value d, int64_t headDim, bool value) const {
    if (fromCache)
      return {cIdx(b, loc, value ? 1 : 0), cIdx(b, loc, layer), g, t, d};
    return {batch, t, idxAdd(b, loc, idxMul(b, loc, g, headDim), d)};
  }
};

struct AttentionToKernel : public KernelPattern<AttentionOp> {
  using KernelPattern::KernelPattern;

  LogicalResult
  matchAndRewrite(AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType resultType = convertedResultType(op);
    bool hasCache = static_cast<bool>(adaptor.getCache());
    int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads();
    int64_t headDim = op.getHeadDim();
    float scale = op.getEffectiveScale();
    bool causal = op.getCausal();
    int64_t layer = hasCache ? *op.getLayer() : 0;
    if (hasCache) {
      auto cacheType = cast<MemRefType>(adaptor.getCache().getType());
      if (!cacheType.getElementType().isF32())
        return op.emitOpError("the CPU lowering supports f32 KV caches only "
                              "so far");
      if (resultType.getDimSize(0) != 1)
        return op.emitOpError("attention with a KV cache needs batch size 1");
    }
    SmallVector<Value> operands = {adaptor.getQuery(), adaptor.getKey(),
                                   adaptor.getValue()};
    if (hasCache) {
      operands.push_back(adaptor.getCache());
      operands.push_back(adaptor.getPosition());
    }
    std::string name = "__llm_attention" + mangle(ValueRange(operands).getTypes()) +
                       "_h" + std::to_string(heads) + "_kv" +
                       std::to_string(kvHeads) + "_s" +
                       std::to_string(llvm::bit_cast<uint32_t>(scale)) +
                       (causal ? "_causal" : "") +
                       (hasCache ? "_l" + std::to_string(layer) : "");
    int64_t lanes = widthDividing(headDim, options.vectorWidth);
    SmallVector<int64_t> dims = {0, 1, 2};
    emitKernelCall(
        rewriter, op, name, operands, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getQuery(), dims),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          buildBody(b, loc, args, hasCache, heads, kvHeads, headDim, scale,
                    causal, layer, lanes);
        });
    return success();
  }

  static void buildBody(OpBuilder &b, Location loc, ValueRange args,
                        bool hasCache, int64_t heads, int64_t kvHeads,
                        int64_t headDim, float scale, bool causal,
                        int64_t layer, int64_t lanes) {
    Value q = args[0], k = args[1], v = args[2], out = args.back();
    Value cache = hasCache ? args[3] : Value();
    Value start = hasCache ? args[4] : cIdx(b, loc, 0);
    Value seqQ = dimOf(b, loc, q, 1), seqKV = dimOf(b, loc, k, 1);
    Value batch = dimOf(b, loc, q, 0);
    int64_t group = heads / kvHeads;

    // 1. Append the new keys and values to the cache.
    if (hasCache) {
      forLoop(b, loc, cIdx(b, loc, 0), seqKV, 1, [&](OpBuilder &b1, Location l1, Value s) {
        Value t = idxAdd(b1, l1, start, s);
        forLoop(b1, l1, cIdx(b1, l1, 0), cIdx(b1, l1, kvHeads), 1, [&](OpBuilder &b2, Location l2, Value g) {
          forLoop(b2, l2, cIdx(b2, l2, 0), cIdx(b2, l2, headDim), lanes, [&](OpBuilder &b3, Location l3, Value d) {
            Value ch = idxAdd(b3, l3, idxMul(b3, l3, g, headDim), d);
            Value zero = cIdx(b3, l3, 0);
            for (int64_t which = 0; which < 2; ++which) {
              Value src = which == 0 ? k : v;
              Value x = loadLanes(b3, l3, lanes, src, {zero, s, ch});
              storeLanes(b3, l3, x, cache,
                         {cIdx(b3, l3, which), cIdx(b3, l3, layer), g, t, d});
            }
          });
        });
      });
    }
    // Visible keys: [0, kvEnd) where kvEnd = start + seqKV.
    Value kvEnd = idxAdd(b, loc, start, seqKV);
    // The last query sits at kvEnd - 1; query s at kvEnd - seqQ + s.
    Value qOffset = arith::SubIOp::create(b, loc, kvEnd, seqQ);

    // 2. One task per (batch, head, query position).
    Value tasks = arith::MulIOp::create(
        b, loc, batch, arith::MulIOp::create(b, loc, seqQ, cIdx(b, loc, heads)));
    parallelLoop(b, loc, cIdx(b, loc, 0), tasks, [&](OpBuilder &pb, Location l, Value task) {
      Value s = arith::RemUIOp::create(pb, l, task, seqQ);
      Value bh = arith::DivUIOp::create(pb, l, task, seqQ);
      Value h = arith::RemUIOp::create(pb, l, bh, cIdx(pb, l, heads));
      Value bi = arith::DivUIOp::create(pb, l, bh, cIdx(pb, l, heads));
      Value g = arith::DivUIOp::create(pb, l, h, cIdx(pb, l, group));
      Value n = kvEnd;
      if (causal)
        n = idxAdd(pb, l, idxAdd(pb, l, qOffset, s), cIdx(pb, l, 1));
      KVSource src{hasCache ? cache : k, hasCache ? cache : v, hasCache, layer, bi};
      Value qBase = idxMul(pb, l, h, headDim);

      // One pass over the visible keys with an online softmax: running
      // maximum m, running denominator l, and the value accumulators
      // rescaled whenever m grows.
      int64_t chunks = headDim / lanes;
      Value zero = splatLanes(pb, l, cF32(pb, l, 0.0f), lanes);
      SmallVector<Value> inits = {
          cF32(pb, l, -std::numeric_limits<float>::infinity()),
          cF32(pb, l, 0.0f)};
      inits.append(chunks, zero);
      auto loop = scf::ForOp::create(
          pb, l, cIdx(pb, l, 0), n, cIdx(pb, l, 1), inits,
          [&](OpBuilder &fb, Location fl, Value t, ValueRange it) {
            Value dot = sumChunks(
                fb, fl, cIdx(fb, fl, headDim), lanes,
                [&](OpBuilder &nb, Location nl, Value d) {
                  Value qv = loadVec(nb, nl, lanes, q,
                                     {bi, s, idxAdd(nb, nl, qBase, d)});
                  Value kv = loadVec(nb, nl, lanes, src.keys,
                                     src.indices(nb, nl, t, g, d, headDim, false));
                  return arith::MulFOp::create(nb, nl, qv, kv).getResult();
                },
                [&](OpBuilder &nb, Location nl, Value d) {
                  Value qv = memref::LoadOp::create(
                      nb, nl, q, ValueRange{bi, s, idxAdd(nb, nl, qBase, d)});
                  Value kv = memref::LoadOp::create(
                      nb, nl, src.keys, src.indices(nb, nl, t, g, d, headDim, false));
                  return arith::MulFOp::create(nb, nl, qv, kv).getResult();
                });
            Value score = arith::MulFOp::create(fb, fl, dot, cF32(fb, fl, scale));
            Value m = it[0], sum = it[1];
            Value mNew = arith::MaxNumFOp::create(fb, fl, m, score);
            Value corr = math::ExpOp::create(fb, fl, arith::SubFOp::create(fb, fl, m, mNew));
            Value p = math::ExpOp::create(fb, fl, arith::SubFOp::create(fb, fl, score, mNew));
            Value sumNew = arith::AddFOp::create(
                fb, fl, arith::MulFOp::create(fb, fl, sum, corr), p);
            Value corrs = splatLanes(fb, fl, corr, lanes);
            Value ps = splatLanes(fb, fl, p, lanes);
            SmallVector<Value> next = {mNew, sumNew};
            for (int64_t c = 0; c < chunks; ++c) {
              Value vv = loadLanes(fb, fl, lanes, src.values,
                                   src.indices(fb, fl, t, g, cIdx(fb, fl, c * lanes),
                                               headDim, true));
              Value scaled = arith::MulFOp::create(fb, fl, it[2 + c], corrs);
              if (lanes == 1)
                next.push_back(arith::AddFOp::create(
                    fb, fl, scaled, arith::MulFOp::create(fb, fl, ps, vv)));
              else
                next.push_back(vector::FMAOp::create(fb, fl, ps, vv, scaled));
            }
            scf::YieldOp::create(fb, fl, next);
          });
      Value inv = arith::DivFOp::create(pb, l, cF32(pb, l, 1.0f), loop.getResult(1));
      Value invs = splatLanes(pb, l, inv, lanes);
      for (int64_t c = 0; c < chunks; ++c) {
        Value r = arith::MulFOp::create(pb, l, loop.getResult(2 + c), invs);
        Value ch = idxAdd(pb, l, qBase, cIdx(pb, l, c * lanes));
        storeLanes(pb, l, r, out, {bi, s, ch});
      }
    });
  }
};

} // namespace

void kernels::populateAttentionKernelPatterns(const TypeConverter &converter,
                                              RewritePatternSet &patterns,
                                              const KernelOptions &options) {
  patterns.add<RopeToKernel, AttentionToKernel>(converter, patterns.getContext(),
                                               options);
}
