//===- PreTokenizer.cpp - GPT-2 regex pre-tokenizer by hand ---------------===//
//
// Matches, at each position, the first alternative of
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// that succeeds, exactly as a backtracking regex engine would. Invalid UTF-8
// bytes count as one "other" character each.
//
//===----------------------------------------------------------------------===//

#include "llmrt/Tokenizer.h"
#include "Unicode.h"

namespace llmrt {
namespace {

enum class CharClass : uint8_t { Space, Letter, Number, Other };

struct Char {
  uint32_t offset; // byte offset in the text
  uint32_t cp;
  CharClass cls;
};

std::vector<Char> classify(std::string_view text) {
  std::vector<Char> chars;
  chars.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0xFFFD;
    size_t n = decodeUtf8(text, i, cp);
    CharClass cls = CharClass::Other;
    if (n == 0)
      n = 1; // stray byte
    else if (isUnicodeSpace(cp))
      cls = CharClass::Space;
    else if (isUnicodeLetter(cp))
      cls = CharClass::Letter;
    else if (isUnicodeNumber(cp))
      cls = CharClass::Number;
    chars.push_back({static_cast<uint32_t>(i), cp, cls});
    i += n;
  }
  return chars;
}

// Length in characters of the contraction at chars[i], or 0.
size_t matchContraction(const std::vector<Char> &c, size_t i) {
  if (c[i].cp != '\'' || i + 1 >= c.size())
    return 0;
  const uint32_t a = c[i + 1].cp;
  if (a == 's' || a == 't' || a == 'm' || a == 'd')
    return 2;
  if (i + 2 >= c.size())
    return 0;
  const uint32_t b = c[i + 2].cp;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
      (a == 'l' && b == 'l'))
    return 3;
  return 0;
}

// ` ?X+` for the class X; returns the match length in characters or 0.
size_t matchOptSpaceRun(const std::vector<Char> &c, size_t i, CharClass cls) {
  size_t j = i;
  if (c[j].cp == ' ')
    ++j;
  if (j >= c.size() || c[j].cls != cls)
    return 0;
  while (j < c.size() && c[j].cls == cls)
    ++j;
  return j - i;
}

// Length of the GPT-2 regex match at chars[i] (always >= 1).
size_t matchGpt2(const std::vector<Char> &c, size_t i) {
  if (size_t n = matchContraction(c, i))
    return n;
  for (CharClass cls : {CharClass::Letter, CharClass::Number, CharClass::Other})
    if (size_t n = matchOptSpaceRun(c, i, cls))
      return n;
  if (c[i].cls != CharClass::Space)
    return 1; // unreachable: every character has a class
  size_t k = i;
  while (k < c.size() && c[k].cls == CharClass::Space)
    ++k;
  // \s+(?!\S): the whole run at the end of the text, else leave the last
  // whitespace character for the next piece (" ?\p{L}+" etc.).
  if (k == c.size())
    return k - i;
  if (k - i >= 2)
    return k - i - 1;
  return 1; // \s+
}

void splitGpt2(std::string_view text, std::vector<std::string_view> &out) {
  if (text.empty())
    return;
  std::vector<Char> c = classify(text);
  for (size_t i = 0; i < c.size();) {
    size_t n = matchGpt2(c, i);
    size_t begin = c[i].offset;
    size_t end = i + n < c.size() ? c[i + n].offset : text.size();
    out.push_back(text.substr(begin, end - begin));
    i += n;
  }
}

} // namespace

bool parsePreTokenizer(std::string_view name, PreTokenizer &out) {
  if (name == "gpt2")
    out = PreTokenizer::Gpt2;
  else if (name == "smollm")
    out = PreTokenizer::SmolLM;
  else if (name == "none")
    out = PreTokenizer::None;
  else if (name == "spm")
    out = PreTokenizer::Spm;
  else
    return false;
  return true;
}

std::vector<std::string_view> preTokenize(std::string_view text,
                                          PreTokenizer mode) {
  std::vector<std::string_view> pieces;
  if (mode == PreTokenizer::None || mode == PreTokenizer::Spm) {
    if (!text.empty())
      pieces.push_back(text);
    return pieces;
  }
  if (mode == PreTokenizer::Gpt2) {
    splitGpt2(text, pieces);
    return pieces;
  }
  // SmolLM: isolate every number character, then the GPT-2 regex.
  size_t runStart = 0;
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t n = decodeUtf8(text, i, cp);
    if (n == 0) {
      ++i;
      continue;
    }
    if (isUnicodeNumber(cp)) {
      splitGpt2(text.substr(runStart, i - runStart), pieces);
      pieces.push_back(text.substr(i, n));
      runStart = i + n;
    }
    i += n;
  }
  splitGpt2(text.substr(runStart), pieces);
  return pieces;
}

} // namespace llmrt
