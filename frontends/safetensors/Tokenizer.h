//===- Tokenizer.h - Hugging Face byte-level BPE tokenizer ------*- C++ -*-===//
//
// Part of Frugal. Reads the vocabulary, merges and pre-tokenizer of an HF
// tokenizer.json (byte-level BPE) and the chat template kind from
// tokenizer_config.json, for the runtime's tokenizer file.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_SAFETENSORS_TOKENIZER_H
#define FRUGAL_FRONTENDS_SAFETENSORS_TOKENIZER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace frugal::safetensors {

/// Kind of each token id.
enum TokenKind : uint8_t {
  /// Raw bytes produced by BPE merges.
  kTokenNormal = 0,
  /// An added token with special=true (e.g. "<|im_start|>"): its text is
  /// kept as written and plain text never produces it.
  kTokenSpecial = 1,
  /// An id no vocabulary entry uses; its text is empty.
  kTokenUnused = 2,
  /// A SentencePiece byte-fallback token (`<0xNN>`): its text is that byte.
  kTokenByte = 3,
};

struct TokenizerData {
  /// Token id → raw bytes (normal tokens) or literal text (special tokens).
  std::vector<std::string> tokens;
  /// Token id → TokenKind.
  std::vector<uint8_t> kinds;
  /// BPE merges in priority order, as (left id, right id).
  std::vector<std::pair<uint32_t, uint32_t>> merges;
  /// "gpt2" (ByteLevel alone), "smollm" (individual digits, then
  /// ByteLevel) or "spm" (SentencePiece BPE, from GGUF).
  std::string preTokenizer;
  /// Whether encoding starts with the BOS token (SentencePiece models).
  bool addBos = false;
  /// "chatml" or "none".
  std::string chatTemplate = "none";
  /// -1 / empty when the tokenizer config does not name them.
  int64_t bos = -1;
  std::vector<int64_t> eos;
};

/// Reads an HF tokenizer.json with a BPE model and a byte-level
/// pre-tokenizer. bos/eos are left unset.
llvm::Expected<TokenizerData> importTokenizerJson(llvm::StringRef path);

/// "chatml" if the chat_template of tokenizer_config.json at `path` uses
/// <|im_start|>, otherwise "none".
llvm::Expected<std::string> detectChatTemplate(llvm::StringRef path);

/// Reads `modelDir`/tokenizer.json and, when present,
/// `modelDir`/tokenizer_config.json (chat template, bos_token, eos_token).
llvm::Expected<TokenizerData> importTokenizer(llvm::StringRef modelDir);

} // namespace frugal::safetensors

#endif // FRUGAL_FRONTENDS_SAFETENSORS_TOKENIZER_H
