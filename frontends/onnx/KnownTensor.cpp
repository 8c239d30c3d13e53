//===- KnownTensor.cpp - tensors whose values the importer knows ----------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/KnownTensor.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/Endian.h"

#include <cmath>

namespace frugal::onnx {

std::optional<ElemKind> elemKindOf(int32_t dataType) {
  switch (DataType(dataType)) {
  case DataType::Float:
  case DataType::Float16:
  case DataType::BFloat16:
  case DataType::Double:
    return ElemKind::F32;
  case DataType::Int64:
    return ElemKind::I64;
  case DataType::Int32:
    return ElemKind::I32;
  case DataType::Bool:
    return ElemKind::I1;
  default:
    return std::nullopt;
  }
}

mlir::Type elemType(mlir::Builder &b, ElemKind kind) {
  switch (kind) {
  case ElemKind::F32:
    return b.getF32Type();
  case ElemKind::I64:
    return b.getI64Type();
  case ElemKind::I32:
    return b.getI32Type();
  case ElemKind::I1:
    return b.getI1Type();
  }
  return b.getF32Type();
}

const char *elemKindName(ElemKind kind) {
  switch (kind) {
  case ElemKind::F32:
    return "f32";
  case ElemKind::I64:
    return "i64";
  case ElemKind::I32:
    return "i32";
  case ElemKind::I1:
    return "i1";
  }
  return "?";
}

int64_t KnownTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

double KnownTensor::floatAt(int64_t index) const {
  if (isFloat())
    return f.size() == 1 ? f[0] : f[size_t(index)];
  return double(intAt(index));
}

int64_t KnownTensor::intAt(int64_t index) const {
  if (isFloat()) {
    double v = floatAt(index);
    // Float → integer truncates toward zero; out-of-range values saturate.
    if (std::isnan(v))
      return 0;
    if (v >= 9.2e18)
      return INT64_MAX;
    if (v <= -9.2e18)
      return INT64_MIN;
    return int64_t(v);
  }
  return i.size() == 1 ? i[0] : i[size_t(index)];
}

KnownTensor KnownTensor::scalarInt(int64_t v, ElemKind kind) {
  KnownTensor t;
  t.kind = kind;
  t.i = {v};
  return t;
}

KnownTensor KnownTensor::ints(llvm::ArrayRef<int64_t> values, ElemKind kind) {
  KnownTensor t;
  t.kind = kind;
  t.shape = {int64_t(values.size())};
  t.i.assign(values.begin(), values.end());
  return t;
}

std::optional<KnownTensor> KnownTensor::fromTensor(const ONNXTensor &tensor) {
  std::optional<ElemKind> kind = elemKindOf(int32_t(tensor.dataType));
  if (!kind)
    return std::nullopt;
  KnownTensor t;
  t.kind = *kind;
  t.shape.assign(tensor.dims.begin(), tensor.dims.end());
  int64_t n = tensor.numElements();
  if (t.isFloat()) {
    std::vector<float> values(static_cast<size_t>(n));
    if (llvm::Error err = readAsF32(tensor, values)) {
      llvm::consumeError(std::move(err));
      return std::nullopt;
    }
    t.f.assign(values.begin(), values.end());
  } else {
    t.i.resize(size_t(n));
    for (int64_t k = 0; k < n; ++k)
      t.i[size_t(k)] = readInteger(tensor, k);
    if (t.kind == ElemKind::I1)
      for (int64_t &v : t.i)
        v = v != 0;
  }
  return t;
}

KnownTensor KnownTensor::castTo(ElemKind to) const {
  KnownTensor t;
  t.kind = to;
  t.shape = shape;
  size_t n = storedCount();
  if (to == ElemKind::F32) {
    t.f.resize(n);
    for (size_t k = 0; k < n; ++k)
      t.f[k] = float(floatAt(int64_t(k)));
    return t;
  }
  t.i.resize(n);
  for (size_t k = 0; k < n; ++k) {
    int64_t v = isFloat() ? (floatAt(int64_t(k)) != 0.0 && to == ElemKind::I1
                                 ? 1
                                 : intAt(int64_t(k)))
                          : intAt(int64_t(k));
    if (to == ElemKind::I32)
      v = int32_t(uint32_t(uint64_t(v)));
    else if (to == ElemKind::I1)
      v = v != 0;
    t.i[k] = v;
  }
  return t;
}

KnownTensor KnownTensor::reshaped(llvm::ArrayRef<int64_t> newShape) const {
  KnownTensor t = *this;
  t.shape.assign(newShape.begin(), newShape.end());
  return t;
}

mlir::DenseElementsAttr KnownTensor::toAttr(mlir::Builder &b) const {
  auto type = mlir::RankedTensorType::get(shape, elemType(b, kind));
  int64_t n = numElements();
  if (isFloat()) {
    if (isSplat() || n == 1)
      return mlir::DenseElementsAttr::get(type, float(f.empty() ? 0 : f[0]));
    std::vector<float> values(f.begin(), f.end());
    return mlir::DenseElementsAttr::get(type, llvm::ArrayRef<float>(values));
  }
  if (kind == ElemKind::I1) {
    if (isSplat() || n == 1)
      return mlir::DenseElementsAttr::get(type, bool(i.empty() ? 0 : i[0]));
    llvm::SmallVector<bool> values(i.begin(), i.end());
    return mlir::DenseElementsAttr::get(type, llvm::ArrayRef<bool>(values));
  }
  llvm::SmallVector<llvm::APInt> values;
  unsigned width = kind == ElemKind::I64 ? 64 : 32;
  size_t count = (isSplat() || n == 1) ? 1 : i.size();
  for (size_t k = 0; k < count; ++k)
    values.push_back(llvm::APInt(width, uint64_t(i.empty() ? 0 : i[k]),
                                 /*isSigned=*/true, /*implicitTrunc=*/true));
  if (count == 1)
    return mlir::DenseElementsAttr::get(type, values[0]);
  return mlir::DenseElementsAttr::get(type, values);
}

std::optional<int64_t> checkedNumElements(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d != 0 && n > INT64_MAX / d))
      return std::nullopt;
    n *= d;
  }
  return n;
}

std::optional<llvm::SmallVector<int64_t, 4>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  llvm::SmallVector<int64_t, 4> out(rank);
  for (size_t k = 0; k < rank; ++k) {
    int64_t da = k < rank - a.size() ? 1 : a[k - (rank - a.size())];
    int64_t db = k < rank - b.size() ? 1 : b[k - (rank - b.size())];
    if (da == db || db == 1)
      out[k] = da;
    else if (da == 1)
      out[k] = db;
    else if (mlir::ShapedType::isDynamic(da))
      out[k] = db;
    else if (mlir::ShapedType::isDynamic(db))
      out[k] = da;
    else
      return std::nullopt;
  }
  return out;
}

namespace {
/// Maps each flat index of `outShape` to the flat index of an operand of
/// `shape` broadcast to it.
struct BroadcastIndexer {
  llvm::SmallVector<int64_t, 4> strides; // 0 on broadcast dims
  llvm::SmallVector<int64_t, 4> outShape;
  bool splat;

  BroadcastIndexer(const KnownTensor &t, llvm::ArrayRef<int64_t> out)
      : outShape(out.begin(), out.end()), splat(t.storedCount() == 1) {
    size_t rank = out.size(), offset = rank - t.shape.size();
    strides.assign(rank, 0);
    int64_t stride = 1;
    for (size_t k = rank; k-- > offset;) {
      int64_t d = t.shape[k - offset];
      strides[k] = d == 1 ? 0 : stride;
      stride *= d;
    }
  }
  int64_t map(int64_t flat) const {
    if (splat)
      return 0;
    int64_t index = 0;
    for (size_t k = outShape.size(); k-- > 0;) {
      int64_t d = outShape[k];
      index += (flat % d) * strides[k];
      flat /= d;
    }
    return index;
  }
};

int64_t product(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}
} // namespace

std::optional<KnownTensor>
foldBinary(const KnownTensor &a, const KnownTensor &b, ElemKind resultKind,
           const std::function<double(double, double)> &ff,
           const std::function<int64_t(int64_t, int64_t)> &fi) {
  std::optional<llvm::SmallVector<int64_t, 4>> shape =
      broadcastShapes(a.shape, b.shape);
  if (!shape)
    return std::nullopt;
  KnownTensor out;
  out.kind = resultKind;
  out.shape = *shape;
  BroadcastIndexer ia(a, *shape), ib(b, *shape);
  int64_t n = product(*shape);
  bool floats = a.isFloat() || b.isFloat();
  for (int64_t k = 0; k < n; ++k) {
    int64_t x = ia.map(k), y = ib.map(k);
    if (floats) {
      double v = ff(a.floatAt(x), b.floatAt(y));
      if (resultKind == ElemKind::F32)
        out.f.push_back(float(v));
      else
        out.i.push_back(int64_t(v));
    } else {
      out.i.push_back(fi(a.intAt(x), b.intAt(y)));
    }
  }
  return out;
}

std::optional<KnownTensor>
foldWhere(const KnownTensor &cond, const KnownTensor &x, const KnownTensor &y) {
  auto xy = broadcastShapes(x.shape, y.shape);
  if (!xy)
    return std::nullopt;
  auto shape = broadcastShapes(cond.shape, *xy);
  if (!shape)
    return std::nullopt;
  KnownTensor out;
  out.kind = x.kind;
  out.shape = *shape;
  BroadcastIndexer ic(cond, *shape), ix(x, *shape), iy(y, *shape);
  int64_t n = product(*shape);
  for (int64_t k = 0; k < n; ++k) {
    bool c = cond.intAt(ic.map(k)) != 0;
    if (out.isFloat())
      out.f.push_back(c ? x.floatAt(ix.map(k)) : y.floatAt(iy.map(k)));
    else
      out.i.push_back(c ? x.intAt(ix.map(k)) : y.intAt(iy.map(k)));
  }
  return out;
}

std::optional<KnownTensor>
foldGather(const KnownTensor &data, const KnownTensor &indices, int64_t axis) {
  int64_t outer = product(llvm::ArrayRef<int64_t>(data.shape).take_front(axis));
  int64_t dim = data.shape[size_t(axis)];
  int64_t inner =
      product(llvm::ArrayRef<int64_t>(data.shape).drop_front(axis + 1));
  int64_t count = indices.numElements();
  KnownTensor out;
  out.kind = data.kind;
  out.shape.assign(data.shape.begin(), data.shape.begin() + axis);
  out.shape.append(indices.shape.begin(), indices.shape.end());
  out.shape.append(data.shape.begin() + axis + 1, data.shape.end());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < count; ++k) {
      int64_t index = indices.intAt(k);
      if (index < 0)
        index += dim;
      if (index < 0 || index >= dim)
        return std::nullopt;
      for (int64_t in = 0; in < inner; ++in) {
        int64_t from = (o * dim + index) * inner + in;
        if (out.isFloat())
          out.f.push_back(data.floatAt(from));
        else
          out.i.push_back(data.intAt(from));
      }
    }
  return out;
}

KnownTensor foldConcat(llvm::ArrayRef<const KnownTensor *> inputs,
                       int64_t axis) {
  KnownTensor out;
  out.kind = inputs.front()->kind;
  out.shape = inputs.front()->shape;
  out.shape[size_t(axis)] = 0;
  for (const KnownTensor *t : inputs)
    out.shape[size_t(axis)] += t->shape[size_t(axis)];
  int64_t outer = product(llvm::ArrayRef<int64_t>(out.shape).take_front(axis));
  for (int64_t o = 0; o < outer; ++o)
    for (const KnownTensor *t : inputs) {
      int64_t chunk =
          product(llvm::ArrayRef<int64_t>(t->shape).drop_front(axis));
      for (int64_t k = 0; k < chunk; ++k) {
        if (out.isFloat())
          out.f.push_back(t->floatAt(o * chunk + k));
        else
          out.i.push_back(t->intAt(o * chunk + k));
      }
    }
  return out;
}

KnownTensor foldSlice(const KnownTensor &data, llvm::ArrayRef<int64_t> axes,
                      llvm::ArrayRef<int64_t> starts,
                      llvm::ArrayRef<int64_t> ends,
                      llvm::ArrayRef<int64_t> steps) {
  size_t rank = data.shape.size();
  llvm::SmallVector<int64_t, 4> start(rank, 0), step(rank, 1),
      count(data.shape.begin(), data.shape.end());
  for (size_t k = 0; k < axes.size(); ++k) {
    size_t a = size_t(axes[k]);
    start[a] = starts[k];
    step[a] = steps[k];
    int64_t span = steps[k] > 0 ? ends[k] - starts[k] : starts[k] - ends[k];
    int64_t s = steps[k] > 0 ? steps[k] : -steps[k];
    count[a] = span <= 0 ? 0 : (span + s - 1) / s;
  }
  KnownTensor out;
  out.kind = data.kind;
  out.shape = count;
  int64_t n = product(count);
  llvm::SmallVector<int64_t, 4> strides(rank, 1);
  for (size_t k = rank; k-- > 1;)
    strides[k - 1] = strides[k] * data.shape[k];
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t rem = flat, from = 0;
    for (size_t k = rank; k-- > 0;) {
      int64_t pos = rem % count[k];
      rem /= count[k];
      from += (start[k] + pos * step[k]) * strides[k];
    }
    if (out.isFloat())
      out.f.push_back(data.floatAt(from));
    else
      out.i.push_back(data.intAt(from));
  }
  return out;
}

KnownTensor foldExpand(const KnownTensor &data, llvm::ArrayRef<int64_t> shape) {
  KnownTensor out;
  out.kind = data.kind;
  out.shape.assign(shape.begin(), shape.end());
  if (data.storedCount() == 1) {
    out.f = data.f;
    out.i = data.i;
    return out;
  }
  BroadcastIndexer index(data, shape);
  int64_t n = product(shape);
  for (int64_t k = 0; k < n; ++k) {
    if (out.isFloat())
      out.f.push_back(data.floatAt(index.map(k)));
    else
      out.i.push_back(data.intAt(index.map(k)));
  }
  return out;
}

} // namespace frugal::onnx
