//===- ProtoReader.cpp - protobuf wire-format decoder ---------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/ProtoReader.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"

using llvm::Error;

namespace frugal::onnx {

static Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

llvm::StringRef wireTypeName(WireType type) {
  switch (type) {
  case WireType::Varint:
    return "varint";
  case WireType::Fixed64:
    return "fixed64";
  case WireType::LengthDelimited:
    return "length-delimited";
  case WireType::StartGroup:
    return "start-group";
  case WireType::EndGroup:
    return "end-group";
  case WireType::Fixed32:
    return "fixed32";
  }
  return "invalid";
}

llvm::Expected<uint64_t> decodeVarint(llvm::ArrayRef<uint8_t> &bytes,
                                      uint64_t base) {
  uint64_t value = 0;
  for (size_t i = 0; i < 10; ++i) {
    if (i == bytes.size())
      return fail(llvm::formatv("truncated varint at byte {0}: the buffer "
                                "ends after {1} continuation byte(s)",
                                base, i));
    uint8_t byte = bytes[i];
    // The tenth byte may only contribute the top bit of a 64-bit value.
    if (i == 9 && byte > 1)
      return fail(llvm::formatv("varint at byte {0} overflows 64 bits", base));
    value |= uint64_t(byte & 0x7f) << (7 * i);
    if (!(byte & 0x80)) {
      bytes = bytes.drop_front(i + 1);
      return value;
    }
  }
  return fail(
      llvm::formatv("varint at byte {0} is longer than 10 bytes", base));
}

Error ProtoReader::next(ProtoField &field) {
  field = ProtoField();
  field.offset = offset();
  llvm::Expected<uint64_t> tag = decodeVarint(rest, field.offset);
  if (!tag)
    return tag.takeError();
  uint64_t number = *tag >> 3;
  unsigned type = unsigned(*tag & 7);
  if (number == 0 || number > (1u << 29) - 1)
    return fail(llvm::formatv("invalid field number {0} at byte {1}", number,
                              field.offset));
  if (type > 5)
    return fail(llvm::formatv("field {0} at byte {1} has invalid wire type "
                              "{2}",
                              number, field.offset, type));
  field.number = uint32_t(number);
  field.type = WireType(type);
  switch (field.type) {
  case WireType::Varint: {
    llvm::Expected<uint64_t> value = decodeVarint(rest, offset());
    if (!value)
      return value.takeError();
    field.value = *value;
    return Error::success();
  }
  case WireType::Fixed64:
  case WireType::Fixed32: {
    size_t size = field.type == WireType::Fixed64 ? 8 : 4;
    if (rest.size() < size)
      return fail(llvm::formatv("field {0} ({1}) at byte {2} is truncated: "
                                "expected {3} bytes, found {4}",
                                number, wireTypeName(field.type), field.offset,
                                size, rest.size()));
    field.value = size == 8 ? llvm::support::endian::read64le(rest.data())
                            : llvm::support::endian::read32le(rest.data());
    field.bytes = rest.take_front(size);
    rest = rest.drop_front(size);
    return Error::success();
  }
  case WireType::LengthDelimited: {
    uint64_t lengthAt = offset();
    llvm::Expected<uint64_t> length = decodeVarint(rest, lengthAt);
    if (!length)
      return length.takeError();
    if (*length > rest.size())
      return fail(llvm::formatv("length {0} of field {1} at byte {2} extends "
                                "past the end of its message ({3} bytes "
                                "left)",
                                *length, number, field.offset, rest.size()));
    field.bytes = rest.take_front(size_t(*length));
    field.value = *length;
    rest = rest.drop_front(size_t(*length));
    return Error::success();
  }
  case WireType::StartGroup:
  case WireType::EndGroup:
    return Error::success();
  }
  return Error::success();
}

Error ProtoReader::skipGroup(const ProtoField &startField, unsigned depth) {
  if (depth >= kMaxGroupDepth)
    return fail(llvm::formatv("groups nested deeper than {0} levels at byte "
                              "{1}",
                              kMaxGroupDepth, startField.offset));
  while (!atEnd()) {
    ProtoField field;
    if (Error err = next(field))
      return err;
    if (field.type == WireType::EndGroup) {
      if (field.number != startField.number)
        return fail(llvm::formatv("end-group tag of field {0} at byte {1} "
                                  "closes the group of field {2}",
                                  field.number, field.offset,
                                  startField.number));
      return Error::success();
    }
    if (field.type == WireType::StartGroup)
      if (Error err = skipGroup(field, depth + 1))
        return err;
  }
  return fail(llvm::formatv("group of field {0} at byte {1} is not closed "
                            "before the end of its message",
                            startField.number, startField.offset));
}

Error appendVarints(const ProtoField &field,
                    llvm::SmallVectorImpl<uint64_t> &out) {
  if (field.type == WireType::Varint) {
    out.push_back(field.value);
    return Error::success();
  }
  // Packed: the payload is a run of varints. Its offset is that of the
  // field's tag; the payload starts a few bytes later.
  llvm::ArrayRef<uint8_t> bytes = field.bytes;
  while (!bytes.empty()) {
    uint64_t at = field.offset + (field.bytes.size() - bytes.size());
    llvm::Expected<uint64_t> value = decodeVarint(bytes, at);
    if (!value)
      return fail(llvm::formatv("packed field {0} at byte {1}: {2}",
                                field.number, field.offset,
                                llvm::toString(value.takeError())));
    out.push_back(*value);
  }
  return Error::success();
}

} // namespace frugal::onnx
