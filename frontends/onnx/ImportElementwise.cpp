//===- ImportElementwise.cpp - Elementwise ONNX operators -----------------===//
//
// Part of Frugal. Arithmetic, comparisons, Where, unary math, Relu and Cast.
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

/// The ONNX data type of a Cast `to` attribute as an element kind.
static std::optional<ElemKind> castTarget(int64_t to) {
  return elemKindOf(int32_t(to));
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

Error OpImporter::binary(StringRef op) {
  const KnownTensor *x = gi.known(0), *y = gi.known(1);
  if (x && y) {
    if (x->isFloat() != y->isFloat() && op != "Pow")
      return err("operands have different element types");
    if (auto shape = broadcastShapes(x->shape, y->shape))
      if (Error e = foldLimit(*shape))
        return e;
    std::function<double(double, double)> ff =
        llvm::StringSwitch<std::function<double(double, double)>>(op)
            .Case("Add", [](double a, double c) { return a + c; })
            .Case("Sub", [](double a, double c) { return a - c; })
            .Case("Mul", [](double a, double c) { return a * c; })
            .Case("Div", [](double a, double c) { return a / c; })
            .Default([](double a, double c) { return std::pow(a, c); });
    bool divByZero = false;
    std::function<int64_t(int64_t, int64_t)> fi =
        llvm::StringSwitch<std::function<int64_t(int64_t, int64_t)>>(op)
            .Case("Add",
                  [](int64_t a, int64_t c) {
                    return int64_t(uint64_t(a) + uint64_t(c));
                  })
            .Case("Sub",
                  [](int64_t a, int64_t c) {
                    return int64_t(uint64_t(a) - uint64_t(c));
                  })
            .Case("Mul",
                  [](int64_t a, int64_t c) {
                    return int64_t(uint64_t(a) * uint64_t(c));
                  })
            .Case("Div",
                  [&](int64_t a, int64_t c) -> int64_t {
                    if (c == 0 || (a == INT64_MIN && c == -1)) {
                      divByZero = true;
                      return 0;
                    }
                    return a / c;
                  })
            .Default([](int64_t a, int64_t c) {
              return int64_t(std::pow(double(a), double(c)));
            });
    std::optional<KnownTensor> r = foldBinary(*x, *y, x->kind, ff, fi);
    if (!r)
      return err("operand shapes " + shapeText(x->shape) + " and " +
                 shapeText(y->shape) + " do not broadcast");
    if (divByZero)
      return err("integer division by zero in a known value");
    gi.defineKnown(0, std::move(*r));
    return Error::success();
  }
  Expected<RankedTensorType> lt = gi.typeOf(0), rt = gi.typeOf(1);
  if (!lt)
    return lt.takeError();
  if (!rt)
    return rt.takeError();
  // Known operands adopt the runtime operand's element type (Pow may have
  // an integer exponent).
  ElemKind kind = isFloatTensor(x ? *rt : *lt) ? ElemKind::F32 : ElemKind::I64;
  if (Error e = requireFloat(x ? *rt : *lt, op))
    return e;
  Expected<Value> l = gi.value(0, kind), r = gi.value(1, kind);
  if (!l)
    return l.takeError();
  if (!r)
    return r.takeError();
  auto shape = broadcastShapes(lt->getShape(), rt->getShape());
  if (!shape)
    return err("operand shapes " + shapeText(lt->getShape()) + " and " +
               shapeText(rt->getShape()) + " do not broadcast");
  auto type = gi.tensorType(*shape, b.getF32Type());
  Value result;
  if (op == "Add")
    result = llm::AddOp::create(b, loc(), type, *l, *r);
  else if (op == "Sub")
    result = llm::SubOp::create(b, loc(), type, *l, *r);
  else if (op == "Mul")
    result = llm::MulOp::create(b, loc(), type, *l, *r);
  else if (op == "Div")
    result = llm::DivOp::create(b, loc(), type, *l, *r);
  else
    result = llm::PowOp::create(b, loc(), type, *l, *r);
  gi.define(0, result);
  return Error::success();
}

Error OpImporter::compare(StringRef op) {
  llm::ComparePredicate pred =
      llvm::StringSwitch<llm::ComparePredicate>(op)
          .Case("Equal", llm::ComparePredicate::eq)
          .Case("Less", llm::ComparePredicate::lt)
          .Case("LessOrEqual", llm::ComparePredicate::le)
          .Case("Greater", llm::ComparePredicate::gt)
          .Default(llm::ComparePredicate::ge);
  const KnownTensor *x = gi.known(0), *y = gi.known(1);
  if (x && y) {
    auto holds = [pred](auto a, auto c) -> bool {
      switch (pred) {
      case llm::ComparePredicate::eq:
        return a == c;
      case llm::ComparePredicate::lt:
        return a < c;
      case llm::ComparePredicate::le:
        return a <= c;
      case llm::ComparePredicate::gt:
        return a > c;
      default:
        return a >= c;
      }
    };
    auto ff = [&](double a, double c) -> double { return holds(a, c); };
    auto fi = [&](int64_t a, int64_t c) -> int64_t { return holds(a, c); };
    if (auto shape = broadcastShapes(x->shape, y->shape))
      if (Error e = foldLimit(*shape))
        return e;
    std::optional<KnownTensor> r = foldBinary(*x, *y, ElemKind::I1, ff, fi);
    if (!r)
      return err("operand shapes " + shapeText(x->shape) + " and " +
                 shapeText(y->shape) + " do not broadcast");
    gi.defineKnown(0, std::move(*r));
    return Error::success();
  }
  Expected<RankedTensorType> lt = gi.typeOf(0), rt = gi.typeOf(1);
  if (!lt)
    return lt.takeError();
  if (!rt)
    return rt.takeError();
  RankedTensorType runtime = x ? *rt : *lt;
  Type elem = runtime.getElementType();
  std::optional<ElemKind> kind = elem.isF32()         ? ElemKind::F32
                                 : elem.isInteger(64) ? ElemKind::I64
                                 : elem.isInteger(32)
                                     ? std::optional<ElemKind>(ElemKind::I32)
                                     : std::nullopt;
  if (!kind)
    return err(op + " of a runtime tensor of element type i1 is not "
                    "supported");
  Expected<Value> l = gi.value(0, *kind), r = gi.value(1, *kind);
  if (!l)
    return l.takeError();
  if (!r)
    return r.takeError();
  auto shape = broadcastShapes(lt->getShape(), rt->getShape());
  if (!shape)
    return err("operand shapes " + shapeText(lt->getShape()) + " and " +
               shapeText(rt->getShape()) + " do not broadcast");
  Value result = llm::CompareOp::create(
      b, loc(), gi.tensorType(*shape, b.getI1Type()),
      llm::ComparePredicateAttr::get(b.getContext(), pred), *l, *r);
  gi.define(0, result);
  return Error::success();
}

Error OpImporter::where() {
  const KnownTensor *c = gi.known(0), *x = gi.known(1), *y = gi.known(2);
  if (c && x && y) {
    auto xy = broadcastShapes(x->shape, y->shape);
    if (auto shape = xy ? broadcastShapes(c->shape, *xy) : std::nullopt)
      if (Error e = foldLimit(*shape))
        return e;
    std::optional<KnownTensor> r = foldWhere(*c, *x, *y);
    if (!r)
      return err("operand shapes do not broadcast");
    gi.defineKnown(0, std::move(*r));
    return Error::success();
  }
  Expected<RankedTensorType> ct = gi.typeOf(0), xt = gi.typeOf(1),
                             yt = gi.typeOf(2);
  if (!ct)
    return ct.takeError();
  if (!xt)
    return xt.takeError();
  if (!yt)
    return yt.takeError();
  // The branches share an element type: a runtime branch decides it.
  RankedTensorType ref = x ? *yt : *xt;
  std::optional<ElemKind> kind;
  Type elem = ref.getElementType();
  kind = elem.isF32()         ? ElemKind::F32
         : elem.isInteger(64) ? ElemKind::I64
         : elem.isInteger(32) ? ElemKind::I32
                              : ElemKind::I1;
  Expected<Value> cv = gi.value(0, ElemKind::I1), xv = gi.value(1, kind),
                  yv = gi.value(2, kind);
  if (!cv)
    return cv.takeError();
  if (!xv)
    return xv.takeError();
  if (!yv)
    return yv.takeError();
  auto xy = broadcastShapes(xt->getShape(), yt->getShape());
  auto shape = xy ? broadcastShapes(ct->getShape(), *xy) : std::nullopt;
  if (!shape)
    return err("operand shapes " + shapeText(ct->getShape()) + ", " +
               shapeText(xt->getShape()) + " and " + shapeText(yt->getShape()) +
               " do not broadcast");
  Value result = llm::SelectOp::create(b, loc(), gi.tensorType(*shape, elem),
                                       *cv, *xv, *yv);
  gi.define(0, result);
  return Error::success();
}

Error OpImporter::unary(StringRef op) {
  if (const KnownTensor *x = gi.known(0)) {
    KnownTensor r = *x;
    if (op == "Neg") {
      for (double &v : r.f)
        v = -v;
      for (int64_t &v : r.i)
        v = int64_t(0 - uint64_t(v));
      gi.defineKnown(0, std::move(r));
      return Error::success();
    }
    if (!x->isFloat())
      return err(op + " of an integer tensor");
    for (double &v : r.f) {
      float fv = float(v);
      if (op == "Sqrt")
        v = std::sqrt(fv);
      else if (op == "Reciprocal")
        v = 1.0f / fv;
      else if (op == "Tanh")
        v = std::tanh(fv);
      else if (op == "Erf")
        v = std::erf(fv);
      else if (op == "Sigmoid")
        v = 1.0f / (1.0f + std::exp(-fv));
      else
        v = std::exp(fv);
    }
    gi.defineKnown(0, std::move(r));
    return Error::success();
  }
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  if (Error e = requireFloat(*t, op))
    return e;
  Expected<Value> x = gi.value(0);
  if (!x)
    return x.takeError();
  Value r;
  if (op == "Sqrt")
    r = llm::SqrtOp::create(b, loc(), *t, *x);
  else if (op == "Reciprocal")
    r = llm::ReciprocalOp::create(b, loc(), *t, *x);
  else if (op == "Tanh")
    r = llm::TanhOp::create(b, loc(), *t, *x);
  else if (op == "Erf")
    r = llm::ErfOp::create(b, loc(), *t, *x);
  else if (op == "Sigmoid")
    r = llm::SigmoidOp::create(b, loc(), *t, *x);
  else if (op == "Exp")
    r = llm::ExpOp::create(b, loc(), *t, *x);
  else
    r = llm::NegOp::create(b, loc(), *t, *x);
  gi.define(0, r);
  return Error::success();
}

Error OpImporter::relu() {
  // max(x, 0) as select(x > 0, x, 0).
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  if (Error e = requireFloat(*t, "Relu"))
    return e;
  Expected<Value> x = gi.value(0);
  if (!x)
    return x.takeError();
  Value zero = gi.scalarF32(0.0);
  auto condType = gi.tensorType(t->getShape(), b.getI1Type());
  Value positive = llm::CompareOp::create(
      b, loc(), condType,
      llm::ComparePredicateAttr::get(b.getContext(), llm::ComparePredicate::gt),
      *x, zero);
  gi.define(0, llm::SelectOp::create(b, loc(), *t, positive, *x, zero));
  return Error::success();
}

Error OpImporter::cast() {
  int64_t to = gi.attrInt("to", 0);
  std::optional<ElemKind> kind = castTarget(to);
  bool exactFloat = to == int64_t(DataType::Float);
  if (!kind || (*kind == ElemKind::F32 && !exactFloat))
    return err(llvm::formatv("Cast to data type {0} ({1}) is not supported "
                             "(expected FLOAT, INT64, INT32 or BOOL)",
                             to, dataTypeName(int32_t(to))));
  if (const KnownTensor *x = gi.known(0)) {
    gi.defineKnown(0, x->castTo(*kind));
    return Error::success();
  }
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  Expected<Value> x = gi.value(0);
  if (!x)
    return x.takeError();
  Type elem = elemType(b, *kind);
  if (t->getElementType() == elem) {
    gi.define(0, *x);
    return Error::success();
  }
  gi.define(
      0, llm::CastOp::create(b, loc(), gi.tensorType(t->getShape(), elem), *x));
  return Error::success();
}

} // namespace frugal::onnx
