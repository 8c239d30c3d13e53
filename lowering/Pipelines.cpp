//===- Pipelines.cpp - llm -> LLVM pipelines -------------------------------===//
//
// Part of Frugal. Shared by llm-opt (as `llm-to-llvm-cpu`) and llm-compile.
//
//===----------------------------------------------------------------------===//

#include "lowering/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

void mlir::llm::buildLLMToLLVMCPUPipeline(OpPassManager &pm,
                                          const CPUPipelineOptions &options) {
  ConvertLLMToKernelsOptions kernelOptions;
  kernelOptions.vectorWidth = options.vectorWidth;
  kernelOptions.quantKernel = options.quantKernel;
  // The VNNI kernel calls vpdpbusd: hosts without AVX-512 VNNI keep the f32
  // one.
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (kernelOptions.quantKernel == "vnni" && !features.lookup("avx512vnni"))
    kernelOptions.quantKernel = "fma";
  kernelOptions.gfni = options.gfni && features.lookup("gfni");
  pm.addPass(createConvertLLMToKernels(kernelOptions));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (options.openmp) {
    pm.addPass(createLLMParallelToOpenMP());
    pm.addPass(createConvertSCFToOpenMPPass());
    pm.addPass(createCanonicalizerPass());
  }
  pm.addPass(createLLMApproximateMath());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  if (options.openmp)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

namespace {
struct CPUPipelineCLOptions
    : public PassPipelineOptions<CPUPipelineCLOptions> {
  Option<int64_t> vectorWidth{*this, "vector-width",
                              llvm::cl::desc("f32 lanes per vector"),
                              llvm::cl::init(16)};
  Option<std::string> quantKernel{
      *this, "quant-kernel",
      llvm::cl::desc("Kernel of 8- and 4-bit quantized matmuls (every row count) "
                     "(vnni or fma)"),
      llvm::cl::init("vnni")};
  Option<bool> openmp{*this, "openmp",
                      llvm::cl::desc("Lower parallel loops to OpenMP"),
                      llvm::cl::init(true)};
};
} // namespace

void mlir::llm::registerLLMLoweringPipelines() {
  PassPipelineRegistration<CPUPipelineCLOptions>(
      "llm-to-llvm-cpu",
      "Lower llm IR with packed weight offsets to the LLVM dialect for the "
      "host CPU",
      [](OpPassManager &pm, const CPUPipelineCLOptions &cl) {
        llm::CPUPipelineOptions options;
        options.vectorWidth = cl.vectorWidth;
        options.openmp = cl.openmp;
        options.quantKernel = cl.quantKernel;
        llm::buildLLMToLLVMCPUPipeline(pm, options);
      });
}
