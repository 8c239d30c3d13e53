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
  // RoPE first: it leaves the heads split that llm-fuse-attention matches.
  pm.addPass(createLLMFuseRoPE());
  pm.addPass(createLLMFuseAttention());
  pm.addPass(createLLMFuseRMSNorm());
  pm.addPass(createLLMFuseSwiGLU());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (options.transposeWeights)
    pm.addPass(createLLMTransposeWeights());
  if (options.quantBits != 0) {
    LLMQuantizeOptions quantize;
    quantize.bits = options.quantBits;
    quantize.group = options.quantGroup;
    quantize.scheme = options.quantScheme;
    quantize.keep.assign(options.quantKeep.begin(), options.quantKeep.end());
    quantize.int8.assign(options.quantInt8.begin(), options.quantInt8.end());
    quantize.method = options.quantMethod;
    quantize.rtn.assign(options.quantRTN.begin(), options.quantRTN.end());
    quantize.equalize = options.quantEqualize;
    quantize.embeddings = options.quantEmbeddings;
    pm.addPass(createLLMQuantize(quantize));
  }
  LLMPlanKVCacheOptions kv;
  kv.kvDtype = options.kvDtype;
  kv.layout = options.kvLayout;
  kv.blockSize = options.kvBlockSize;
  kv.maxBatch = options.maxBatch;
  kv.target = options.costTarget;
  kv.targetParams.assign(options.costTargetParams.begin(),
                         options.costTargetParams.end());
  pm.addPass(createLLMPlanKVCache(kv));
  // Several sequences: a decode step that serves them all at once.
  if (options.maxBatch > 1)
    pm.addPass(createLLMBatchDecode());
  // Scoring text: every position's logits per call.
  if (options.scoreRows > 0) {
    LLMScorePositionsOptions score;
    score.maxRows = options.scoreRows;
    pm.addPass(createLLMScorePositions(score));
  }
  // Last: the plan sizes the buffers of the final ops.
  if (options.maxTokensPerCall > 0) {
    LLMPlanMemoryOptions memory;
    memory.maxTokens = options.maxTokensPerCall;
    pm.addNestedPass<func::FuncOp>(createLLMPlanMemory(memory));
  }
}

namespace {
struct OptimizationCLOptions
    : public PassPipelineOptions<OptimizationCLOptions> {
  Option<bool> transposeWeights{
      *this, "transpose-weights",
      llvm::cl::desc("Store [K, N] matmul weights as [N, K]"),
      llvm::cl::init(true)};
  Option<unsigned> quantBits{*this, "quantize-bits",
                             llvm::cl::desc("0 (f32), 4 or 8"),
                             llvm::cl::init(0)};
  Option<unsigned> quantGroup{*this, "quantize-group",
                              llvm::cl::desc("Elements per scale"),
                              llvm::cl::init(32)};
  Option<std::string> kvDtype{*this, "kv-dtype",
                              llvm::cl::desc("KV cache element type: f32, "
                                             "f16 or int8 (default: keep)"),
                              llvm::cl::init("")};
  Option<std::string> kvLayout{*this, "kv-layout",
                               llvm::cl::desc("auto, contiguous or paged"),
                               llvm::cl::init("auto")};
  Option<int64_t> maxBatch{*this, "max-batch",
                           llvm::cl::desc("Sequences the KV cache holds"),
                           llvm::cl::init(1)};
  Option<int64_t> maxTokensPerCall{
      *this, "max-tokens-per-call",
      llvm::cl::desc("llm-plan-memory's token bound (0: no memory plan)"),
      llvm::cl::init(512)};
};
} // namespace

void mlir::llm::registerLLMOptimizationPipelines() {
  PassPipelineRegistration<OptimizationCLOptions>(
      "llm-optimize",
      "Raise exported op-by-op patterns, choose weight and KV cache layouts",
      [](OpPassManager &pm, const OptimizationCLOptions &cl) {
        llm::LLMOptimizationOptions options;
        options.transposeWeights = cl.transposeWeights;
        options.quantBits = cl.quantBits;
        options.quantGroup = cl.quantGroup;
        options.kvDtype = cl.kvDtype;
        options.kvLayout = cl.kvLayout;
        options.maxBatch = cl.maxBatch;
        options.maxTokensPerCall = cl.maxTokensPerCall;
        llm::buildLLMOptimizationPipeline(pm, options);
      });
}
