//===- Pipelines.cpp - The llm-level optimization pipeline -----------------===//
//
// Part of Frugal. Shared by llm-opt (as `llm-optimize`) and llm-compile,
// which runs it between import and weight packing.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::llm::buildLLMOptimizationPipeline(
    OpPassManager &pm, const LLMOptimizationOptions &options) {
  pm.addPass(createLLMFuseAttention());
  pm.addPass(createLLMFuseRMSNorm());
  pm.addPass(createLLMFuseSwiGLU());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (options.transposeWeights)
    pm.addPass(createLLMTransposeWeights());
}

namespace {
struct OptimizationCLOptions
    : public PassPipelineOptions<OptimizationCLOptions> {
  Option<bool> transposeWeights{
      *this, "transpose-weights",
      llvm::cl::desc("Store [K, N] matmul weights as [N, K]"),
      llvm::cl::init(true)};
};
} // namespace

void mlir::llm::registerLLMOptimizationPipelines() {
  PassPipelineRegistration<OptimizationCLOptions>(
      "llm-optimize",
      "Raise exported op-by-op patterns and choose weight layouts",
      [](OpPassManager &pm, const OptimizationCLOptions &cl) {
        llm::LLMOptimizationOptions options;
        options.transposeWeights = cl.transposeWeights;
        llm::buildLLMOptimizationPipeline(pm, options);
      });
}
