//===- ByteLevel.cpp - GPT-2 byte-to-unicode mapping ----------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/ByteLevel.h"

#include <iterator>

namespace frugal::safetensors {

static bool isSelfMapped(unsigned byte) {
  return (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) ||
         (byte >= 174 && byte <= 255);
}

namespace {
/// Both directions of the mapping, built once.
struct Tables {
  uint16_t toCodePoint[256];
  int16_t toByte[256 + 68];
  Tables() {
    for (int16_t &b : toByte)
      b = -1;
    uint32_t next = 256;
    for (unsigned b = 0; b < 256; ++b) {
      uint32_t cp = isSelfMapped(b) ? b : next++;
      toCodePoint[b] = uint16_t(cp);
      toByte[cp] = int16_t(b);
    }
  }
};
const Tables &tables() {
  static const Tables t;
  return t;
}
} // namespace

uint32_t byteToCodePoint(uint8_t byte) { return tables().toCodePoint[byte]; }

std::optional<uint8_t> codePointToByte(uint32_t codePoint) {
  const Tables &t = tables();
  if (codePoint >= std::size(t.toByte) || t.toByte[codePoint] < 0)
    return std::nullopt;
  return uint8_t(t.toByte[codePoint]);
}

std::optional<std::string> decodeByteLevel(llvm::StringRef token) {
  std::string out;
  out.reserve(token.size());
  for (size_t i = 0; i < token.size();) {
    uint8_t c = token[i];
    uint32_t cp;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if ((c & 0xe0) == 0xc0 && i + 1 < token.size() &&
               (uint8_t(token[i + 1]) & 0xc0) == 0x80) {
      cp = (uint32_t(c & 0x1f) << 6) | (uint8_t(token[i + 1]) & 0x3f);
      if (cp < 0x80)
        return std::nullopt; // overlong encoding
      i += 2;
    } else {
      // Three- and four-byte sequences encode code points above U+07FF,
      // none of which spells a byte.
      return std::nullopt;
    }
    std::optional<uint8_t> byte = codePointToByte(cp);
    if (!byte)
      return std::nullopt;
    out.push_back(char(*byte));
  }
  return out;
}

std::string encodeByteLevel(llvm::StringRef bytes) {
  std::string out;
  for (char ch : bytes) {
    uint32_t cp = byteToCodePoint(uint8_t(ch));
    if (cp < 0x80) {
      out.push_back(char(cp));
    } else {
      out.push_back(char(0xc0 | (cp >> 6)));
      out.push_back(char(0x80 | (cp & 0x3f)));
    }
  }
  return out;
}

} // namespace frugal::safetensors
