//===- ModelConfig.cpp - Hugging Face config.json -------------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/ModelConfig.h"

#include "frontends/safetensors/BoundedJson.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using llvm::StringRef;

namespace frugal::safetensors {

namespace {
constexpr StringRef kSupportedTypes = "llama, mistral, qwen2, gpt2";
constexpr StringRef kSupportedArchs =
    "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, GPT2LMHeadModel";

/// Typed access to config fields; keeps the first error. A JSON null counts
/// as absent, as in HF configs.
class FieldReader {
public:
  FieldReader(const llvm::json::Object &obj, StringRef file)
      : obj(obj), file(file) {}

  const llvm::json::Value *get(StringRef key) const {
    const llvm::json::Value *v = obj.get(key);
    return v && v->kind() != llvm::json::Value::Null ? v : nullptr;
  }
  bool has(StringRef key) const { return get(key) != nullptr; }

  /// The first of `keys` present, as a positive integer; 0 if absent and
  /// `required` is false.
  int64_t positiveInt(std::initializer_list<StringRef> keys, bool required) {
    for (StringRef key : keys) {
      const llvm::json::Value *v = get(key);
      if (!v)
        continue;
      std::optional<int64_t> n = v->getAsInteger();
      if (!n || *n <= 0) {
        fail("'" + key + "' must be a positive integer");
        return 0;
      }
      return *n;
    }
    if (required)
      fail("missing required field '" + *keys.begin() + "'");
    return 0;
  }

  double number(StringRef key, double dflt) {
    const llvm::json::Value *v = get(key);
    if (!v)
      return dflt;
    std::optional<double> d = v->getAsNumber();
    if (!d) {
      fail("'" + key + "' must be a number");
      return dflt;
    }
    return *d;
  }

  bool boolean(StringRef key, bool dflt) {
    const llvm::json::Value *v = get(key);
    if (!v)
      return dflt;
    std::optional<bool> b = v->getAsBoolean();
    if (!b) {
      fail("'" + key + "' must be true or false");
      return dflt;
    }
    return *b;
  }

  std::string string(StringRef key, StringRef dflt) {
    const llvm::json::Value *v = get(key);
    if (!v)
      return dflt.str();
    std::optional<StringRef> s = v->getAsString();
    if (!s) {
      fail("'" + key + "' must be a string");
      return dflt.str();
    }
    return s->str();
  }

  /// An integer or a list of integers.
  std::vector<int64_t> intList(StringRef key) {
    std::vector<int64_t> out;
    const llvm::json::Value *v = get(key);
    if (!v)
      return out;
    if (std::optional<int64_t> n = v->getAsInteger())
      return {*n};
    const llvm::json::Array *array = v->getAsArray();
    if (!array) {
      fail("'" + key + "' must be an integer or a list of integers");
      return out;
    }
    for (const llvm::json::Value &e : *array) {
      std::optional<int64_t> n = e.getAsInteger();
      if (!n) {
        fail("'" + key + "' must be an integer or a list of integers");
        return {};
      }
      out.push_back(*n);
    }
    return out;
  }

  void fail(const llvm::Twine &msg) {
    if (error.empty())
      error = (file + ": " + msg).str();
  }
  llvm::Error takeError() {
    if (error.empty())
      return llvm::Error::success();
    return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
  }

private:
  const llvm::json::Object &obj;
  StringRef file;
  std::string error;
};

/// The model_type of a supported `architectures` entry, or "".
StringRef typeOfArchitecture(StringRef arch) {
  return llvm::StringSwitch<StringRef>(arch)
      .Case("LlamaForCausalLM", "llama")
      .Case("MistralForCausalLM", "mistral")
      .Case("Qwen2ForCausalLM", "qwen2")
      .Case("GPT2LMHeadModel", "gpt2")
      .Default("");
}

/// Rejects every rope scaling scheme but the plain one.
void checkRope(FieldReader &r, ModelConfig &cfg) {
  for (StringRef key : {"rope_scaling", "rope_parameters"}) {
    const llvm::json::Value *v = r.get(key);
    if (!v)
      continue;
    const llvm::json::Object *o = v->getAsObject();
    if (!o) {
      r.fail("'" + key + "' must be an object or null");
      return;
    }
    std::string type = "unknown";
    for (StringRef typeKey : {"rope_type", "type"})
      if (std::optional<StringRef> s = o->getString(typeKey)) {
        type = s->str();
        break;
      }
    // transformers ≥ 4.56 moves rope_theta into rope_parameters.
    if (key == "rope_parameters" && type == "default") {
      if (std::optional<double> theta = o->getNumber("rope_theta"))
        cfg.ropeTheta = *theta;
      continue;
    }
    r.fail("rope_scaling type " + type + " not supported yet");
    return;
  }
}

void readLlamaFamily(FieldReader &r, ModelConfig &cfg) {
  cfg.family = ModelFamily::Llama;
  cfg.vocabSize = r.positiveInt({"vocab_size"}, true);
  cfg.hiddenSize = r.positiveInt({"hidden_size"}, true);
  cfg.intermediateSize = r.positiveInt({"intermediate_size"}, true);
  cfg.numLayers = r.positiveInt({"num_hidden_layers"}, true);
  cfg.numHeads = r.positiveInt({"num_attention_heads"}, true);
  cfg.numKVHeads = r.positiveInt({"num_key_value_heads"}, false);
  cfg.headDim = r.positiveInt({"head_dim"}, false);
  cfg.normEps = r.number("rms_norm_eps", 1e-6);
  cfg.ropeTheta = r.number("rope_theta", 10000.0);
  int64_t defaultMaxPos = cfg.modelType == "qwen2"     ? 32768
                          : cfg.modelType == "mistral" ? 4096 * 32
                                                       : 2048;
  cfg.maxPositions = r.positiveInt({"max_position_embeddings"}, false);
  if (!cfg.maxPositions)
    cfg.maxPositions = defaultMaxPos;
  cfg.tieWordEmbeddings = r.boolean("tie_word_embeddings", false);
  if (cfg.modelType == "qwen2") {
    cfg.qkvBias = true;
  } else if (cfg.modelType == "llama") {
    cfg.qkvBias = cfg.oBias = r.boolean("attention_bias", false);
    cfg.mlpBias = r.boolean("mlp_bias", false);
  }
  std::string act = r.string("hidden_act", "silu");
  if (act != "silu")
    r.fail("hidden_act '" + act + "' not supported (expected silu)");
  bool windowed =
      cfg.modelType == "mistral" ||
      (cfg.modelType == "qwen2" && r.boolean("use_sliding_window", false));
  if (windowed && r.has("sliding_window"))
    cfg.slidingWindow = r.positiveInt({"sliding_window"}, false);
  checkRope(r, cfg);
}

void readGPT2(FieldReader &r, ModelConfig &cfg) {
  cfg.family = ModelFamily::GPT2;
  cfg.vocabSize = r.positiveInt({"vocab_size"}, true);
  cfg.hiddenSize = r.positiveInt({"n_embd", "hidden_size"}, true);
  cfg.numLayers = r.positiveInt({"n_layer", "num_hidden_layers"}, true);
  cfg.numHeads = r.positiveInt({"n_head", "num_attention_heads"}, true);
  cfg.intermediateSize = r.positiveInt({"n_inner"}, false);
  if (!cfg.intermediateSize)
    cfg.intermediateSize = 4 * cfg.hiddenSize;
  cfg.maxPositions =
      r.positiveInt({"n_positions", "max_position_embeddings"}, false);
  if (!cfg.maxPositions)
    cfg.maxPositions = 1024;
  cfg.normEps = r.number("layer_norm_epsilon", 1e-5);
  cfg.tieWordEmbeddings = r.boolean("tie_word_embeddings", true);
  std::string act = r.string("activation_function", "gelu_new");
  if (act == "gelu_new" || act == "gelu_pytorch_tanh")
    cfg.geluTanh = true;
  else if (act == "gelu")
    cfg.geluTanh = false;
  else
    r.fail("activation_function '" + act +
           "' not supported (expected gelu_new, gelu_pytorch_tanh or gelu)");
  if (!r.boolean("scale_attn_weights", true))
    cfg.attentionScale = 1.0f;
  if (r.boolean("scale_attn_by_inverse_layer_idx", false))
    r.fail("scale_attn_by_inverse_layer_idx is not supported yet");
}
} // namespace

llvm::Expected<ModelConfig> parseModelConfig(StringRef jsonText,
                                             StringRef fileName) {
  auto fail = [&](const llvm::Twine &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   fileName + ": " + msg);
  };
  llvm::Expected<llvm::json::Value> json = parseBoundedJson(jsonText);
  if (!json)
    return fail("not valid JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return fail("not a JSON object");
  FieldReader r(*root, fileName);
  ModelConfig cfg;

  // The architecture: every `architectures` entry must be supported, and
  // model_type (or the first architecture) picks the family.
  StringRef archType;
  if (const llvm::json::Value *archs = r.get("architectures")) {
    const llvm::json::Array *array = archs->getAsArray();
    if (!array)
      return fail("'architectures' must be a list of strings");
    for (const llvm::json::Value &a : *array) {
      std::optional<StringRef> name = a.getAsString();
      if (!name)
        return fail("'architectures' must be a list of strings");
      StringRef type = typeOfArchitecture(*name);
      if (type.empty())
        return fail("unsupported architecture '" + *name +
                    "' (supported: " + kSupportedArchs + ")");
      if (archType.empty())
        archType = type;
    }
  }
  cfg.modelType = r.string("model_type", archType);
  if (llvm::Error err = r.takeError())
    return std::move(err);
  if (cfg.modelType.empty())
    return fail("no 'model_type' or 'architectures' names the model "
                "(supported model_type: " +
                kSupportedTypes + ")");
  if (cfg.modelType == "gpt2")
    readGPT2(r, cfg);
  else if (cfg.modelType == "llama" || cfg.modelType == "mistral" ||
           cfg.modelType == "qwen2")
    readLlamaFamily(r, cfg);
  else
    return fail("unsupported model_type '" + cfg.modelType +
                "' (supported: " + kSupportedTypes + ")");

  std::vector<int64_t> bos = r.intList("bos_token_id");
  cfg.bosTokenId = bos.empty() ? -1 : bos.front();
  cfg.eosTokenIds = r.intList("eos_token_id");
  if (llvm::Error err = r.takeError())
    return std::move(err);

  // Head geometry.
  if (!cfg.numKVHeads)
    cfg.numKVHeads = cfg.numHeads;
  if (cfg.numHeads % cfg.numKVHeads != 0)
    return fail(llvm::formatv("num_attention_heads ({0}) is not a multiple "
                              "of num_key_value_heads ({1})",
                              cfg.numHeads, cfg.numKVHeads));
  if (!cfg.headDim) {
    if (cfg.hiddenSize % cfg.numHeads != 0)
      return fail(llvm::formatv("hidden size {0} is not a multiple of the "
                                "number of heads ({1})",
                                cfg.hiddenSize, cfg.numHeads));
    cfg.headDim = cfg.hiddenSize / cfg.numHeads;
  }
  if (!(cfg.normEps >= 0))
    return fail("the norm epsilon must be non-negative");
  if (!(cfg.ropeTheta > 0))
    return fail("'rope_theta' must be positive");
  return cfg;
}

llvm::Expected<ModelConfig> loadModelConfig(StringRef path) {
  llvm::SmallString<256> file(path);
  if (llvm::sys::fs::is_directory(path))
    llvm::sys::path::append(file, "config.json");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> text =
      llvm::MemoryBuffer::getFile(file);
  if (!text)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        file + ": cannot open: " + text.getError().message());
  return parseModelConfig((*text)->getBuffer(), file);
}

} // namespace frugal::safetensors
