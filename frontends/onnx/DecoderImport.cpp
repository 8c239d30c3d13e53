//===- DecoderImport.cpp - ONNX decoder graphs to @forward ----------------===//
//
// Part of Frugal. The body of importONNXDecoder (see Importer.h): picks
// the nodes the logits depend on, binds input_ids (and position_ids when
// the graph has it) to the arguments of @forward, imports those nodes with
// the shared op handlers (GroupQueryAttention reads the KV cache state
// kept here; GatherBlockQuantized, the tied embedding of int4 exports,
// reads the lm_head MatMulNBits initializer rather than its Reshape), slices the last position before the lm_head MatMul, and
// types the KV cache argument from what the attention nodes declared.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/GraphImporter.h"

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using llvm::Error;
using llvm::StringRef;

namespace frugal::onnx {

static bool isGQA(const ONNXNode &n) {
  return n.domain == "com.microsoft" && n.opType == "GroupQueryAttention";
}

// The table of a GatherBlockQuantized (a tied embedding) is read from the
// initializer behind it, not from the Reshape that views it as uint8.
static bool isGatherBQ(const ONNXNode &n) {
  return n.domain == "com.microsoft" && n.opType == "GatherBlockQuantized";
}

llvm::Expected<OwningOpRef<ModuleOp>> GraphImporter::runDecoder() {
  const ONNXDecoderOptions &opts = *options.decoder;
  const ONNXGraph &g = model.graph();
  if (Error err = checkOpset())
    return std::move(err);
  if (Error err = importInputs())
    return std::move(err);

  // The nodes the logits depend on. GroupQueryAttention depends on its
  // q/k/v and rotary tables only: the past KV is the cache, and seqlens_k /
  // total_sequence_length follow from %start and the token count.
  llvm::StringMap<size_t> producer;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const std::string &out : g.nodes[i].outputs)
      if (!out.empty())
        producer[out] = i;
  if (!producer.count(opts.logitsName))
    return fail("no node computes the logits output '" + opts.logitsName +
                "'");
  std::vector<bool> needed(g.nodes.size(), false);
  llvm::StringMap<int> consumers;
  llvm::SmallVector<size_t> work = {producer[opts.logitsName]};
  needed[work.front()] = true;
  while (!work.empty()) {
    const ONNXNode &n = g.nodes[work.pop_back_val()];
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      if (n.inputs[k].empty() || (isGQA(n) && k >= 3 && k <= 6) ||
          (isGatherBQ(n) && k == 0))
        continue;
      ++consumers[n.inputs[k]];
      auto it = producer.find(n.inputs[k]);
      if (it != producer.end() && !needed[it->second]) {
        needed[it->second] = true;
        work.push_back(it->second);
      }
    }
  }

  bool hasIds = false, hasPositions = false;
  for (const ONNXValueInfo &info : g.inputs) {
    hasIds |= info.name == opts.inputIdsName;
    hasPositions |= info.name == "position_ids";
  }
  if (!hasIds)
    return fail("the decoder graph has no input '" + opts.inputIdsName + "'");

  // @forward(tokens, start, kv). The cache type is a placeholder until the
  // attention nodes have declared its dimensions.
  Location fileLoc = FileLineColLoc::get(&ctx, model.path(), 0, 0);
  OwningOpRef<ModuleOp> module(ModuleOp::create(fileLoc));
  b.setInsertionPointToEnd(module->getBody());
  Type f32 = b.getF32Type();
  auto tokensType =
      RankedTensorType::get({1, ShapedType::kDynamic}, b.getI64Type());
  auto placeholder = llm::KVCacheType::get(&ctx, 1, 1, 1, 1, f32);
  auto func = func::FuncOp::create(
      b, fileLoc, "forward",
      b.getFunctionType({tokensType, b.getIndexType(), placeholder}, {}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  dec.emplace();
  dec->tokens = entry->getArgument(0);
  dec->start = entry->getArgument(1);
  dec->kvCache = entry->getArgument(2);
  dec->positions = llm::PositionIdsOp::create(b, fileLoc, tokensType,
                                              dec->tokens, dec->start);
  values[opts.inputIdsName] = Entry{dec->tokens, std::nullopt, nullptr};
  if (hasPositions)
    values["position_ids"] = Entry{dec->positions, std::nullopt, nullptr};

  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!needed[i])
      continue;
    const ONNXNode &n = g.nodes[i];
    // Only the last position's logits are needed: slice the hidden state
    // before the lm_head MatMul when nothing else reads it.
    bool isHead = llvm::is_contained(n.outputs, opts.logitsName) &&
                  n.opType == "MatMul" && n.domain.empty() &&
                  consumers[n.inputs[0]] == 1;
    if (isHead) {
      auto it = values.find(n.inputs[0]);
      if (it != values.end() && it->second.value) {
        auto type = cast<RankedTensorType>(it->second.value.getType());
        if (type.getRank() == 3) {
          auto sliced = type.clone({type.getDimSize(0), 1, type.getDimSize(2)});
          it->second.value = llm::SliceOp::create(
              b, fileLoc, sliced, it->second.value, b.getI64IntegerAttr(1),
              b.getI64IntegerAttr(-1));
        }
      }
    }
    if (Error err = importNode(i))
      return std::move(err);
  }

  curLoc = fileLoc;
  if (!dec->numLayers)
    return fail("the decoder graph has no com.microsoft GroupQueryAttention "
                "node");
  llvm::Expected<Value> logits = materialize(opts.logitsName, std::nullopt);
  if (!logits)
    return logits.takeError();
  auto type = cast<RankedTensorType>(logits->getType());
  if (type.getRank() != 3 || !type.getElementType().isF32())
    return fail("logits have type " + llvm::formatv("{0}", type).str() +
                ", expected [batch, seq, vocab] f32");
  if (type.getDimSize(1) != 1) {
    type = type.clone({1, 1, type.getDimSize(2)});
    *logits = llm::SliceOp::create(b, fileLoc, type, *logits,
                                   b.getI64IntegerAttr(1),
                                   b.getI64IntegerAttr(-1));
  }
  if (type.isDynamicDim(2))
    return fail("the vocabulary size of the logits is not static");
  func::ReturnOp::create(b, fileLoc, *logits);

  // The KV cache: one layer per attention node.
  int64_t maxContext = opts.maxContext;
  int64_t limit = dec->maxPositions ? dec->maxPositions : int64_t(1) << 20;
  if (maxContext < 0)
    return fail(llvm::formatv("max context {0} must be positive", maxContext));
  if (maxContext == 0)
    maxContext = std::min<int64_t>(limit, 2048);
  if (maxContext > limit)
    return fail(llvm::formatv("max context {0} exceeds the {1} positions of "
                              "the rotary tables",
                              maxContext, limit));
  auto cacheType = llm::KVCacheType::get(&ctx, dec->numLayers, dec->kvHeads,
                                         maxContext, dec->headDim, f32);
  dec->kvCache.setType(cacheType);
  func.setType(b.getFunctionType({tokensType, b.getIndexType(), cacheType},
                                 {type}));

  Builder mb(&ctx);
  (*module)->setAttr("llm.vocab_size", mb.getI64IntegerAttr(type.getDimSize(2)));
  (*module)->setAttr("llm.num_layers", mb.getI64IntegerAttr(dec->numLayers));
  (*module)->setAttr("llm.num_kv_heads", mb.getI64IntegerAttr(dec->kvHeads));
  (*module)->setAttr("llm.head_dim", mb.getI64IntegerAttr(dec->headDim));
  (*module)->setAttr("llm.max_context", mb.getI64IntegerAttr(maxContext));

  if (Error err = verifyModule(*module))
    return std::move(err);
  return std::move(module);
}

} // namespace frugal::onnx
