//===- ByteLevel.h - GPT-2 byte-to-unicode mapping --------------*- C++ -*-===//
//
// Part of Frugal. Byte-level BPE vocabularies spell every byte as a
// printable code point: bytes 33–126, 161–172 and 174–255 stand for
// themselves, the 68 others map to U+0100 onwards in byte order (so the
// space 0x20 is "Ġ", U+0120).
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_SAFETENSORS_BYTELEVEL_H
#define FRUGAL_FRONTENDS_SAFETENSORS_BYTELEVEL_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace frugal::safetensors {

/// The code point that spells `byte`.
uint32_t byteToCodePoint(uint8_t byte);

/// The byte spelled by `codePoint`, or nullopt if it spells none.
std::optional<uint8_t> codePointToByte(uint32_t codePoint);

/// Decodes a byte-level token (UTF-8 of mapped code points) to raw bytes;
/// nullopt if the text is not valid UTF-8 or uses an unmapped code point.
std::optional<std::string> decodeByteLevel(llvm::StringRef token);

/// Spells raw bytes as a byte-level token (UTF-8).
std::string encodeByteLevel(llvm::StringRef bytes);

} // namespace frugal::safetensors

#endif // FRUGAL_FRONTENDS_SAFETENSORS_BYTELEVEL_H
