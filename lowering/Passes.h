//===- Passes.h - Frugal lowering passes and pipelines ----------*- C++ -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_LOWERING_PASSES_H
#define FRUGAL_LOWERING_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir {
namespace llm {

#define GEN_PASS_DECL
#include "lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lowering/Passes.h.inc"

/// Options of the CPU lowering pipeline.
struct CPUPipelineOptions {
  /// f32 lanes per vector register (16 for AVX-512, 8 for AVX2).
  int64_t vectorWidth = 16;
  /// Kernel of 8- and 4-bit quantized matmuls (every row count) (vnni or
  /// fma); vnni falls back to fma on hosts without AVX-512 VNNI.
  std::string quantKernel = "vnni";
  /// Unpack 4-bit codes with GFNI where the host has it.
  bool gfni = true;
  /// Lower scf.parallel loops to OpenMP.
  bool openmp = true;
};

/// llm (tensors, weights with offsets) -> LLVM dialect, for the host CPU.
void buildLLMToLLVMCPUPipeline(OpPassManager &pm,
                               const CPUPipelineOptions &options);

/// Registers `llm-to-llvm-cpu` with llm-opt.
void registerLLMLoweringPipelines();

} // namespace llm
} // namespace mlir

#endif // FRUGAL_LOWERING_PASSES_H
