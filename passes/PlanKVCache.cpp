//===- PlanKVCache.cpp - Choose the KV cache's dtype and layout ------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/CostModel/KVBlockSize.h"
#include "passes/CostModel/Target.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMPLANKVCACHE
#include "passes/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;

namespace {

std::string percent(double fraction) {
  return llvm::formatv("{0:F1}%", 100.0 * fraction).str();
}

/// Explains a cost-model block choice: the chosen size, its figures and
/// every candidate's.
void remarkBlockChoice(Operation *anchor, const cost::KVBlockQuery &query,
                       const cost::KVBlockChoice &choice) {
  const cost::KVBlockCandidate &c = choice.getChosen();
  InFlightDiagnostic diag = anchor->emitRemark();
  diag << "paged KV block of " << c.blockSize << " positions (cost model, "
       << choice.target << "): "
       << llvm::formatv("{0:F1}", c.blockSize * query.getRowBytes() / 1024.0)
       << " KiB per head and block; decode attention at context "
       << query.maxSeq << " "
       << llvm::formatv("{0:F1} us vs {1:F1} us contiguous",
                        c.attentionSeconds * 1e6,
                        choice.contiguousSeconds * 1e6)
       << " (+" << percent(c.attentionOverhead) << ", "
       << llvm::formatv("{0:F2}", choice.blockStartSeconds * 1e9)
       << " ns per block at " << llvm::formatv("{0:F2}", choice.bandwidth / 1e9)
       << " GB/s), expected waste " << percent(c.memoryWaste) << " ("
       << llvm::formatv("{0:F0}", c.wastedBytes / 1024.0)
       << " KiB per sequence); candidates (block: attention + waste = "
          "cost): ";
  llvm::interleaveComma(
      choice.candidates, diag, [&](const cost::KVBlockCandidate &k) {
        diag << k.blockSize << ": +" << percent(k.attentionOverhead) << " + "
             << percent(k.memoryWaste) << " = " << percent(k.objective);
      });
}

struct LLMPlanKVCachePass
    : public llm::impl::LLMPlanKVCacheBase<LLMPlanKVCachePass> {
  using Base::Base;

  /// The target choosing block sizes, loaded on first use.
  std::optional<cost::TargetDescription> costTarget;

  /// The planned version of `type`, or a null type after an error. A paged
  /// plan appends how its block size was chosen to `planInfo`.
  KVCacheType plan(KVCacheType type, int64_t window, Operation *anchor,
                   SmallVectorImpl<NamedAttribute> &planInfo) {
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
      Builder b(ctx);
      if (blockSize > 0) {
        block = blockSize;
        planInfo.push_back(
            b.getNamedAttr("block_size_source", b.getStringAttr("option")));
      } else {
        if (!costTarget) {
          std::vector<std::string> overrides(targetParams.begin(),
                                             targetParams.end());
          llvm::Expected<cost::TargetDescription> loaded =
              cost::loadTarget(target, overrides);
          if (!loaded) {
            anchor->emitError("cannot choose the KV block size: ")
                << llvm::toString(loaded.takeError());
            return {};
          }
          costTarget = std::move(*loaded);
        }
        cost::KVBlockQuery query;
        query.numLayers = type.getNumLayers();
        query.numHeads = type.getNumHeads();
        query.headDim = type.getHeadDim();
        query.maxSeq = maxSeq;
        query.elementBytes = element.getIntOrFloatBitWidth() / 8;
        query.hasScales = element.isInteger(8);
        cost::KVBlockChoice choice =
            cost::chooseKVBlockSize(query, *costTarget);
        block = choice.getBlockSize();
        remarkBlockChoice(anchor, query, choice);
        const cost::KVBlockCandidate &c = choice.getChosen();
        planInfo.push_back(
            b.getNamedAttr("block_size_source", b.getStringAttr("cost-model")));
        planInfo.push_back(
            b.getNamedAttr("block_target", b.getStringAttr(choice.target)));
        // Fractions, to four decimals.
        auto fraction = [&](double v) {
          return b.getF64FloatAttr(std::round(v * 1e4) / 1e4);
        };
        planInfo.push_back(b.getNamedAttr("block_attention_overhead",
                                          fraction(c.attentionOverhead)));
        planInfo.push_back(
            b.getNamedAttr("block_memory_waste", fraction(c.memoryWaste)));
      }
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

  static DictionaryAttr describe(KVCacheType type,
                                 ArrayRef<NamedAttribute> planInfo) {
    Builder b(type.getContext());
    KVLayoutAttr l = type.getLayout();
    Type element = type.getElementType();
    std::string dtype = element.isInteger(8) ? "int8"
                        : element.isF16()    ? "f16"
                                             : "f32";
    auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
    SmallVector<NamedAttribute> entries = {
        b.getNamedAttr("layout", b.getStringAttr(stringifyKVLayoutKind(l.getKind()))),
        b.getNamedAttr("dtype", b.getStringAttr(dtype)),
        b.getNamedAttr("max_batch", i64(l.getMaxBatch())),
        b.getNamedAttr("block_size", i64(l.getBlockSize())),
        b.getNamedAttr("window", i64(l.getWindow())),
        b.getNamedAttr("bytes_per_token",
                       i64(type.getNumLayers() * type.getBytesPerTokenPerLayer())),
        b.getNamedAttr("total_bytes", i64(type.getStorageBytes())),
    };
    llvm::append_range(entries, planInfo);
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
      SmallVector<NamedAttribute> planInfo;
      for (auto [i, input] : llvm::enumerate(inputs)) {
        auto cache = dyn_cast<KVCacheType>(input);
        if (!cache)
          continue;
        planInfo.clear();
        planned = plan(cache, window, func, planInfo);
        if (!planned)
          return signalPassFailure();
        inputs[i] = planned;
        func.getArgument(i).setType(planned);
      }
      if (!planned)
        continue;
      func.setFunctionType(
          FunctionType::get(&getContext(), inputs, fnType.getResults()));
      func->setAttr("llm.kv_plan", describe(planned, planInfo));
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
