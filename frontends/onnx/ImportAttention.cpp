//===- ImportAttention.cpp - Opset-23 Attention and RotaryEmbedding -------===//
//
// Part of Frugal. The default-domain attention operators of opset 23:
// Attention becomes llm.attention and RotaryEmbedding llm.rope with the
// model's cos/sin tables. Both accept [batch, seq, heads * head_size]
// inputs, which llm ops take as they are, and [batch, heads, seq,
// head_size] ones, which are transposed and reshaped into that form and
// back. Attention has no KV cache here: past_key/past_value belong to the
// decoder import, which maps the genai exports' GroupQueryAttention.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/ImportOps.h"

#include "dialects/LLM/IR/LLMDialect.h"

using namespace mlir;
using llvm::Error;
using llvm::Expected;

namespace frugal::onnx {

Value OpImporter::headsToHidden(Value x) {
  auto t = mlir::cast<RankedTensorType>(x.getType());
  ArrayRef<int64_t> s = t.getShape();
  Value tr = llm::TransposeOp::create(
      b, loc(), t.clone({s[0], s[2], s[1], s[3]}), x,
      b.getDenseI64ArrayAttr({0, 2, 1, 3}));
  return llm::ReshapeOp::create(b, loc(), t.clone({s[0], s[2], s[1] * s[3]}),
                                tr);
}

Value OpImporter::hiddenToHeads(Value x, int64_t heads) {
  auto t = mlir::cast<RankedTensorType>(x.getType());
  ArrayRef<int64_t> s = t.getShape();
  int64_t d = s[2] / heads;
  Value r = llm::ReshapeOp::create(b, loc(), t.clone({s[0], s[1], heads, d}),
                                   x);
  return llm::TransposeOp::create(b, loc(), t.clone({s[0], heads, s[1], d}), r,
                                  b.getDenseI64ArrayAttr({0, 2, 1, 3}));
}

Error OpImporter::attention() {
  for (size_t k = 3; k < node().inputs.size(); ++k)
    if (gi.hasInput(k))
      return err(k == 3 ? "attn_mask is not supported (only is_causal)"
                        : "past_key/past_value (a KV cache) are only "
                          "supported by the decoder import, through "
                          "GroupQueryAttention");
  if (node().outputs.size() > 3 && !node().outputs[3].empty())
    return err("the qk_matmul_output output is not supported");
  if (gi.attrFloat("softcap", 0.0f) != 0.0f)
    return err("softcap is not supported");

  SmallVector<RankedTensorType, 3> types;
  for (size_t i = 0; i < 3; ++i) {
    Expected<RankedTensorType> t = gi.typeOf(i);
    if (!t)
      return t.takeError();
    if (Error e = requireFloat(*t, "Attention"))
      return e;
    types.push_back(*t);
  }
  int64_t rank = types[0].getRank();
  if ((rank != 3 && rank != 4) || types[1].getRank() != rank ||
      types[2].getRank() != rank)
    return err("Q, K and V must all be 3-D [batch, seq, heads * head_size] or "
               "all 4-D [batch, heads, seq, head_size], got " +
               shapeText(types[0].getShape()) + ", " +
               shapeText(types[1].getShape()) + ", " +
               shapeText(types[2].getShape()));

  int64_t qHeads, kvHeads, headDim, vHeadDim, qSeq, kvSeq;
  if (rank == 4) {
    for (size_t i = 0; i < 3; ++i)
      if (Error e = gi.requireStatic(i))
        return e;
    qHeads = types[0].getDimSize(1);
    kvHeads = types[1].getDimSize(1);
    headDim = types[0].getDimSize(3);
    vHeadDim = types[2].getDimSize(3);
    qSeq = types[0].getDimSize(2);
    kvSeq = types[1].getDimSize(2);
    if (types[1].getDimSize(3) != headDim ||
        types[2].getDimSize(1) != kvHeads)
      return err("K and V must be [batch, kv_heads, kv_seq, head_size] "
                 "matching Q's head size");
  } else {
    qHeads = gi.attrInt("q_num_heads", 0);
    kvHeads = gi.attrInt("kv_num_heads", 0);
    if (qHeads <= 0 || kvHeads <= 0)
      return err("3-D inputs need the q_num_heads and kv_num_heads "
                 "attributes");
    for (size_t i = 0; i < 3; ++i)
      if (types[i].isDynamicDim(2))
        return err("3-D inputs need a static hidden size");
    int64_t qWidth = types[0].getDimSize(2), kWidth = types[1].getDimSize(2);
    if (qWidth % qHeads || kWidth % kvHeads || qWidth / qHeads != kWidth / kvHeads)
      return err(llvm::formatv("Q width {0} / q_num_heads {1} and K width {2} "
                               "/ kv_num_heads {3} must give the same head "
                               "size",
                               qWidth, qHeads, kWidth, kvHeads));
    headDim = qWidth / qHeads;
    vHeadDim = types[2].getDimSize(2) / kvHeads;
    qSeq = types[0].getDimSize(1);
    kvSeq = types[1].getDimSize(1);
  }
  if (vHeadDim != headDim)
    return err(llvm::formatv("a value head size ({0}) other than the query "
                             "head size ({1}) is not supported",
                             vHeadDim, headDim));
  if (qHeads % kvHeads)
    return err(llvm::formatv("{0} query heads are not a multiple of {1} KV "
                             "heads",
                             qHeads, kvHeads));
  bool causal = gi.attrInt("is_causal", 0) != 0;
  // ONNX's causal mask is aligned to the top left (query i sees keys
  // 0..i), as llm.attention's is without a cache; with other lengths the
  // two may disagree, so only equal lengths are accepted.
  if (causal && qSeq != kvSeq)
    return err("is_causal with different query and key lengths is not "
               "supported");

  Expected<Value> q = gi.value(0), k = gi.value(1), v = gi.value(2);
  if (!q)
    return q.takeError();
  if (!k)
    return k.takeError();
  if (!v)
    return v.takeError();
  Value qx = *q, kx = *k, vx = *v;
  if (rank == 4) {
    qx = headsToHidden(qx);
    kx = headsToHidden(kx);
    vx = headsToHidden(vx);
  }
  const ONNXAttribute *scaleAttr = node().attr("scale");
  Value out = llm::AttentionOp::create(
      b, loc(), qx.getType(), qx, kx, vx, Value(), Value(),
      b.getI64IntegerAttr(qHeads), b.getI64IntegerAttr(kvHeads),
      scaleAttr ? b.getF32FloatAttr(scaleAttr->f) : FloatAttr(),
      causal ? b.getUnitAttr() : UnitAttr(), IntegerAttr());
  if (rank == 4)
    out = hiddenToHeads(out, qHeads);
  gi.define(0, out);
  // Without a past, present_key/present_value are K and V in 4-D form.
  for (size_t i : {size_t(1), size_t(2)}) {
    if (i >= node().outputs.size() || node().outputs[i].empty())
      continue;
    if (rank == 4)
      gi.forward(i, i);
    else
      gi.define(i, hiddenToHeads(i == 1 ? *k : *v, kvHeads));
  }
  return Error::success();
}

Error OpImporter::rotaryEmbedding23() {
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  if (Error e = requireFloat(*t, node().opType))
    return e;
  if (!gi.hasInput(3))
    return err("RotaryEmbedding without position_ids (cos/sin caches per "
               "batch and position) is not supported");
  int64_t rank = t->getRank();
  int64_t numHeads;
  if (rank == 4) {
    if (Error e = gi.requireStatic(0))
      return e;
    numHeads = t->getDimSize(1);
    int64_t attr = gi.attrInt("num_heads", 0);
    if (attr != 0 && attr != numHeads)
      return err(llvm::formatv("num_heads {0} does not match the input's {1} "
                               "heads",
                               attr, numHeads));
  } else if (rank == 3) {
    numHeads = gi.attrInt("num_heads", 0);
    if (numHeads <= 0)
      return err("the num_heads attribute is required for 3-D inputs");
    if (t->isDynamicDim(2) || t->getDimSize(2) % numHeads)
      return err(llvm::formatv("hidden size of {0} is not a static multiple "
                               "of num_heads {1}",
                               shapeText(t->getShape()), numHeads));
  } else {
    return err("input of shape " + shapeText(t->getShape()) +
               " is not supported ([batch, seq, hidden] or [batch, heads, "
               "seq, head_size])");
  }
  Expected<RankedTensorType> ct = gi.typeOf(1);
  if (!ct)
    return ct.takeError();
  int64_t rotaryAttr = gi.attrInt("rotary_embedding_dim", 0);
  if (rotaryAttr != 0 && ct->getRank() == 2 && !ct->isDynamicDim(1) &&
      rotaryAttr != 2 * ct->getDimSize(1))
    return err(llvm::formatv("rotary_embedding_dim {0} does not match cos_cache "
                             "of shape {1}",
                             rotaryAttr, shapeText(ct->getShape())));
  Expected<Value> x = gi.value(0), pos = gi.value(3);
  if (!x)
    return x.takeError();
  if (!pos)
    return pos.takeError();
  auto pt = mlir::cast<RankedTensorType>(pos->getType());
  if (pt.getRank() != 2 || pt.getElementType().isF32())
    return err("position_ids must be integer [batch, seq]");
  Value in = rank == 4 ? headsToHidden(*x) : *x;
  Expected<Value> r = ropeWithTables(in, *pos, 1, 2, numHeads,
                                     gi.attrInt("interleaved", 0) != 0);
  if (!r)
    return r.takeError();
  gi.define(0, rank == 4 ? hiddenToHeads(*r, numHeads) : *r);
  return Error::success();
}

} // namespace frugal::onnx
