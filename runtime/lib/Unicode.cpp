//===- Unicode.cpp - UTF-8 decoding and character classes -----------------===//

#include "Unicode.h"

namespace llmrt {
namespace {

struct Range {
  uint32_t lo, hi;
};

template <size_t N> bool inRanges(const Range (&ranges)[N], uint32_t cp) {
  for (const Range &r : ranges)
    if (cp >= r.lo && cp <= r.hi)
      return true;
  return false;
}

// Valid range of the second byte of a sequence, given its lead byte.
void secondByteRange(uint8_t lead, uint8_t &lo, uint8_t &hi) {
  lo = 0x80;
  hi = 0xBF;
  if (lead == 0xE0)
    lo = 0xA0;
  else if (lead == 0xED)
    hi = 0x9F;
  else if (lead == 0xF0)
    lo = 0x90;
  else if (lead == 0xF4)
    hi = 0x8F;
}

size_t sequenceLength(uint8_t lead) {
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 0;
}

} // namespace

size_t decodeUtf8(std::string_view s, size_t i, uint32_t &cp) {
  const auto *p = reinterpret_cast<const uint8_t *>(s.data());
  const size_t n = sequenceLength(p[i]);
  if (n == 0 || i + n > s.size())
    return 0;
  if (n == 1) {
    cp = p[i];
    return 1;
  }
  uint8_t lo, hi;
  secondByteRange(p[i], lo, hi);
  if (p[i + 1] < lo || p[i + 1] > hi)
    return 0;
  for (size_t k = 2; k < n; ++k)
    if ((p[i + k] & 0xC0) != 0x80)
      return 0;
  static const uint8_t leadMask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  uint32_t v = p[i] & leadMask[n];
  for (size_t k = 1; k < n; ++k)
    v = (v << 6) | (p[i + k] & 0x3F);
  cp = v;
  return n;
}

bool isIncompleteUtf8(std::string_view s, size_t i) {
  const auto *p = reinterpret_cast<const uint8_t *>(s.data());
  const size_t n = sequenceLength(p[i]);
  const size_t have = s.size() - i;
  if (n <= 1 || have >= n)
    return false;
  if (have >= 2) {
    uint8_t lo, hi;
    secondByteRange(p[i], lo, hi);
    if (p[i + 1] < lo || p[i + 1] > hi)
      return false;
  }
  for (size_t k = 2; k < have; ++k)
    if ((p[i + k] & 0xC0) != 0x80)
      return false;
  return true;
}

bool isValidUtf8(std::string_view s) {
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    const size_t n = decodeUtf8(s, i, cp);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool isUnicodeSpace(uint32_t cp) {
  static const Range kSpace[] = {{0x09, 0x0D},     {0x20, 0x20},
                                 {0x85, 0x85},     {0xA0, 0xA0},
                                 {0x1680, 0x1680}, {0x2000, 0x200A},
                                 {0x2028, 0x2029}, {0x202F, 0x202F},
                                 {0x205F, 0x205F}, {0x3000, 0x3000}};
  return inRanges(kSpace, cp);
}

bool isUnicodeNumber(uint32_t cp) {
  if (cp < 0x80)
    return cp >= '0' && cp <= '9';
  static const Range kNumber[] = {
      {0xB2, 0xB3},     {0xB9, 0xB9},     {0xBC, 0xBE},
      {0x660, 0x669},   {0x6F0, 0x6F9},   {0x966, 0x96F},
      {0x9E6, 0x9EF},   {0x2070, 0x2070}, {0x2074, 0x2079},
      {0x2080, 0x2089}, {0x2150, 0x2189}, {0x2460, 0x249B},
      {0x24EA, 0x24FF}, {0x2776, 0x2793}, {0x3007, 0x3007},
      {0x3021, 0x3029}, {0xFF10, 0xFF19}};
  return inRanges(kNumber, cp);
}

bool isUnicodeLetter(uint32_t cp) {
  if (cp < 0x80)
    return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  if (cp > 0x10FFFF || isUnicodeSpace(cp) || isUnicodeNumber(cp))
    return false;
  // Not letters: controls, punctuation, symbols, combining marks, emoji.
  static const Range kNotLetter[] = {
      {0x80, 0xA9},       {0xAB, 0xB4},       {0xB6, 0xB9},
      {0xBB, 0xBF},       {0xD7, 0xD7},       {0xF7, 0xF7},
      {0x2C2, 0x2C5},     {0x2D2, 0x2DF},     {0x2E5, 0x2EB},
      {0x2ED, 0x2ED},     {0x2EF, 0x36F},     {0x37E, 0x37E},
      {0x384, 0x385},     {0x387, 0x387},     {0x483, 0x489},
      {0x55A, 0x55F},     {0x589, 0x58A},     {0x591, 0x5C7},
      {0x60C, 0x60D},     {0x61B, 0x61F},     {0x64B, 0x65F},
      {0x6D4, 0x6D4},     {0x964, 0x965},     {0xE3F, 0xE3F},
      {0x1AB0, 0x1AFF},   {0x1DC0, 0x1DFF},   {0x2000, 0x206F},
      {0x20A0, 0x20FF},   {0x2100, 0x2101},   {0x2103, 0x2106},
      {0x2108, 0x2109},   {0x2114, 0x2114},   {0x2116, 0x2118},
      {0x211E, 0x2123},   {0x2125, 0x2125},   {0x2127, 0x2127},
      {0x2129, 0x2129},   {0x212E, 0x212E},   {0x213A, 0x213B},
      {0x2140, 0x2144},   {0x214A, 0x214D},   {0x214F, 0x214F},
      {0x2190, 0x245F},   {0x2500, 0x2775},   {0x2794, 0x2BFF},
      {0x2E00, 0x2E7F},   {0x3001, 0x3004},   {0x3008, 0x3020},
      {0x3030, 0x3030},   {0x303D, 0x303F},   {0x309B, 0x309C},
      {0x30A0, 0x30A0},   {0x30FB, 0x30FB},   {0xD800, 0xF8FF},
      {0xFD3E, 0xFD3F},   {0xFE00, 0xFE6F},   {0xFEFF, 0xFEFF},
      {0xFF01, 0xFF0F},   {0xFF1A, 0xFF20},   {0xFF3B, 0xFF40},
      {0xFF5B, 0xFF65},   {0xFFE0, 0xFFFF},   {0x1D100, 0x1D1FF},
      {0x1F000, 0x1FAFF}, {0xE0000, 0x10FFFF}};
  return !inRanges(kNotLetter, cp);
}

} // namespace llmrt
