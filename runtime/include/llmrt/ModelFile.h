//===- ModelFile.h - The .fgw model file: format, writer, reader -*- C++ -*-===//
//
// A compiled Frugal model is an executable plus one `.fgw` file (or the same
// bytes embedded in the executable). All integers are little-endian.
//
//   offset size
//   0      8    magic "FRUGALW1"
//   8      4    u32 version (= 1)
//   12     4    u32 flags (= 0)
//   16     8    u64 meta_offset     metadata: UTF-8 `key=value` lines
//   24     8    u64 meta_size
//   32     8    u64 tok_offset      tokenizer section
//   40     8    u64 tok_size
//   48     8    u64 data_offset     weights blob, multiple of 64
//   56     8    u64 data_size
//   64          end of header; sections follow, in any order, not overlapping
//
// Metadata values escape a newline as the two characters `\n` and a backslash
// as `\\`; keys are non-empty and contain neither `=`, `\n` nor `\r`.
//
// Tokenizer section:
//   u32 n_tokens; per token: u8 kind (TokenKind), u32 len, len raw bytes;
//   u32 n_merges; per merge: u32 left_id, u32 right_id.
// Merge rank is the merge's index; the merged token is the (normal) token
// whose bytes are bytes(left) + bytes(right). Byte-level BPE vocabularies
// store raw bytes ("Ġ" is stored as the byte 0x20).
//
// SentencePiece BPE vocabularies (metadata pre_tokenizer=spm) are stored the
// same way: "▁" as the byte 0x20, each `<0xNN>` byte-fallback token as kind
// Byte with the one byte NN. They carry no scores: the compiler derives the
// merges from them (every pair of normal tokens whose concatenation is a
// normal token, ordered by that token's score, highest first), and the
// tokenizer gives all merges that build the same token the rank of the
// first, so merging by rank picks the highest-scoring pair, leftmost on
// ties, exactly as SentencePiece's score-greedy BPE.
//
// The compiler's IR addresses weights by byte offset relative to data_offset.
// The writer is plain C++ so the compiler can use it without the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef LLMRT_MODELFILE_H
#define LLMRT_MODELFILE_H

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmrt {

constexpr char kModelFileMagic[8] = {'F', 'R', 'U', 'G', 'A', 'L', 'W', '1'};
constexpr uint32_t kModelFileVersion = 1;
constexpr uint64_t kModelFileHeaderSize = 64;
constexpr uint64_t kModelFileDataAlignment = 64;

enum class TokenKind : uint8_t { Normal = 0, Special = 1, Byte = 2 };

struct TokenEntry {
  std::string bytes; ///< Raw bytes of the token.
  TokenKind kind = TokenKind::Normal;
};

/// Vocabulary and BPE merges, in the form stored in the tokenizer section.
struct TokenizerData {
  std::vector<TokenEntry> tokens;
  std::vector<std::pair<uint32_t, uint32_t>> merges; ///< rank = index
};

/// Positions of the three sections inside a model file.
struct ModelFileLayout {
  uint64_t metaOffset = 0, metaSize = 0;
  uint64_t tokOffset = 0, tokSize = 0;
  uint64_t dataOffset = 0, dataSize = 0;
};

/// Receives the bytes of the weights blob from the caller's blob writer.
/// `write` returns false once an I/O error happened; later writes are no-ops.
class ByteSink {
public:
  virtual ~ByteSink() = default;
  virtual bool write(const void *data, size_t size) = 0;
};

/// Writes the weights blob into the sink; returns false on failure.
using BlobWriter = std::function<bool(ByteSink &)>;

/// Builds a model file. The weights blob is streamed, never held in memory by
/// the writer: the caller declares its size and supplies a callback that
/// writes exactly that many bytes.
///
///   llmrt::ModelFileWriter w;
///   w.setMetadata("arch", "llama");
///   w.tokenizer = ...;
///   std::string err = w.writeFile("model.fgw", blobSize,
///       [&](llmrt::ByteSink &s) { return s.write(ptr, blobSize); });
///   if (!err.empty()) ...
struct ModelFileWriter {
  /// Metadata in insertion order; setMetadata replaces an existing key.
  std::vector<std::pair<std::string, std::string>> metadata;
  TokenizerData tokenizer;

  void setMetadata(std::string key, std::string value);

  /// Section layout for a blob of `dataSize` bytes (header, metadata,
  /// tokenizer, padding, weights).
  ModelFileLayout layout(uint64_t dataSize) const;

  /// Writes the file at `path`. Returns "" on success, else an error message.
  std::string writeFile(const std::string &path, uint64_t dataSize,
                        const BlobWriter &writeBlob) const;
  /// Writes to an open stream positioned at the start of the model file.
  std::string writeStream(FILE *stream, uint64_t dataSize,
                          const BlobWriter &writeBlob) const;
  /// Appends the whole model file to `out` (e.g. to embed it).
  std::string writeMemory(std::vector<uint8_t> &out, uint64_t dataSize,
                          const BlobWriter &writeBlob) const;

private:
  std::string check(uint64_t dataSize) const;
  std::string prefixBytes(uint64_t dataSize) const; // header..data_offset
};

/// Escapes a metadata value (`\n` -> `\` `n`, `\` -> `\\`).
std::string escapeMetadataValue(std::string_view value);

/// A validated, read-only model file: memory-mapped from disk or borrowed
/// from a caller's buffer (which must outlive it).
class ModelFile {
public:
  ~ModelFile();
  ModelFile(const ModelFile &) = delete;
  ModelFile &operator=(const ModelFile &) = delete;

  /// Maps and validates `path`. On failure returns null and sets `error` to a
  /// message naming the file and what was expected versus found;
  /// `ioError` (optional) tells a system error from a format error.
  static std::unique_ptr<ModelFile> openFile(const std::string &path,
                                             std::string &error,
                                             bool *ioError = nullptr);
  /// Validates an in-memory model file; `name` is used in error messages.
  static std::unique_ptr<ModelFile> openMemory(const uint8_t *data,
                                               uint64_t size,
                                               const std::string &name,
                                               std::string &error);

  const std::string &name() const { return name_; }
  const ModelFileLayout &layout() const { return layout_; }
  const uint8_t *base() const { return base_; }
  uint64_t size() const { return size_; }
  const uint8_t *weights() const { return base_ + layout_.dataOffset; }
  uint64_t weightsSize() const { return layout_.dataSize; }

  const std::map<std::string, std::string> &metadata() const { return meta_; }
  /// Value of `key`, or null when absent.
  const std::string *get(const std::string &key) const;
  const TokenizerData &tokenizer() const { return tok_; }

private:
  ModelFile() = default;
  bool parse(std::string &error);

  std::string name_;
  const uint8_t *base_ = nullptr;
  uint64_t size_ = 0;
  bool mapped_ = false;
  ModelFileLayout layout_;
  std::map<std::string, std::string> meta_;
  TokenizerData tok_;
};

} // namespace llmrt

#endif // LLMRT_MODELFILE_H
