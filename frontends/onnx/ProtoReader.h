//===- ProtoReader.h - protobuf wire-format decoder -------------*- C++ -*-===//
//
// Part of Frugal. A small, allocation-free reader of the protobuf wire
// format: it walks the fields of one message held in a byte range and hands
// out their payloads as views into that range. Every length is checked
// against the bytes that remain, so a malformed buffer yields an error,
// never a read past its end. Nothing here knows about ONNX.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_ONNX_PROTOREADER_H
#define FRUGAL_FRONTENDS_ONNX_PROTOREADER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>

namespace frugal::onnx {

/// The wire types of the protobuf encoding.
enum class WireType : uint8_t {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  StartGroup = 3,
  EndGroup = 4,
  Fixed32 = 5,
};

/// "varint", "fixed64", "length-delimited", ...
llvm::StringRef wireTypeName(WireType type);

/// One decoded field. `value` holds a varint or the bits of a fixed32/64;
/// `bytes` the payload of a length-delimited field (a view into the buffer).
struct ProtoField {
  uint32_t number = 0;
  WireType type = WireType::Varint;
  uint64_t value = 0;
  llvm::ArrayRef<uint8_t> bytes;
  /// Offset of the field's tag from the start of the outermost buffer.
  uint64_t offset = 0;
};

/// Decodes a varint from the front of `bytes` and drops it from the view.
/// Fails on a varint that runs past the end or is longer than 10 bytes.
/// `base` is the offset of `bytes` in the outermost buffer, for messages.
llvm::Expected<uint64_t> decodeVarint(llvm::ArrayRef<uint8_t> &bytes,
                                      uint64_t base);

class ProtoReader {
public:
  /// Deepest nesting of groups that skipping an unknown field follows.
  static constexpr unsigned kMaxGroupDepth = 32;

  /// Reads the message in `bytes`, which starts `base` bytes into the
  /// outermost buffer (offsets in error messages are relative to it).
  explicit ProtoReader(llvm::ArrayRef<uint8_t> bytes, uint64_t base = 0)
      : rest(bytes), start(bytes.data()), base(base) {}

  bool atEnd() const { return rest.empty(); }

  /// Decodes the next field. Unknown groups are consumed by the caller with
  /// skipGroup; every other wire type's payload is in `field`.
  llvm::Error next(ProtoField &field);

  /// Offset of the next unread byte in the outermost buffer.
  uint64_t offset() const { return base + uint64_t(rest.data() - start); }

  /// Consumes the fields of a group up to its matching end-group tag.
  llvm::Error skipGroup(const ProtoField &startField, unsigned depth = 0);

private:
  llvm::ArrayRef<uint8_t> rest;
  const uint8_t *start;
  uint64_t base;
};

/// Appends the values of a repeated varint field: one value for an
/// unpacked field, every value of a packed (length-delimited) one.
llvm::Error appendVarints(const ProtoField &field,
                          llvm::SmallVectorImpl<uint64_t> &out);

} // namespace frugal::onnx

#endif // FRUGAL_FRONTENDS_ONNX_PROTOREADER_H
