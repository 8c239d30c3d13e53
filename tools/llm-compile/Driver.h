//===- Driver.h - llm-compile as a library ----------------------*- C++ -*-===//
//
// Part of Frugal. Model file -> llm IR -> packed weights + LLVM -> object ->
// executable. The llm-compile tool only parses flags and calls compileModel.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_TOOLS_LLM_COMPILE_DRIVER_H
#define FRUGAL_TOOLS_LLM_COMPILE_DRIVER_H

#include "tools/llm-compile/Report.h"

#include "passes/Passes.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace frugal {

enum class EmitKind { Executable, Object, LLVMIR, MLIR };

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
  /// Decode kernel of 8- and 4-bit quantized matmuls (vnni or fma).
  std::string quantKernel = "vnni";
  /// Weight quantization, KV-cache and activation-memory plans: the options
  /// of the llm-optimize pipeline (passes/Passes.h). A gptq `quantMethod`
  /// first runs the f32 model on the first `calibrationTokens` tokens of
  /// `calibrationText`.
  mlir::llm::LLMOptimizationOptions optimization;
  std::string calibrationText = "/usr/share/common-licenses/GPL-3";
  int64_t calibrationTokens = 2048;
  /// The efficiency report (--report, --measure; Report.h).
  ReportOptions report;
  /// Print progress lines to stderr.
  bool progress = true;
};

/// Runs the whole compilation; the error names the failing step.
llvm::Error compileModel(const CompileOptions &options);

} // namespace frugal

#endif // FRUGAL_TOOLS_LLM_COMPILE_DRIVER_H
