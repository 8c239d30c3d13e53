//===- Report.h - The efficiency report of llm-compile ---------*- C++ -*-===//
//
// Part of Frugal. `llm-compile --report FILE` predicts, from the optimized
// llm IR and a target description, what the compiled model costs: size,
// FLOPs, memory, latency, energy, carbon and money per token; `--measure`
// runs the built executable and adds what it measured. The JSON layout is
// docs/report.schema.json.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_TOOLS_LLM_COMPILE_REPORT_H
#define FRUGAL_TOOLS_LLM_COMPILE_REPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace frugal {

struct ReportOptions {
  /// Where the JSON goes ("" : no report).
  std::string path;
  /// Target name or file, and key=value overrides (cost/Target.h).
  std::string target = "host-cpu";
  std::vector<std::string> targetParams;
  /// Run the executable and record measured figures.
  bool measure = false;
  /// The workload: a prompt of `promptTokens`, then `decodeTokens` greedy
  /// tokens (shrunk to fit the KV cache; the report records what ran).
  /// Decode is predicted at the mean context of those steps.
  int64_t promptTokens = 128;
  int64_t decodeTokens = 64;
  /// Fidelity (with `measure`): a reference build of the same model (e.g.
  /// f32) scores the first `fidelityTokens` tokens of `fidelityText`; the
  /// report compares perplexity, KL divergence and top-1 agreement.
  std::string reference;
  std::string fidelityText = "/usr/share/common-licenses/GPL-3";
  int64_t fidelityTokens = 256;
  /// Print the report's table to stdout once it is written.
  bool print = true;
};

/// What the report says about the model besides its IR.
struct ReportModel {
  std::string name, arch, input, executable;
  int64_t vocab = 0, maxContext = 0;
  /// Resident bytes of the process besides weights, KV cache and
  /// activations (code, libraries, tokenizer), added to the predicted peak.
  int64_t runtimeBytes = 0;
};

/// The report with predicted figures for `module`'s `forward` function (llm
/// IR after the llm-level pipeline, before lowering); `measured` and
/// `fidelity` are null.
llvm::Expected<llvm::json::Object> predictReport(mlir::ModuleOp module,
                                                 const ReportModel &model,
                                                 const ReportOptions &options);

/// Runs `model.executable --bench` on the report's workload and fills
/// `measured` (decode/prefill rates, TTFT, peak RSS, errors against the
/// prediction; energy stays null without a meter), and `fidelity` when
/// `options.reference` names a reference executable.
llvm::Error measureReport(llvm::json::Object &report, const ReportModel &model,
                          const ReportOptions &options);

/// Writes `report` as JSON to `path`.
llvm::Error writeReport(const llvm::json::Object &report,
                        llvm::StringRef path);

/// A table of the report's main figures.
void printReport(const llvm::json::Object &report, llvm::raw_ostream &os);

} // namespace frugal

#endif // FRUGAL_TOOLS_LLM_COMPILE_REPORT_H
