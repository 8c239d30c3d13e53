//===- PlanKVCache.cpp - Choose the KV cache's dtype and layout ------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/MathExtras.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMPLANKVCACHE
#include "passes/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;

namespace {

/// The block whose keys of one head fill a 4 KiB page, clamped to
/// [16, 256] positions and to the cache capacity.
int64_t chooseBlockSize(int64_t headDim, int64_t elementBytes, int64_t maxSeq) {
  constexpr int64_t kPageBytes = 4096;
  int64_t block = llvm::PowerOf2Ceil(
      llvm::divideCeil(kPageBytes, headDim * elementBytes));
  block = std::clamp<int64_t>(block, 16, 256);
  while (block > 1 && block > maxSeq)
    block /= 2;
  return block;
}

struct LLMPlanKVCachePass
    : public llm::impl::LLMPlanKVCacheBase<LLMPlanKVCachePass> {
  using Base::Base;

  /// The planned version of `type`, or a null type after an error.
  KVCacheType plan(KVCacheType type, int64_t window, Operation *anchor) {
    MLIRContext *ctx = type.getContext();
    Type element = type.getElementType();
    if (kvDtype == "f32")
      element = Float32Type::get(ctx);
    else if (kvDtype == "f16")
      element = Float16Type::get(ctx);
    else if (kvDtype == "int8")
      element = IntegerType::get(ctx, 8);
    else if (!kvDtype.empty()) {
      anchor->emitError("kv-dtype must be f32, f16 or int8, got '")
          << kvDtype << "'";
      return {};
    }
    if (element.isBF16()) {
      anchor->emitError("a bf16 KV cache has no CPU lowering; plan f32, f16 "
                        "or int8");
      return {};
    }
    if (layout != "auto" && layout != "contiguous" && layout != "paged") {
      anchor->emitError("KV layout must be auto, contiguous or paged, got '")
          << layout << "'";
      return {};
    }
    if (maxBatch <= 0) {
      anchor->emitError("max-batch must be positive, got ")
          << static_cast<int64_t>(maxBatch);
      return {};
    }
    if (blockSize < 0 || (blockSize > 0 && !llvm::isPowerOf2_64(blockSize))) {
      anchor->emitError("block-size must be 0 or a power of two, got ")
          << static_cast<int64_t>(blockSize);
      return {};
    }

    int64_t maxSeq = type.getMaxSeq();
    KVLayoutKind kind = KVLayoutKind::contiguous;
    int64_t block = 0, ringWindow = 0;
    if (window > 0 && window < maxSeq) {
      // Attention must see only the window, whatever layout was asked for.
      kind = KVLayoutKind::ring;
      ringWindow = window;
    } else if (layout == "paged" || (layout == "auto" && maxBatch > 1)) {
      kind = KVLayoutKind::paged;
      int64_t elementBytes = element.getIntOrFloatBitWidth() / 8;
      block = blockSize > 0
                  ? blockSize
                  : chooseBlockSize(type.getHeadDim(), elementBytes, maxSeq);
      if (block > maxSeq) {
        anchor->emitError("block-size ")
            << block << " exceeds the KV capacity of " << maxSeq
            << " positions";
        return {};
      }
    }
    auto attr = KVLayoutAttr::get(ctx, kind, maxBatch, block, ringWindow);
    return KVCacheType::get(ctx, type.getNumLayers(), type.getNumHeads(),
                            maxSeq, type.getHeadDim(), element, attr);
  }

  static DictionaryAttr describe(KVCacheType type) {
    Builder b(type.getContext());
    KVLayoutAttr l = type.getLayout();
    Type element = type.getElementType();
    std::string dtype = element.isInteger(8) ? "int8"
                        : element.isF16()    ? "f16"
                                             : "f32";
    auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
    NamedAttribute entries[] = {
        b.getNamedAttr("layout", b.getStringAttr(stringifyKVLayoutKind(l.getKind()))),
        b.getNamedAttr("dtype", b.getStringAttr(dtype)),
        b.getNamedAttr("max_batch", i64(l.getMaxBatch())),
        b.getNamedAttr("block_size", i64(l.getBlockSize())),
        b.getNamedAttr("window", i64(l.getWindow())),
        b.getNamedAttr("bytes_per_token",
                       i64(type.getNumLayers() * type.getBytesPerTokenPerLayer())),
        b.getNamedAttr("total_bytes", i64(type.getStorageBytes())),
    };
    return b.getDictionaryAttr(entries);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t window = slidingWindow;
    if (window < 0) {
      module.emitError("sliding-window must not be negative, got ") << window;
      return signalPassFailure();
    }
    if (window == 0)
      if (auto attr = module->getAttrOfType<IntegerAttr>("llm.sliding_window"))
        window = attr.getInt();

    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      FunctionType fnType = func.getFunctionType();
      if (llvm::any_of(fnType.getResults(), llvm::IsaPred<KVCacheType>)) {
        func.emitError("a function returning a KV cache cannot be planned");
        return signalPassFailure();
      }
      SmallVector<Type> inputs(fnType.getInputs());
      KVCacheType planned;
      for (auto [i, input] : llvm::enumerate(inputs)) {
        auto cache = dyn_cast<KVCacheType>(input);
        if (!cache)
          continue;
        planned = plan(cache, window, func);
        if (!planned)
          return signalPassFailure();
        inputs[i] = planned;
        func.getArgument(i).setType(planned);
      }
      if (!planned)
        continue;
      func.setFunctionType(
          FunctionType::get(&getContext(), inputs, fnType.getResults()));
      func->setAttr("llm.kv_plan", describe(planned));
    }
    // Caches only flow from function arguments into attention ops.
    WalkResult walk = module.walk([](Operation *op) {
      for (Type t : op->getResultTypes())
        if (isa<KVCacheType>(t)) {
          op->emitError("KV cache values must be function arguments to be "
                        "planned");
          return WalkResult::interrupt();
        }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
