//===- FuzzModelFile.cpp - libFuzzer target for the .fgw parser -----------===//
//
// Any byte string must be either rejected with a message or accepted; an
// accepted file then goes through tokenizer construction, encode and decode.
//
//===----------------------------------------------------------------------===//

#include "llmrt/ModelFile.h"
#include "llmrt/Tokenizer.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  auto file = llmrt::ModelFile::openMemory(data, size, "fuzz", error);
  if (!file) {
    if (error.empty())
      abort(); // every rejection must explain itself
    return 0;
  }
  for (llmrt::PreTokenizer mode :
       {llmrt::PreTokenizer::Gpt2, llmrt::PreTokenizer::SmolLM}) {
    auto tok = llmrt::Tokenizer::create(file->tokenizer(), mode, error);
    if (!tok)
      continue;
    std::vector<int32_t> ids;
    // Text drawn from the file itself plus fixed cases.
    std::string text = "Hello  world's 123\n\n<|im_start|>x\xc3\xa9\xe4\xb8\xad";
    for (const auto &kv : file->metadata())
      text += kv.second;
    if (tok->encode(text, -1, ids, error)) {
      std::string back = tok->decode(ids);
      if (back != text)
        abort(); // byte-level BPE must round-trip
    }
    llmrt::StreamDecoder dec;
    for (int32_t id : ids)
      dec.push(tok->tokenBytes(id));
    dec.flush();
  }
  return 0;
}
