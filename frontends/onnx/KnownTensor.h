//===- KnownTensor.h - tensors whose values the importer knows --*- C++ -*-===//
//
// Part of Frugal. Internal to the ONNX frontend. Shape computations in
// exported graphs (Shape → Gather → Concat → Reshape, ConstantOfShape,
// Range, ...) run on values known at import time; the importer evaluates
// them here and only materializes the results that reach a runtime op.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_ONNX_KNOWNTENSOR_H
#define FRUGAL_FRONTENDS_ONNX_KNOWNTENSOR_H

#include "frontends/onnx/ONNXModel.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace frugal::onnx {

/// The element types the importer works with: f32 activations and weights,
/// i64/i32 indices and shapes, i1 masks.
enum class ElemKind : uint8_t { F32, I64, I32, I1 };

/// The kind an ONNX data type imports as, or nullopt.
std::optional<ElemKind> elemKindOf(int32_t dataType);
mlir::Type elemType(mlir::Builder &b, ElemKind kind);
/// "f32", "i64", ...
const char *elemKindName(ElemKind kind);

/// A tensor with known values; a single value with more elements is a
/// splat. Floats are kept as double, integers and bools as int64.
struct KnownTensor {
  ElemKind kind = ElemKind::F32;
  llvm::SmallVector<int64_t, 4> shape;
  std::vector<double> f;
  std::vector<int64_t> i;

  bool isFloat() const { return kind == ElemKind::F32; }
  int64_t numElements() const;
  size_t storedCount() const { return isFloat() ? f.size() : i.size(); }
  bool isSplat() const { return storedCount() == 1 && numElements() != 1; }
  double floatAt(int64_t index) const;
  int64_t intAt(int64_t index) const;

  static KnownTensor scalarInt(int64_t v, ElemKind kind = ElemKind::I64);
  static KnownTensor ints(llvm::ArrayRef<int64_t> values,
                          ElemKind kind = ElemKind::I64);
  /// The values of an ONNX tensor (converted to f32/i64/i32/i1 storage).
  static std::optional<KnownTensor> fromTensor(const ONNXTensor &tensor);

  /// Same values, another element kind (ONNX Cast semantics).
  KnownTensor castTo(ElemKind to) const;
  /// Same values, another shape of the same size.
  KnownTensor reshaped(llvm::ArrayRef<int64_t> newShape) const;

  /// A DenseElementsAttr of `type`'s element type and this shape.
  mlir::DenseElementsAttr toAttr(mlir::Builder &b) const;
};

/// Known values are evaluated only up to this many elements (splats of any
/// size excepted).
constexpr int64_t kMaxFoldElements = int64_t(1) << 22;

/// The element count of `shape`, or nullopt when it is negative or
/// overflows int64.
std::optional<int64_t> checkedNumElements(llvm::ArrayRef<int64_t> shape);

/// numpy broadcasting of two static shapes (dynamic dims propagate).
std::optional<llvm::SmallVector<int64_t, 4>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);

/// Elementwise `fn(a, b)` with broadcasting; `resultKind` is the kind of
/// the result (I1 for comparisons). Float operands call `ff`, integer ones
/// `fi`; a comparison returns 0/1.
std::optional<KnownTensor>
foldBinary(const KnownTensor &a, const KnownTensor &b, ElemKind resultKind,
           const std::function<double(double, double)> &ff,
           const std::function<int64_t(int64_t, int64_t)> &fi);

/// Where(cond, x, y) with broadcasting.
std::optional<KnownTensor>
foldWhere(const KnownTensor &cond, const KnownTensor &x, const KnownTensor &y);

/// Gather along `axis` (non-negative) with `indices` (negative ones count
/// from the end); nullopt on an out-of-range index.
std::optional<KnownTensor> foldGather(const KnownTensor &data,
                                      const KnownTensor &indices, int64_t axis);

/// Concat along `axis` (non-negative); the inputs have the same kind.
KnownTensor foldConcat(llvm::ArrayRef<const KnownTensor *> inputs,
                       int64_t axis);

/// Strided slice: per axis (non-negative) start, end, step, already clamped
/// to valid positions.
KnownTensor foldSlice(const KnownTensor &data, llvm::ArrayRef<int64_t> axes,
                      llvm::ArrayRef<int64_t> starts,
                      llvm::ArrayRef<int64_t> ends,
                      llvm::ArrayRef<int64_t> steps);

/// Broadcast `data` to `shape`.
KnownTensor foldExpand(const KnownTensor &data, llvm::ArrayRef<int64_t> shape);

} // namespace frugal::onnx

#endif // FRUGAL_FRONTENDS_ONNX_KNOWNTENSOR_H
