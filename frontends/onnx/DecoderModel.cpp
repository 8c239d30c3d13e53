//===- DecoderModel.cpp - an ONNX decoder ready for the compiler ----------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/DecoderModel.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using llvm::StringRef;

namespace frugal::onnx {

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Fills `cfg` from genai_config.json's "model" object.
static llvm::Error readGenAIConfig(StringRef path,
                                   safetensors::ModelConfig &cfg) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return makeError(path + ": cannot open: " + buffer.getError().message());
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return makeError(path + ": " + llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *model = root ? root->getObject("model") : nullptr;
  if (!model)
    return makeError(path + ": no \"model\" object");
  if (std::optional<StringRef> type = model->getString("type"))
    cfg.modelType = type->str();
  if (std::optional<int64_t> v = model->getInteger("vocab_size"))
    cfg.vocabSize = *v;
  if (std::optional<int64_t> v = model->getInteger("context_length"))
    cfg.maxPositions = *v;
  if (std::optional<int64_t> v = model->getInteger("bos_token_id"))
    cfg.bosTokenId = *v;
  if (const llvm::json::Value *eos = model->get("eos_token_id")) {
    if (std::optional<int64_t> v = eos->getAsInteger())
      cfg.eosTokenIds = {*v};
    else if (const llvm::json::Array *list = eos->getAsArray())
      for (const llvm::json::Value &e : *list)
        if (std::optional<int64_t> v = e.getAsInteger())
          cfg.eosTokenIds.push_back(*v);
  }
  if (const llvm::json::Object *dec = model->getObject("decoder")) {
    if (std::optional<int64_t> v = dec->getInteger("hidden_size"))
      cfg.hiddenSize = *v;
    if (std::optional<int64_t> v = dec->getInteger("num_attention_heads"))
      cfg.numHeads = *v;
  }
  return llvm::Error::success();
}

llvm::Expected<ONNXDecoderModel>
openONNXDecoderModel(MLIRContext &context, StringRef path,
                     int64_t maxContext) {
  ONNXDecoderModel m;
  llvm::Expected<std::unique_ptr<ONNXModel>> model = ONNXModel::open(path);
  if (!model)
    return model.takeError();
  m.source = std::move(*model);
  if (!isDecoderGraph(*m.source))
    return makeError(path + ": not a decoder graph (no com.microsoft "
                            "GroupQueryAttention node); export it with the "
                            "onnxruntime-genai model builder");
  ONNXDecoderOptions options;
  options.maxContext = maxContext;
  auto module = importONNXDecoder(context, *m.source, options);
  if (!module)
    return module.takeError();
  m.module = std::move(*module);

  // What the graph says, then what genai_config.json adds.
  safetensors::ModelConfig &cfg = m.config;
  cfg.modelType = "onnx";
  auto attr = [&](StringRef name) -> int64_t {
    auto a = m.module->getOperation()->getAttrOfType<IntegerAttr>(name);
    return a ? a.getInt() : 0;
  };
  cfg.vocabSize = attr("llm.vocab_size");
  cfg.numLayers = attr("llm.num_layers");
  cfg.numKVHeads = attr("llm.num_kv_heads");
  cfg.headDim = attr("llm.head_dim");
  cfg.maxPositions = attr("llm.max_context");
  StringRef dir = m.source->directory();
  llvm::SmallString<256> genai(dir);
  llvm::sys::path::append(genai, "genai_config.json");
  if (llvm::sys::fs::exists(genai))
    if (llvm::Error err = readGenAIConfig(genai, cfg))
      return std::move(err);

  llvm::SmallString<256> tokPath(dir);
  llvm::sys::path::append(tokPath, "tokenizer.json");
  if (llvm::sys::fs::exists(tokPath)) {
    auto tok = safetensors::importTokenizer(dir);
    if (!tok)
      return tok.takeError();
    m.tokenizer = std::move(*tok);
    // Newer exports keep the chat template in chat_template.jinja rather
    // than in tokenizer_config.json.
    llvm::SmallString<256> jinja(dir);
    llvm::sys::path::append(jinja, "chat_template.jinja");
    if (m.tokenizer->chatTemplate == "none")
      if (auto text = llvm::MemoryBuffer::getFile(jinja))
        if ((*text)->getBuffer().contains("<|im_start|>"))
          m.tokenizer->chatTemplate = "chatml";
  }
  return std::move(m);
}

} // namespace frugal::onnx
