//===- ParallelToOpenMP.cpp - The llm-parallel-to-openmp pass --------------===//
//
// Part of Frugal.
//
// Lowers each outermost one-dimensional scf.parallel without reductions to
// an omp.parallel region in which every thread runs its own contiguous
// share of the iterations (thread t of T: iterations [N t / T, N (t + 1) /
// T)) as an scf.for. convert-scf-to-openmp makes an omp.wsloop instead,
// whose static schedule calls __kmpc_for_static_init in every thread of
// every region; the split here costs two libomp queries. The body's
// statically shaped allocas move to the region's entry: one buffer per
// thread, allocated once and reused by its iterations (an alloca's
// contents are undefined at each allocation anyway). Other loops are left
// to convert-scf-to-openmp.
//
//===----------------------------------------------------------------------===//

#include "lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMPARALLELTOOPENMP
#include "lowering/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;

namespace {

/// Declares `int32_t name(void)` in `module` if it is not there.
func::FuncOp declareQuery(ModuleOp module, StringRef name) {
  if (auto f = module.lookupSymbol<func::FuncOp>(name))
    return f;
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto f = func::FuncOp::create(
      b, module.getLoc(), name,
      b.getFunctionType({}, {b.getI32Type()}));
  f.setPrivate();
  return f;
}

void lower(scf::ParallelOp loop, func::FuncOp threadNum,
           func::FuncOp numThreads) {
  Location loc = loop.getLoc();
  OpBuilder b(loop);
  auto region = omp::ParallelOp::create(b, loc);
  Block *entry = b.createBlock(&region.getRegion());
  auto index = [&](func::FuncOp query) -> Value {
    Value v = func::CallOp::create(b, loc, query).getResult(0);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  };
  Value t = index(threadNum), threads = index(numThreads);
  Value lb = loop.getLowerBound()[0], ub = loop.getUpperBound()[0],
        step = loop.getStep()[0];
  // N = ceil((ub - lb) / step) iterations, none when ub <= lb.
  Value span = arith::SubIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, ub, lb), lb);
  Value n = arith::CeilDivUIOp::create(b, loc, span, step);
  auto boundary = [&](Value k) -> Value {
    Value i = arith::DivUIOp::create(
        b, loc, arith::MulIOp::create(b, loc, n, k), threads);
    return arith::AddIOp::create(b, loc, lb,
                                 arith::MulIOp::create(b, loc, i, step));
  };
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value lo = boundary(t);
  Value hi = boundary(arith::AddIOp::create(b, loc, t, one));
  auto share = scf::ForOp::create(b, loc, lo, hi, step);
  omp::TerminatorOp::create(b, loc);

  // The body becomes the scf.for's: its induction variable replaces the
  // parallel one, scf.reduce (no reductions) ends it as scf.yield does.
  Block *body = loop.getBody();
  Block *forBody = share.getBody();
  forBody->getTerminator()->erase();
  body->getArgument(0).replaceAllUsesWith(share.getInductionVar());
  forBody->getOperations().splice(forBody->end(), body->getOperations());
  Operation *reduce = forBody->getTerminator();
  OpBuilder atReduce(reduce);
  scf::YieldOp::create(atReduce, reduce->getLoc());
  reduce->erase();
  for (auto alloca :
       llvm::make_early_inc_range(forBody->getOps<memref::AllocaOp>()))
    if (alloca->getNumOperands() == 0)
      alloca->moveBefore(entry, entry->begin());
  loop.erase();
}

struct LLMParallelToOpenMPPass
    : public llm::impl::LLMParallelToOpenMPBase<LLMParallelToOpenMPPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<scf::ParallelOp> loops;
    module.walk([&](scf::ParallelOp loop) {
      if (loop.getNumLoops() == 1 && loop.getNumReductions() == 0 &&
          !loop->getParentOfType<scf::ParallelOp>() &&
          !loop->getParentOfType<omp::ParallelOp>())
        loops.push_back(loop);
    });
    if (loops.empty())
      return;
    func::FuncOp threadNum = declareQuery(module, "omp_get_thread_num");
    func::FuncOp numThreads = declareQuery(module, "omp_get_num_threads");
    for (scf::ParallelOp loop : loops)
      lower(loop, threadNum, numThreads);
  }
};

} // namespace
