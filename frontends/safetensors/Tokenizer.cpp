//===- Tokenizer.cpp - Hugging Face byte-level BPE tokenizer --------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/Tokenizer.h"

#include "frontends/safetensors/BoundedJson.h"

#include "frontends/safetensors/ByteLevel.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using llvm::StringRef;
namespace json = llvm::json;

namespace frugal::safetensors {

namespace {
llvm::Error failAt(StringRef file, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 file + ": " + msg);
}

llvm::Expected<json::Value> readJson(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> text =
      llvm::MemoryBuffer::getFile(path);
  if (!text)
    return failAt(path, "cannot open: " + text.getError().message());
  llvm::Expected<json::Value> value = parseBoundedJson((*text)->getBuffer());
  if (!value)
    return failAt(path, "not valid JSON: " + llvm::toString(value.takeError()));
  return value;
}

/// "gpt2" or "smollm" for the supported pre-tokenizers, or an error that
/// names the one found.
llvm::Expected<std::string> classifyPreTokenizer(const json::Value *pre,
                                                 StringRef path) {
  const json::Object *obj = pre ? pre->getAsObject() : nullptr;
  std::optional<StringRef> type = obj ? obj->getString("type") : std::nullopt;
  std::string described = type ? type->str() : "null";
  if (type == "ByteLevel")
    return std::string("gpt2");
  if (type == "Sequence") {
    const json::Array *steps = obj->getArray("pretokenizers");
    std::vector<std::string> names;
    bool digits = false, byteLevel = false, other = false;
    for (const json::Value &step : steps ? *steps : json::Array()) {
      const json::Object *s = step.getAsObject();
      StringRef name = s ? s->getString("type").value_or("?") : "?";
      names.push_back(name.str());
      if (name == "ByteLevel" && !byteLevel)
        byteLevel = true;
      else if (name == "Digits" && !digits &&
               s->getBoolean("individual_digits").value_or(false))
        digits = true;
      else
        other = true;
    }
    if (byteLevel && !other)
      return std::string(digits ? "smollm" : "gpt2");
    described = "Sequence[" + llvm::join(names, ", ") + "]";
  }
  return failAt(path, "unsupported pre_tokenizer " + described +
                          " (supported: ByteLevel, or Sequence[Digits("
                          "individual_digits=true), ByteLevel])");
}

/// A merge as its two token texts: "a b" or ["a", "b"].
std::optional<std::pair<StringRef, StringRef>>
mergeParts(const json::Value &merge) {
  if (std::optional<StringRef> s = merge.getAsString()) {
    auto [left, right] = s->split(' ');
    if (left.empty() || right.empty() || right.contains(' '))
      return std::nullopt;
    return std::make_pair(left, right);
  }
  const json::Array *pair = merge.getAsArray();
  if (!pair || pair->size() != 2)
    return std::nullopt;
  std::optional<StringRef> left = (*pair)[0].getAsString();
  std::optional<StringRef> right = (*pair)[1].getAsString();
  if (!left || !right)
    return std::nullopt;
  return std::make_pair(*left, *right);
}
} // namespace

llvm::Expected<TokenizerData> importTokenizerJson(StringRef path) {
  llvm::Expected<json::Value> root = readJson(path);
  if (!root)
    return root.takeError();
  const json::Object *top = root->getAsObject();
  const json::Object *model = top ? top->getObject("model") : nullptr;
  if (!model)
    return failAt(path, "missing object 'model'");
  StringRef modelType = model->getString("type").value_or("none");
  if (modelType != "BPE")
    return failAt(path, "unsupported tokenizer model '" + modelType +
                            "' (supported: BPE)");
  if (model->getBoolean("byte_fallback").value_or(false))
    return failAt(path, "byte_fallback BPE is not supported (expected "
                        "byte-level BPE)");
  const json::Object *vocab = model->getObject("vocab");
  if (!vocab)
    return failAt(path, "missing object 'model.vocab'");

  TokenizerData data;
  llvm::Expected<std::string> pre =
      classifyPreTokenizer(top->get("pre_tokenizer"), path);
  if (!pre)
    return pre.takeError();
  data.preTokenizer = *pre;

  // Ids: the vocabulary plus added tokens, which may extend it.
  constexpr int64_t kMaxVocab = 1 << 24;
  int64_t size = 0;
  auto checkId = [&](std::optional<int64_t> id, StringRef text) -> llvm::Error {
    if (!id || *id < 0 || *id >= kMaxVocab)
      return failAt(path, "token '" + text + "' has an invalid id");
    size = std::max(size, *id + 1);
    return llvm::Error::success();
  };
  for (const auto &entry : *vocab)
    if (llvm::Error err = checkId(entry.second.getAsInteger(), entry.first))
      return std::move(err);
  const json::Array *added = top->getArray("added_tokens");
  for (const json::Value &tok : added ? *added : json::Array()) {
    const json::Object *t = tok.getAsObject();
    std::optional<StringRef> content =
        t ? t->getString("content") : std::nullopt;
    if (!content)
      return failAt(path, "an added_tokens entry has no 'content'");
    if (llvm::Error err = checkId(t->getInteger("id"), *content))
      return std::move(err);
  }
  data.tokens.assign(size, "");
  data.kinds.assign(size, kTokenUnused);

  // Added tokens keep their text as written.
  for (const json::Value &tok : added ? *added : json::Array()) {
    const json::Object *t = tok.getAsObject();
    int64_t id = *t->getInteger("id");
    data.tokens[id] = t->getString("content")->str();
    data.kinds[id] =
        t->getBoolean("special").value_or(false) ? kTokenSpecial : kTokenNormal;
  }
  llvm::StringMap<uint32_t> idOf;
  for (const auto &entry : *vocab) {
    StringRef text = entry.first;
    int64_t id = *entry.second.getAsInteger();
    idOf[text] = uint32_t(id);
    if (data.kinds[id] == kTokenSpecial)
      continue;
    if (data.kinds[id] != kTokenUnused)
      return failAt(path, llvm::formatv("tokens '{0}' and '{1}' share id {2}",
                                        data.tokens[id], text, id));
    std::optional<std::string> bytes = decodeByteLevel(text);
    if (!bytes)
      return failAt(path, llvm::formatv("token '{0}' (id {1}) is not "
                                        "byte-level encoded",
                                        text, id));
    data.tokens[id] = std::move(*bytes);
    data.kinds[id] = kTokenNormal;
  }

  const json::Array *merges = model->getArray("merges");
  for (size_t i = 0, e = merges ? merges->size() : 0; i < e; ++i) {
    auto parts = mergeParts((*merges)[i]);
    if (!parts)
      return failAt(path, llvm::formatv("merge {0} is neither \"a b\" nor "
                                        "[\"a\", \"b\"]",
                                        i));
    auto left = idOf.find(parts->first), right = idOf.find(parts->second);
    if (left == idOf.end() || right == idOf.end())
      return failAt(
          path,
          llvm::formatv("merge {0} ('{1} {2}'): token '{3}' is not in "
                        "the vocabulary",
                        i, parts->first, parts->second,
                        left == idOf.end() ? parts->first : parts->second));
    data.merges.emplace_back(left->second, right->second);
  }
  return data;
}

llvm::Expected<std::string> detectChatTemplate(StringRef path) {
  llvm::Expected<json::Value> root = readJson(path);
  if (!root)
    return root.takeError();
  const json::Object *top = root->getAsObject();
  const json::Value *tmpl = top ? top->get("chat_template") : nullptr;
  std::vector<StringRef> texts;
  if (tmpl) {
    if (std::optional<StringRef> s = tmpl->getAsString())
      texts.push_back(*s);
    // Named templates: [{"name": ..., "template": ...}].
    if (const json::Array *list = tmpl->getAsArray())
      for (const json::Value &entry : *list)
        if (const json::Object *o = entry.getAsObject())
          if (std::optional<StringRef> s = o->getString("template"))
            texts.push_back(*s);
  }
  for (StringRef text : texts)
    if (text.contains("<|im_start|>"))
      return std::string("chatml");
  return std::string("none");
}

/// bos_token / eos_token: a string or {"content": string}.
static std::optional<StringRef> specialTokenText(const json::Object &config,
                                                 StringRef key) {
  const json::Value *v = config.get(key);
  if (!v)
    return std::nullopt;
  if (std::optional<StringRef> s = v->getAsString())
    return s;
  if (const json::Object *o = v->getAsObject())
    return o->getString("content");
  return std::nullopt;
}

llvm::Expected<TokenizerData> importTokenizer(StringRef modelDir) {
  llvm::SmallString<256> tokenizerPath(modelDir), configPath(modelDir);
  llvm::sys::path::append(tokenizerPath, "tokenizer.json");
  llvm::sys::path::append(configPath, "tokenizer_config.json");
  llvm::Expected<TokenizerData> data = importTokenizerJson(tokenizerPath);
  if (!data || !llvm::sys::fs::exists(configPath))
    return data;
  llvm::Expected<std::string> chat = detectChatTemplate(configPath);
  if (!chat)
    return chat.takeError();
  data->chatTemplate = *chat;

  llvm::Expected<json::Value> config = readJson(configPath);
  if (!config)
    return config.takeError();
  const json::Object *obj = config->getAsObject();
  if (!obj)
    return data;
  auto idOf = [&](StringRef text) -> int64_t {
    for (size_t i = 0; i < data->tokens.size(); ++i)
      if (data->kinds[i] == kTokenSpecial && data->tokens[i] == text)
        return int64_t(i);
    return -1;
  };
  if (std::optional<StringRef> bos = specialTokenText(*obj, "bos_token"))
    data->bos = idOf(*bos);
  if (std::optional<StringRef> eos = specialTokenText(*obj, "eos_token"))
    if (int64_t id = idOf(*eos); id >= 0)
      data->eos.push_back(id);
  return data;
}

} // namespace frugal::safetensors
