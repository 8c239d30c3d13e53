//===- Passes.h - Frugal passes on the llm dialect --------------*- C++ -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_PASSES_PASSES_H
#define FRUGAL_PASSES_PASSES_H

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir {
namespace llm {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Options of the llm-level optimization pipeline.
struct LLMOptimizationOptions {
  /// Lay [K, N] matmul weights out as [N, K] (llm-transpose-weights).
  bool transposeWeights = true;
  /// llm-quantize: 0 keeps f32 weights, else 4 or 8 bits.
  unsigned quantBits = 0;
  unsigned quantGroup = 32;
  std::string quantScheme = "symmetric";
  std::vector<std::string> quantKeep, quantInt8;
  /// rtn or gptq; weights matching `quantRTN` are rounded to nearest.
  std::string quantMethod = "rtn";
  std::vector<std::string> quantRTN;
  /// Activation-aware per-channel scaling (AWQ) folded into producers;
  /// needs calibration like gptq.
  bool quantEqualize = false;
  /// Quantize embedding tables too; a tied one becomes one quantized table.
  bool quantEmbeddings = false;
  /// llm-plan-kv-cache: element type ("" keeps the imported one), layout
  /// (auto, contiguous, paged), paged block size (0: choose) and sequences.
  std::string kvDtype;
  std::string kvLayout = "auto";
  int64_t kvBlockSize = 0;
  int64_t maxBatch = 1;
  /// llm-score-positions: also derive `forward_all` (the logits of every
  /// position, for scoring text), taking at most this many tokens per call
  /// (0: not derived).
  int64_t scoreRows = 0;
  /// The cost-model target (and overrides) that chooses the paged block
  /// size: the target the build is for.
  std::string costTarget = "host-cpu";
  std::vector<std::string> costTargetParams;
  /// llm-plan-memory: place intermediates in one static arena sized for
  /// calls of at most `maxTokensPerCall` tokens (0: no plan).
  int64_t maxTokensPerCall = 512;
};

/// Raising passes, canonicalization and weight layout choices, run on
/// imported llm IR before the weights are packed.
void buildLLMOptimizationPipeline(OpPassManager &pm,
                                  const LLMOptimizationOptions &options);

/// Registers `llm-optimize` with llm-opt.
void registerLLMOptimizationPipelines();

/// Raising patterns; `counter` (optional) counts successful rewrites.
void populateFuseRMSNormPatterns(RewritePatternSet &patterns,
                                 int64_t *counter = nullptr);
void populateFuseSwiGLUPatterns(RewritePatternSet &patterns,
                                int64_t *counter = nullptr);
void populateFuseRoPEPatterns(RewritePatternSet &patterns,
                              int64_t *counter = nullptr);
void populateFuseAttentionPatterns(RewritePatternSet &patterns,
                                   int64_t *counter = nullptr);

/// Runs `patterns` greedily on `op`, counting rewrites into `count`, and
/// emits "<pass>: N fused" remarks per function when `report`.
LogicalResult applyRaisingPatterns(Operation *op, StringRef passName,
                                   llvm::function_ref<void(RewritePatternSet &,
                                                           int64_t *)>
                                       populate,
                                   bool report, int64_t &count);

} // namespace llm
} // namespace mlir

#endif // FRUGAL_PASSES_PASSES_H
