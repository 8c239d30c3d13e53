//===- Quantize.cpp - Choose group-wise integer storage for weights --------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/LLM/IR/LLMQuant.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/Support/GlobPattern.h"

namespace mlir {
namespace llm {
#define GEN_PASS_DEF_LLMQUANTIZE
#include "passes/Passes.h.inc"
} // namespace llm
} // namespace mlir

using namespace mlir;
using namespace mlir::llm;

namespace {

bool matchesAny(ArrayRef<llvm::GlobPattern> patterns, StringRef name) {
  return llvm::any_of(patterns,
                      [&](const llvm::GlobPattern &p) { return p.match(name); });
}

/// The weight whose output channels are the channels of `input`, scaled
/// one for one: the elementwise weight of an RMSNorm, or the [N, K] weight
/// of a matmul feeding one side of an elementwise product (SwiGLU's up
/// projection). Null when there is none or it has other users.
WeightOp equalizationProducer(Value input) {
  Operation *def = input.getDefiningOp();
  if (auto norm = dyn_cast_or_null<RMSNormOp>(def)) {
    auto weight = norm.getWeight().getDefiningOp<WeightOp>();
    if (weight && !weight.getQuant() &&
        weight.getResult().getType().getRank() == 1 &&
        weight.getResult().hasOneUse())
      return weight;
    return {};
  }
  if (auto mul = dyn_cast_or_null<MulOp>(def)) {
    for (Value side : {mul.getRhs(), mul.getLhs()}) {
      auto matmul = side.getDefiningOp<MatmulOp>();
      if (!matmul || !matmul.getTransposeB() || !side.hasOneUse() ||
          side.getType() != input.getType())
        continue;
      auto weight = matmul.getRhs().getDefiningOp<WeightOp>();
      if (weight && weight.getResult().getType().getRank() == 2 &&
          weight.getResult().hasOneUse() && !weight.getTransposed())
        return weight;
    }
  }
  return {};
}

/// Marks each input read only by quantized transposed matmuls, and whose
/// producer can absorb per-channel scales, for equalization.
void markEqualization(Operation *root) {
  SmallVector<Value> inputs;
  llvm::SmallPtrSet<Value, 16> seen;
  root->walk([&](MatmulOp matmul) {
    if (seen.insert(matmul.getLhs()).second)
      inputs.push_back(matmul.getLhs());
  });
  for (Value input : inputs) {
    SmallVector<WeightOp> consumers;
    bool allQuantized = true;
    for (Operation *user : input.getUsers()) {
      auto matmul = dyn_cast<MatmulOp>(user);
      WeightOp weight =
          matmul ? matmul.getRhs().getDefiningOp<WeightOp>() : WeightOp();
      if (!matmul || matmul.getLhs() != input || !matmul.getTransposeB() || !weight || !weight.getQuant() ||
          !weight.getResult().hasOneUse()) {
        allQuantized = false;
        break;
      }
      consumers.push_back(weight);
    }
    if (!allQuantized || consumers.empty())
      continue;
    WeightOp producer = equalizationProducer(input);
    if (!producer || producer->hasAttr(kEqualizedOutputAttr))
      continue;
    producer->setAttr(kEqualizedOutputAttr, UnitAttr::get(root->getContext()));
    for (WeightOp consumer : consumers)
      consumer->setAttr(kEqualizeAttr, producer.getNameAttr());
  }
}

struct LLMQuantizePass : public llm::impl::LLMQuantizeBase<LLMQuantizePass> {
  using Base::Base;

  void runOnOperation() override {
    if (bits != 4 && bits != 8) {
      getOperation()->emitError("llm-quantize: bits must be 4 or 8, got ")
          << static_cast<unsigned>(bits);
      return signalPassFailure();
    }
    if (group != 0 && (group < 8 || !llvm::isPowerOf2_32(group))) {
      getOperation()->emitError("llm-quantize: group must be 0 or a power of "
                                "two >= 8, got ")
          << static_cast<unsigned>(group);
      return signalPassFailure();
    }
    std::optional<QuantScheme> parsedScheme = symbolizeQuantScheme(scheme);
    if (!parsedScheme) {
      getOperation()->emitError("llm-quantize: unsupported scheme '")
          << scheme << "' (expected symmetric or asymmetric)";
      return signalPassFailure();
    }
    if (!isQuantMethod(method)) {
      getOperation()->emitError("llm-quantize: unsupported method '")
          << method << "' (expected rtn or gptq)";
      return signalPassFailure();
    }
    SmallVector<llvm::GlobPattern> keepPatterns, int8Patterns, rtnPatterns;
    for (auto [list, out] : {std::pair(&keep, &keepPatterns),
                             std::pair(&int8, &int8Patterns),
                             std::pair(&rtn, &rtnPatterns)})
      for (const std::string &text : *list) {
        auto pattern = llvm::GlobPattern::create(text);
        if (!pattern) {
          getOperation()->emitError("llm-quantize: bad pattern '")
              << text << "': " << llvm::toString(pattern.takeError());
          return signalPassFailure();
        }
        out->push_back(std::move(*pattern));
      }

    SmallVector<WeightOp> weights;
    getOperation()->walk([&](WeightOp op) { weights.push_back(op); });
    MLIRContext *ctx = &getContext();
    for (WeightOp weight : weights) {
      auto type = weight.getResult().getType();
      StringRef name = weight.getName();
      if (weight.getQuant() || type.getRank() != 2 ||
          matchesAny(keepPatterns, name))
        continue;
      SmallVector<OpOperand *> uses = getPackedReaders(weight, embeddings);
      if (uses.empty())
        continue;
      bool readByMatmul = isa<MatmulOp>(uses.front()->getOwner());
      unsigned b = matchesAny(int8Patterns, name) ? 8u : static_cast<unsigned>(bits);
      int64_t k = type.getDimSize(1);
      // A group that does not divide the rows falls back to the largest
      // smaller power of two that does (SmolLM2's 576 = 9 x 64 under a
      // requested 128), as ggml falls back to other block types.
      unsigned weightGroup = static_cast<unsigned>(group);
      while (weightGroup > 16 && k % weightGroup != 0)
        weightGroup /= 2;
      if (weightGroup != 0 && k % weightGroup != 0) {
        weight.emitRemark() << "llm-quantize: left '" << name
                            << "' in f32: no group of at least 16 divides its "
                               "rows of "
                            << k;
        continue;
      }
      if (weightGroup != static_cast<unsigned>(group))
        weight.emitRemark() << "llm-quantize: '" << name << "' uses group "
                            << weightGroup << ": group "
                            << static_cast<unsigned>(group)
                            << " does not divide its rows of " << k;
      auto quant = QuantAttr::get(ctx, b, weightGroup, *parsedScheme);
      // Activation-aware methods need a matmul's input statistics; a table
      // that is only looked up is rounded to nearest.
      StringAttr weightMethod;
      if (method != "rtn" && readByMatmul && !matchesAny(rtnPatterns, name))
        weightMethod = StringAttr::get(ctx, method);
      bool shared = uses.size() != static_cast<size_t>(std::distance(
                                       weight.getResult().use_begin(),
                                       weight.getResult().use_end()));
      WeightOp quantized = weight;
      if (!shared) {
        weight.setQuantAttr(quant);
      } else {
        // A tied embedding whose lookups stay f32 (no `embeddings`): the
        // lookups keep reading f32 rows, the matmuls read a quantized copy.
        OpBuilder builder(weight);
        auto copy = WeightOp::create(builder, weight.getLoc(), type,
                                     weight.getNameAttr(), quant, IntegerAttr(),
                                     weight.getTransposedAttr());
        for (OpOperand *use : uses)
          use->set(copy);
        quantized = copy;
      }
      if (weightMethod)
        quantized->setAttr(kQuantMethodAttr, weightMethod);
      ++numQuantized;
    }
    if (equalize)
      markEqualization(getOperation());
  }
};

} // namespace
