//===- ImportOps.h - ONNX operator handlers ---------------------*- C++ -*-===//
//
// Part of Frugal. Internal to the ONNX frontend: the class whose methods
// import one node each. The dispatch is in ImportOps.cpp; the handlers are
// split by op family (ImportElementwise.cpp, ImportNormalization.cpp,
// ImportShape.cpp, ImportFolding.cpp, ImportContrib.cpp for com.microsoft).
// A handler folds the node when every input it needs is known at import
// time, and otherwise emits llm ops typed with the static shapes it infers.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_ONNX_IMPORTOPS_H
#define FRUGAL_FRONTENDS_ONNX_IMPORTOPS_H

#include "frontends/onnx/GraphImporter.h"

#include "llvm/Support/FormatVariadic.h"

#include <string>

namespace frugal::onnx {

using Shape = llvm::SmallVector<int64_t, 4>;

inline bool isFloatTensor(mlir::RankedTensorType t) {
  return t.getElementType().isF32();
}

/// "[2, ?, 4]".
std::string shapeText(llvm::ArrayRef<int64_t> shape);

class OpImporter {
public:
  explicit OpImporter(GraphImporter &gi) : gi(gi), b(gi.builder()) {}

  llvm::Error run();

private:
  mlir::Location loc() const { return gi.loc(); }
  const ONNXNode &node() const { return gi.node(); }
  llvm::Error err(const llvm::Twine &msg) { return gi.nodeError(msg); }
  /// Fails unless input `i` is an f32 runtime tensor (llm ops are float).
  llvm::Error requireFloat(mlir::RankedTensorType t, llvm::StringRef what);
  /// The type of input 0 of a normalization over its `axis` attribute,
  /// which must be the last axis of an f32 tensor.
  llvm::Expected<mlir::RankedTensorType> lastAxisNormInput(llvm::StringRef what);

  llvm::Error binary(llvm::StringRef op);
  llvm::Error compare(llvm::StringRef op);
  llvm::Error where();
  llvm::Error unary(llvm::StringRef op);
  llvm::Error relu();
  llvm::Error cast();
  llvm::Error matmul();
  llvm::Error gemm();
  llvm::Error softmax();
  llvm::Error layerNorm();
  llvm::Error rmsNorm();
  llvm::Error gelu();
  llvm::Error reshapeLike(llvm::StringRef op);
  llvm::Error transpose();
  llvm::Error slice();
  llvm::Error split();
  llvm::Error gather();
  llvm::Error concat();
  llvm::Error expand();
  llvm::Error trilu();
  llvm::Error reduceMean();
  llvm::Error constant();
  llvm::Error shape();
  llvm::Error size();
  llvm::Error constantOfShape();
  llvm::Error range();
  // com.microsoft (ImportContrib.cpp)
  llvm::Error simplifiedLayerNorm();
  llvm::Error skipSimplifiedLayerNorm();
  llvm::Error rotaryEmbedding();
  llvm::Error groupQueryAttention();
  llvm::Error matmulNBits();
  llvm::Error gatherBlockQuantized();
  // Opset-23 attention operators (ImportAttention.cpp)
  llvm::Error attention();
  llvm::Error rotaryEmbedding23();
  /// [B, H, S, D] -> [B, S, H * D] (static shapes).
  mlir::Value headsToHidden(mlir::Value x);
  /// [B, S, H * D] -> [B, H, S, D] (static shapes).
  mlir::Value hiddenToHeads(mlir::Value x, int64_t heads);
  /// Output `output` = RMS norm of `x` scaled by input `scaleInput`.
  llvm::Error rmsNormOf(mlir::Value x, size_t scaleInput, size_t output);
  /// llm.rope of `x` with the cos/sin tables of the given inputs.
  llvm::Expected<mlir::Value> ropeWithTables(mlir::Value x,
                                             mlir::Value positions,
                                             size_t cosInput, size_t sinInput,
                                             int64_t numHeads,
                                             bool interleaved);

  /// Fails unless a known value of `shape` is small enough to evaluate.
  llvm::Error foldLimit(llvm::ArrayRef<int64_t> shape) {
    std::optional<int64_t> n = checkedNumElements(shape);
    if (n && *n <= kMaxFoldElements)
      return llvm::Error::success();
    return err(
        "evaluating a known value of shape " + shapeText(shape) +
        llvm::formatv(" exceeds the limit of {0} elements", kMaxFoldElements));
  }

  /// Emits llm.reshape (or folds) of input 0 to `shape`.
  llvm::Error emitReshape(llvm::ArrayRef<int64_t> shape);

  GraphImporter &gi;
  mlir::OpBuilder &b;
};

} // namespace frugal::onnx

#endif // FRUGAL_FRONTENDS_ONNX_IMPORTOPS_H
