//===- Driver.h - llm-compile as a library ----------------------*- C++ -*-===//
//
// Part of Frugal. Model file -> llm IR -> packed weights + LLVM -> object ->
// executable. The llm-compile tool only parses flags and calls compileModel.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_TOOLS_LLM_COMPILE_DRIVER_H
#define FRUGAL_TOOLS_LLM_COMPILE_DRIVER_H

#include "tools/llm-compile/Report.h"

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
  /// Weight quantization (llm-quantize): 0 keeps f32, else 4 or 8 bits.
  unsigned quantBits = 0;
  unsigned quantGroup = 32;
  std::string quantScheme = "symmetric";
  std::vector<std::string> quantKeep, quantInt8;
  /// rtn, or gptq (activation-aware: the f32 model first runs on the first
  /// `calibrationTokens` tokens of `calibrationText`).
  std::string quantMethod = "rtn";
  std::vector<std::string> quantRTN;
  std::string calibrationText = "/usr/share/common-licenses/GPL-3";
  int64_t calibrationTokens = 2048;
  /// KV cache plan (llm-plan-kv-cache): f32, f16 or int8; auto, contiguous
  /// or paged; paged block size (0: choose); sequences held at once.
  std::string kvDtype = "f32";
  std::string kvLayout = "auto";
  int64_t kvBlockSize = 0;
  int64_t maxBatch = 1;
  /// llm-plan-memory: the activation arena holds calls of at most this many
  /// tokens; the runtime prefills longer prompts in chunks (0: no plan, the
  /// lowering allocates per call).
  int64_t maxTokensPerCall = 512;
  /// The efficiency report (--report, --measure; Report.h).
  ReportOptions report;
  /// Print progress lines to stderr.
  bool progress = true;
};

/// Runs the whole compilation; the error names the failing step.
llvm::Error compileModel(const CompileOptions &options);

} // namespace frugal

#endif // FRUGAL_TOOLS_LLM_COMPILE_DRIVER_H
