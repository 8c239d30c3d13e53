//===- ImportShape.cpp - Shape and data movement --------------------------===//
//
// Part of Frugal. Reshape-like ops, Transpose, Slice, Split, Gather,
// Concat, Expand, Trilu and ReduceMean.
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
// Shape ops
//===----------------------------------------------------------------------===//

Error OpImporter::emitReshape(ArrayRef<int64_t> shape) {
  if (const KnownTensor *x = gi.known(0)) {
    gi.defineKnown(0, x->reshaped(shape));
    return Error::success();
  }
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  Expected<Value> x = gi.value(0);
  if (!x)
    return x.takeError();
  if (t->getShape() == shape) {
    gi.define(0, *x);
    return Error::success();
  }
  if (Error e = requireFloat(*t, node().opType))
    return e;
  gi.define(0, llm::ReshapeOp::create(
                   b, loc(), gi.tensorType(shape, t->getElementType()), *x));
  return Error::success();
}

Error OpImporter::reshapeLike(StringRef op) {
  if (Error e = gi.requireStatic(0))
    return e;
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  ArrayRef<int64_t> in = t->getShape();
  int64_t rank = t->getRank();
  std::optional<int64_t> checkedTotal = checkedNumElements(in);
  if (!checkedTotal)
    return err("input shape " + shapeText(in) + " is too large");
  int64_t total = *checkedTotal;
  Shape out;
  if (op == "Reshape") {
    Expected<Shape> target = gi.knownInts(1, "shape");
    if (!target)
      return target.takeError();
    bool allowZero = gi.attrInt("allowzero", 0);
    int64_t inferred = -1, product = 1;
    for (size_t k = 0; k < target->size(); ++k) {
      int64_t d = (*target)[k];
      if (d == 0 && !allowZero) {
        if (int64_t(k) >= rank)
          return err("shape entry 0 at position " + std::to_string(k) +
                     " has no input dimension to copy");
        d = in[k];
      }
      if (d == -1) {
        if (inferred >= 0)
          return err("shape " + shapeText(*target) + " has more than one -1");
        inferred = int64_t(k);
        out.push_back(1);
        continue;
      }
      if (d < 0)
        return err("shape " + shapeText(*target) + " has a negative entry");
      if (d != 0 && product > INT64_MAX / d)
        return err("shape " + shapeText(*target) + " is too large");
      out.push_back(d);
      product *= d;
    }
    if (inferred >= 0) {
      if (product == 0 || total % product)
        return err("cannot reshape " + shapeText(in) + " to " +
                   shapeText(*target));
      out[size_t(inferred)] = total / product;
      product = total;
    }
    if (product != total)
      return err("cannot reshape " + shapeText(in) + " (" +
                 std::to_string(total) + " elements) to " + shapeText(*target));
  } else if (op == "Flatten") {
    Expected<int64_t> axis = [&]() -> Expected<int64_t> {
      int64_t a = gi.attrInt("axis", 1);
      a = a < 0 ? a + rank : a;
      if (a < 0 || a > rank)
        return err(llvm::formatv("axis {0} is out of range for rank {1}",
                                 gi.attrInt("axis", 1), rank));
      return a;
    }();
    if (!axis)
      return axis.takeError();
    int64_t outer = 1;
    for (int64_t k = 0; k < *axis; ++k)
      outer *= in[k];
    out = {outer, outer ? total / outer : 0};
  } else {
    // Unsqueeze / Squeeze: axes come from an input (opset 13+).
    std::optional<Shape> axesList;
    if (gi.hasInput(1)) {
      Expected<Shape> axes = gi.knownInts(1, "axes");
      if (!axes)
        return axes.takeError();
      axesList = *axes;
    }
    if (op == "Unsqueeze") {
      if (!axesList)
        return err("missing input 'axes'");
      int64_t outRank = rank + int64_t(axesList->size());
      SmallVector<bool> inserted(size_t(outRank), false);
      for (int64_t a : *axesList) {
        Expected<int64_t> na = gi.normalizeAxis(a, outRank, "axis");
        if (!na)
          return na.takeError();
        if (inserted[size_t(*na)])
          return err("axis " + std::to_string(a) + " appears twice");
        inserted[size_t(*na)] = true;
      }
      size_t next = 0;
      for (int64_t k = 0; k < outRank; ++k)
        out.push_back(inserted[size_t(k)] ? 1 : in[next++]);
    } else {
      SmallVector<bool> removed(size_t(rank), false);
      if (axesList) {
        for (int64_t a : *axesList) {
          Expected<int64_t> na = gi.normalizeAxis(a, rank, "axis");
          if (!na)
            return na.takeError();
          if (in[*na] != 1)
            return err(llvm::formatv("cannot squeeze axis {0} of size {1}", a,
                                     in[*na]));
          removed[size_t(*na)] = true;
        }
      } else {
        for (int64_t k = 0; k < rank; ++k)
          removed[size_t(k)] = in[k] == 1;
      }
      for (int64_t k = 0; k < rank; ++k)
        if (!removed[size_t(k)])
          out.push_back(in[k]);
    }
  }
  return emitReshape(out);
}

Error OpImporter::transpose() {
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  int64_t rank = t->getRank();
  Shape perm;
  if (std::optional<Shape> p = gi.attrInts("perm"))
    perm = *p;
  else
    for (int64_t k = rank; k-- > 0;)
      perm.push_back(k);
  SmallVector<bool> seen(size_t(rank), false);
  if (int64_t(perm.size()) != rank)
    return err("perm " + shapeText(perm) + " does not match rank " +
               std::to_string(rank));
  for (int64_t &p : perm) {
    Expected<int64_t> np = gi.normalizeAxis(p, rank, "perm entry");
    if (!np)
      return np.takeError();
    if (seen[size_t(*np)])
      return err("perm " + shapeText(perm) + " is not a permutation");
    seen[size_t(*np)] = true;
    p = *np;
  }
  Shape shape;
  for (int64_t p : perm)
    shape.push_back(t->getDimSize(p));
  // The transpose of a matrix weight is the same weight in the transposed
  // layout, which the packer writes once (tied embeddings read the lm_head
  // weight this way).
  if (rank == 2 && perm[0] == 1)
    if (Value w = gi.transposedWeight(0)) {
      gi.define(0, w);
      return Error::success();
    }
  if (const KnownTensor *x = gi.known(0)) {
    if (rank <= 1) {
      gi.defineKnown(0, *x);
      return Error::success();
    }
    if (x->isSplat()) {
      gi.defineKnown(0, x->reshaped(shape));
      return Error::success();
    }
  }
  Expected<Value> x = gi.value(0);
  if (!x)
    return x.takeError();
  bool identity = true;
  for (int64_t k = 0; k < rank; ++k)
    identity &= perm[k] == k;
  if (identity) {
    gi.define(0, *x);
    return Error::success();
  }
  if (Error e = requireFloat(*t, "Transpose"))
    return e;
  gi.define(0, llm::TransposeOp::create(
                   b, loc(), gi.tensorType(shape, t->getElementType()), *x,
                   b.getDenseI64ArrayAttr(perm)));
  return Error::success();
}

Error OpImporter::slice() {
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  int64_t rank = t->getRank();
  Expected<Shape> starts = gi.knownInts(1, "starts");
  if (!starts)
    return starts.takeError();
  Expected<Shape> ends = gi.knownInts(2, "ends");
  if (!ends)
    return ends.takeError();
  Shape axes, steps;
  if (gi.hasInput(3)) {
    Expected<Shape> a = gi.knownInts(3, "axes");
    if (!a)
      return a.takeError();
    axes = *a;
  } else {
    for (size_t k = 0; k < starts->size(); ++k)
      axes.push_back(int64_t(k));
  }
  if (gi.hasInput(4)) {
    Expected<Shape> s = gi.knownInts(4, "steps");
    if (!s)
      return s.takeError();
    steps = *s;
  } else {
    steps.assign(starts->size(), 1);
  }
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size())
    return err("starts, ends, axes and steps have different lengths");
  Shape outShape(t->getShape().begin(), t->getShape().end());
  for (size_t k = 0; k < axes.size(); ++k) {
    Expected<int64_t> a = gi.normalizeAxis(axes[k], rank, "axis");
    if (!a)
      return a.takeError();
    axes[k] = *a;
    int64_t dim = t->getDimSize(*a);
    if (ShapedType::isDynamic(dim))
      return gi.requireStatic(0);
    int64_t step = steps[k];
    if (step == 0)
      return err("step 0 on axis " + std::to_string(*a));
    auto clampPos = [&](int64_t v, int64_t lo, int64_t hi) {
      if (v < 0)
        v = v < -dim ? -1 : v + dim;
      return std::min(std::max(v, lo), hi);
    };
    int64_t s = (*starts)[k], e = (*ends)[k];
    if (step > 0) {
      s = clampPos(s, 0, dim);
      e = clampPos(e, 0, dim);
    } else {
      s = clampPos(s, 0, dim - 1);
      e = e < -dim ? -1 : clampPos(e, -1, dim - 1);
    }
    (*starts)[k] = s;
    (*ends)[k] = e;
    int64_t span = step > 0 ? e - s : s - e;
    int64_t as = step > 0 ? step : -step;
    outShape[size_t(*a)] = span <= 0 ? 0 : (span + as - 1) / as;
  }
  if (const KnownTensor *x = gi.known(0)) {
    if (Error e = foldLimit(outShape))
      return e;
    gi.defineKnown(0, foldSlice(*x, axes, *starts, *ends, steps));
    return Error::success();
  }
  Expected<Value> x = gi.value(0);
  if (!x)
    return x.takeError();
  Value v = *x;
  Shape shape(t->getShape().begin(), t->getShape().end());
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t a = axes[k];
    if (outShape[a] == shape[a])
      continue;
    if (steps[k] != 1)
      return err(llvm::formatv("step {0} on axis {1} is not supported (only "
                               "1)",
                               steps[k], a));
    if (outShape[a] == 0)
      return err(llvm::formatv("the slice of axis {0} is empty", a));
    if (Error e = requireFloat(*t, "Slice"))
      return e;
    shape[a] = outShape[a];
    v = llm::SliceOp::create(
        b, loc(), gi.tensorType(shape, t->getElementType()), v,
        b.getI64IntegerAttr(a), b.getI64IntegerAttr((*starts)[k]));
  }
  gi.define(0, v);
  return Error::success();
}

Error OpImporter::split() {
  if (Error e = gi.requireStatic(0))
    return e;
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  Expected<int64_t> axis =
      gi.normalizeAxis(gi.attrInt("axis", 0), t->getRank(), "axis");
  if (!axis)
    return axis.takeError();
  int64_t dim = t->getDimSize(*axis);
  size_t outputs = node().outputs.size();
  Shape sizes;
  if (gi.hasInput(1)) {
    Expected<Shape> s = gi.knownInts(1, "split");
    if (!s)
      return s.takeError();
    sizes = *s;
  } else if (std::optional<Shape> s = gi.attrInts("split")) {
    sizes = *s;
  } else {
    int64_t parts = gi.opset() >= 18 && node().attr("num_outputs")
                        ? gi.attrInt("num_outputs", int64_t(outputs))
                        : int64_t(outputs);
    if (parts <= 0)
      return err("Split into no outputs");
    int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t k = 0; k < parts; ++k)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - k * chunk)));
  }
  int64_t sum = 0;
  for (int64_t s : sizes)
    sum += s;
  if (sizes.size() != outputs || sum != dim)
    return err(llvm::formatv("split sizes {0} do not cover axis {1} of size "
                             "{2} with {3} outputs",
                             shapeText(sizes), *axis, dim, outputs));
  const KnownTensor *known = gi.known(0);
  Value x;
  if (!known) {
    if (Error e = requireFloat(*t, "Split"))
      return e;
    Expected<Value> xv = gi.value(0);
    if (!xv)
      return xv.takeError();
    x = *xv;
  }
  int64_t start = 0;
  for (size_t k = 0; k < outputs; ++k) {
    Shape shape(t->getShape().begin(), t->getShape().end());
    shape[*axis] = sizes[k];
    if (known) {
      if (Error e = foldLimit(shape))
        return e;
      gi.defineKnown(
          k, foldSlice(*known, {*axis}, {start}, {start + sizes[k]}, {1}));
    } else if (sizes[k] == dim) {
      gi.define(k, x);
    } else {
      if (sizes[k] == 0)
        return err("output " + std::to_string(k) + " of Split is empty");
      gi.define(k, llm::SliceOp::create(
                       b, loc(), gi.tensorType(shape, t->getElementType()), x,
                       b.getI64IntegerAttr(*axis), b.getI64IntegerAttr(start)));
    }
    start += sizes[k];
  }
  return Error::success();
}

Error OpImporter::gather() {
  Expected<RankedTensorType> dt = gi.typeOf(0), it = gi.typeOf(1);
  if (!dt)
    return dt.takeError();
  if (!it)
    return it.takeError();
  Expected<int64_t> axis =
      gi.normalizeAxis(gi.attrInt("axis", 0), dt->getRank(), "axis");
  if (!axis)
    return axis.takeError();
  if (it->getElementType().isF32() || it->getElementType().isInteger(1))
    return err("indices must be INT64 or INT32");
  const KnownTensor *data = gi.known(0), *indices = gi.known(1);
  if (data && indices) {
    Shape shape(data->shape.begin(), data->shape.begin() + *axis);
    llvm::append_range(shape, indices->shape);
    shape.append(data->shape.begin() + *axis + 1, data->shape.end());
    if (Error e = foldLimit(shape))
      return e;
    std::optional<KnownTensor> r = foldGather(*data, *indices, *axis);
    if (!r)
      return err("an index is out of range for axis " + std::to_string(*axis) +
                 " of size " + std::to_string(data->shape[*axis]));
    gi.defineKnown(0, std::move(*r));
    return Error::success();
  }
  Expected<Value> d = gi.value(0), idx = gi.value(1);
  if (!d)
    return d.takeError();
  if (!idx)
    return idx.takeError();
  Shape shape(dt->getShape().take_front(*axis));
  llvm::append_range(shape, it->getShape());
  llvm::append_range(shape, dt->getShape().drop_front(*axis + 1));
  // Rows of a weight table by token id: an embedding lookup.
  if (*axis == 0 && dt->getRank() == 2 && d->getDefiningOp<llm::WeightOp>()) {
    gi.define(0, llm::EmbedOp::create(
                     b, loc(), gi.tensorType(shape, dt->getElementType()), *d,
                     *idx));
    return Error::success();
  }
  gi.define(0, llm::GatherOp::create(b, loc(),
                                     gi.tensorType(shape, dt->getElementType()),
                                     *d, *idx, b.getI64IntegerAttr(*axis)));
  return Error::success();
}

Error OpImporter::concat() {
  size_t n = node().inputs.size();
  if (n == 0)
    return err("Concat without inputs");
  Expected<RankedTensorType> first = gi.typeOf(0);
  if (!first)
    return first.takeError();
  int64_t rank = first->getRank();
  Expected<int64_t> axis =
      gi.normalizeAxis(gi.attrInt("axis", 0), rank, "axis");
  if (!axis)
    return axis.takeError();
  bool allKnown = true;
  SmallVector<const KnownTensor *> knowns;
  Shape shape(first->getShape().begin(), first->getShape().end());
  shape[*axis] = 0;
  for (size_t i = 0; i < n; ++i) {
    Expected<RankedTensorType> t = gi.typeOf(i);
    if (!t)
      return t.takeError();
    if (t->getRank() != rank || t->getElementType() != first->getElementType())
      return err("input " + std::to_string(i) +
                 " has type that differs in "
                 "rank or element type");
    for (int64_t d = 0; d < rank; ++d)
      if (d != *axis && t->getDimSize(d) != first->getDimSize(d))
        return err("input shapes " + shapeText(first->getShape()) + " and " +
                   shapeText(t->getShape()) + " differ off the axis");
    int64_t extent = t->getDimSize(*axis);
    shape[*axis] =
        ShapedType::isDynamic(extent) || ShapedType::isDynamic(shape[*axis])
            ? ShapedType::kDynamic
            : shape[*axis] + extent;
    const KnownTensor *k = gi.known(i);
    allKnown &= k != nullptr;
    knowns.push_back(k);
  }
  if (allKnown) {
    if (Error e = foldLimit(shape))
      return e;
    gi.defineKnown(0, foldConcat(knowns, *axis));
    return Error::success();
  }
  SmallVector<Value> inputs;
  for (size_t i = 0; i < n; ++i) {
    Expected<RankedTensorType> t = gi.typeOf(i);
    if (!t)
      return t.takeError();
    if (t->getDimSize(*axis) == 0)
      continue; // empty pieces contribute nothing
    Expected<Value> v = gi.value(i);
    if (!v)
      return v.takeError();
    inputs.push_back(*v);
  }
  if (inputs.size() == 1) {
    gi.define(0, inputs.front());
    return Error::success();
  }
  gi.define(0, llm::ConcatOp::create(
                   b, loc(), gi.tensorType(shape, first->getElementType()),
                   inputs, b.getI64IntegerAttr(*axis)));
  return Error::success();
}

Error OpImporter::expand() {
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  if (Error e = gi.requireStatic(0))
    return e;
  Expected<Shape> target = gi.knownInts(1, "shape");
  if (!target)
    return target.takeError();
  auto shape = broadcastShapes(t->getShape(), *target);
  if (!shape)
    return err("cannot expand " + shapeText(t->getShape()) + " to " +
               shapeText(*target));
  if (const KnownTensor *x = gi.known(0)) {
    if (x->storedCount() != 1)
      if (Error e = foldLimit(*shape))
        return e;
    gi.defineKnown(0, foldExpand(*x, *shape));
    return Error::success();
  }
  Expected<Value> x = gi.value(0);
  if (!x)
    return x.takeError();
  if (ArrayRef<int64_t>(*shape) == t->getShape()) {
    gi.define(0, *x);
    return Error::success();
  }
  gi.define(0, llm::ExpandOp::create(
                   b, loc(), gi.tensorType(*shape, t->getElementType()), *x));
  return Error::success();
}

Error OpImporter::trilu() {
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  if (t->getRank() < 2)
    return err("Trilu input must have rank >= 2, found " +
               shapeText(t->getShape()));
  bool upper = gi.attrInt("upper", 1);
  int64_t k = 0;
  if (gi.hasInput(1)) {
    Expected<Shape> kv = gi.knownInts(1, "k");
    if (!kv)
      return kv.takeError();
    if (kv->size() != 1)
      return err("k must be a scalar");
    k = kv->front();
  }
  if (const KnownTensor *x = gi.known(0)) {
    // Causal masks are often built from constants: fold them.
    if (Error e = foldLimit(x->shape))
      return e;
    KnownTensor r = *x;
    if (r.isSplat()) {
      // Densify: the mask differs per entry.
      size_t n = size_t(r.numElements());
      if (r.isFloat())
        r.f.assign(n, r.f[0]);
      else
        r.i.assign(n, r.i[0]);
    }
    int64_t rows = r.shape[r.shape.size() - 2], cols = r.shape.back();
    int64_t n = r.numElements();
    for (int64_t e = 0; e < n; ++e) {
      int64_t j = e % cols, i = (e / cols) % rows;
      bool keep = upper ? j - i >= k : j - i <= k;
      if (keep)
        continue;
      if (r.isFloat())
        r.f[size_t(e)] = 0;
      else
        r.i[size_t(e)] = 0;
    }
    gi.defineKnown(0, std::move(r));
    return Error::success();
  }
  Expected<Value> x = gi.value(0);
  if (!x)
    return x.takeError();
  gi.define(0, llm::TriluOp::create(b, loc(), *t, *x,
                                    upper ? b.getUnitAttr() : UnitAttr(),
                                    b.getI64IntegerAttr(k)));
  return Error::success();
}

Error OpImporter::reduceMean() {
  Expected<RankedTensorType> t = gi.typeOf(0);
  if (!t)
    return t.takeError();
  if (Error e = requireFloat(*t, "ReduceMean"))
    return e;
  int64_t rank = t->getRank();
  Shape axes;
  if (gi.opset() >= 18) {
    if (gi.hasInput(1)) {
      Expected<Shape> a = gi.knownInts(1, "axes");
      if (!a)
        return a.takeError();
      axes = *a;
    }
  } else if (std::optional<Shape> a = gi.attrInts("axes")) {
    axes = *a;
  }
  Expected<Value> x = gi.value(0);
  if (!x)
    return x.takeError();
  if (axes.empty()) {
    if (gi.attrInt("noop_with_empty_axes", 0)) {
      gi.define(0, *x);
      return Error::success();
    }
    for (int64_t k = 0; k < rank; ++k)
      axes.push_back(k);
  }
  for (int64_t &a : axes) {
    Expected<int64_t> na = gi.normalizeAxis(a, rank, "axis");
    if (!na)
      return na.takeError();
    a = *na;
  }
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  bool keepdims = gi.attrInt("keepdims", 1);
  Shape shape;
  for (int64_t k = 0; k < rank; ++k) {
    if (!llvm::is_contained(axes, k))
      shape.push_back(t->getDimSize(k));
    else if (keepdims)
      shape.push_back(1);
  }
  gi.define(0, llm::ReduceMeanOp::create(
                   b, loc(), gi.tensorType(shape, b.getF32Type()), *x,
                   b.getDenseI64ArrayAttr(axes),
                   keepdims ? b.getUnitAttr() : UnitAttr()));
  return Error::success();
}

} // namespace frugal::onnx
