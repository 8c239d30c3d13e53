//===- LLMTensorOps.cpp - Verifiers of the generic tensor ops --------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "dialects/LLM/IR/LLMDialect.h"

using namespace mlir;
using namespace mlir::llm;

static bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

static bool shapesCompatible(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  return a.size() == b.size() &&
         llvm::all_of(llvm::zip(a, b), [](auto p) {
           return dimsCompatible(std::get<0>(p), std::get<1>(p));
         });
}

static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") +
         (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d));
  return s + "]";
}

LogicalResult TriluOp::verify() {
  if (getInput().getType().getRank() < 2)
    return emitOpError("input must have rank >= 2");
  return success();
}

LogicalResult ReduceMeanOp::verify() {
  auto input = getInput().getType();
  auto result = getResult().getType();
  ArrayRef<int64_t> axes = getAxes();
  if (axes.empty())
    return emitOpError("needs at least one axis");
  for (auto [i, axis] : llvm::enumerate(axes)) {
    if (axis < 0 || axis >= input.getRank())
      return emitOpError("axis ") << axis << " is out of range for rank "
                                  << input.getRank();
    if (i > 0 && axes[i - 1] >= axis)
      return emitOpError("axes must be strictly increasing");
  }
  SmallVector<int64_t> expected;
  for (int64_t d = 0; d < input.getRank(); ++d) {
    if (!llvm::is_contained(axes, d))
      expected.push_back(input.getDimSize(d));
    else if (getKeepdims())
      expected.push_back(1);
  }
  if (!shapesCompatible(expected, result.getShape()))
    return emitOpError("result shape ")
           << shapeString(result.getShape()) << " does not match expected "
           << shapeString(expected);
  if (input.getElementType() != result.getElementType())
    return emitOpError("result element type must match the input's");
  return success();
}

LogicalResult GatherOp::verify() {
  auto data = getData().getType();
  auto indices = getIndices().getType();
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis < 0 || axis >= data.getRank())
    return emitOpError("axis ") << axis << " is out of range for rank "
                                << data.getRank();
  SmallVector<int64_t> expected(data.getShape().take_front(axis));
  llvm::append_range(expected, indices.getShape());
  llvm::append_range(expected, data.getShape().drop_front(axis + 1));
  auto result = getResult().getType();
  if (!shapesCompatible(expected, result.getShape()))
    return emitOpError("result shape ")
           << shapeString(result.getShape()) << " does not match expected "
           << shapeString(expected);
  if (data.getElementType() != result.getElementType())
    return emitOpError("result element type must match the data's");
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  auto result = getResult().getType();
  int64_t rank = result.getRank();
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis < 0 || axis >= rank)
    return emitOpError("axis ") << axis << " is out of range for rank " << rank;
  int64_t total = 0;
  bool dynamic = false;
  for (Value input : getInputs()) {
    auto type = cast<RankedTensorType>(input.getType());
    if (type.getRank() != rank || type.getElementType() != result.getElementType())
      return emitOpError("inputs must have the result's rank and element type");
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && !dimsCompatible(type.getDimSize(d), result.getDimSize(d)))
        return emitOpError("input dimension ")
               << d << " (" << type.getDimSize(d)
               << ") differs from the result's (" << result.getDimSize(d) << ")";
    if (type.isDynamicDim(axis))
      dynamic = true;
    else
      total += type.getDimSize(axis);
  }
  if (!dynamic && !result.isDynamicDim(axis) && total != result.getDimSize(axis))
    return emitOpError("result extent along axis ")
           << axis << " is " << result.getDimSize(axis)
           << ", the inputs sum to " << total;
  return success();
}

LogicalResult ExpandOp::verify() {
  auto input = getInput().getType();
  auto result = getResult().getType();
  if (input.getElementType() != result.getElementType())
    return emitOpError("result element type must match the input's");
  if (input.getRank() > result.getRank())
    return emitOpError("cannot expand rank ")
           << input.getRank() << " to rank " << result.getRank();
  int64_t offset = result.getRank() - input.getRank();
  for (int64_t d = 0; d < input.getRank(); ++d) {
    int64_t in = input.getDimSize(d), out = result.getDimSize(d + offset);
    if (in != 1 && !dimsCompatible(in, out))
      return emitOpError("input dimension ")
             << d << " (" << in << ") cannot broadcast to " << out;
    if (ShapedType::isDynamic(out) && !ShapedType::isDynamic(in))
      return emitOpError("a dynamic result dimension needs a dynamic input "
                         "dimension to take its extent from");
  }
  return success();
}
