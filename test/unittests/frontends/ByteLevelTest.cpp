//===- ByteLevelTest.cpp - GPT-2 byte-to-unicode mapping ------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/ByteLevel.h"

#include "gtest/gtest.h"

#include <set>

using namespace frugal::safetensors;

namespace {

TEST(ByteLevel, KnownSpellings) {
  EXPECT_EQ(byteToCodePoint(' '), 0x120u);  // "Ġ"
  EXPECT_EQ(byteToCodePoint('\n'), 0x10au); // "Ċ"
  EXPECT_EQ(byteToCodePoint(0), 0x100u);
  EXPECT_EQ(byteToCodePoint('!'), uint32_t('!'));
  EXPECT_EQ(byteToCodePoint(0xad), 0x143u); // soft hyphen is remapped
  EXPECT_EQ(byteToCodePoint(0xff), 0xffu);
}

TEST(ByteLevel, IsABijection) {
  std::set<uint32_t> seen;
  for (unsigned b = 0; b < 256; ++b) {
    uint32_t cp = byteToCodePoint(uint8_t(b));
    EXPECT_TRUE(seen.insert(cp).second);
    EXPECT_EQ(codePointToByte(cp), uint8_t(b));
  }
  EXPECT_EQ(codePointToByte(0x20), std::nullopt);
  EXPECT_EQ(codePointToByte(0x144), std::nullopt);
}

TEST(ByteLevel, DecodesTokens) {
  EXPECT_EQ(decodeByteLevel("\xc4\xa0the"), std::string(" the")); // "Ġthe"
  EXPECT_EQ(decodeByteLevel("\xc4\x8a"), std::string("\n"));      // "Ċ"
  // "Ã©" spells the two UTF-8 bytes of "é".
  EXPECT_EQ(decodeByteLevel("\xc3\x83\xc2\xa9"), std::string("\xc3\xa9"));
  EXPECT_EQ(decodeByteLevel(""), std::string());
}

TEST(ByteLevel, RejectsTextThatSpellsNoBytes) {
  EXPECT_EQ(decodeByteLevel(" the"), std::nullopt);         // raw space
  EXPECT_EQ(decodeByteLevel("\xe2\x82\xac"), std::nullopt); // "€"
  EXPECT_EQ(decodeByteLevel("\xc2\xad"), std::nullopt);     // U+00AD
  EXPECT_EQ(decodeByteLevel("\xc4"), std::nullopt);         // truncated
  EXPECT_EQ(decodeByteLevel("\xc0\xa1"), std::nullopt);     // overlong "!"
}

TEST(ByteLevel, RoundTripsEveryByte) {
  std::string all;
  for (unsigned b = 0; b < 256; ++b)
    all.push_back(char(b));
  EXPECT_EQ(decodeByteLevel(encodeByteLevel(all)), all);
}

} // namespace
