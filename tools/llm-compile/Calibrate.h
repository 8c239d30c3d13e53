//===- Calibrate.h - Calibration statistics for llm-compile -----*- C++ -*-===//
//
// Part of Frugal. Turns calibration text into token ids with the model's
// tokenizer and runs the f32 model on them (passes/Calibration) for weights
// that llm-quantize marked with an activation-aware method.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_TOOLS_LLM_COMPILE_CALIBRATE_H
#define FRUGAL_TOOLS_LLM_COMPILE_CALIBRATE_H

#include "frontends/TensorSource.h"
#include "frontends/safetensors/Tokenizer.h"
#include "passes/Calibration/Calibration.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace frugal {

/// Whether some weight of `module` is quantized with a method that needs
/// calibration statistics.
bool needsCalibration(mlir::ModuleOp module);

/// The first `maxTokens` ids of the text of `path` (BOS first when
/// `bosId >= 0`).
llvm::Expected<std::vector<int64_t>>
readCalibrationTokens(const std::string &path,
                      const frugal::safetensors::TokenizerData &tokenizer,
                      int64_t bosId, int64_t maxTokens);

/// Statistics of the f32 model on `tokens`: `module` (after llm-optimize;
/// quantization marks are ignored) runs with its weights read from
/// `weights`. X^T X is collected for the inputs of weights whose method
/// needs it. With `stages` > 1 the calibration is sequential: the inputs
/// of the quantized matmuls, in the order the model computes them, are
/// split into that many stages, and each stage's statistics come from a
/// run in which the weights of the stages before it are already rounded
/// exactly as the packer will round them.
llvm::Expected<mlir::llm::CalibrationStats>
calibrateModel(mlir::ModuleOp module, const TensorSource &weights,
               llvm::ArrayRef<int64_t> tokens,
               const mlir::llm::CalibrationOptions &options,
               int64_t stages = 1);

} // namespace frugal

#endif // FRUGAL_TOOLS_LLM_COMPILE_CALIBRATE_H
