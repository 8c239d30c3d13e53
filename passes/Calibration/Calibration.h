//===- Calibration.h - Activation statistics of a model on text -*- C++ -*-===//
//
// Part of Frugal. Runs the f32 model on calibration tokens and collects, for
// every matmul that reads a weight, per-input-channel statistics of its
// activations. Activation-aware quantization (GPTQ) reads them; sparsity and
// the cost model can too.
//
// The model is instrumented on a private clone: a call to a host callback is
// inserted before each observed matmul, the clone is lowered with the CPU
// pipeline and JIT-compiled, and `forward` runs over the tokens in chunks
// with its KV cache, exactly as the compiled model would prefill them. The
// caller's module is not modified and the production lowering is untouched.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_PASSES_CALIBRATION_CALIBRATION_H
#define FRUGAL_PASSES_CALIBRATION_CALIBRATION_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
namespace llm {

/// Statistics of the rows x[0..channels) one matmul input took over the
/// calibration tokens.
struct ChannelStats {
  int64_t channels = 0;
  /// Rows (token positions) observed.
  int64_t count = 0;
  /// Per channel: sum |x|, sum x^2, max |x|.
  std::vector<double> sumAbs, sumSquares;
  std::vector<float> maxAbs;
  /// X^T X (channels x channels, row-major), when collected.
  std::vector<double> gram;

  double meanAbs(int64_t c) const {
    return count ? sumAbs[c] / static_cast<double>(count) : 0.0;
  }
  double meanSquare(int64_t c) const {
    return count ? sumSquares[c] / static_cast<double>(count) : 0.0;
  }
};

/// Statistics per distinct matmul input; weights reading the same input
/// (q/k/v, gate/up) share one entry.
struct CalibrationStats {
  std::vector<ChannelStats> inputs;
  /// Weight name -> index in `inputs` (its first matmul use).
  llvm::StringMap<size_t> byWeight;
  /// Tokens the model ran on.
  int64_t tokens = 0;

  const ChannelStats *lookup(llvm::StringRef weightName) const {
    auto it = byWeight.find(weightName);
    return it == byWeight.end() ? nullptr : &inputs[it->second];
  }
};

struct CalibrationOptions {
  /// Tokens per `forward` call.
  int64_t chunkTokens = 64;
  /// Whether to collect X^T X for the input of the named weight.
  std::function<bool(llvm::StringRef)> collectGram;
  /// How many times the first position of each window counts in X^T X of
  /// the inputs of key and value projections (matmuls whose results reach
  /// an llm.attention's key or value, directly or through llm.rope). Every
  /// later position attends to the first one's keys and values (the
  /// attention sink), so their errors reach them all. The per-channel sums
  /// and other inputs count it once; 1 weighs every position alike.
  double firstPositionWeight = 1.0;
  /// CPU lowering choices.
  int64_t vectorWidth = 16;
  bool openmp = true;
  /// Called with the fraction of the tokens processed.
  std::function<void(double)> progress;
};

/// `forward` of a model (llm IR with f32 weights whose offsets point into a
/// packed blob), instrumented and JIT-compiled once, then run on any blob of
/// the same layout: sequential quantization runs it once per stage, with the
/// weights of the stages before already rounded.
///
/// A run goes over the tokens in chunks with the KV cache; tokens beyond
/// the cache's capacity start a new window at position 0. The input of a
/// matmul reading a slice along a non-channel axis (the logits of the last
/// position) is observed before the slice, so every position counts.
class Calibrator {
public:
  static llvm::Expected<std::unique_ptr<Calibrator>>
  create(ModuleOp module, const CalibrationOptions &options = {});
  ~Calibrator();

  /// Statistics of one run over `tokens` with `weights`: the matmul
  /// inputs in the order `forward` computes them, the same in every run.
  /// X^T X is collected for the inputs `gramFor` accepts (by that index);
  /// without it, for those of the weights options.collectGram names.
  llvm::Expected<CalibrationStats>
  run(llvm::ArrayRef<uint8_t> weights, llvm::ArrayRef<int64_t> tokens,
      llvm::function_ref<bool(size_t)> gramFor = nullptr);

private:
  struct Impl;
  explicit Calibrator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
  /// The inputs and the weights reading each, with zero statistics.
  CalibrationStats shape;
};

/// One run of a Calibrator over `tokens` (see there).
llvm::Expected<CalibrationStats>
collectCalibrationStats(ModuleOp module, llvm::ArrayRef<uint8_t> weights,
                        llvm::ArrayRef<int64_t> tokens,
                        const CalibrationOptions &options = {});

} // namespace llm
} // namespace mlir

#endif // FRUGAL_PASSES_CALIBRATION_CALIBRATION_H
