//===- CostModel.h - Predicted latency, energy and memory -------*- C++ -*-===//
//
// Part of Frugal. Combines each op's CostOpInterface figures (FLOPs, bytes)
// with a TargetDescription into a prediction:
//
//   time   = max(FLOPs / (peak[dtype] * eff.compute),
//                bytes / (bandwidth * eff.memory)) + op overhead
//   energy = idle W * time + pJ/FLOP[dtype] * FLOPs + pJ/byte * bytes
//
// per op, per layer (ops grouped by the layer their weights belong to) and
// per step; a step is a prefill of `tokens` tokens or one decode token at a
// given context. The pass llm-cost-report, `llm-compile --report` and the
// budget and sweep tools all call estimateStep / estimateMemory.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_PASSES_COSTMODEL_COSTMODEL_H
#define FRUGAL_PASSES_COSTMODEL_COSTMODEL_H

#include "passes/CostModel/Target.h"

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir {
namespace llm {
namespace cost {

enum class Phase { Prefill, Decode };

llvm::StringRef stringifyPhase(Phase phase);
std::optional<Phase> parsePhase(llvm::StringRef text);

/// The step being predicted.
struct StepQuery {
  Phase phase = Phase::Decode;
  /// Tokens the step processes: the prompt length for a prefill, 1 for a
  /// decode step.
  int64_t tokens = 1;
  /// Positions already in the KV cache when the step starts.
  int64_t context = 0;

  static StepQuery prefill(int64_t promptTokens) {
    return {Phase::Prefill, promptTokens, 0};
  }
  static StepQuery decode(int64_t context) { return {Phase::Decode, 1, context}; }
  CostContext getCostContext() const {
    return CostContext{tokens, context};
  }
};

/// Roofline prediction for one op (or any FLOP/byte count).
struct Estimate {
  /// Op class (Target.h: opClassNames) and the dtype its FLOPs run in.
  std::string opClass, dtype;
  OpCost cost;
  double computeSeconds = 0, memorySeconds = 0, overheadSeconds = 0;
  double seconds = 0;
  double joules = 0;

  bool isMemoryBound() const { return memorySeconds >= computeSeconds; }
};

/// The arithmetic: time and energy of `cost` as `opClass` in `dtype` on
/// `target`. Zero-cost work (views, weights) takes no overhead.
Estimate estimateCost(const OpCost &cost, llvm::StringRef opClass,
                      llvm::StringRef dtype, const TargetDescription &target);

/// Which roofline ceiling a measurement calibrates.
enum class Ceiling { Binding, Compute, Memory };

/// Calibration, the inverse of estimateCost: the efficiency factors under
/// which `cost` takes `seconds` on `target`. One ceiling is lowered so that
/// the prediction matches, capped at 1: `ceiling`, or with Binding the one
/// that binds at full efficiency (memory when bytes / bandwidth >= FLOPs /
/// peak); the other keeps `prior`. The target's per-op overhead is
/// subtracted from `seconds` first. Benchmarks built for one ceiling (a
/// GEMV for bandwidth, a GEMM for compute) should name it: near the ridge
/// point the binding one flips with small changes of the measured peaks.
Efficiency fitEfficiency(const OpCost &cost, llvm::StringRef dtype,
                         double seconds, const TargetDescription &target,
                         Efficiency prior,
                         Ceiling ceiling = Ceiling::Binding);

/// Calibration of the per-op overhead: a sequence of ops (`ops`, estimated
/// on the target being calibrated) took `seconds` in all. Returns the
/// overhead per op under which the sum of their roofline times plus one
/// overhead each matches, at least `floor` (the cost of an op that does
/// nothing). On a CPU each op runs as one parallel region, so this is the
/// mean fork/join and barrier cost of a region with real work, scheduling
/// delays included.
double fitOpOverhead(llvm::ArrayRef<Estimate> ops, double seconds,
                     double floor);

/// Which op class and compute dtype `op` falls in under `ctx` (a matmul
/// with a one-row lhs is a GEMV; quantized weights compute in int8/int4).
std::pair<std::string, std::string> classifyOp(Operation *op,
                                               const CostContext &ctx);

/// The layer `op` belongs to: the index in its weights' names
/// (`model.layers.3.`, `blk.3.`, `h.3.`) or attention's `layer`; -1 when
/// none.
int64_t getLayerIndex(Operation *op);

struct OpEstimate : Estimate {
  Operation *op = nullptr;
  /// "embed" before the first layer, "layer.N", "head" after the last one.
  std::string group;
};

struct GroupEstimate {
  std::string name;
  int64_t numOps = 0;
  OpCost cost;
  double seconds = 0, joules = 0;
};

/// Per-token economics of a step.
struct TokenFigures {
  double seconds = 0, tokensPerSecond = 0, joules = 0;
  double gramsCO2Per1kTokens = 0, usdPer1MTokens = 0;
};

struct StepEstimate {
  StepQuery query;
  std::vector<OpEstimate> ops;
  /// In program order.
  std::vector<GroupEstimate> groups;
  OpCost total;
  double seconds = 0, joules = 0;
  /// Ops whose memory time exceeds their compute time.
  int64_t numMemoryBound = 0;

  TokenFigures perToken(const TargetDescription &target) const;
};

/// Predicts one step of `func`: every CostOpInterface op in its body that
/// does work (weights are costed by their users, views move nothing).
StepEstimate estimateStep(func::FuncOp func, const TargetDescription &target,
                          const StepQuery &query);

/// Static memory of a model function.
struct MemoryEstimate {
  /// Logical weight elements (each named weight once).
  int64_t parameters = 0;
  /// Stored weight bytes (quantized weights packed; a tied table kept in
  /// f32 and quantized counts both copies) and the same weights in f32.
  int64_t weightBytes = 0, f32WeightBytes = 0;
  /// KV-cache capacity and bytes per cached token (all layers).
  int64_t kvCacheBytes = 0, kvBytesPerToken = 0;
  /// Peak bytes of live activations over the function at `query` (values
  /// freed after their last use), a bound for an arena planner.
  int64_t activationBytes = 0;
  /// The activation arena llm-plan-memory sized (0 when unplanned).
  int64_t arenaBytes = 0;

  /// Weights + KV cache + activations (the arena when planned).
  int64_t getPeakBytes() const {
    return weightBytes + kvCacheBytes +
           (arenaBytes ? arenaBytes : activationBytes);
  }
  double getCompressionRatio() const {
    return weightBytes ? double(f32WeightBytes) / double(weightBytes) : 0.0;
  }
};

MemoryEstimate estimateMemory(func::FuncOp func, const StepQuery &query);

/// JSON forms (schema in docs/CostModel.md).
llvm::json::Value toJSON(const StepEstimate &step,
                         const TargetDescription &target, bool perOp);
llvm::json::Value toJSON(const MemoryEstimate &memory);

} // namespace cost
} // namespace llm
} // namespace mlir

#endif // FRUGAL_PASSES_COSTMODEL_COSTMODEL_H
