//===- HoistParallelAllocas.cpp - The llm-hoist-parallel-allocas pass ------===//
//
// Part of Frugal.
//
// convert-scf-to-openmp wraps the body of every parallel loop in a
// memref.alloca_scope, so that a stack buffer allocated in the body is
// freed after each iteration. The canonicalizer inlines the scopes that
// allocate nothing; one that does stays, and a single-block scope cannot
// hold the control flow its loops become. This pass moves the body's
// statically shaped allocas to the entry of the enclosing omp.parallel
// region, which every thread runs once: each thread gets its own buffer,
// allocated once per parallel region and reused by the iterations it runs.
// An alloca's contents are undefined at every allocation, so a body that
// writes its scratch before reading it (as the kernels do) sees no
// difference; and the now empty scopes fold away.
//
//===----------------------------------------------------------------------===//

#include "lowering/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMHOISTPARALLELALLOCAS
#include "lowering/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;

namespace {
struct LLMHoistParallelAllocasPass
    : public llm::impl::LLMHoistParallelAllocasBase<
          LLMHoistParallelAllocasPass> {
  void runOnOperation() override {
    getOperation()->walk([](memref::AllocaScopeOp scope) {
      if (!isa<omp::LoopNestOp>(scope->getParentOp()))
        return;
      auto parallel = scope->getParentOfType<omp::ParallelOp>();
      if (!parallel)
        return;
      Block &entry = parallel.getRegion().front();
      for (auto alloca : llvm::make_early_inc_range(
               scope.getBodyRegion().front().getOps<memref::AllocaOp>()))
        if (alloca->getNumOperands() == 0)
          alloca->moveBefore(&entry, entry.begin());
    });
  }
};
} // namespace
