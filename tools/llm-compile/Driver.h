//===- Driver.h - llm-compile as a library ----------------------*- C++ -*-===//
//
// Part of Frugal. Model file -> llm IR -> packed weights + LLVM -> object ->
// executable. The llm-compile tool only parses flags and calls compileModel.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_TOOLS_LLM_COMPILE_DRIVER_H
#define FRUGAL_TOOLS_LLM_COMPILE_DRIVER_H

#include "tools/llm-compile/Report.h"

#include "frontends/TensorSource.h"
#include "frontends/safetensors/Tokenizer.h"
#include "passes/Passes.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace frugal {

enum class EmitKind { Executable, Object, LLVMIR, MLIR };

/// The imported model, as a planner of the optimization options sees it.
struct ImportedModelView {
  /// The imported llm IR (before llm-optimize); planners work on clones.
  mlir::ModuleOp module;
  const TensorSource *weights = nullptr;
  /// Null when the model has none.
  const frugal::safetensors::TokenizerData *tokenizer = nullptr;
  /// The BOS id to prepend to calibration text (-1: none).
  int64_t bosId = -1;
  std::string name;
};

/// Resident bytes of a running model besides weights, activations and KV
/// cache, for a vocabulary of `vocab` entries and a batched decode step of
/// `batchRows` rows (added to predicted peaks).
int64_t runtimeOverheadBytes(int64_t vocab, int64_t batchRows = 0);

struct CompileOptions {
  /// A model directory (config.json + safetensors), a .safetensors file, or
  /// llm IR (.mlir) whose weights already carry offsets.
  std::string input;
  /// Output path; the weights go to `<output>.fgw` unless embedded.
  std::string output;
  EmitKind emit = EmitKind::Executable;
  bool embedWeights = false;
  /// KV-cache capacity in tokens (0: the importer's default).
  int64_t maxContext = 0;
  /// f32 lanes per vector register.
  int64_t vectorWidth = 16;
  bool openmp = true;
  /// Kernel of 8- and 4-bit quantized matmuls (every row count) (vnni or fma).
  std::string quantKernel = "vnni";
  /// Weight quantization, KV-cache and activation-memory plans: the options
  /// of the llm-optimize pipeline (passes/Passes.h). A gptq `quantMethod`
  /// first runs the f32 model on the first `calibrationTokens` tokens of
  /// `calibrationText`.
  mlir::llm::LLMOptimizationOptions optimization;
  std::string calibrationText = "/usr/share/common-licenses/GPL-3";
  int64_t calibrationTokens = 2048;
  /// Sequential calibration stages (Calibrate.h; 1: one f32 run).
  int64_t calibrationStages = 1;
  /// Weight of each calibration window's first position in GPTQ's X^T X
  /// (CalibrationOptions::firstPositionWeight).
  double calibrationSinkWeight = 128.0;
  /// The efficiency report (--report, --measure; Report.h).
  ReportOptions report;
  /// Print progress lines to stderr.
  bool progress = true;
  /// Budgeted builds (Budget.h): replaces `optimization` after the import.
  std::function<llvm::Expected<mlir::llm::LLMOptimizationOptions>(
      const ImportedModelView &)>
      planOptimization;
  /// Sees the finished report (after --measure) before it is written;
  /// returning false drops it (neither written nor printed).
  std::function<llvm::Expected<bool>(llvm::json::Object &)> reviewReport;
};

/// Runs the whole compilation; the error names the failing step.
llvm::Error compileModel(const CompileOptions &options);

} // namespace frugal

#endif // FRUGAL_TOOLS_LLM_COMPILE_DRIVER_H
