//===- HostBenchmarks.h - Measurements behind llm-calibrate -----*- C++ -*-===//
//
// Part of Frugal. Measures this machine for the host-cpu target description:
// read bandwidth (one and all threads), peak f32 FMA and int8 dot-product
// rates, and the time Frugal's own generated kernels (JIT-compiled with the
// CPU pipeline, LLVM -O3) take on GEMV, GEMM, quantized GEMV, attention and
// elementwise shapes; each kernel time becomes efficiency factors of its op
// class (cost::fitEfficiency).
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_TOOLS_LLM_CALIBRATE_HOSTBENCHMARKS_H
#define FRUGAL_TOOLS_LLM_CALIBRATE_HOSTBENCHMARKS_H

#include "passes/CostModel/Target.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>

namespace frugal {

/// Best-of-`passes` read bandwidth in bytes/s over a `bytes` buffer with
/// `threads` threads.
double measureReadBandwidth(unsigned threads, size_t bytes, int passes);

/// Peak f32 FLOP/s (FMA chains) and int8 ops/s (AVX-512 VNNI dot products;
/// 0 without VNNI) over `threads` threads for about `seconds`.
double measurePeakF32(unsigned threads, double seconds);
double measurePeakInt8(unsigned threads, double seconds);

struct CalibrationOptions {
  unsigned threads = 0;
  /// Smaller buffers and fewer repetitions (a few seconds in all).
  bool quick = false;
};

/// Measures this machine and returns `base` (power, carbon and price are
/// kept) with its rates, efficiency factors, overhead and a `calibration`
/// record replaced. Progress and a table go to `log`.
llvm::Expected<mlir::llm::cost::TargetDescription>
calibrateHost(mlir::MLIRContext &context,
              const mlir::llm::cost::TargetDescription &base,
              const CalibrationOptions &options, llvm::raw_ostream &log);

} // namespace frugal

#endif // FRUGAL_TOOLS_LLM_CALIBRATE_HOSTBENCHMARKS_H
