//===- Passes.td - Frugal lowering passes --------------------*- tablegen -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_LOWERING_PASSES_TD
#define FRUGAL_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertLLMToKernels : Pass<"convert-llm-to-kernels", "::mlir::ModuleOp"> {
  let summary = "Lowers llm ops on tensors to calls of vectorized CPU kernels";
  let description = [{
    Converts every function using the llm dialect to memrefs: each llm op
    becomes a call to a kernel function (scf loops over vector ops on
    memrefs) that is generated once per distinct op signature and shared by
    every op with that signature, so code size does not grow with the number
    of layers. Results are allocated before the call and freed after their
    last use; a function's tensor results become trailing out-parameters
    written in place.

    `llm.weight` ops must carry their offset (`at`) in the packed weights
    file; functions using weights get a leading `memref<?xi8>` argument, the
    weights blob. `!llm.kv_cache<L x H x C x D, T>` becomes
    `memref<2xLxHxCxDxT>` (keys at index 0, values at 1).

    Output-channel loops of matmuls and the (head, query) loop of attention
    are `scf.parallel`, for `convert-scf-to-openmp`.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector register used by the kernels">,
    Option<"quantKernel", "quant-kernel", "std::string", /*default=*/"\"vnni\"",
           "Kernel of 8- and 4-bit quantized matmuls (every row count): vnni (int8 "
           "activations, AVX-512 VNNI dot products) or fma (codes converted "
           "to f32)">,
    Option<"gfni", "gfni", "bool", /*default=*/"false",
           "Unpack 4-bit codes in the VNNI kernel with one GF2P8AFFINEQB "
           "(GFNI) instead of a shift and a mask">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::func::FuncDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
}

def LLMParallelToOpenMP : Pass<"llm-parallel-to-openmp", "::mlir::ModuleOp"> {
  let summary = "Lowers parallel loops to OpenMP regions that split their iterations themselves";
  let description = [{
    Each outermost one-dimensional `scf.parallel` without reductions
    becomes an `omp.parallel` region in which thread t of T runs iterations
    [N t / T, N (t + 1) / T) as an `scf.for`, from `omp_get_thread_num` and
    `omp_get_num_threads`. `convert-scf-to-openmp` makes an `omp.wsloop`
    instead, whose static schedule calls `__kmpc_for_static_init` in every
    thread of every region. The body's statically shaped `memref.alloca`s
    move to the region's entry: one buffer per thread, reused by its
    iterations. Other loops are left to `convert-scf-to-openmp`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect", "::mlir::omp::OpenMPDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def LLMApproximateMath : Pass<"llm-approximate-math"> {
  let summary = "Replaces vector math functions with polynomial approximations";
  let description = [{
    Applies MLIR's polynomial approximations of `math.exp`, `math.tanh`,
    `math.erf` and friends, so that vectorized kernels stay vectorized
    instead of being scalarized into libm calls. Scalar `math.sin`/`math.cos`
    are left for libm.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect", "::mlir::x86vector::X86VectorDialect"
  ];
}

#endif // FRUGAL_LOWERING_PASSES_TD
