//===- Pareto.h - Sweep of compile configurations and its frontier -*- C++ -*-===//
//
// Part of Frugal. `llm-compile MODEL --pareto DIR` compiles one model in
// several configurations (weight storage, quantization group and scheme, KV
// dtype), measures each build with the efficiency report (Report.h) against
// the f32 build of the sweep, and writes the Pareto frontier of energy per
// token and of decode speed against the perplexity delta: DIR/pareto.json
// (docs/pareto.schema.json) and a plot. Only the frontier's binaries stay.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_TOOLS_LLM_COMPILE_PARETO_H
#define FRUGAL_TOOLS_LLM_COMPILE_PARETO_H

#include "tools/llm-compile/Driver.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace frugal {

/// One point of the sweep. Its name is `<weights>[-sym|-asym][-g<N>]
/// [-gptq][-kv8|-kv16]`: f32, int8-g32, int4-sym-g32, int4-asym-g128-kv8...
struct ParetoConfig {
  /// Weight bits: 0 (f32), 8 or 4.
  unsigned bits = 0;
  unsigned group = 32;
  std::string scheme = "symmetric";
  std::string method = "rtn";
  /// KV cache element type: f32, f16 or int8.
  std::string kvDtype = "f32";

  /// The canonical name (also the build's folder under DIR).
  std::string getName() const;
  /// Parses a name as above; the error says what was expected.
  static llvm::Expected<ParetoConfig> parse(llvm::StringRef name);
};

struct ParetoOptions {
  /// Where builds, reports, pareto.json and the plot go.
  std::string dir;
  /// Configuration names; empty: defaultParetoConfigs(). The f32 build is
  /// the fidelity reference and is always part of the sweep.
  std::vector<std::string> configs;
  /// --bench runs per build; the fastest decode is recorded (other work on
  /// the machine only slows a run down).
  int benchRuns = 3;
};

/// The default sweep (about 10-15 minutes for SmolLM2-135M on 2 cores).
std::vector<std::string> defaultParetoConfigs();

/// Compiles and measures every configuration of `options` from `base` (the
/// model, the report target, workload and fidelity text; its output,
/// quantization and KV dtype are the sweep's), writes DIR/pareto.json and
/// DIR/pareto.{png,svg} (when matplotlib is at hand), removes the builds off
/// both frontiers and prints a table.
llvm::Error runParetoSweep(const CompileOptions &base,
                           const ParetoOptions &options);

} // namespace frugal

#endif // FRUGAL_TOOLS_LLM_COMPILE_PARETO_H
