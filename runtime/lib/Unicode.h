//===- Unicode.h - UTF-8 decoding and character classes --------*- C++ -*-===//
//
// Just enough Unicode for the GPT-2 pre-tokenizer and for streaming output,
// without a regex or ICU dependency.
//
// Character classes are an approximation of the Unicode general categories:
//  - whitespace (\s): exactly the White_Space property.
//  - numbers (\p{N}): ASCII digits, superscripts/subscripts, vulgar fractions,
//    Arabic-Indic, Devanagari, Bengali and fullwidth digits, Roman numerals,
//    circled/parenthesized numbers.
//  - letters (\p{L}): ASCII letters, plus every other code point that is not
//    whitespace, number, a control character, or in a punctuation / symbol /
//    combining-mark / emoji block (Latin-1 punctuation, General Punctuation,
//    currency, arrows, math, box drawing, dingbats, CJK punctuation,
//    fullwidth ASCII punctuation, emoji and pictographs, variation selectors,
//    combining diacritics, private use).
// Scripts without case (CJK, Hangul, Thai...) are therefore letters, as in
// Unicode; rare symbols outside the listed blocks are misclassified as
// letters, which only changes how such text is split into pieces.
//
//===----------------------------------------------------------------------===//

#ifndef LLMRT_LIB_UNICODE_H
#define LLMRT_LIB_UNICODE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmrt {

/// Length of the valid UTF-8 sequence at s[i] (1-4), or 0 if the bytes there
/// are not a complete, valid, shortest-form sequence. Sets `cp`.
size_t decodeUtf8(std::string_view s, size_t i, uint32_t &cp);

/// True if the bytes s[i..] are a proper prefix of some valid UTF-8 sequence
/// (i.e. more bytes could complete it).
bool isIncompleteUtf8(std::string_view s, size_t i);

bool isValidUtf8(std::string_view s);

void appendUtf8(std::string &out, uint32_t cp);

bool isUnicodeSpace(uint32_t cp);
bool isUnicodeNumber(uint32_t cp);
bool isUnicodeLetter(uint32_t cp);

} // namespace llmrt

#endif // LLMRT_LIB_UNICODE_H
