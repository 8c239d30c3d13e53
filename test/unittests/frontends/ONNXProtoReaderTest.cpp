//===- ONNXProtoReaderTest.cpp - protobuf wire-format decoding ------------===//
//
// Part of Frugal. Edge cases of varints and lengths that lit cannot reach
// precisely: 10-byte varints, overflow, every truncation point.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/ProtoReader.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

using namespace frugal::onnx;

namespace {

llvm::ArrayRef<uint8_t> bytesOf(const std::vector<uint8_t> &v) { return v; }

std::string errorOf(llvm::Error err) {
  return err ? llvm::toString(std::move(err)) : std::string("<no error>");
}

TEST(ONNXProtoReader, DecodesVarints) {
  struct Case {
    std::vector<uint8_t> bytes;
    uint64_t value;
  } cases[] = {
      {{0x00}, 0},
      {{0x01}, 1},
      {{0x7f}, 127},
      {{0x80, 0x01}, 128},
      {{0xac, 0x02}, 300},
      // -1 as int64: ten bytes, the last holding the top bit.
      {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
       ~uint64_t(0)},
      // Redundant continuation bytes are valid.
      {{0x81, 0x80, 0x00}, 1},
  };
  for (const Case &c : cases) {
    llvm::ArrayRef<uint8_t> view = bytesOf(c.bytes);
    llvm::Expected<uint64_t> v = decodeVarint(view, 0);
    ASSERT_TRUE(bool(v)) << llvm::toString(v.takeError());
    EXPECT_EQ(*v, c.value);
    EXPECT_TRUE(view.empty());
  }
}

TEST(ONNXProtoReader, RejectsBadVarints) {
  std::vector<uint8_t> truncated = {0x80, 0x80};
  llvm::ArrayRef<uint8_t> view = bytesOf(truncated);
  llvm::Expected<uint64_t> v = decodeVarint(view, 7);
  ASSERT_FALSE(bool(v));
  EXPECT_EQ(errorOf(v.takeError()), "truncated varint at byte 7: the buffer "
                                    "ends after 2 continuation byte(s)");

  std::vector<uint8_t> empty;
  view = bytesOf(empty);
  v = decodeVarint(view, 0);
  ASSERT_FALSE(bool(v));
  llvm::consumeError(v.takeError());

  std::vector<uint8_t> overflow = {0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0x02};
  view = bytesOf(overflow);
  v = decodeVarint(view, 0);
  ASSERT_FALSE(bool(v));
  EXPECT_EQ(errorOf(v.takeError()), "varint at byte 0 overflows 64 bits");

  std::vector<uint8_t> tooLong(11, 0x80);
  view = bytesOf(tooLong);
  v = decodeVarint(view, 0);
  ASSERT_FALSE(bool(v));
  llvm::consumeError(v.takeError());
}

TEST(ONNXProtoReader, ReadsEveryWireType) {
  std::vector<uint8_t> msg = {
      0x08, 0x96, 0x01,                         // 1: varint 150
      0x12, 0x03, 'a',  'b',  'c',              // 2: "abc"
      0x1d, 0x00, 0x00, 0x80, 0x3f,             // 3: fixed32 1.0f
      0x21, 1,    2,    3,    4,    5, 6, 7, 8, // 4: fixed64
      0x2a, 0x00,                               // 5: empty bytes
  };
  ProtoReader reader(msg, 100);
  ProtoField f;
  ASSERT_FALSE(bool(reader.next(f)));
  EXPECT_EQ(f.number, 1u);
  EXPECT_EQ(f.type, WireType::Varint);
  EXPECT_EQ(f.value, 150u);
  EXPECT_EQ(f.offset, 100u);
  ASSERT_FALSE(bool(reader.next(f)));
  EXPECT_EQ(f.type, WireType::LengthDelimited);
  EXPECT_EQ(llvm::StringRef(reinterpret_cast<const char *>(f.bytes.data()),
                            f.bytes.size()),
            "abc");
  ASSERT_FALSE(bool(reader.next(f)));
  EXPECT_EQ(f.type, WireType::Fixed32);
  EXPECT_EQ(f.value, 0x3f800000u);
  ASSERT_FALSE(bool(reader.next(f)));
  EXPECT_EQ(f.type, WireType::Fixed64);
  EXPECT_EQ(f.value, 0x0807060504030201u);
  ASSERT_FALSE(bool(reader.next(f)));
  EXPECT_EQ(f.number, 5u);
  EXPECT_TRUE(f.bytes.empty());
  EXPECT_TRUE(reader.atEnd());
}

TEST(ONNXProtoReader, ChecksLengthsAgainstTheBuffer) {
  // Every prefix of a valid message either decodes fewer fields or fails;
  // none reads past its end.
  std::vector<uint8_t> msg = {0x12, 0x05, 'h',  'e',  'l',  'l',
                              'o',  0x1d, 0x00, 0x00, 0x80, 0x3f};
  for (size_t n = 1; n < msg.size(); ++n) {
    if (n == 7)
      continue; // a complete first field
    std::vector<uint8_t> prefix(msg.begin(), msg.begin() + n);
    ProtoReader reader(prefix);
    llvm::Error err = llvm::Error::success();
    while (!reader.atEnd()) {
      ProtoField f;
      err = reader.next(f);
      if (err)
        break;
    }
    EXPECT_TRUE(bool(err)) << "prefix of " << n << " bytes";
    llvm::consumeError(std::move(err));
  }
  std::vector<uint8_t> huge = {0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 'x'};
  ProtoReader reader(huge);
  ProtoField f;
  EXPECT_EQ(errorOf(reader.next(f)),
            "length 4294967295 of field 2 at byte 0 extends past the end of "
            "its message (1 bytes left)");
}

TEST(ONNXProtoReader, RejectsInvalidTags) {
  std::vector<uint8_t> zero = {0x00, 0x00};
  ProtoReader r1(zero);
  ProtoField f;
  EXPECT_EQ(errorOf(r1.next(f)), "invalid field number 0 at byte 0");
  std::vector<uint8_t> badType = {0x0e, 0x00}; // field 1, wire type 6
  ProtoReader r2(badType);
  EXPECT_EQ(errorOf(r2.next(f)), "field 1 at byte 0 has invalid wire type 6");
}

TEST(ONNXProtoReader, SkipsGroupsUpToTheDepthLimit) {
  std::vector<uint8_t> nested;
  for (int i = 0; i < 3; ++i)
    nested.push_back(0x0b); // field 1, start group
  nested.push_back(0x10);   // field 2, varint 1
  nested.push_back(0x01);
  for (int i = 0; i < 3; ++i)
    nested.push_back(0x0c); // field 1, end group
  ProtoReader reader(nested);
  ProtoField f;
  ASSERT_FALSE(bool(reader.next(f)));
  ASSERT_EQ(f.type, WireType::StartGroup);
  EXPECT_FALSE(bool(reader.skipGroup(f)));
  EXPECT_TRUE(reader.atEnd());

  std::vector<uint8_t> unclosed = {0x0b, 0x10, 0x01};
  ProtoReader r2(unclosed);
  ASSERT_FALSE(bool(r2.next(f)));
  EXPECT_EQ(errorOf(r2.skipGroup(f)),
            "group of field 1 at byte 0 is not closed before the end of its "
            "message");
}

TEST(ONNXProtoReader, AppendsPackedAndUnpackedVarints) {
  std::vector<uint8_t> msg = {0x08, 0x05,                    // unpacked 5
                              0x0a, 0x03, 0x01, 0xac, 0x02}; // packed 1, 300
  ProtoReader reader(msg);
  llvm::SmallVector<uint64_t> values;
  while (!reader.atEnd()) {
    ProtoField f;
    ASSERT_FALSE(bool(reader.next(f)));
    ASSERT_FALSE(bool(appendVarints(f, values)));
  }
  EXPECT_EQ(values, (llvm::SmallVector<uint64_t>{5, 1, 300}));

  std::vector<uint8_t> badPacked = {0x0a, 0x01, 0x80};
  ProtoReader r2(badPacked);
  ProtoField f;
  ASSERT_FALSE(bool(r2.next(f)));
  EXPECT_NE(errorOf(appendVarints(f, values)), "<no error>");
}

} // namespace
