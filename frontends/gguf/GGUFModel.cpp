//===- GGUFModel.cpp - A GGUF model as weights, config, tokenizer ---------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/gguf/GGUFModel.h"

#include "frontends/safetensors/ByteLevel.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <tuple>

using llvm::StringRef;
namespace st = frugal::safetensors;

namespace frugal::gguf {

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// GGUF per-layer tensor names → HF names (after "model.layers.N.").
constexpr std::pair<StringRef, StringRef> kLayerNames[] = {
    {"attn_q", "self_attn.q_proj"},
    {"attn_k", "self_attn.k_proj"},
    {"attn_v", "self_attn.v_proj"},
    {"attn_output", "self_attn.o_proj"},
    {"ffn_gate", "mlp.gate_proj"},
    {"ffn_up", "mlp.up_proj"},
    {"ffn_down", "mlp.down_proj"},
    {"attn_norm", "input_layernorm"},
    {"ffn_norm", "post_attention_layernorm"},
};

} // namespace

std::optional<std::string> hfTensorName(StringRef name) {
  if (name == "token_embd.weight")
    return std::string("model.embed_tokens.weight");
  if (name == "output_norm.weight")
    return std::string("model.norm.weight");
  if (name == "output.weight")
    return std::string("lm_head.weight");
  StringRef rest = name;
  if (!rest.consume_front("blk."))
    return std::nullopt;
  auto [layer, tail] = rest.split('.');
  unsigned index = 0;
  if (layer.getAsInteger(10, index))
    return std::nullopt;
  auto [base, suffix] = tail.rsplit('.');
  if (suffix != "weight" && suffix != "bias")
    return std::nullopt;
  for (const auto &[gguf, hf] : kLayerNames)
    if (base == gguf)
      return ("model.layers." + llvm::Twine(index) + "." + hf + "." + suffix)
          .str();
  return std::nullopt;
}

GGUFSource::GGUFSource(std::unique_ptr<GGUFFile> file)
    : file_(std::move(file)) {
  for (const TensorInfo &t : file_->tensors()) {
    std::optional<std::string> hf = hfTensorName(t.name);
    byName[hf ? StringRef(*hf) : t.name] = &t;
  }
}

llvm::Expected<std::unique_ptr<GGUFSource>>
GGUFSource::open(StringRef path) {
  llvm::Expected<std::unique_ptr<GGUFFile>> file = GGUFFile::open(path);
  if (!file)
    return file.takeError();
  return std::make_unique<GGUFSource>(std::move(*file));
}

const TensorInfo *GGUFSource::find(StringRef name) const {
  auto it = byName.find(name);
  return it == byName.end() ? nullptr : it->second;
}

std::optional<frugal::TensorSource::Info>
GGUFSource::lookupTensor(StringRef name) const {
  const TensorInfo *t = find(name);
  if (!t)
    return std::nullopt;
  Info info;
  info.shape = t->shape;
  info.dtype = t->traits().name;
  info.convertibleToF32 = t->traits().toF32;
  info.file = file_->path().str();
  return info;
}

llvm::Error GGUFSource::readAsF32(StringRef name,
                                  llvm::MutableArrayRef<float> out) const {
  const TensorInfo *t = find(name);
  if (!t)
    return makeError("tensor '" + name + "' is not in " + file_->path());
  if (out.size() != t->numElements)
    return makeError(llvm::formatv("{0}: tensor '{1}' has {2} elements, the "
                                   "caller expected {3}",
                                   file_->path(), name, t->numElements,
                                   out.size())
                         .str());
  if (llvm::Error err =
          dequantizeToF32(t->type, t->data, t->numElements, out.data()))
    return makeError(file_->path() + ": tensor '" + t->name + "' (" + name +
                     "): " + llvm::toString(std::move(err)));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Config
//===----------------------------------------------------------------------===//

namespace {

/// Typed access to metadata; keeps the first error.
class MetaReader {
public:
  explicit MetaReader(const GGUFFile &file) : file(file) {}

  int64_t positive(StringRef key, bool required, int64_t dflt = 0) {
    const Value *v = file.lookup(key);
    if (!v) {
      if (required)
        fail("missing metadata '" + key + "'");
      return dflt;
    }
    std::optional<int64_t> n = v->asInt();
    if (!n || *n <= 0 || v->type == ValueType::Bool) {
      fail("metadata '" + key + "': expected a positive integer, found " +
           describe(*v));
      return dflt;
    }
    return *n;
  }
  double real(StringRef key, double dflt) {
    const Value *v = file.lookup(key);
    if (!v)
      return dflt;
    std::optional<double> d = v->asReal();
    if (!d) {
      fail("metadata '" + key + "': expected a number, found " + describe(*v));
      return dflt;
    }
    return *d;
  }
  std::optional<StringRef> string(StringRef key) {
    const Value *v = file.lookup(key);
    if (!v)
      return std::nullopt;
    if (!v->asString()) {
      fail("metadata '" + key + "': expected a string, found " + describe(*v));
      return std::nullopt;
    }
    return v->str;
  }
  bool boolean(StringRef key, bool dflt) {
    const Value *v = file.lookup(key);
    if (!v)
      return dflt;
    if (std::optional<bool> b = v->asBool())
      return *b;
    fail("metadata '" + key + "': expected a bool, found " + describe(*v));
    return dflt;
  }
  /// An array of `key` whose elements satisfy `ok`; null if absent.
  const Value *array(StringRef key, bool required,
                     bool (*ok)(ValueType), StringRef expected) {
    const Value *v = file.lookup(key);
    if (!v) {
      if (required)
        fail("missing metadata '" + key + "'");
      return nullptr;
    }
    if (v->type != ValueType::Array || !ok(v->elementType)) {
      fail("metadata '" + key + "': expected an array of " + expected +
           ", found " + describe(*v));
      return nullptr;
    }
    return v;
  }

  static std::string describe(const Value &v) {
    if (v.type == ValueType::Array)
      return "array of " + valueTypeName(v.elementType);
    return valueTypeName(v.type);
  }

  void fail(const llvm::Twine &message) {
    if (error.empty())
      error = message.str();
  }
  llvm::Error takeError() {
    if (error.empty())
      return llvm::Error::success();
    return makeError(file.path() + ": " + error);
  }

private:
  const GGUFFile &file;
  std::string error;
};

bool isStringType(ValueType t) { return t == ValueType::String; }
bool isNumberType(ValueType t) {
  return t != ValueType::String && t != ValueType::Array &&
         t != ValueType::Bool;
}
bool isIntegerType(ValueType t) {
  return isNumberType(t) && t != ValueType::F32 && t != ValueType::F64;
}

} // namespace

llvm::Expected<st::ModelConfig> loadGGUFConfig(const GGUFFile &file) {
  MetaReader r(file);
  std::optional<StringRef> arch = r.string("general.architecture");
  if (llvm::Error err = r.takeError())
    return std::move(err);
  if (!arch)
    return makeError(file.path() + ": missing metadata 'general.architecture'");
  if (*arch != "llama" && *arch != "qwen2")
    return makeError(file.path() + ": unsupported architecture '" + *arch +
                     "' (supported: llama, qwen2)");
  const std::string a = arch->str();

  st::ModelConfig cfg;
  cfg.modelType = a;
  cfg.family = st::ModelFamily::Llama;
  cfg.hiddenSize = r.positive(a + ".embedding_length", true);
  cfg.intermediateSize = r.positive(a + ".feed_forward_length", true);
  cfg.numLayers = r.positive(a + ".block_count", true);
  cfg.numHeads = r.positive(a + ".attention.head_count", true);
  cfg.numKVHeads =
      r.positive(a + ".attention.head_count_kv", false, cfg.numHeads);
  cfg.maxPositions = r.positive(a + ".context_length", false, 2048);
  cfg.normEps = r.real(a + ".attention.layer_norm_rms_epsilon", 1e-5);
  cfg.ropeTheta = r.real(a + ".rope.freq_base", 10000.0);
  if (std::optional<StringRef> scaling = r.string(a + ".rope.scaling.type"))
    if (*scaling != "none")
      r.fail("metadata '" + a + ".rope.scaling.type': rope scaling '" +
             *scaling + "' not supported yet");
  if (llvm::Error err = r.takeError())
    return std::move(err);

  if (cfg.hiddenSize % cfg.numHeads != 0)
    r.fail(llvm::formatv("embedding_length {0} is not a multiple of "
                         "head_count {1}",
                         cfg.hiddenSize, cfg.numHeads)
               .str());
  cfg.headDim = r.positive(a + ".attention.key_length", false,
                           cfg.hiddenSize / cfg.numHeads);
  int64_t valueLength = r.positive(a + ".attention.value_length", false,
                                   cfg.headDim);
  if (valueLength != cfg.headDim)
    r.fail(llvm::formatv("attention.value_length {0} differs from "
                         "key_length {1}",
                         valueLength, cfg.headDim)
               .str());
  int64_t ropeDims = r.positive(a + ".rope.dimension_count", false, cfg.headDim);
  if (ropeDims != cfg.headDim)
    r.fail(llvm::formatv("rope.dimension_count {0} differs from the head "
                         "dimension {1} (partial rotary embeddings are not "
                         "supported)",
                         ropeDims, cfg.headDim)
               .str());
  if (cfg.numHeads % cfg.numKVHeads != 0)
    r.fail(llvm::formatv("head_count {0} is not a multiple of head_count_kv "
                         "{1}",
                         cfg.numHeads, cfg.numKVHeads)
               .str());
  if (llvm::Error err = r.takeError())
    return std::move(err);

  // llama.cpp's llama converter permutes the q/k rows so that rotary
  // embeddings turn adjacent channel pairs; qwen2 keeps HF's halves.
  cfg.ropeInterleaved = a == "llama";
  cfg.tieWordEmbeddings = !file.tensor("output.weight");
  cfg.qkvBias = a == "qwen2" || file.tensor("blk.0.attn_q.bias");
  cfg.oBias = file.tensor("blk.0.attn_output.bias") != nullptr;
  cfg.mlpBias = file.tensor("blk.0.ffn_up.bias") != nullptr;

  // The vocabulary size is the token list's length (or the embedding's).
  if (const Value *tokens = file.lookup("tokenizer.ggml.tokens");
      tokens && tokens->type == ValueType::Array)
    cfg.vocabSize = int64_t(tokens->array.size());
  else if (const TensorInfo *embd = file.tensor("token_embd.weight");
           embd && embd->shape.size() == 2)
    cfg.vocabSize = embd->shape[0];
  else
    cfg.vocabSize = r.positive(a + ".vocab_size", true);
  if (llvm::Error err = r.takeError())
    return std::move(err);
  if (cfg.vocabSize <= 0)
    return makeError(file.path() + ": the token list is empty");

  if (const Value *bos = file.lookup("tokenizer.ggml.bos_token_id"))
    if (std::optional<int64_t> id = bos->asInt(); id && *id < cfg.vocabSize)
      cfg.bosTokenId = *id;
  if (const Value *eos = file.lookup("tokenizer.ggml.eos_token_id"))
    if (std::optional<int64_t> id = eos->asInt(); id && *id < cfg.vocabSize)
      cfg.eosTokenIds.push_back(*id);
  return cfg;
}

//===----------------------------------------------------------------------===//
// Tokenizer
//===----------------------------------------------------------------------===//

namespace {

/// llama.cpp token types.
enum : int64_t {
  kTypeNormal = 1,
  kTypeUnknown = 2,
  kTypeControl = 3,
  kTypeUserDefined = 4,
  kTypeUnused = 5,
  kTypeByte = 6,
};

/// The byte of a SentencePiece byte token "<0xNN>".
std::optional<uint8_t> parseByteToken(StringRef text) {
  unsigned value = 0;
  if (text.size() != 6 || !text.consume_front("<0x") ||
      !text.consume_back(">") || text.getAsInteger(16, value) || value > 255)
    return std::nullopt;
  return uint8_t(value);
}

/// SentencePiece spells a space as U+2581 "▁".
std::string spmToBytes(StringRef text) {
  std::string out;
  out.reserve(text.size());
  static constexpr StringRef kSpace = "\xE2\x96\x81";
  while (!text.empty()) {
    if (text.consume_front(kSpace)) {
      out += ' ';
    } else {
      out += text.front();
      text = text.drop_front();
    }
  }
  return out;
}

/// Merges equivalent to SentencePiece BPE by score: every split of a normal
/// token into two normal tokens, the token with the highest score first
/// (ties: lower id first), then split positions from the left.
std::vector<std::pair<uint32_t, uint32_t>>
deriveMerges(const st::TokenizerData &data, const std::vector<float> &scores) {
  llvm::StringMap<uint32_t> idOf;
  for (uint32_t id = 0; id < data.tokens.size(); ++id)
    if (data.kinds[id] == st::kTokenNormal && !data.tokens[id].empty())
      idOf.try_emplace(data.tokens[id], id);
  struct Merge {
    float score;
    uint32_t merged, split, left, right;
  };
  std::vector<Merge> merges;
  for (uint32_t id = 0; id < data.tokens.size(); ++id) {
    if (data.kinds[id] != st::kTokenNormal)
      continue;
    StringRef text = data.tokens[id];
    for (size_t i = 1; i < text.size(); ++i) {
      auto l = idOf.find(text.take_front(i)), r = idOf.find(text.drop_front(i));
      if (l != idOf.end() && r != idOf.end())
        merges.push_back({scores[id], id, uint32_t(i), l->second, r->second});
    }
  }
  std::sort(merges.begin(), merges.end(),
            [](const Merge &a, const Merge &b) {
              if (a.score != b.score)
                return a.score > b.score;
              return std::tie(a.merged, a.split) < std::tie(b.merged, b.split);
            });
  std::vector<std::pair<uint32_t, uint32_t>> out;
  out.reserve(merges.size());
  for (const Merge &m : merges)
    out.emplace_back(m.left, m.right);
  return out;
}

} // namespace

llvm::Expected<std::optional<st::TokenizerData>>
importGGUFTokenizer(const GGUFFile &file) {
  MetaReader r(file);
  std::optional<StringRef> model = r.string("tokenizer.ggml.model");
  if (llvm::Error err = r.takeError())
    return std::move(err);
  if (!model)
    return std::nullopt;
  if (*model != "gpt2" && *model != "llama")
    return makeError(file.path() + ": unsupported tokenizer.ggml.model '" +
                     *model + "' (supported: gpt2, llama)");
  const bool spm = *model == "llama";

  const Value *tokens =
      r.array("tokenizer.ggml.tokens", true, isStringType, "strings");
  const Value *types =
      r.array("tokenizer.ggml.token_type", false, isIntegerType, "integers");
  const Value *scores = r.array("tokenizer.ggml.scores", spm, isNumberType,
                                "numbers");
  const Value *merges = r.array("tokenizer.ggml.merges", !spm, isStringType,
                                "strings");
  if (llvm::Error err = r.takeError())
    return std::move(err);
  const size_t n = tokens->array.size();
  if (n == 0 || n >= (size_t(1) << 24))
    return makeError(llvm::formatv("{0}: tokenizer.ggml.tokens has {1} "
                                   "entries, expected 1 to 2^24",
                                   file.path(), n)
                         .str());
  for (const Value *v : {types, scores})
    if (v && v->array.size() != n)
      return makeError(llvm::formatv("{0}: tokenizer.ggml.{1} has {2} "
                                     "entries, tokenizer.ggml.tokens has {3}",
                                     file.path(),
                                     v == types ? "token_type" : "scores",
                                     v->array.size(), n)
                           .str());

  st::TokenizerData data;
  data.tokens.resize(n);
  data.kinds.resize(n);
  for (size_t id = 0; id < n; ++id) {
    StringRef text = tokens->array[id].str;
    int64_t type = types ? types->array[id].asInt().value_or(kTypeNormal)
                         : kTypeNormal;
    if (spm && type == kTypeNormal && parseByteToken(text) && !types)
      type = kTypeByte;
    switch (type) {
    case kTypeUnknown:
    case kTypeControl:
    case kTypeUserDefined:
      data.tokens[id] = text.str();
      data.kinds[id] = st::kTokenSpecial;
      break;
    case kTypeUnused:
      data.kinds[id] = st::kTokenUnused;
      break;
    case kTypeByte: {
      std::optional<uint8_t> byte = parseByteToken(text);
      if (!byte)
        return makeError(llvm::formatv("{0}: token {1} '{2}' has type byte "
                                       "but is not spelled <0xNN>",
                                       file.path(), id, text)
                             .str());
      data.tokens[id] = std::string(1, char(*byte));
      data.kinds[id] = st::kTokenByte;
      break;
    }
    default: {
      if (spm) {
        data.tokens[id] = spmToBytes(text);
      } else {
        std::optional<std::string> bytes = st::decodeByteLevel(text);
        if (!bytes)
          return makeError(llvm::formatv("{0}: token {1} '{2}' is not "
                                         "byte-level encoded",
                                         file.path(), id, text)
                               .str());
        data.tokens[id] = std::move(*bytes);
      }
      data.kinds[id] = st::kTokenNormal;
      break;
    }
    }
  }

  if (spm) {
    std::vector<float> s(n);
    for (size_t id = 0; id < n; ++id)
      s[id] = float(*scores->array[id].asReal());
    data.merges = deriveMerges(data, s);
    data.preTokenizer = "spm";
  } else {
    llvm::StringMap<uint32_t> idOf;
    for (size_t id = 0; id < n; ++id)
      idOf.try_emplace(tokens->array[id].str, uint32_t(id));
    data.merges.reserve(merges->array.size());
    for (size_t i = 0; i < merges->array.size(); ++i) {
      StringRef merge = merges->array[i].str;
      auto [left, right] = merge.split(' ');
      auto l = idOf.find(left), rt = idOf.find(right);
      if (left.empty() || right.empty() || l == idOf.end() ||
          rt == idOf.end())
        return makeError(llvm::formatv("{0}: tokenizer.ggml.merges[{1}] "
                                       "'{2}' is not two vocabulary tokens "
                                       "separated by a space",
                                       file.path(), i, merge)
                             .str());
      data.merges.emplace_back(l->second, rt->second);
    }
    std::optional<StringRef> pre = r.string("tokenizer.ggml.pre");
    if (!pre || *pre == "default" || *pre == "gpt2" || *pre == "gpt-2")
      data.preTokenizer = "gpt2";
    else if (*pre == "smollm")
      data.preTokenizer = "smollm";
    else
      r.fail("unsupported tokenizer.ggml.pre '" + *pre +
             "' (supported: default, gpt2, smollm)");
  }

  data.addBos = r.boolean("tokenizer.ggml.add_bos_token", spm);
  if (spm && !r.boolean("tokenizer.ggml.add_space_prefix", true))
    r.fail("tokenizer.ggml.add_space_prefix=false is not supported (the "
           "SentencePiece tokenizer always adds the dummy prefix)");
  if (std::optional<StringRef> tmpl = r.string("tokenizer.chat_template"))
    data.chatTemplate = tmpl->contains("<|im_start|>") ? "chatml" : "none";
  auto tokenId = [&](StringRef key) -> int64_t {
    const Value *v = file.lookup(key);
    if (!v)
      return -1;
    std::optional<int64_t> id = v->asInt();
    if (!id || *id < 0 || size_t(*id) >= n) {
      r.fail(llvm::formatv("metadata '{0}': expected a token id below {1}",
                           key, n)
                 .str());
      return -1;
    }
    return *id;
  };
  data.bos = tokenId("tokenizer.ggml.bos_token_id");
  if (int64_t eos = tokenId("tokenizer.ggml.eos_token_id"); eos >= 0)
    data.eos.push_back(eos);
  if (llvm::Error err = r.takeError())
    return std::move(err);
  if (data.addBos && data.bos < 0)
    return makeError(file.path() + ": tokenizer.ggml.add_bos_token is true "
                                   "but there is no bos_token_id");
  return std::optional<st::TokenizerData>(std::move(data));
}

//===----------------------------------------------------------------------===//
// Whole model
//===----------------------------------------------------------------------===//

llvm::Expected<GGUFModel> openGGUFModel(StringRef path) {
  GGUFModel model;
  llvm::Expected<std::unique_ptr<GGUFSource>> source = GGUFSource::open(path);
  if (!source)
    return source.takeError();
  model.source = std::move(*source);
  llvm::Expected<st::ModelConfig> config =
      loadGGUFConfig(model.source->file());
  if (!config)
    return config.takeError();
  model.config = std::move(*config);
  auto tokenizer = importGGUFTokenizer(model.source->file());
  if (!tokenizer)
    return tokenizer.takeError();
  model.tokenizer = std::move(*tokenizer);
  if (model.tokenizer) {
    if (model.tokenizer->bos >= 0)
      model.config.bosTokenId = model.tokenizer->bos;
    if (!model.tokenizer->eos.empty())
      model.config.eosTokenIds = model.tokenizer->eos;
  }
  return std::move(model);
}

llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importGGUFModelFromPath(mlir::MLIRContext &context, StringRef path,
                        const st::ImportOptions &options) {
  llvm::Expected<GGUFModel> model = openGGUFModel(path);
  if (!model)
    return model.takeError();
  auto module = st::importModel(context, *model->source, model->config, options);
  if (!module)
    return module.takeError();
  keepGGUFQuantization(**module, *model->source);
  return module;
}

} // namespace frugal::gguf
