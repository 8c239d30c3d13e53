//===- ImportFolding.cpp - Values known at import time --------------------===//
//
// Part of Frugal. Constant, Shape, Size, ConstantOfShape and Range, which
// always fold into known values.
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
// Values known at import time
//===----------------------------------------------------------------------===//

Error OpImporter::constant() {
  if (node().attributes.size() != 1)
    return err("Constant needs exactly one value attribute");
  const ONNXAttribute &a = node().attributes.front();
  KnownTensor t;
  if (a.name == "value") {
    if (!a.t)
      return err("attribute 'value' holds no tensor");
    std::optional<KnownTensor> k = KnownTensor::fromTensor(*a.t);
    if (!k)
      return err("Constant of data type " +
                 dataTypeName(int32_t(a.t->dataType)) +
                 " is not supported (expected FLOAT, FLOAT16, BFLOAT16, "
                 "DOUBLE, INT64, INT32 or BOOL)");
    t = std::move(*k);
  } else if (a.name == "value_float") {
    t.kind = ElemKind::F32;
    t.f = {a.f};
  } else if (a.name == "value_floats") {
    t.kind = ElemKind::F32;
    t.shape = {int64_t(a.floats.size())};
    t.f.assign(a.floats.begin(), a.floats.end());
  } else if (a.name == "value_int") {
    t = KnownTensor::scalarInt(a.i);
  } else if (a.name == "value_ints") {
    t = KnownTensor::ints(a.ints);
  } else {
    return err("Constant attribute '" + a.name + "' is not supported");
  }
  gi.defineKnown(0, std::move(t));
  return Error::success();
}

Error OpImporter::shape() {
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  int64_t rank = t->getRank();
  auto clamp = [rank](int64_t v) {
    v = v < 0 ? v + rank : v;
    return std::min(std::max<int64_t>(v, 0), rank);
  };
  int64_t start = clamp(gi.attrInt("start", 0));
  int64_t end = clamp(gi.attrInt("end", rank));
  Shape dims;
  for (int64_t d = start; d < end; ++d) {
    if (t->isDynamicDim(d))
      return gi.requireStatic(0);
    dims.push_back(t->getDimSize(d));
  }
  gi.defineKnown(0, KnownTensor::ints(dims));
  return Error::success();
}

Error OpImporter::size() {
  if (Error e = gi.requireStatic(0))
    return e;
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  std::optional<int64_t> n = checkedNumElements(t->getShape());
  if (!n)
    return err("input shape " + shapeText(t->getShape()) + " is too large");
  gi.defineKnown(0, KnownTensor::scalarInt(*n));
  return Error::success();
}

Error OpImporter::constantOfShape() {
  Expected<Shape> shape = gi.knownInts(0, "input");
  if (!shape)
    return shape.takeError();
  KnownTensor t;
  t.kind = ElemKind::F32;
  t.f = {0.0};
  if (const ONNXAttribute *a = node().attr("value")) {
    if (!a->t || a->t->numElements() != 1)
      return err("attribute 'value' must be a one-element tensor");
    std::optional<KnownTensor> k = KnownTensor::fromTensor(*a->t);
    if (!k)
      return err("value of data type " + dataTypeName(int32_t(a->t->dataType)) +
                 " is not supported");
    t = std::move(*k);
  }
  if (!checkedNumElements(*shape))
    return err("invalid shape " + shapeText(*shape));
  t.shape = *shape;
  if (t.numElements() == 0) {
    t.f.clear();
    t.i.clear();
  }
  gi.defineKnown(0, std::move(t));
  return Error::success();
}

Error OpImporter::range() {
  const KnownTensor *s = gi.known(0), *l = gi.known(1), *d = gi.known(2);
  if (!s || !l || !d)
    return err("start, limit and delta must be known at import time");
  if (s->numElements() != 1 || l->numElements() != 1 || d->numElements() != 1)
    return err("start, limit and delta must be scalars");
  KnownTensor r;
  r.kind = s->kind;
  if (r.isFloat()) {
    double start = s->floatAt(0), limit = l->floatAt(0), delta = d->floatAt(0);
    if (delta == 0)
      return err("delta is 0");
    double count = std::ceil((limit - start) / delta);
    if (!(count <= double(kMaxFoldElements)))
      return err("Range of more than 2^22 elements");
    int64_t n = std::max<int64_t>(0, int64_t(count));
    for (int64_t k = 0; k < n; ++k)
      r.f.push_back(start + double(k) * delta);
    r.shape = {n};
  } else {
    int64_t start = s->intAt(0), limit = l->intAt(0), delta = d->intAt(0);
    if (delta == 0)
      return err("delta is 0");
    double count = std::ceil((double(limit) - double(start)) / double(delta));
    if (count > double(kMaxFoldElements))
      return err("Range of more than 2^22 elements");
    int64_t n = std::max<int64_t>(0, int64_t(count));
    for (int64_t k = 0; k < n; ++k)
      r.i.push_back(start + k * delta);
    r.shape = {n};
  }
  gi.defineKnown(0, std::move(r));
  return Error::success();
}

} // namespace frugal::onnx
