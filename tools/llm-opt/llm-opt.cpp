//===- llm-opt.cpp - mlir-opt with the llm dialect and Frugal passes -------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "dialects/LLM/IR/LLMDialect.h"
#include "lowering/Passes.h"
#include "passes/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::llm::registerLLMPasses();
  mlir::llm::registerLLMOptimizationPipelines();
  mlir::llm::registerLLMLoweringPasses();
  mlir::llm::registerLLMLoweringPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::llm::LLMDialect>();

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Frugal optimizer driver\n", registry));
}
