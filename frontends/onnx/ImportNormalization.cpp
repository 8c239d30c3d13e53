//===- ImportNormalization.cpp - MatMul, norms, activations ---------------===//
//
// Part of Frugal. MatMul, Gemm, Softmax, LayerNormalization,
// RMSNormalization and Gelu.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/ImportOps.h"

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <functional>

using namespace mlir;
using llvm::Error;
using llvm::Expected;
using llvm::SmallVector;
using llvm::StringRef;

namespace frugal::onnx {

//===----------------------------------------------------------------------===//
// Linear algebra and normalizations
//===----------------------------------------------------------------------===//

Error OpImporter::matmul() {
  Expected<RankedTensorType> lt = gi.typeOf(0), rt = gi.typeOf(1);
  if (!lt)
    return lt.takeError();
  if (!rt)
    return rt.takeError();
  if (Error e = requireFloat(*lt, "MatMul"))
    return e;
  if (lt->getRank() < 2 || rt->getRank() < 2)
    return err("MatMul of rank-1 operands is not supported yet (shapes " +
               shapeText(lt->getShape()) + " and " + shapeText(rt->getShape()) +
               ")");
  ArrayRef<int64_t> ls = lt->getShape(), rs = rt->getShape();
  if (rt->getRank() != 2 &&
      (rt->getRank() != lt->getRank() || ls.drop_back(2) != rs.drop_back(2)))
    return err("MatMul batch broadcasting is not supported yet (shapes " +
               shapeText(ls) + " and " + shapeText(rs) + ")");
  int64_t k = ls.back(), kr = rs[rs.size() - 2];
  if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(kr) && k != kr)
    return err(
        llvm::formatv("MatMul contraction sizes differ: {0} vs {1}", k, kr));
  Expected<Value> l = gi.value(0, ElemKind::F32),
                  r = gi.value(1, ElemKind::F32);
  if (!l)
    return l.takeError();
  if (!r)
    return r.takeError();
  Shape shape(ls.begin(), ls.end());
  shape.back() = rs.back();
  gi.define(0, llm::MatmulOp::create(b, loc(),
                                     gi.tensorType(shape, b.getF32Type()), *l,
                                     *r, UnitAttr()));
  return Error::success();
}

Error OpImporter::gemm() {
  Expected<RankedTensorType> at = gi.typeOf(0), bt = gi.typeOf(1);
  if (!at)
    return at.takeError();
  if (!bt)
    return bt.takeError();
  if (at->getRank() != 2 || bt->getRank() != 2)
    return err("Gemm operands must have rank 2, found " +
               shapeText(at->getShape()) + " and " + shapeText(bt->getShape()));
  if (Error e = requireFloat(*at, "Gemm"))
    return e;
  bool transA = gi.attrInt("transA", 0), transB = gi.attrInt("transB", 0);
  float alpha = gi.attrFloat("alpha", 1.0f), beta = gi.attrFloat("beta", 1.0f);
  Expected<Value> a = gi.value(0, ElemKind::F32),
                  bm = gi.value(1, ElemKind::F32);
  if (!a)
    return a.takeError();
  if (!bm)
    return bm.takeError();
  Value lhs = *a;
  int64_t m = at->getDimSize(0), k = at->getDimSize(1);
  if (transA) {
    std::swap(m, k);
    lhs = llm::TransposeOp::create(b, loc(),
                                   gi.tensorType({m, k}, b.getF32Type()), lhs,
                                   b.getDenseI64ArrayAttr({1, 0}));
  }
  int64_t kb = bt->getDimSize(transB ? 1 : 0);
  int64_t n = bt->getDimSize(transB ? 0 : 1);
  if (k != kb)
    return err(
        llvm::formatv("Gemm contraction sizes differ: {0} vs {1}", k, kb));
  auto type = gi.tensorType({m, n}, b.getF32Type());
  Value y = llm::MatmulOp::create(b, loc(), type, lhs, *bm,
                                  transB ? b.getUnitAttr() : UnitAttr());
  if (alpha != 1.0f)
    y = llm::MulOp::create(b, loc(), type, y, gi.scalarF32(alpha));
  if (gi.hasInput(2) && beta != 0.0f) {
    Expected<RankedTensorType> ct = gi.typeOf(2);
    if (!ct)
      return ct.takeError();
    if (!broadcastShapes(ct->getShape(), {m, n}))
      return err("Gemm C of shape " + shapeText(ct->getShape()) +
                 " does not broadcast to " + shapeText({m, n}));
    Expected<Value> c = gi.value(2, ElemKind::F32);
    if (!c)
      return c.takeError();
    Value cv = *c;
    if (beta != 1.0f)
      cv = llm::MulOp::create(b, loc(), cv.getType(), cv, gi.scalarF32(beta));
    y = llm::AddOp::create(b, loc(), type, y, cv);
  }
  gi.define(0, y);
  return Error::success();
}

Error OpImporter::softmax() {
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  if (Error e = requireFloat(*t, "Softmax"))
    return e;
  Expected<int64_t> axis =
      gi.normalizeAxis(gi.attrInt("axis", -1), t->getRank(), "axis");
  if (!axis)
    return axis.takeError();
  Expected<Value> x = gi.value(0);
  if (!x)
    return x.takeError();
  int64_t attr = *axis == t->getRank() - 1 ? -1 : *axis;
  gi.define(
      0, llm::SoftmaxOp::create(b, loc(), *t, *x, b.getI64IntegerAttr(attr)));
  return Error::success();
}

Expected<RankedTensorType> OpImporter::lastAxisNormInput(StringRef what) {
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  if (Error e = requireFloat(*t, what))
    return std::move(e);
  Expected<int64_t> axis =
      gi.normalizeAxis(gi.attrInt("axis", -1), t->getRank(), "axis");
  if (!axis)
    return axis.takeError();
  if (*axis != t->getRank() - 1)
    return err(llvm::formatv("normalizing from axis {0} is not supported "
                             "(only the last axis)",
                             gi.attrInt("axis", -1)));
  return t;
}

Error OpImporter::layerNorm() {
  Expected<RankedTensorType> t = lastAxisNormInput("LayerNormalization");
  if (!t)
    return t.takeError();
  for (size_t i = 1; i < node().outputs.size(); ++i)
    if (!node().outputs[i].empty())
      return err("the Mean and InvStdDev outputs are not supported");
  int64_t hidden = t->getShape().back();
  for (size_t i = 1; i <= 2; ++i) {
    if (!gi.hasInput(i))
      continue;
    Expected<RankedTensorType> pt = gi.typeOf(i);
    if (!pt)
      return pt.takeError();
    if (pt->getShape() != ArrayRef<int64_t>{hidden})
      return err(llvm::formatv("{0} has shape {1}, expected [{2}]",
                               i == 1 ? "scale" : "bias",
                               shapeText(pt->getShape()), hidden));
  }
  Expected<Value> x = gi.value(0), w = gi.value(1, ElemKind::F32);
  if (!x)
    return x.takeError();
  if (!w)
    return w.takeError();
  Value bias;
  if (gi.hasInput(2)) {
    Expected<Value> bv = gi.value(2, ElemKind::F32);
    if (!bv)
      return bv.takeError();
    bias = *bv;
  }
  gi.define(0, llm::LayerNormOp::create(
                   b, loc(), *t, *x, *w, bias,
                   b.getF64FloatAttr(gi.attrFloat("epsilon", 1e-5f))));
  return Error::success();
}

Error OpImporter::rmsNorm() {
  Expected<RankedTensorType> t = lastAxisNormInput("RMSNormalization");
  if (!t)
    return t.takeError();
  Expected<RankedTensorType> st = gi.typeOf(1);
  if (!st)
    return st.takeError();
  int64_t hidden = t->getShape().back();
  if (st->getShape() != ArrayRef<int64_t>{hidden})
    return err(llvm::formatv("scale has shape {0}, expected [{1}]",
                             shapeText(st->getShape()), hidden));
  Expected<Value> x = gi.value(0), w = gi.value(1, ElemKind::F32);
  if (!x)
    return x.takeError();
  if (!w)
    return w.takeError();
  gi.define(0, llm::RMSNormOp::create(
                   b, loc(), *t, *x, *w,
                   b.getF64FloatAttr(gi.attrFloat("epsilon", 1e-5f))));
  return Error::success();
}

Error OpImporter::gelu() {
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  if (Error e = requireFloat(*t, "Gelu"))
    return e;
  std::string approximate = gi.attrString("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    return err("unknown approximate = '" + approximate + "'");
  Expected<Value> x = gi.value(0);
  if (!x)
    return x.takeError();
  gi.define(0, llm::GeluOp::create(b, loc(), *t, *x,
                                   approximate == "tanh" ? b.getUnitAttr()
                                                         : UnitAttr()));
  return Error::success();
}

} // namespace frugal::onnx
