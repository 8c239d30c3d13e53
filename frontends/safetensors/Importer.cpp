//===- Importer.cpp - safetensors checkpoint to llm IR --------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/Importer.h"

#include "frontends/safetensors/ImportBuilder.h"

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace frugal::safetensors {

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Records the configuration the rest of the compiler and the runtime need.
static void setModuleAttrs(ModuleOp module, const ModelConfig &cfg,
                           int64_t maxContext) {
  Builder b(module.getContext());
  auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  module->setAttr("llm.arch", b.getStringAttr(cfg.modelType));
  module->setAttr("llm.vocab_size", i64(cfg.vocabSize));
  module->setAttr("llm.hidden_size", i64(cfg.hiddenSize));
  module->setAttr("llm.intermediate_size", i64(cfg.intermediateSize));
  module->setAttr("llm.num_layers", i64(cfg.numLayers));
  module->setAttr("llm.num_heads", i64(cfg.numHeads));
  module->setAttr("llm.num_kv_heads", i64(cfg.numKVHeads));
  module->setAttr("llm.head_dim", i64(cfg.headDim));
  module->setAttr("llm.max_context", i64(maxContext));
  module->setAttr("llm.max_position_embeddings", i64(cfg.maxPositions));
  module->setAttr("llm.tie_word_embeddings",
                  b.getBoolAttr(cfg.tieWordEmbeddings));
  if (cfg.bosTokenId >= 0)
    module->setAttr("llm.bos_token_id", i64(cfg.bosTokenId));
  module->setAttr("llm.eos_token_ids", b.getI64ArrayAttr(cfg.eosTokenIds));
  // llm-plan-kv-cache turns a window shorter than the cache into a ring
  // buffer whose attention sees only the last `window` positions.
  if (cfg.slidingWindow)
    module->setAttr("llm.sliding_window", i64(*cfg.slidingWindow));
}

llvm::Expected<OwningOpRef<ModuleOp>>
importModel(MLIRContext &context, const frugal::TensorSource &checkpoint,
            const ModelConfig &config, const ImportOptions &options) {
  context.loadDialect<func::FuncDialect, llm::LLMDialect>();

  int64_t maxContext = options.maxContext;
  if (maxContext < 0)
    return makeError(
        llvm::formatv("max context {0} must be positive", maxContext));
  if (maxContext == 0)
    maxContext = std::min<int64_t>(config.maxPositions, 2048);
  if (maxContext > config.maxPositions)
    return makeError(llvm::formatv(
        "max context {0} exceeds the model's max_position_embeddings ({1})",
        maxContext, config.maxPositions));

  Location loc = FileLineColLoc::get(&context, checkpoint.sourcePath(), 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  setModuleAttrs(*module, config, maxContext);

  OpBuilder b(&context);
  b.setInsertionPointToEnd(module->getBody());
  Type f32 = b.getF32Type();
  auto tokensType =
      RankedTensorType::get({1, ShapedType::kDynamic}, b.getI64Type());
  auto cacheType =
      llm::KVCacheType::get(&context, config.numLayers, config.numKVHeads,
                            maxContext, config.headDim, f32);
  auto logitsType = RankedTensorType::get({1, 1, config.vocabSize}, f32);
  auto funcType = b.getFunctionType({tokensType, b.getIndexType(), cacheType},
                                    {logitsType});
  auto func = func::FuncOp::create(b, loc, "forward", funcType);
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);

  ForwardArgs args;
  args.tokens = entry->getArgument(0);
  args.start = entry->getArgument(1);
  args.kvCache = entry->getArgument(2);
  args.positions =
      llm::PositionIdsOp::create(b, loc, tokensType, args.tokens, args.start);

  ImportBuilder ib(b, loc, checkpoint, config);
  Value logits = config.family == ModelFamily::GPT2
                     ? emitGPT2Forward(ib, args)
                     : emitLlamaForward(ib, args);
  func::ReturnOp::create(b, loc, logits);
  if (!ib.errors().empty())
    return makeError(llvm::join(ib.errors(), "\n"));

  std::string diagnostics;
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      diagnostics += diag.str() + "\n";
      return success();
    });
    if (failed(verify(*module)))
      return makeError("internal error: the imported module does not "
                       "verify:\n" +
                       diagnostics);
  }
  return std::move(module);
}

llvm::Expected<OwningOpRef<ModuleOp>>
importModelFromPath(MLIRContext &context, llvm::StringRef path,
                    const ImportOptions &options) {
  llvm::Expected<std::unique_ptr<Checkpoint>> checkpoint =
      Checkpoint::open(path);
  if (!checkpoint)
    return checkpoint.takeError();
  llvm::Expected<ModelConfig> config =
      loadModelConfig((*checkpoint)->directory());
  if (!config)
    return config.takeError();
  return importModel(context, **checkpoint, *config, options);
}

} // namespace frugal::safetensors
