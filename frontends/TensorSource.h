//===- TensorSource.h - Where the compiler finds weights --------*- C++ -*-===//
//
// Part of Frugal. Frontends import a model into llm IR whose `llm.weight`
// ops name tensors; the compiler later packs those tensors into the model
// file. A TensorSource answers both: what a named tensor looks like (for
// the importer's checks) and its values (for the packer). Safetensors
// checkpoints, GGUF files and ONNX initializers each implement it.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_TENSORSOURCE_H
#define FRUGAL_FRONTENDS_TENSORSOURCE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mlir::llm {
class QuantAttr;
} // namespace mlir::llm

namespace frugal {

class TensorSource {
public:
  /// What the importer needs to know about a tensor.
  struct Info {
    /// Row-major logical shape.
    llvm::SmallVector<int64_t, 4> shape;
    /// The stored element type's name, e.g. "F32", "BF16", "Q4_1".
    std::string dtype;
    /// Whether readAsF32 can produce its values.
    bool convertibleToF32 = false;
    /// The file holding it, for messages.
    std::string file;
  };

  virtual ~TensorSource();

  /// The tensor called `name`, if any.
  virtual std::optional<Info> lookupTensor(llvm::StringRef name) const = 0;

  /// Converts tensor `name` to f32 into `out` (exactly its element count);
  /// errors name the tensor and the file.
  virtual llvm::Error readAsF32(llvm::StringRef name,
                                llvm::MutableArrayRef<float> out) const = 0;

  /// Writes tensor `name`, a [rows, cols] matmul weight, directly in the
  /// packed layout of `quant` (dialects/LLM/IR/LLMQuant.h; `out` is exactly
  /// its totalBytes) when the source already stores it in an equivalent
  /// quantized form, so the packer transcodes it losslessly instead of
  /// dequantizing and requantizing. Returns false when the source cannot
  /// (then the packer quantizes readAsF32's values); errors name the tensor.
  virtual llvm::Expected<bool> readPacked(llvm::StringRef name,
                                          mlir::llm::QuantAttr quant,
                                          int64_t rows, int64_t cols,
                                          llvm::MutableArrayRef<uint8_t> out) const;

  /// The path the source was opened from, for messages.
  virtual std::string sourcePath() const = 0;
};

} // namespace frugal

#endif // FRUGAL_FRONTENDS_TENSORSOURCE_H
