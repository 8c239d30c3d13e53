//===- ImportContrib.cpp - onnxruntime contrib operators ------------------===//
//
// Part of Frugal. The com.microsoft operators of onnxruntime-genai decoder
// exports: SimplifiedLayerNormalization (which ONNX Runtime also accepts in
// the default domain), SkipSimplifiedLayerNormalization, RotaryEmbedding
// GroupQueryAttention, MatMulNBits and GatherBlockQuantized.
// GroupQueryAttention needs the decoder import, whose KV cache holds the
// past keys and values.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/ImportOps.h"

#include "dialects/LLM/IR/LLMDialect.h"
#include "frontends/onnx/MatMulNBits.h"

using namespace mlir;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace frugal::onnx {

Error OpImporter::rmsNormOf(Value x, size_t scaleInput, size_t output) {
  auto t = mlir::cast<RankedTensorType>(x.getType());
  Expected<int64_t> axis =
      gi.normalizeAxis(gi.attrInt("axis", -1), t.getRank(), "axis");
  if (!axis)
    return axis.takeError();
  if (*axis != t.getRank() - 1)
    return err("normalizing from axis " + std::to_string(*axis) +
               " is not supported (only the last axis)");
  Expected<RankedTensorType> st = gi.typeOf(scaleInput);
  if (!st)
    return st.takeError();
  if (st->getRank() != 1 || st->getDimSize(0) != t.getShape().back())
    return err("scale of shape " + shapeText(st->getShape()) +
               " does not match the normalized size " +
               std::to_string(t.getShape().back()));
  Expected<Value> w = gi.value(scaleInput, ElemKind::F32);
  if (!w)
    return w.takeError();
  gi.define(output, llm::RMSNormOp::create(
                        b, loc(), t, x, *w,
                        b.getF64FloatAttr(gi.attrFloat("epsilon", 1e-5f))));
  return Error::success();
}

Error OpImporter::simplifiedLayerNorm() {
  if (node().outputs.size() > 1 && !node().outputs[1].empty())
    return err("the inv_std_var output is not supported");
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  if (Error e = requireFloat(*t, node().opType))
    return e;
  Expected<Value> x = gi.value(0);
  if (!x)
    return x.takeError();
  return rmsNormOf(*x, 1, 0);
}

Error OpImporter::skipSimplifiedLayerNorm() {
  for (size_t k : {size_t(1), size_t(2)})
    if (k < node().outputs.size() && !node().outputs[k].empty())
      return err("the mean and inv_std_var outputs are not supported");
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  if (Error e = requireFloat(*t, node().opType))
    return e;
  Expected<Value> x = gi.value(0), skip = gi.value(1, ElemKind::F32);
  if (!x)
    return x.takeError();
  if (!skip)
    return skip.takeError();
  if (skip->getType() != x->getType())
    return err("input and skip must have the same shape");
  Value sum = llm::AddOp::create(b, loc(), *t, *x, *skip);
  if (gi.hasInput(3)) {
    Expected<Value> bias = gi.value(3, ElemKind::F32);
    if (!bias)
      return bias.takeError();
    sum = llm::AddOp::create(b, loc(), *t, sum, *bias);
  }
  gi.define(3, sum);
  return rmsNormOf(sum, 2, 0);
}

Expected<Value> OpImporter::ropeWithTables(Value x, Value positions,
                                           size_t cosInput, size_t sinInput,
                                           int64_t numHeads, bool interleaved) {
  Expected<RankedTensorType> ct = gi.typeOf(cosInput),
                             st = gi.typeOf(sinInput);
  if (!ct)
    return ct.takeError();
  if (!st)
    return st.takeError();
  if (ct->getRank() != 2 || ct->getShape() != st->getShape() ||
      ct->isDynamicDim(1))
    return err("cos_cache and sin_cache must both be [max_positions, "
               "rotary_dim / 2], got " +
               shapeText(ct->getShape()) + " and " + shapeText(st->getShape()));
  Expected<Value> cosT = gi.value(cosInput, ElemKind::F32),
                  sinT = gi.value(sinInput, ElemKind::F32);
  if (!cosT)
    return cosT.takeError();
  if (!sinT)
    return sinT.takeError();
  auto xt = mlir::cast<RankedTensorType>(x.getType());
  int64_t headDim = xt.getShape().back() / numHeads;
  int64_t rotary = 2 * ct->getDimSize(1);
  if (rotary > headDim)
    return err(llvm::formatv("rotary tables of {0} columns exceed half the "
                             "head size {1}",
                             ct->getDimSize(1), headDim));
  if (auto *d = gi.decoder()) {
    if (!ShapedType::isDynamic(ct->getDimSize(0)) &&
        (!d->maxPositions || ct->getDimSize(0) < d->maxPositions))
      d->maxPositions = ct->getDimSize(0);
  }
  return llm::RopeOp::create(
             b, loc(), xt, x, positions, *cosT, *sinT,
             b.getI64IntegerAttr(numHeads), FloatAttr(),
             rotary == headDim ? IntegerAttr() : b.getI64IntegerAttr(rotary),
             interleaved ? b.getUnitAttr() : UnitAttr())
      .getResult();
}

Error OpImporter::rotaryEmbedding() {
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  if (Error e = requireFloat(*t, node().opType))
    return e;
  if (t->getRank() != 3)
    return err("input of shape " + shapeText(t->getShape()) +
               " is not supported (only [batch, seq, hidden])");
  int64_t numHeads = gi.attrInt("num_heads", 0);
  if (numHeads <= 0)
    return err("the num_heads attribute is required for 3-D inputs");
  if (gi.attrFloat("scale", 1.0f) != 1.0f)
    return err("scale other than 1 is not supported");
  Expected<Value> x = gi.value(0), pos = gi.value(1);
  if (!x)
    return x.takeError();
  if (!pos)
    return pos.takeError();
  auto pt = mlir::cast<RankedTensorType>(pos->getType());
  if (pt.getRank() != 2 || pt.getElementType().isF32())
    return err("position_ids must be integer [batch, seq]");
  Expected<Value> r = ropeWithTables(*x, *pos, 2, 3, numHeads,
                                     gi.attrInt("interleaved", 0) != 0);
  if (!r)
    return r.takeError();
  gi.define(0, *r);
  return Error::success();
}

Error OpImporter::groupQueryAttention() {
  GraphImporter::DecoderState *d = gi.decoder();
  if (!d)
    return err("GroupQueryAttention needs the decoder import "
               "(importONNXDecoder), which maps its past key/value to the KV "
               "cache");
  int64_t numHeads = gi.attrInt("num_heads", 0);
  int64_t kvHeads = gi.attrInt("kv_num_heads", 0);
  if (numHeads <= 0 || kvHeads <= 0 || numHeads % kvHeads)
    return err(llvm::formatv("num_heads {0} must be a positive multiple of "
                             "kv_num_heads {1}",
                             numHeads, kvHeads));
  if (gi.attrInt("local_window_size", -1) != -1)
    return err("local_window_size (sliding window) is not supported");
  if (gi.attrFloat("softcap", 0.0f) != 0.0f)
    return err("softcap is not supported");
  for (size_t k = 9; k < node().inputs.size(); ++k)
    if (gi.hasInput(k))
      return err("inputs after sin_cache (position_ids, attention_bias, "
                 "head_sink) are not supported");
  Expected<RankedTensorType> qt = gi.typeOf(0);
  if (!qt)
    return qt.takeError();
  if (Error e = requireFloat(*qt, node().opType))
    return e;
  if (qt->getRank() != 3 || qt->getDimSize(0) != 1 || qt->isDynamicDim(2))
    return err("query of shape " + shapeText(qt->getShape()) +
               " is not supported (expected [1, seq, hidden])");
  Expected<Value> query = gi.value(0);
  if (!query)
    return query.takeError();

  // Packed QKV (key and value omitted) or separate projections.
  int64_t width = qt->getDimSize(2);
  Value q = *query, k, v;
  int64_t headDim;
  auto sliceLast = [&](int64_t start, int64_t size) -> Value {
    auto type = qt->clone({1, qt->getDimSize(1), size});
    return llm::SliceOp::create(b, loc(), type, *query, b.getI64IntegerAttr(2),
                                b.getI64IntegerAttr(start));
  };
  if (!gi.hasInput(1) && !gi.hasInput(2)) {
    if (width % (numHeads + 2 * kvHeads))
      return err(llvm::formatv("packed QKV width {0} is not a multiple of "
                               "num_heads + 2 * kv_num_heads = {1}",
                               width, numHeads + 2 * kvHeads));
    headDim = width / (numHeads + 2 * kvHeads);
    q = sliceLast(0, numHeads * headDim);
    k = sliceLast(numHeads * headDim, kvHeads * headDim);
    v = sliceLast((numHeads + kvHeads) * headDim, kvHeads * headDim);
  } else {
    if (width % numHeads)
      return err("query width is not a multiple of num_heads");
    headDim = width / numHeads;
    Expected<Value> kx = gi.value(1, ElemKind::F32),
                    vx = gi.value(2, ElemKind::F32);
    if (!kx)
      return kx.takeError();
    if (!vx)
      return vx.takeError();
    k = *kx;
    v = *vx;
    for (Value kvValue : {k, v}) {
      auto type = mlir::cast<RankedTensorType>(kvValue.getType());
      if (type.getRank() != 3 || type.getDimSize(2) != kvHeads * headDim)
        return err("key and value must be [1, seq, kv_num_heads * head_size]");
    }
  }

  if (d->numLayers == 0) {
    d->kvHeads = kvHeads;
    d->headDim = headDim;
  } else if (d->kvHeads != kvHeads || d->headDim != headDim) {
    return err(llvm::formatv("layer {0} has {1} KV heads of size {2}, layer 0 "
                             "{3} of size {4}",
                             d->numLayers, kvHeads, headDim, d->kvHeads,
                             d->headDim));
  }

  if (gi.attrInt("do_rotary", 0)) {
    if (!gi.hasInput(7) || !gi.hasInput(8))
      return err("do_rotary needs cos_cache and sin_cache");
    bool interleaved = gi.attrInt("rotary_interleaved", 0) != 0;
    Expected<Value> qr =
        ropeWithTables(q, d->positions, 7, 8, numHeads, interleaved);
    if (!qr)
      return qr.takeError();
    Expected<Value> kr =
        ropeWithTables(k, d->positions, 7, 8, kvHeads, interleaved);
    if (!kr)
      return kr.takeError();
    q = *qr;
    k = *kr;
  }

  float scale = gi.attrFloat("scale", 0.0f);
  Value out = llm::AttentionOp::create(
      b, loc(), q.getType(), q, k, v, d->kvCache, d->start,
      b.getI64IntegerAttr(numHeads), b.getI64IntegerAttr(kvHeads),
      scale != 0.0f ? b.getF32FloatAttr(scale) : FloatAttr(), b.getUnitAttr(),
      b.getI64IntegerAttr(d->numLayers));
  ++d->numLayers;
  gi.define(0, out);
  return Error::success();
}

Error OpImporter::matmulNBits() {
  llvm::Expected<NBitsWeight> w = describeNBits(gi.onnxModel(), node());
  if (!w)
    return err(llvm::toString(w.takeError()));
  Expected<RankedTensorType> at = gi.typeOf(0);
  if (!at)
    return at.takeError();
  if (Error e = requireFloat(*at, node().opType))
    return e;
  if (at->getRank() < 2 || at->getShape().back() != w->k)
    return err(llvm::formatv("input A of shape {0} does not end in K = {1}",
                             shapeText(at->getShape()), w->k));
  Expected<Value> a = gi.value(0);
  if (!a)
    return a.takeError();
  // The matmul reads B packed: group = block_size, and the scheme from the
  // zero points (all 2^(bits - 1) or absent is Frugal's symmetric one).
  // When K is not a multiple of block_size (B's last block is padded), the
  // weight stays f32 and the packer dequantizes it.
  llm::QuantAttr quant;
  if (w->k % w->blockSize == 0)
    quant = llm::QuantAttr::get(b.getContext(), unsigned(w->bits),
                                unsigned(w->blockSize),
                                w->symmetric() ? llm::QuantScheme::symmetric
                                               : llm::QuantScheme::asymmetric);
  Value weight = llm::WeightOp::create(
      b, loc(), RankedTensorType::get({w->n, w->k}, b.getF32Type()),
      b.getStringAttr(node().inputs[1]), quant, IntegerAttr(), UnitAttr());
  SmallVector<int64_t, 4> shape(at->getShape());
  shape.back() = w->n;
  auto type = at->clone(shape);
  Value y = llm::MatmulOp::create(b, loc(), type, *a, weight, b.getUnitAttr());
  if (gi.hasInput(5)) {
    Expected<Value> bias = gi.value(5, ElemKind::F32);
    if (!bias)
      return bias.takeError();
    y = llm::AddOp::create(b, loc(), type, y, *bias);
  }
  gi.define(0, y);
  return Error::success();
}

Error OpImporter::gatherBlockQuantized() {
  std::string table;
  llvm::Expected<NBitsWeight> w =
      describeGatherBlockQuantized(gi.onnxModel(), node(), table);
  if (!w)
    return err(llvm::toString(w.takeError()));
  Expected<RankedTensorType> it = gi.typeOf(1);
  if (!it)
    return it.takeError();
  if (!it->getElementType().isInteger(64) &&
      !it->getElementType().isInteger(32))
    return err("indices must be INT64 or INT32");
  Expected<Value> idx = gi.value(1);
  if (!idx)
    return idx.takeError();
  // The embedding reads the table as f32: the same initializer as the
  // packed MatMulNBits weight, without quant, is a separate f32 tensor of
  // the model file, which the packer fills through readAsF32 (the exact
  // dequantization of the codes with the stored scales).
  Value weight = llm::WeightOp::create(
      b, loc(), RankedTensorType::get({w->n, w->k}, b.getF32Type()),
      b.getStringAttr(table), llm::QuantAttr(), IntegerAttr(), UnitAttr());
  SmallVector<int64_t, 4> shape(it->getShape());
  shape.push_back(w->k);
  gi.define(0, llm::EmbedOp::create(b, loc(),
                                    gi.tensorType(shape, b.getF32Type()),
                                    weight, *idx));
  return Error::success();
}

} // namespace frugal::onnx
