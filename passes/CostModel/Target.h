//===- Target.h - Hardware descriptions for the cost model ------*- C++ -*-===//
//
// Part of Frugal. A target description is one JSON file (targets/*.json,
// schema in docs/CostModel.md): peak FLOP/s per dtype, memory and link
// bandwidths, efficiency factors per op class (learned by llm-calibrate for
// the host CPU), a power model, carbon intensity and price. The cost model
// (CostModel.h) turns an op's FLOPs and bytes into time, energy and money
// with it.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_PASSES_COSTMODEL_TARGET_H
#define FRUGAL_PASSES_COSTMODEL_TARGET_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir {
namespace llm {
namespace cost {

/// Fractions of the peak compute rate and of the peak memory bandwidth that
/// one op class reaches (the roofline's two ceilings, lowered).
struct Efficiency {
  double compute = 1.0;
  double memory = 1.0;
  /// Per-op overhead of this class (`overhead_s`), replacing the target's
  /// `op_overhead_s` when set.
  std::optional<double> overheadSeconds;
};

/// One hardware target. Rates are in FLOP/s and bytes/s, energies in
/// picojoules, power in watts.
struct TargetDescription {
  std::string name;
  /// "cpu" or "gpu".
  std::string kind;
  std::string description;
  /// The file it was read from ("" when built in memory).
  std::string path;
  /// Where the figures come from (datasheets, calibration runs).
  std::vector<std::string> sources;

  /// Peak rate per compute dtype: f32, f16, bf16, int8, int4 (at least f32).
  llvm::StringMap<double> peakFlops;
  /// Main memory (DRAM / HBM) bandwidth and capacity.
  double memoryBandwidth = 0;
  double memoryBytes = 0;
  /// Other links: "disk", "pcie" (bytes/s; 0 when absent).
  llvm::StringMap<double> linkBandwidth;
  /// Fixed cost of launching one op (kernel launch, parallel region).
  double opOverheadSeconds = 0;
  /// Per op class (see opClassNames()); a missing class uses 1.0 / 1.0.
  llvm::StringMap<Efficiency> efficiency;

  /// Power model: idle watts while the model runs, plus dynamic energy per
  /// FLOP of each dtype and per byte of main-memory traffic.
  double idleWatts = 0;
  llvm::StringMap<double> picojoulesPerFlop;
  double picojoulesPerByte = 0;

  /// User-settable economics.
  double carbonGramsPerKWh = 0;
  double priceUsdPerHour = 0;

  /// Measurements recorded by llm-calibrate, kept verbatim (may be empty).
  llvm::json::Object calibration;

  /// Peak FLOP/s of `dtype`; int4 falls back to int8, anything else to f32.
  double getPeakFlops(llvm::StringRef dtype) const;
  /// pJ per FLOP of `dtype`, with the same fallbacks.
  double getPicojoulesPerFlop(llvm::StringRef dtype) const;
  Efficiency getEfficiency(llvm::StringRef opClass) const;
};

/// The op classes that carry efficiency factors, in a stable order.
llvm::ArrayRef<llvm::StringRef> opClassNames();

/// Parses a target description; errors name `path`, the key and what was
/// expected.
llvm::Expected<TargetDescription> parseTarget(const llvm::json::Value &json,
                                              llvm::StringRef path);

/// Sets `key=value` in a target's JSON before it is parsed. `key` is a
/// dotted path (`power.idle_w`, `efficiency.gemv_f32.memory`) or one of the
/// aliases `carbon` (carbon_g_per_kwh), `price` (price_usd_per_hour),
/// `bandwidth` (memory_bandwidth), `idle` (power.idle_w); `value` is a number.
llvm::Error applyOverride(llvm::json::Value &json, llvm::StringRef assignment,
                          llvm::StringRef path);

/// Directory of the target files shipped with Frugal.
std::string getBuiltinTargetDir();
/// Directory where llm-calibrate writes calibrated targets
/// ($XDG_CACHE_HOME or ~/.cache, then frugal/targets).
std::string getUserTargetDir();

/// Resolves `nameOrPath`: a path (contains '/' or ends in .json) is used as
/// is; a name is looked up as <name>.json in the user directory, then in the
/// built-in one.
llvm::Expected<std::string> findTargetFile(llvm::StringRef nameOrPath);

/// Reads, overrides (`key=value` each) and parses a target.
llvm::Expected<TargetDescription>
loadTarget(llvm::StringRef nameOrPath,
           llvm::ArrayRef<std::string> overrides = {});

/// The JSON form parseTarget reads.
llvm::json::Value toJSON(const TargetDescription &target);

} // namespace cost
} // namespace llm
} // namespace mlir

#endif // FRUGAL_PASSES_COSTMODEL_TARGET_H
