//===- TestUtil.h - Shared fixtures for the llmrt unit tests ----*- C++ -*-===//

#ifndef LLMRT_TEST_TESTUTIL_H
#define LLMRT_TEST_TESTUTIL_H

#include "llmrt/ModelFile.h"

#include <string>
#include <utility>
#include <vector>

namespace llmrt::test {

/// 256 single-byte tokens (id = byte), then one token per merge (in order,
/// id 256 + rank), then the given special tokens.
inline TokenizerData
makeVocab(const std::vector<std::pair<std::string, std::string>> &merges,
          const std::vector<std::string> &specials = {}) {
  TokenizerData d;
  for (int b = 0; b < 256; ++b)
    d.tokens.push_back({std::string(1, static_cast<char>(b)),
                        TokenKind::Normal});
  auto idOf = [&](const std::string &s) -> uint32_t {
    for (size_t i = 0; i < d.tokens.size(); ++i)
      if (d.tokens[i].bytes == s && d.tokens[i].kind == TokenKind::Normal)
        return static_cast<uint32_t>(i);
    return UINT32_MAX;
  };
  for (const auto &[l, r] : merges) {
    uint32_t li = idOf(l), ri = idOf(r);
    if (idOf(l + r) == UINT32_MAX)
      d.tokens.push_back({l + r, TokenKind::Normal});
    d.merges.push_back({li, ri});
  }
  for (const std::string &s : specials)
    d.tokens.push_back({s, TokenKind::Special});
  return d;
}

inline int32_t idOf(const TokenizerData &d, const std::string &bytes) {
  for (size_t i = 0; i < d.tokens.size(); ++i)
    if (d.tokens[i].bytes == bytes)
      return static_cast<int32_t>(i);
  return -1;
}

/// A model file in memory with the given metadata and a blob of `blob`.
inline std::vector<uint8_t>
makeModelBytes(const std::vector<std::pair<std::string, std::string>> &meta,
               const TokenizerData &tok, const std::string &blob,
               std::string *error = nullptr) {
  ModelFileWriter w;
  for (const auto &[k, v] : meta)
    w.setMetadata(k, v);
  w.tokenizer = tok;
  std::vector<uint8_t> out;
  std::string err = w.writeMemory(out, blob.size(), [&](ByteSink &s) {
    return s.write(blob.data(), blob.size());
  });
  if (error)
    *error = err;
  return out;
}

} // namespace llmrt::test

#endif // LLMRT_TEST_TESTUTIL_H
