//===- ImportOps.cpp - ONNX operators to llm ops --------------------------===//
//
// Part of Frugal. Dispatches each node (default domain, opsets 13-23, and the
// com.microsoft operators of onnxruntime-genai exports) to its handler.
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

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k)
    s += (k ? ", " : "") + (ShapedType::isDynamic(shape[k])
                                ? std::string("?")
                                : std::to_string(shape[k]));
  return s + "]";
}

Error OpImporter::requireFloat(RankedTensorType t, StringRef what) {
  if (isFloatTensor(t))
    return Error::success();
  return err(llvm::formatv("{0} of a runtime tensor of element type {1} is "
                           "not supported (llm ops take f32 here)",
                           what, t.getElementType()));
}

Error OpImporter::run() {
  StringRef op = node().opType;
  if (node().domain == "com.microsoft") {
    if (op == "SimplifiedLayerNormalization")
      return simplifiedLayerNorm();
    if (op == "SkipSimplifiedLayerNormalization")
      return skipSimplifiedLayerNorm();
    if (op == "RotaryEmbedding")
      return rotaryEmbedding();
    if (op == "GroupQueryAttention")
      return groupQueryAttention();
    if (op == "MatMulNBits")
      return matmulNBits();
    if (op == "GatherBlockQuantized")
      return gatherBlockQuantized();
    return err("unsupported operator " + op + " in domain 'com.microsoft'");
  }
  if (op == "SimplifiedLayerNormalization")
    return simplifiedLayerNorm();
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow")
    return binary(op);
  if (op == "Equal" || op == "Less" || op == "LessOrEqual" || op == "Greater" ||
      op == "GreaterOrEqual")
    return compare(op);
  if (op == "Where")
    return where();
  if (op == "Sqrt" || op == "Reciprocal" || op == "Tanh" || op == "Erf" ||
      op == "Sigmoid" || op == "Exp" || op == "Neg")
    return unary(op);
  if (op == "Relu")
    return relu();
  if (op == "Cast")
    return cast();
  if (op == "MatMul")
    return matmul();
  if (op == "Gemm")
    return gemm();
  if (op == "Softmax")
    return softmax();
  if (op == "LayerNormalization")
    return layerNorm();
  if (op == "RMSNormalization" && gi.opset() >= 23)
    return rmsNorm();
  if (op == "Attention" && gi.opset() >= 23)
    return attention();
  if (op == "RotaryEmbedding" && gi.opset() >= 23)
    return rotaryEmbedding23();
  if (op == "Gelu" && gi.opset() >= 20)
    return gelu();
  if (op == "Reshape" || op == "Unsqueeze" || op == "Squeeze" ||
      op == "Flatten")
    return reshapeLike(op);
  if (op == "Transpose")
    return transpose();
  if (op == "Slice")
    return slice();
  if (op == "Split")
    return split();
  if (op == "Gather")
    return gather();
  if (op == "Concat")
    return concat();
  if (op == "Expand")
    return expand();
  if (op == "Trilu")
    return trilu();
  if (op == "ReduceMean")
    return reduceMean();
  if (op == "Identity" || op == "Dropout") {
    gi.forward(0, 0);
    return Error::success();
  }
  if (op == "Constant")
    return constant();
  if (op == "Shape")
    return shape();
  if (op == "Size")
    return size();
  if (op == "ConstantOfShape")
    return constantOfShape();
  if (op == "Range")
    return range();
  return err("unsupported operator " + op + " in domain 'ai.onnx'");
}

Error importOp(GraphImporter &gi) { return OpImporter(gi).run(); }

} // namespace frugal::onnx
