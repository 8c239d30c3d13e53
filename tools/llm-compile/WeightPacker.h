//===- WeightPacker.h - Lay out and write the weights file ------*- C++ -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_TOOLS_LLM_COMPILE_WEIGHTPACKER_H
#define FRUGAL_TOOLS_LLM_COMPILE_WEIGHTPACKER_H

#include "frontends/TensorSource.h"
#include "frontends/safetensors/Tokenizer.h"

#include "dialects/LLM/IR/LLMDialect.h"
#include "dialects/LLM/IR/LLMQuant.h"
#include "llmrt/ModelFile.h"
#include "passes/Calibration/Calibration.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace frugal {

/// One tensor of the packed blob.
struct PackedTensor {
  std::string name;
  int64_t offset = 0;       ///< Byte offset in the blob, 64-aligned.
  int64_t numElements = 0;  ///< f32 elements.
  /// Written as the transpose of the source [rows, cols] tensor.
  bool transposed = false;
  int64_t rows = 0, cols = 0;
  /// Quantized storage (null: f32), of the logical [N, K] shape.
  mlir::llm::QuantAttr quant;
  int64_t logicalRows = 0, logicalCols = 0;
  int64_t storageBytes = 0;
  /// How the codes are chosen (llm.quant_method; empty: round to nearest).
  std::string method;
  /// Equalization (LLMQuant.h): the producer whose scales multiply this
  /// weight's input channels, and whether this weight is a producer whose
  /// output channels are divided by its consumers' scales.
  std::string equalizeWith;
  bool equalizedOutput = false;
};

/// The packed weights: every distinct `llm.weight` of the module, as f32, at
/// 64-byte-aligned offsets. Assigning offsets sets the ops' `at` attribute.
struct WeightLayout {
  std::vector<PackedTensor> tensors;
  int64_t totalBytes = 0;
};

/// Assigns offsets to every llm.weight of `module` (same name and layout,
/// same offset).
WeightLayout assignWeightOffsets(mlir::ModuleOp module);

/// GPTQ's factorization of one input's statistics, kept while consecutive
/// weights read that input (q, k and v; gate and up).
struct GPTQFactorCache {
  const mlir::llm::ChannelStats *stats = nullptr;
  std::string equalizeWith;
  mlir::llm::GPTQFactor factor;
};

/// Chooses the codes of the quantized tensor `t` from its f32 `values`
/// ([logicalRows, logicalCols], input channels already multiplied by
/// `inputScales` when it is equalized) into `out`: round to nearest, or
/// GPTQ on the X^T X that `calibration` holds for its input.
llvm::Error quantizeWeight(const PackedTensor &t, llvm::ArrayRef<float> values,
                           const mlir::llm::CalibrationStats *calibration,
                           const std::vector<float> *inputScales,
                           GPTQFactorCache &cache, std::vector<uint8_t> &out);

/// Writes the model file (metadata, tokenizer, blob converted from the
/// weights source) to `path`, or appends its bytes to `memory` when non-null.
/// `progress` is called with the fraction of the blob written. Weights
/// quantized with an activation-aware method read their input statistics
/// from `calibration`.
llvm::Error writeModelFile(
    const std::string &path, std::vector<uint8_t> *memory,
    const WeightLayout &layout, const TensorSource &weights,
    const std::vector<std::pair<std::string, std::string>> &metadata,
    const frugal::safetensors::TokenizerData *tokenizer,
    const std::function<void(double)> &progress,
    const mlir::llm::CalibrationStats *calibration = nullptr);

/// The weights blob alone (what the model file maps), into `blob`.
llvm::Error packWeightsBlob(const WeightLayout &layout,
                            const TensorSource &weights,
                            std::vector<uint8_t> &blob,
                            const mlir::llm::CalibrationStats *calibration =
                                nullptr);

/// The tokenizer in the model file's form.
llmrt::TokenizerData
toModelFileTokenizer(const frugal::safetensors::TokenizerData &tokenizer);

} // namespace frugal

#endif // FRUGAL_TOOLS_LLM_COMPILE_WEIGHTPACKER_H
