//===- BatchDecode.cpp - A decode step of several sequences at once --------===//
//
// Part of Frugal. Derives `@<function>_batch` from a model's `@<function>`:
// one new token for each of a batch of sequences, each at its own position,
// so that every weight is read once per step for all of them.
//
//===----------------------------------------------------------------------===//

#include "passes/MemoryPlan.h"
#include "passes/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/SetVector.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMBATCHDECODE
#include "passes/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;

namespace {

/// The type of a token-dependent tensor of the single-sequence step
/// (`[1, seq, ...]`) in the batched step: the batch dimension becomes
/// dynamic (the rows of the step) and every dynamic extent, a token count,
/// becomes 1 (one token per row).
Type batchedType(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || tensor.getRank() < 2 || tensor.getDimSize(0) != 1)
    return type;
  SmallVector<int64_t> shape(tensor.getShape());
  shape[0] = ShapedType::kDynamic;
  for (int64_t &d : llvm::drop_begin(shape))
    if (ShapedType::isDynamic(d))
      d = 1;
  return tensor.clone(shape);
}

struct LLMBatchDecodePass
    : public llm::impl::LLMBatchDecodeBase<LLMBatchDecodePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto source = module.lookupSymbol<func::FuncOp>(function);
    if (!source) {
      module.emitError("llm-batch-decode: no function @") << function;
      return signalPassFailure();
    }
    std::string name = function + "_batch";
    if (auto old = module.lookupSymbol<func::FuncOp>(name))
      old.erase();
    if (failed(derive(module, source, name)))
      return signalPassFailure();
  }

  /// The KV cache of `func`'s signature (tokens, start, cache) and its
  /// sequence count, or failure with an error on `func`.
  static FailureOr<KVCacheType> checkSignature(func::FuncOp func) {
    FunctionType type = func.getFunctionType();
    auto fail = [&]() {
      func.emitError("llm-batch-decode: @")
          << func.getSymName()
          << " must take (tokens: tensor<1x?xi64>, start: index, "
             "!llm.kv_cache) and return tensor<1x1xVxf32> logits";
      return failure();
    };
    if (type.getNumInputs() != 3 || type.getNumResults() != 1 ||
        !func.getBody().hasOneBlock())
      return fail();
    auto tokens = dyn_cast<RankedTensorType>(type.getInput(0));
    auto cache = dyn_cast<KVCacheType>(type.getInput(2));
    auto logits = dyn_cast<RankedTensorType>(type.getResult(0));
    if (!tokens || tokens.getRank() != 2 || tokens.getDimSize(0) != 1 ||
        !type.getInput(1).isIndex() || !cache || !logits ||
        logits.getRank() != 3 || logits.getDimSize(0) != 1 ||
        logits.getDimSize(1) != 1)
      return fail();
    return cache;
  }

  LogicalResult derive(ModuleOp module, func::FuncOp source, StringRef name) {
    FailureOr<KVCacheType> cache = checkSignature(source);
    if (failed(cache))
      return failure();
    int64_t rows = maxRows;
    int64_t sequences =
        cache->getLayout() ? cache->getLayout().getMaxBatch() : 1;
    if (rows == 0)
      rows = sequences;
    if (rows < 1 || rows > sequences)
      return source.emitError("llm-batch-decode: max-rows ")
             << rows << " must be between 1 and the KV cache's " << sequences
             << " sequences (llm-plan-kv-cache max-batch)";

    OpBuilder b(module.getContext());
    b.setInsertionPointAfter(source);
    auto batched = cast<func::FuncOp>(b.clone(*source));
    batched.setSymName(name);
    Block &body = batched.getBody().front();
    MLIRContext *ctx = module.getContext();
    Location loc = batched.getLoc();

    // (tokens [rows, 1], positions [rows], cache): the start index becomes
    // a tensor of per-row positions.
    BlockArgument tokens = body.getArgument(0);
    BlockArgument start = body.getArgument(1);
    auto tokensType = cast<RankedTensorType>(tokens.getType());
    tokens.setType(RankedTensorType::get({ShapedType::kDynamic, 1},
                                         tokensType.getElementType()));
    auto positionsType = RankedTensorType::get({ShapedType::kDynamic},
                                               IntegerType::get(ctx, 64));
    BlockArgument positions = body.insertArgument(1u, positionsType, loc);
    for (OpOperand &use : llvm::make_early_inc_range(start.getUses())) {
      Operation *user = use.getOwner();
      if (!isa<PositionIdsOp, AttentionOp>(user))
        return user->emitError("llm-batch-decode: the start position feeds ")
               << user->getName()
               << ", which has no per-row form; only llm.position_ids and "
                  "llm.attention may use it";
      use.set(positions);
    }
    body.eraseArgument(2);

    // Every value computed from the tokens gets the batched shape.
    llvm::SetVector<Operation *> slice;
    ForwardSliceOptions options;
    getForwardSlice(Value(tokens), &slice, options);
    getForwardSlice(Value(positions), &slice, options);
    for (Operation *op : slice)
      for (Value result : op->getResults())
        result.setType(batchedType(result.getType()));

    auto ret = cast<func::ReturnOp>(body.getTerminator());
    batched.setType(FunctionType::get(ctx, body.getArgumentTypes(),
                                      ret.getOperandTypes()));
    batched->setAttr(kMaxRowsAttr, b.getI64IntegerAttr(rows));
    if (failed(mlir::verify(batched)))
      return batched.emitError("llm-batch-decode: the batched step of @")
             << source.getSymName() << " does not verify (see above)";
    return success();
  }
};

} // namespace
