//===- Tokenize.cpp - llmrt-tokenize: the runtime tokenizer from a shell --===//
//
//   llmrt-tokenize model.fgw "text"        -> token ids, space-separated
//   llmrt-tokenize model.fgw --decode 1,2  -> the decoded bytes
//   --no-bos: do not prepend BOS even if the model's add_bos is 1.
//
//===----------------------------------------------------------------------===//

#include "llmrt/Generate.h"
#include "llmrt/Tokenizer.h"

#include <cstdio>
#include <cstring>

using namespace llmrt;

static int usage() {
  fprintf(stderr, "usage: llmrt-tokenize MODEL.fgw [--no-bos] TEXT\n"
                  "       llmrt-tokenize MODEL.fgw --decode 1,2,3\n");
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 3)
    return usage();
  bool decode = false, noBos = false;
  const char *arg = nullptr;
  for (int i = 2; i < argc; ++i) {
    if (!strcmp(argv[i], "--decode") && !decode && i + 1 < argc) {
      decode = true;
      arg = argv[++i];
    } else if (!strcmp(argv[i], "--no-bos")) {
      noBos = true;
    } else if (!arg) {
      arg = argv[i];
    } else {
      return usage();
    }
  }
  if (!arg)
    return usage();
  std::string error;
  std::unique_ptr<ModelFile> file = ModelFile::openFile(argv[1], error);
  ModelConfig config;
  PreTokenizer pre;
  if (!file || !parseModelConfig(*file, config, error)) {
    fprintf(stderr, "llmrt-tokenize: error: %s\n", error.c_str());
    return 1;
  }
  if (!parsePreTokenizer(config.preTokenizer, pre)) {
    fprintf(stderr, "llmrt-tokenize: error: unknown pre_tokenizer \"%s\"\n",
            config.preTokenizer.c_str());
    return 1;
  }
  std::unique_ptr<Tokenizer> tok =
      Tokenizer::create(file->tokenizer(), pre, error, config.bosId);
  if (!tok) {
    fprintf(stderr, "llmrt-tokenize: error: %s\n", error.c_str());
    return 1;
  }
  std::vector<int32_t> ids;
  if (decode) {
    if (!parseIdList(arg, ids)) {
      fprintf(stderr, "llmrt-tokenize: error: invalid id list '%s'\n", arg);
      return 1;
    }
    std::string text = tok->decode(ids);
    fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  int32_t bos = config.addBos && !noBos ? config.bosId : -1;
  if (!tok->encode(arg, bos, ids, error)) {
    fprintf(stderr, "llmrt-tokenize: error: %s\n", error.c_str());
    return 1;
  }
  for (size_t i = 0; i < ids.size(); ++i)
    printf(i ? " %d" : "%d", ids[i]);
  printf("\n");
  return 0;
}
