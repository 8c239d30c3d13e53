//===- CApi.cpp - The C ABI over the C++ runtime --------------------------===//

#include "llmrt/Generate.h"
#include "llmrt/Tokenizer.h"
#include "llmrt/llmrt.h"

#include <cstdio>

struct llmrt_model {
  std::unique_ptr<llmrt::ModelFile> file;
};

struct llmrt_tokenizer {
  std::unique_ptr<llmrt::Tokenizer> tok;
  int32_t bos = -1;
};

namespace {

thread_local std::string lastError;

llmrt_status setError(llmrt_status status, std::string msg) {
  lastError = std::move(msg);
  return status;
}

llmrt_status finishOpen(std::unique_ptr<llmrt::ModelFile> file, std::string &error,
                        bool ioError, llmrt_model **out_model) {
  if (!file)
    return setError(ioError ? LLMRT_ERROR_IO : LLMRT_ERROR_BAD_FORMAT, error);
  *out_model = new llmrt_model{std::move(file)};
  return LLMRT_OK;
}

} // namespace

extern "C" {

const char *llmrt_last_error(void) { return lastError.c_str(); }

llmrt_status llmrt_model_open_file(const char *path, llmrt_model **out_model) {
  if (!path || !out_model)
    return setError(LLMRT_ERROR_INVALID_ARGUMENT, "null argument");
  *out_model = nullptr;
  std::string error;
  bool ioError = false;
  auto file = llmrt::ModelFile::openFile(path, error, &ioError);
  return finishOpen(std::move(file), error, ioError, out_model);
}

llmrt_status llmrt_model_open_memory(const uint8_t *data, uint64_t size,
                                     llmrt_model **out_model) {
  if (!out_model)
    return setError(LLMRT_ERROR_INVALID_ARGUMENT, "null argument");
  *out_model = nullptr;
  std::string error;
  auto file = llmrt::ModelFile::openMemory(data, size, "<memory>", error);
  return finishOpen(std::move(file), error, false, out_model);
}

void llmrt_model_close(llmrt_model *model) { delete model; }

const char *llmrt_model_metadata(const llmrt_model *model, const char *key) {
  if (!model || !key)
    return nullptr;
  const std::string *v = model->file->get(key);
  return v ? v->c_str() : nullptr;
}

const uint8_t *llmrt_model_weights(const llmrt_model *model,
                                   uint64_t *out_size) {
  if (!model)
    return nullptr;
  if (out_size)
    *out_size = model->file->weightsSize();
  return model->file->weights();
}

llmrt_status llmrt_tokenizer_create(const llmrt_model *model,
                                    llmrt_tokenizer **out_tokenizer) {
  if (!model || !out_tokenizer)
    return setError(LLMRT_ERROR_INVALID_ARGUMENT, "null argument");
  *out_tokenizer = nullptr;
  std::string error;
  llmrt::ModelConfig config;
  llmrt::PreTokenizer pre;
  if (!llmrt::parseModelConfig(*model->file, config, error))
    return setError(LLMRT_ERROR_BAD_FORMAT, error);
  if (!llmrt::parsePreTokenizer(config.preTokenizer, pre))
    return setError(LLMRT_ERROR_BAD_FORMAT,
                    model->file->name() + ": unknown pre_tokenizer \"" +
                        config.preTokenizer + "\"");
  auto tok = llmrt::Tokenizer::create(model->file->tokenizer(), pre, error,
                                      config.bosId);
  if (!tok)
    return setError(LLMRT_ERROR_BAD_FORMAT, model->file->name() + ": " + error);
  *out_tokenizer =
      new llmrt_tokenizer{std::move(tok), config.addBos ? config.bosId : -1};
  return LLMRT_OK;
}

void llmrt_tokenizer_destroy(llmrt_tokenizer *tokenizer) { delete tokenizer; }

llmrt_status llmrt_tokenizer_encode(const llmrt_tokenizer *tokenizer,
                                    const char *text, size_t text_len,
                                    int32_t *ids, size_t capacity,
                                    size_t *out_count) {
  if (!tokenizer || (!text && text_len) || !out_count ||
      (!ids && capacity))
    return setError(LLMRT_ERROR_INVALID_ARGUMENT, "null argument");
  std::vector<int32_t> out;
  std::string error;
  if (!tokenizer->tok->encode(std::string_view(text ? text : "", text_len),
                              tokenizer->bos, out, error))
    return setError(LLMRT_ERROR_INVALID_ARGUMENT, error);
  *out_count = out.size();
  if (out.size() > capacity)
    return setError(LLMRT_ERROR_INVALID_ARGUMENT,
                    "id buffer too small: need " + std::to_string(out.size()));
  std::copy(out.begin(), out.end(), ids);
  return LLMRT_OK;
}

const char *llmrt_tokenizer_token(const llmrt_tokenizer *tokenizer, int32_t id,
                                  size_t *out_len) {
  if (!tokenizer || id < 0 ||
      static_cast<size_t>(id) >= tokenizer->tok->vocabSize())
    return nullptr;
  std::string_view b = tokenizer->tok->tokenBytes(id);
  if (out_len)
    *out_len = b.size();
  return b.data();
}

int llmrt_main(int argc, char **argv, const llmrt_backend *backend) {
  if (!backend || !backend->forward) {
    fprintf(stderr, "llmrt: error: no model backend\n");
    return 1;
  }
  return llmrt::runCli(argc, argv, *backend, stdout, stderr);
}

} // extern "C"
