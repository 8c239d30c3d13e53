//===- Tokenizer.h - Byte-level BPE tokenizer -------------------*- C++ -*-===//
//
// Encoding: special tokens (TokenKind::Special) occurring literally in the
// text are split out first (earliest, then longest match); every other span
// is pre-tokenized and each piece is BPE-merged from its single bytes, lowest
// merge rank first, leftmost first on ties (as HF tokenizers does).
//
// Pre-tokenizers:
//  - Gpt2:   the GPT-2 regex
//            's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//            implemented by hand over code points (classes: see Unicode.h).
//  - SmolLM: every \p{N} code point becomes its own piece first (HF
//            Digits(individual_digits=true)), then the GPT-2 regex per piece.
//  - None:   the whole span is one piece.
//  - Spm:    SentencePiece BPE (llama GGUF vocabularies, stored with "▁" as
//            a space and `<0xNN>` as Byte tokens). A space is prepended to
//            the text and after each special token (add_dummy_prefix); the
//            span is one piece whose initial symbols are its UTF-8
//            characters (a character with no normal token becomes its byte
//            tokens, which never merge). Merging picks the pair whose merged
//            token ranks first (the compiler ranks them by SentencePiece
//            score), leftmost on ties: all merges giving the same token
//            share the rank of its first one, as in llama.cpp. Decoding drops
//            the space that starts the first token after BOS.
//
//===----------------------------------------------------------------------===//

#ifndef LLMRT_TOKENIZER_H
#define LLMRT_TOKENIZER_H

#include "llmrt/ModelFile.h"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace llmrt {

enum class PreTokenizer { Gpt2, SmolLM, None, Spm };

/// Parses a `pre_tokenizer` metadata value ("gpt2", "smollm", "none",
/// "spm").
bool parsePreTokenizer(std::string_view name, PreTokenizer &out);

/// Splits `text` (no special tokens) into pre-tokenizer pieces.
std::vector<std::string_view> preTokenize(std::string_view text,
                                          PreTokenizer mode);

class Tokenizer {
public:
  /// Builds the lookup tables; fails (null + `error`) if a merge's result is
  /// not in the vocabulary. `bosId` serves Spm decoding only.
  static std::unique_ptr<Tokenizer> create(const TokenizerData &data,
                                           PreTokenizer mode,
                                           std::string &error,
                                           int32_t bosId = -1);

  /// Encodes `text`, prepending `bosId` when it is >= 0. Fails when a byte
  /// has no single-byte token.
  bool encode(std::string_view text, int32_t bosId, std::vector<int32_t> &out,
              std::string &error) const;

  /// Concatenated bytes of `ids` (special tokens included, each token as
  /// tokenText after the one before); ids out of range are skipped.
  std::string decode(const std::vector<int32_t> &ids) const;
  /// Bytes of one token, or "" if out of range.
  std::string_view tokenBytes(int32_t id) const;
  /// The bytes `id` contributes to decoded text when it follows `prev`
  /// (-1: none): tokenBytes, less the leading space of a Spm token right
  /// after BOS.
  std::string_view tokenText(int32_t prev, int32_t id) const;
  size_t vocabSize() const { return tokens_.size(); }

private:
  Tokenizer() = default;
  void encodePiece(std::string_view piece, std::vector<int32_t> &out) const;
  /// Spm initial symbols: one token per character, else its byte tokens.
  bool spmSymbols(std::string_view piece, std::vector<int32_t> &ids,
                  std::string &error) const;
  void mergeSymbols(std::vector<int32_t> &ids, std::vector<int32_t> &out) const;
  bool encodeSpm(std::string_view text, std::vector<int32_t> &out,
                 std::string &error) const;

  struct MergeInfo {
    uint32_t rank;
    int32_t merged;
  };
  std::vector<TokenEntry> tokens_;
  std::unordered_map<uint64_t, MergeInfo> merges_; // (left << 32 | right)
  int32_t byteToken_[256];
  std::vector<int32_t> specials_; // sorted by decreasing length
  PreTokenizer mode_ = PreTokenizer::Gpt2;
  int32_t bos_ = -1;
  std::unordered_map<std::string_view, int32_t> normalIds_; // Spm only
};

/// Turns token bytes into text that is always valid UTF-8: bytes of a
/// sequence split across tokens are held back until it completes; bytes that
/// can never form valid UTF-8 become U+FFFD.
class StreamDecoder {
public:
  /// Appends `bytes` and returns the newly complete text.
  std::string push(std::string_view bytes);
  /// Returns what is still held back (as U+FFFD) and resets.
  std::string flush();

private:
  std::string pending_;
};

/// Formats a single-turn chat prompt with the ChatML template:
/// <|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{prompt}
/// <|im_end|>\n<|im_start|>assistant\n (system turn omitted when empty).
std::string formatChatML(std::string_view system, std::string_view prompt);

} // namespace llmrt

#endif // LLMRT_TOKENIZER_H
