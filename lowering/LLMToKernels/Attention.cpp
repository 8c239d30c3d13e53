//===- Attention.cpp - llm.rope and llm.attention -> CPU kernels -----------===//
//
// Part of Frugal.
//
// Attention runs one task per (query head, query position): one pass over
// the visible keys computing scores (vectorized over head_dim) with an
// online softmax, the weighted sum of values accumulated in head_dim/width
// vector registers. Query heads of a GQA group read the same KV head. With
// a KV cache, earlier positions are read through the layout that
// llm-plan-kv-cache chose (contiguous, paged through a block table, or a
// ring buffer; f32, f16, or int8 with per-token, per-head f16 scales), the
// step's own keys come from the operands, and the step is appended to the
// cache (converted or quantized) once every query is answered.
//
//===----------------------------------------------------------------------===//

#include "lowering/LLMToKernels/KernelBuilder.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"

#include <cmath>
#include <functional>
#include <optional>

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

/// Loads `lanes` elements (a scalar when lanes == 1) of any float or i8
/// memref and converts them to f32.
Value loadAsF32(OpBuilder &b, Location loc, int64_t lanes, Value memref,
                ValueRange idx) {
  Type element = cast<MemRefType>(memref.getType()).getElementType();
  Type f32 = b.getF32Type();
  Value x;
  Type target = f32;
  if (lanes == 1) {
    x = memref::LoadOp::create(b, loc, memref, idx);
  } else {
    x = vector::LoadOp::create(b, loc, VectorType::get({lanes}, element),
                               memref, idx);
    target = VectorType::get({lanes}, f32);
  }
  if (element.isF32())
    return x;
  if (isa<FloatType>(element))
    return arith::ExtFOp::create(b, loc, target, x);
  return arith::SIToFPOp::create(b, loc, target, x);
}

/// Converts f32 lanes to the memref's element type (float or i8 codes that
/// are already rounded into range) and stores them.
void storeFromF32(OpBuilder &b, Location loc, Value x, Value memref,
                  ValueRange idx) {
  Type element = cast<MemRefType>(memref.getType()).getElementType();
  Type target = element;
  if (auto vec = dyn_cast<VectorType>(x.getType()))
    target = VectorType::get(vec.getShape(), element);
  if (isa<FloatType>(element) && !element.isF32())
    x = arith::TruncFOp::create(b, loc, target, x);
  else if (isa<IntegerType>(element))
    x = arith::FPToSIOp::create(b, loc, target, x);
  storeLanes(b, loc, x, memref, idx);
}

/// How an attention kernel reaches one layer of a KV cache: typed views of
/// the (planned) buffer and the index arithmetic of its layout
/// (KVLayoutAttr). Without a layout the cache is the dense
/// [2][layers][heads][max_seq][head_dim] array of one sequence. The layer
/// is an argument of the kernel, so that all layers share one kernel.
struct CacheView {
  KVCacheType type;
  Value layer; // index
  Value data;   // [2][L][P][H][S][D] (planned) or [2][L][H][C][D]
  Value scales; // [2][L][P][H][S] f16, i8 caches only
  Value table;  // [batch][blocks per sequence] i32, paged only

  static CacheView create(OpBuilder &b, Location loc, Value buffer,
                          KVCacheType type, Value layer) {
    CacheView view{type, layer, buffer, Value(), Value()};
    KVLayoutAttr layout = type.getLayout();
    if (!layout)
      return view;
    auto viewAs = [&](int64_t offset, ArrayRef<int64_t> shape, Type element) {
      return memref::ViewOp::create(b, loc, MemRefType::get(shape, element),
                                    buffer, cIdx(b, loc, offset), ValueRange{})
          .getResult();
    };
    int64_t l = type.getNumLayers(), p = type.getNumPages(),
            h = type.getNumHeads(), s = type.getSlotsPerPage(),
            d = type.getHeadDim();
    view.data = viewAs(type.getDataOffset(), {2, l, p, h, s, d},
                       type.getElementType());
    if (type.getElementType().isInteger(8))
      view.scales = viewAs(type.getScalesOffset(), {2, l, p, h, s},
                           b.getF16Type());
    if (layout.getKind() == KVLayoutKind::paged)
      view.table = viewAs(0, {layout.getMaxBatch(), type.getBlocksPerSequence()},
                          b.getI32Type());
    return view;
  }

  bool quantized() const { return static_cast<bool>(scales); }

  /// Physical (page, slot) of absolute position `t` of sequence `seq`.
  std::pair<Value, Value> locate(OpBuilder &b, Location loc, Value seq,
                                 Value t) const {
    KVLayoutAttr layout = type.getLayout();
    if (!layout || layout.getKind() == KVLayoutKind::contiguous)
      return {seq, t};
    Value perPage = cIdx(b, loc, type.getSlotsPerPage());
    Value slot = arith::RemUIOp::create(b, loc, t, perPage);
    if (layout.getKind() == KVLayoutKind::ring)
      return {seq, slot};
    Value logical = arith::DivUIOp::create(b, loc, t, perPage);
    Value entry = memref::LoadOp::create(b, loc, table, ValueRange{seq, logical});
    Value page = arith::IndexCastOp::create(b, loc, b.getIndexType(), entry);
    return {page, slot};
  }

  SmallVector<Value> dataIndices(OpBuilder &b, Location loc, int64_t which,
                                 Value page, Value g, Value slot,
                                 Value d) const {
    if (!type.getLayout())
      return {cIdx(b, loc, which), layer, g, slot, d};
    return {cIdx(b, loc, which), layer, page, g, slot, d};
  }

  /// The stored scale of a quantized row, as f32.
  Value scale(OpBuilder &b, Location loc, int64_t which, Value page, Value g,
              Value slot) const {
    Value s = memref::LoadOp::create(
        b, loc, scales,
        ValueRange{cIdx(b, loc, which), layer, page, g, slot});
    return arith::ExtFOp::create(b, loc, b.getF32Type(), s);
  }
};

struct AttentionToKernel : public KernelPattern<AttentionOp> {
  using KernelPattern::KernelPattern;

  /// A short, unique spelling of a cache's dtype and layout for kernel names.
  static std::string describeCache(KVCacheType type) {
    std::string s = "_kv" + mangle(type.getElementType());
    if (KVLayoutAttr layout = type.getLayout()) {
      s += "_" + stringifyKVLayoutKind(layout.getKind()).str() + "_b" +
           std::to_string(layout.getMaxBatch());
      if (layout.getBlockSize())
        s += "_bs" + std::to_string(layout.getBlockSize());
      if (layout.getWindow())
        s += "_w" + std::to_string(layout.getWindow());
    }
    return s;
  }

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
    KVCacheType cacheType;
    if (hasCache) {
      cacheType = cast<KVCacheType>(op.getCache().getType());
      Type element = cacheType.getElementType();
      if (!cacheType.getLayout() && !element.isF32() && !element.isF16())
        return op.emitOpError("an unplanned KV cache must be f32 or f16; run "
                              "llm-plan-kv-cache for ")
               << element;
      if (element.isBF16())
        return op.emitOpError("the CPU lowering has no bf16 KV cache");
      int64_t sequences =
          cacheType.getLayout() ? cacheType.getLayout().getMaxBatch() : 1;
      // Per-row positions (a batched decode step) may come with a dynamic
      // batch, checked against the cache's sequences when the kernel runs.
      int64_t batch = resultType.getDimSize(0);
      bool perRow = isa<TensorType>(op.getPosition().getType());
      if ((ShapedType::isDynamic(batch) && !perRow) || batch > sequences)
        return op.emitOpError("attention with a KV cache of ")
               << sequences << " sequence(s) needs a static batch size of at "
               << "most " << sequences;
    }
    SmallVector<Value> operands = {adaptor.getQuery(), adaptor.getKey(),
                                   adaptor.getValue()};
    if (hasCache) {
      operands.push_back(adaptor.getCache());
      operands.push_back(adaptor.getPosition());
      operands.push_back(
          arith::ConstantIndexOp::create(rewriter, op.getLoc(), layer));
    }
    std::string name = "__llm_attention" + mangle(ValueRange(operands).getTypes()) +
                       "_h" + std::to_string(heads) + "_kv" +
                       std::to_string(kvHeads) + "_s" +
                       std::to_string(llvm::bit_cast<uint32_t>(scale)) +
                       (causal ? "_causal" : "") +
                       (hasCache ? describeCache(cacheType) : "");
    int64_t lanes = widthDividing(headDim, options.vectorWidth);
    SmallVector<int64_t> dims = {0, 1, 2};
    emitKernelCall(
        rewriter, op, name, operands, resultType,
        dynSizesFrom(rewriter, op.getLoc(), resultType, adaptor.getQuery(), dims),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          buildBody(b, loc, args, cacheType, heads, kvHeads, headDim, scale,
                    causal, lanes);
        });
    return success();
  }

  /// One key/value row as the attention loop sees it: `load(which, c)`
  /// gives chunk c of the key (which = 0) or value (1) as f32, and for an
  /// int8 cache the scales to apply to the key's dot product and the value.
  struct Row {
    std::function<Value(OpBuilder &, Location, int64_t, int64_t)> load;
    Value keyScale, valueScale;
  };
  using RowAt = llvm::function_ref<Row(OpBuilder &, Location, Value t)>;

  /// The scaled dot product of the query with the key of `row`.
  static Value score(OpBuilder &b, Location loc, ArrayRef<Value> query,
                     const Row &row, int64_t lanes) {
    Value acc;
    for (int64_t c = 0, chunks = query.size(); c < chunks; ++c) {
      Value kv = row.load(b, loc, 0, c);
      if (!acc)
        acc = arith::MulFOp::create(b, loc, query[c], kv);
      else if (lanes == 1)
        acc = arith::AddFOp::create(
            b, loc, acc, arith::MulFOp::create(b, loc, query[c], kv));
      else
        acc = vector::FMAOp::create(b, loc, query[c], kv, acc);
    }
    Value s = treeSum(b, loc, acc);
    if (row.keyScale)
      s = arith::MulFOp::create(b, loc, s, row.keyScale);
    return s;
  }

  /// The running state {max, denominator, accumulators...} moved to the
  /// maximum `mNew`: the denominator and accumulators times exp(max - mNew),
  /// the denominator plus `added` (the new keys' exps).
  static SmallVector<Value> rescale(OpBuilder &b, Location loc, ValueRange it,
                                    Value mNew, Value added, int64_t lanes) {
    Value corr = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, it[0], mNew));
    Value sum = arith::AddFOp::create(
        b, loc, arith::MulFOp::create(b, loc, it[1], corr), added);
    Value corrs = splatLanes(b, loc, corr, lanes);
    SmallVector<Value> next = {mNew, sum};
    for (Value acc : it.drop_front(2))
      next.push_back(arith::MulFOp::create(b, loc, acc, corrs));
    return next;
  }

  /// acc[c] += p * value(row)[c] (p scaled by the row's value scale).
  static void accumulate(OpBuilder &b, Location loc, Value p, const Row &row,
                         MutableArrayRef<Value> acc, int64_t lanes) {
    Value pv = row.valueScale ? arith::MulFOp::create(b, loc, p, row.valueScale)
                              : p;
    Value ps = splatLanes(b, loc, pv, lanes);
    for (int64_t c = 0, chunks = acc.size(); c < chunks; ++c) {
      Value vv = row.load(b, loc, 1, c);
      acc[c] = lanes == 1 ? arith::AddFOp::create(
                                b, loc, acc[c], arith::MulFOp::create(b, loc, ps, vv))
                                .getResult()
                          : vector::FMAOp::create(b, loc, ps, vv, acc[c])
                                .getResult();
    }
  }

  /// Keys per block of the online softmax: their scores form one vector, so
  /// the block pays one vector exp and one rescaling of the accumulators.
  static constexpr int64_t kKeyBlock = 16;

  /// Online-softmax attention of one query (its `chunks` f32 chunks,
  /// pre-multiplied by the softmax scale) over positions [from, to): updates
  /// the running maximum, denominator and value accumulators in `state`.
  /// Whole blocks of kKeyBlock keys first (scores, block maximum, one
  /// correction of the running state, exps as one vector, then the values),
  /// the remaining keys one at a time.
  static SmallVector<Value> attendRange(OpBuilder &b, Location loc, Value from,
                                        Value to, ArrayRef<Value> query,
                                        ValueRange state, int64_t lanes,
                                        RowAt rowAt) {
    Type f32 = b.getF32Type();
    auto blockType = VectorType::get({kKeyBlock}, f32);
    // An empty range may come as from > to (a window starting after it).
    to = arith::MaxUIOp::create(b, loc, from, to);
    Value count = arith::SubIOp::create(b, loc, to, from);
    Value blocks = arith::DivUIOp::create(b, loc, count, cIdx(b, loc, kKeyBlock));
    Value blockedEnd = idxAdd(b, loc, from, idxMul(b, loc, blocks, kKeyBlock));
    auto blocked = scf::ForOp::create(
        b, loc, from, blockedEnd, cIdx(b, loc, kKeyBlock), state,
        [&](OpBuilder &fb, Location fl, Value t0, ValueRange it) {
          SmallVector<Row> rows;
          SmallVector<Value> scores;
          for (int64_t j = 0; j < kKeyBlock; ++j) {
            rows.push_back(rowAt(fb, fl, idxAdd(fb, fl, t0, cIdx(fb, fl, j))));
            scores.push_back(score(fb, fl, query, rows.back(), lanes));
          }
          Value sv = vector::FromElementsOp::create(fb, fl, blockType, scores);
          Value blockMax = vector::ReductionOp::create(
              fb, fl, vector::CombiningKind::MAXNUMF, sv);
          Value mNew = arith::MaxNumFOp::create(fb, fl, it[0], blockMax);
          Value p = math::ExpOp::create(
              fb, fl,
              arith::SubFOp::create(
                  fb, fl, sv, vector::BroadcastOp::create(fb, fl, blockType, mNew)));
          Value blockSum = treeSum(fb, fl, p);
          SmallVector<Value> next = rescale(fb, fl, it, mNew, blockSum, lanes);
          MutableArrayRef<Value> acc(next.begin() + 2, next.end());
          for (int64_t j = 0; j < kKeyBlock; ++j) {
            Value pj = vector::ExtractOp::create(fb, fl, p, j);
            accumulate(fb, fl, pj, rows[j], acc, lanes);
          }
          scf::YieldOp::create(fb, fl, next);
        });
    auto tail = scf::ForOp::create(
        b, loc, blockedEnd, to, cIdx(b, loc, 1), blocked.getResults(),
        [&](OpBuilder &fb, Location fl, Value t, ValueRange it) {
          Row row = rowAt(fb, fl, t);
          Value s = score(fb, fl, query, row, lanes);
          Value mNew = arith::MaxNumFOp::create(fb, fl, it[0], s);
          Value p = math::ExpOp::create(fb, fl, arith::SubFOp::create(fb, fl, s, mNew));
          SmallVector<Value> next = rescale(fb, fl, it, mNew, p, lanes);
          MutableArrayRef<Value> acc(next.begin() + 2, next.end());
          accumulate(fb, fl, p, row, acc, lanes);
          scf::YieldOp::create(fb, fl, next);
        });
    return SmallVector<Value>(tail.getResults());
  }

  using StartOf = llvm::function_ref<Value(OpBuilder &, Location, Value)>;

  static void appendToCache(OpBuilder &b, Location loc, const CacheView &cache,
                            Value k, Value v, StartOf startOf, int64_t kvHeads,
                            int64_t headDim, int64_t lanes) {
    Value batch = dimOf(b, loc, k, 0), seqKV = dimOf(b, loc, k, 1);
    int64_t chunks = headDim / lanes;
    forLoop(b, loc, cIdx(b, loc, 0), batch, 1, [&](OpBuilder &b0, Location l0, Value bi) {
      Value start = startOf(b0, l0, bi);
      forLoop(b0, l0, cIdx(b0, l0, 0), seqKV, 1, [&](OpBuilder &b1, Location l1, Value s) {
        Value t = idxAdd(b1, l1, start, s);
        std::pair<Value, Value> at = cache.locate(b1, l1, bi, t);
        Value page = at.first, slot = at.second;
        forLoop(b1, l1, cIdx(b1, l1, 0), cIdx(b1, l1, kvHeads), 1, [&](OpBuilder &b2, Location l2, Value g) {
          for (int64_t which = 0; which < 2; ++which) {
            Value src = which == 0 ? k : v;
            SmallVector<Value> x;
            for (int64_t c = 0; c < chunks; ++c) {
              Value ch = idxAdd(b2, l2, idxMul(b2, l2, g, headDim),
                                cIdx(b2, l2, c * lanes));
              x.push_back(loadLanes(b2, l2, lanes, src, {bi, s, ch}));
            }
            if (cache.quantized()) {
              Value mx;
              for (Value xc : x) {
                Value a = math::AbsFOp::create(b2, l2, xc);
                if (lanes > 1)
                  a = vector::ReductionOp::create(
                      b2, l2, vector::CombiningKind::MAXNUMF, a);
                mx = mx ? arith::MaxNumFOp::create(b2, l2, mx, a).getResult() : a;
              }
              Value rowScale = arith::TruncFOp::create(
                  b2, l2, b2.getF16Type(),
                  arith::DivFOp::create(b2, l2, mx, cF32(b2, l2, 127.0f)));
              Value s = arith::ExtFOp::create(b2, l2, b2.getF32Type(), rowScale);
              Value isZero = arith::CmpFOp::create(
                  b2, l2, arith::CmpFPredicate::OEQ, s, cF32(b2, l2, 0.0f));
              Value inv = arith::SelectOp::create(
                  b2, l2, isZero, cF32(b2, l2, 0.0f),
                  arith::DivFOp::create(b2, l2, cF32(b2, l2, 1.0f), s));
              Value invs = splatLanes(b2, l2, inv, lanes);
              Value lo = splatLanes(b2, l2, cF32(b2, l2, -127.0f), lanes);
              Value hi = splatLanes(b2, l2, cF32(b2, l2, 127.0f), lanes);
              for (Value &xc : x) {
                Value r = math::RoundEvenOp::create(
                    b2, l2, arith::MulFOp::create(b2, l2, xc, invs));
                xc = arith::MinimumFOp::create(
                    b2, l2, arith::MaximumFOp::create(b2, l2, r, lo), hi);
              }
              memref::StoreOp::create(
                  b2, l2, rowScale, cache.scales,
                  ValueRange{cIdx(b2, l2, which), cache.layer,
                             page, g, slot});
            }
            for (int64_t c = 0; c < chunks; ++c)
              storeFromF32(b2, l2, x[c], cache.data,
                           cache.dataIndices(b2, l2, which, page, g, slot,
                                             cIdx(b2, l2, c * lanes)));
          }
        });
      });
    });
  }

  static void buildBody(OpBuilder &b, Location loc, ValueRange args,
                        KVCacheType cacheType, int64_t heads, int64_t kvHeads,
                        int64_t headDim, float scale, bool causal,
                        int64_t lanes) {
    bool hasCache = static_cast<bool>(cacheType);
    Value q = args[0], k = args[1], v = args[2], out = args.back();
    // The step's first position: one index for all rows, or per row.
    bool perRow = hasCache && isa<MemRefType>(args[4].getType());
    auto startOf = [&](OpBuilder &sb, Location sl, Value bi) -> Value {
      if (!hasCache)
        return cIdx(sb, sl, 0);
      if (!perRow)
        return args[4];
      return arith::IndexCastOp::create(
          sb, sl, sb.getIndexType(),
          memref::LoadOp::create(sb, sl, args[4], ValueRange{bi}));
    };
    std::optional<CacheView> cache;
    if (hasCache)
      cache = CacheView::create(b, loc, args[3], cacheType, args[5]);
    KVLayoutAttr layout = hasCache ? cacheType.getLayout() : KVLayoutAttr();
    int64_t window = layout ? layout.getWindow() : 0;
    Value seqQ = dimOf(b, loc, q, 1), seqKV = dimOf(b, loc, k, 1);
    Value batch = dimOf(b, loc, q, 0);
    int64_t group = heads / kvHeads;
    int64_t chunks = headDim / lanes;
    if (perRow) {
      int64_t sequences = layout ? layout.getMaxBatch() : 1;
      Value fits = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                         batch, cIdx(b, loc, sequences));
      cf::AssertOp::create(b, loc, fits,
                           "attention: more rows than the KV cache's " +
                               std::to_string(sequences) + " sequences");
    }

    // Visible keys of row bi: [0, kvEnd) where kvEnd = start + seqKV; the
    // last query sits at kvEnd - 1, query s at kvEnd - seqQ + s. Positions
    // before `start` come from the cache, the step's own from `key`/`value`
    // (so a ring buffer shorter than the step loses nothing); the step is
    // appended to the cache after every query has been answered.
    Value tasks = arith::MulIOp::create(
        b, loc, batch, arith::MulIOp::create(b, loc, seqQ, cIdx(b, loc, heads)));
    parallelLoop(b, loc, cIdx(b, loc, 0), tasks, [&](OpBuilder &pb, Location l, Value task) {
      Value s = arith::RemUIOp::create(pb, l, task, seqQ);
      Value bh = arith::DivUIOp::create(pb, l, task, seqQ);
      Value h = arith::RemUIOp::create(pb, l, bh, cIdx(pb, l, heads));
      Value bi = arith::DivUIOp::create(pb, l, bh, cIdx(pb, l, heads));
      Value g = arith::DivUIOp::create(pb, l, h, cIdx(pb, l, group));
      Value start = startOf(pb, l, bi);
      Value kvEnd = idxAdd(pb, l, start, seqKV);
      Value qOffset = arith::SubIOp::create(pb, l, kvEnd, seqQ);
      Value qPos = idxAdd(pb, l, qOffset, s);
      Value end = causal ? idxAdd(pb, l, qPos, cIdx(pb, l, 1)) : kvEnd;
      // A sliding window sees positions (qPos - window, qPos] (for
      // non-causal queries, the last `window` positions).
      Value begin = cIdx(pb, l, 0);
      if (window > 0) {
        Value last = causal ? qPos : arith::SubIOp::create(pb, l, kvEnd, cIdx(pb, l, 1));
        Value w = cIdx(pb, l, window - 1);
        Value past = arith::CmpIOp::create(pb, l, arith::CmpIPredicate::ugt,
                                           last, w);
        begin = arith::SelectOp::create(
            pb, l, past, arith::SubIOp::create(pb, l, last, w), begin);
      }
      Value qBase = idxMul(pb, l, h, headDim);
      // The query, pre-multiplied by the softmax scale, stays in registers.
      SmallVector<Value> query;
      Value scaleLanes = splatLanes(pb, l, cF32(pb, l, scale), lanes);
      for (int64_t c = 0; c < chunks; ++c)
        query.push_back(arith::MulFOp::create(
            pb, l,
            loadLanes(pb, l, lanes, q,
                      {bi, s, idxAdd(pb, l, qBase, cIdx(pb, l, c * lanes))}),
            scaleLanes));

      Value zero = splatLanes(pb, l, cF32(pb, l, 0.0f), lanes);
      SmallVector<Value> state = {
          cF32(pb, l, -std::numeric_limits<float>::infinity()),
          cF32(pb, l, 0.0f)};
      state.append(chunks, zero);

      // Keys of this step, straight from the operands.
      auto fromOperands = [&](OpBuilder &rb, Location rl, Value t) {
        Value row = hasCache ? arith::SubIOp::create(rb, rl, t, start).getResult()
                             : t;
        Value chBase = idxMul(rb, rl, g, headDim);
        Row r;
        r.load = [=](OpBuilder &cb, Location cl, int64_t which, int64_t c) {
          Value ch = idxAdd(cb, cl, chBase, cIdx(cb, cl, c * lanes));
          return loadLanes(cb, cl, lanes, which == 0 ? k : v, {bi, row, ch});
        };
        return r;
      };
      if (hasCache) {
        // Earlier positions, read through the planned layout.
        auto fromCache = [&](OpBuilder &rb, Location rl, Value t) {
          std::pair<Value, Value> at = cache->locate(rb, rl, bi, t);
          Value page = at.first, slot = at.second;
          Row r;
          const CacheView *view = &*cache;
          r.load = [=](OpBuilder &cb, Location cl, int64_t which, int64_t c) {
            return loadAsF32(cb, cl, lanes, view->data,
                             view->dataIndices(cb, cl, which, page, g, slot,
                                               cIdx(cb, cl, c * lanes)));
          };
          if (cache->quantized()) {
            r.keyScale = cache->scale(rb, rl, 0, page, g, slot);
            r.valueScale = cache->scale(rb, rl, 1, page, g, slot);
          }
          return r;
        };
        Value pastEnd = arith::MinUIOp::create(pb, l, start, end);
        state = attendRange(pb, l, begin, pastEnd, query, state, lanes, fromCache);
        begin = arith::MaxUIOp::create(pb, l, begin, start);
      }
      state = attendRange(pb, l, begin, end, query, state, lanes, fromOperands);

      Value inv = arith::DivFOp::create(pb, l, cF32(pb, l, 1.0f), state[1]);
      Value invs = splatLanes(pb, l, inv, lanes);
      for (int64_t c = 0; c < chunks; ++c) {
        Value r = arith::MulFOp::create(pb, l, state[2 + c], invs);
        Value ch = idxAdd(pb, l, qBase, cIdx(pb, l, c * lanes));
        storeLanes(pb, l, r, out, {bi, s, ch});
      }
    });

    if (hasCache)
      appendToCache(b, loc, *cache, k, v, startOf, kvHeads, headDim, lanes);
  }

};

} // namespace

void kernels::populateAttentionKernelPatterns(const TypeConverter &converter,
                                              RewritePatternSet &patterns,
                                              const KernelOptions &options) {
  patterns.add<RopeToKernel, AttentionToKernel>(converter, patterns.getContext(),
                                               options);
}
