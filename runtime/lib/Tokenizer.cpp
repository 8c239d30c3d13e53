//===- Tokenizer.cpp - Byte-level BPE encode/decode -----------------------===//

#include "llmrt/Tokenizer.h"
#include "Unicode.h"

#include <algorithm>
#include <queue>

namespace llmrt {

std::unique_ptr<Tokenizer> Tokenizer::create(const TokenizerData &data,
                                             PreTokenizer mode,
                                             std::string &error,
                                             int32_t bosId) {
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->mode_ = mode;
  t->bos_ = bosId;
  t->tokens_ = data.tokens;
  const int32_t n = static_cast<int32_t>(t->tokens_.size());
  // Lookup by bytes, preferring normal tokens, then byte tokens, then the
  // lowest id.
  std::unordered_map<std::string_view, int32_t> byBytes;
  byBytes.reserve(t->tokens_.size());
  for (int pass = 0; pass < 2; ++pass)
    for (int32_t id = 0; id < n; ++id) {
      const TokenEntry &e = t->tokens_[id];
      bool wanted = pass == 0 ? e.kind == TokenKind::Normal
                              : e.kind == TokenKind::Byte;
      if (wanted && !e.bytes.empty())
        byBytes.emplace(e.bytes, id);
    }
  for (int b = 0; b < 256; ++b) {
    char c = static_cast<char>(b);
    auto it = byBytes.find(std::string_view(&c, 1));
    t->byteToken_[b] = it == byBytes.end() ? -1 : it->second;
  }
  t->merges_.reserve(data.merges.size());
  std::unordered_map<int32_t, uint32_t> firstRank;
  std::string joined;
  for (size_t rank = 0; rank < data.merges.size(); ++rank) {
    const auto [l, r] = data.merges[rank];
    if (l >= data.tokens.size() || r >= data.tokens.size()) {
      error = "merge " + std::to_string(rank) + " refers to a token id >= " +
              std::to_string(n);
      return nullptr;
    }
    joined = t->tokens_[l].bytes + t->tokens_[r].bytes;
    auto it = byBytes.find(joined);
    if (it == byBytes.end()) {
      error = "merge " + std::to_string(rank) + " (" + std::to_string(l) +
              ", " + std::to_string(r) +
              "): no token has the bytes of the two tokens joined";
      return nullptr;
    }
    // A pair listed twice keeps its lowest rank. Spm: every merge giving
    // the same token takes the rank of the first one (equal scores).
    uint32_t r32 = static_cast<uint32_t>(rank);
    if (mode == PreTokenizer::Spm)
      r32 = firstRank.emplace(it->second, r32).first->second;
    t->merges_.emplace(uint64_t(l) << 32 | r, MergeInfo{r32, it->second});
  }
  if (mode == PreTokenizer::Spm)
    for (int32_t id = 0; id < n; ++id)
      if (t->tokens_[id].kind == TokenKind::Normal &&
          !t->tokens_[id].bytes.empty())
        t->normalIds_.emplace(t->tokens_[id].bytes, id);
  for (int32_t id = 0; id < n; ++id)
    if (t->tokens_[id].kind == TokenKind::Special &&
        !t->tokens_[id].bytes.empty())
      t->specials_.push_back(id);
  std::sort(t->specials_.begin(), t->specials_.end(),
            [&](int32_t a, int32_t b) {
              size_t la = t->tokens_[a].bytes.size(),
                     lb = t->tokens_[b].bytes.size();
              return la != lb ? la > lb : a < b;
            });
  return t;
}

void Tokenizer::encodePiece(std::string_view piece,
                            std::vector<int32_t> &out) const {
  std::vector<int32_t> ids(piece.size());
  for (size_t i = 0; i < piece.size(); ++i)
    ids[i] = byteToken_[static_cast<uint8_t>(piece[i])];
  mergeSymbols(ids, out);
}

bool Tokenizer::spmSymbols(std::string_view piece, std::vector<int32_t> &ids,
                           std::string &error) const {
  for (size_t i = 0; i < piece.size();) {
    uint32_t cp;
    size_t n = decodeUtf8(piece, i, cp);
    if (n == 0)
      n = 1; // a stray byte: its byte token
    auto it = normalIds_.find(piece.substr(i, n));
    if (it != normalIds_.end()) {
      ids.push_back(it->second);
    } else {
      for (size_t k = i; k < i + n; ++k) {
        int32_t b = byteToken_[static_cast<uint8_t>(piece[k])];
        if (b < 0) {
          char buf[64];
          snprintf(buf, sizeof(buf),
                   "byte 0x%02x has no token in the vocabulary",
                   static_cast<uint8_t>(piece[k]));
          error = buf;
          return false;
        }
        ids.push_back(b);
      }
    }
    i += n;
  }
  return true;
}

void Tokenizer::mergeSymbols(std::vector<int32_t> &ids,
                             std::vector<int32_t> &out) const {
  struct Sym {
    int32_t id;
    int32_t prev, next;
  };
  const size_t count = ids.size();
  std::vector<Sym> syms(count);
  for (size_t i = 0; i < count; ++i)
    syms[i] = {ids[i], static_cast<int32_t>(i) - 1,
               i + 1 < count ? static_cast<int32_t>(i + 1) : -1};
  struct Cand {
    uint32_t rank;
    int32_t pos, left, right;
    bool operator>(const Cand &o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto push = [&](int32_t pos) {
    if (pos < 0 || syms[pos].next < 0)
      return;
    const int32_t l = syms[pos].id, r = syms[syms[pos].next].id;
    auto it = merges_.find(uint64_t(uint32_t(l)) << 32 | uint32_t(r));
    if (it != merges_.end())
      heap.push({it->second.rank, pos, l, r});
  };
  for (size_t i = 0; i + 1 < count; ++i)
    push(static_cast<int32_t>(i));
  while (!heap.empty()) {
    Cand c = heap.top();
    heap.pop();
    Sym &s = syms[c.pos];
    // Skip stale candidates: either side changed since it was pushed.
    if (s.id != c.left || s.next < 0 || syms[s.next].id != c.right)
      continue;
    Sym &right = syms[s.next];
    s.id = merges_.at(uint64_t(uint32_t(c.left)) << 32 | uint32_t(c.right))
               .merged;
    right.id = -1; // dead
    s.next = right.next;
    if (s.next >= 0)
      syms[s.next].prev = c.pos;
    push(s.prev);
    push(c.pos);
  }
  for (int32_t i = count == 0 ? -1 : 0; i >= 0; i = syms[i].next)
    out.push_back(syms[i].id);
}

bool Tokenizer::encode(std::string_view text, int32_t bosId,
                       std::vector<int32_t> &out, std::string &error) const {
  out.clear();
  if (bosId >= 0)
    out.push_back(bosId);
  if (mode_ == PreTokenizer::Spm)
    return encodeSpm(text, out, error);
  for (unsigned char c : text)
    if (byteToken_[c] < 0) {
      char buf[64];
      snprintf(buf, sizeof(buf), "byte 0x%02x has no token in the vocabulary",
               c);
      error = buf;
      return false;
    }
  auto encodeSpan = [&](std::string_view span) {
    for (std::string_view piece : preTokenize(span, mode_))
      encodePiece(piece, out);
  };
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    int32_t match = -1;
    for (int32_t id : specials_) {
      const std::string &s = tokens_[id].bytes;
      if (text.compare(i, s.size(), s) == 0) {
        match = id; // specials_ is sorted longest first
        break;
      }
    }
    if (match < 0) {
      ++i;
      continue;
    }
    encodeSpan(text.substr(start, i - start));
    out.push_back(match);
    i += tokens_[match].bytes.size();
    start = i;
  }
  encodeSpan(text.substr(start));
  return true;
}

bool Tokenizer::encodeSpm(std::string_view text, std::vector<int32_t> &out,
                          std::string &error) const {
  // A span gets the dummy-prefix space at the start of the text and after
  // a special token, as llama.cpp does.
  std::vector<int32_t> ids;
  auto encodeSpan = [&](std::string_view span) {
    if (span.empty())
      return true;
    std::string piece = " ";
    piece.append(span);
    ids.clear();
    if (!spmSymbols(piece, ids, error))
      return false;
    mergeSymbols(ids, out);
    return true;
  };
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    int32_t match = -1;
    for (int32_t id : specials_) {
      const std::string &s = tokens_[id].bytes;
      if (text.compare(i, s.size(), s) == 0) {
        match = id;
        break;
      }
    }
    if (match < 0) {
      ++i;
      continue;
    }
    if (!encodeSpan(text.substr(start, i - start)))
      return false;
    out.push_back(match);
    i += tokens_[match].bytes.size();
    start = i;
  }
  return encodeSpan(text.substr(start));
}

std::string_view Tokenizer::tokenText(int32_t prev, int32_t id) const {
  std::string_view bytes = tokenBytes(id);
  if (mode_ == PreTokenizer::Spm && prev >= 0 && prev == bos_ &&
      !bytes.empty() && bytes[0] == ' ')
    bytes.remove_prefix(1);
  return bytes;
}

std::string_view Tokenizer::tokenBytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_.size())
    return {};
  return tokens_[id].bytes;
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids) const {
  std::string out;
  int32_t prev = -1;
  for (int32_t id : ids) {
    out += tokenText(prev, id);
    prev = id;
  }
  return out;
}

std::string StreamDecoder::push(std::string_view bytes) {
  pending_.append(bytes.data(), bytes.size());
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    uint32_t cp;
    size_t n = decodeUtf8(pending_, i, cp);
    if (n > 0) {
      out.append(pending_, i, n);
      i += n;
    } else if (isIncompleteUtf8(pending_, i)) {
      break; // wait for the rest of the sequence
    } else {
      appendUtf8(out, 0xFFFD);
      ++i;
    }
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  if (!pending_.empty())
    appendUtf8(out, 0xFFFD);
  pending_.clear();
  return out;
}

std::string formatChatML(std::string_view system, std::string_view prompt) {
  std::string out;
  if (!system.empty()) {
    out += "<|im_start|>system\n";
    out += system;
    out += "<|im_end|>\n";
  }
  out += "<|im_start|>user\n";
  out += prompt;
  out += "<|im_end|>\n<|im_start|>assistant\n";
  return out;
}

} // namespace llmrt
