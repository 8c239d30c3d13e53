//===- SafetensorsFileTest.cpp - safetensors header parsing ---------------===//
//
// Part of Frugal. The error paths are covered by lit tests through
// llm-import; these check what lit cannot see: the views and metadata.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/SafetensorsFile.h"

#include "TestFiles.h"

#include "gtest/gtest.h"

using namespace frugal::safetensors;
using frugal::test::safetensors;

namespace {

llvm::Expected<std::unique_ptr<SafetensorsFile>> parseBytes(std::string bytes) {
  // The buffer must outlive the file, so it is copied into one it owns.
  return SafetensorsFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "mem.safetensors"));
}

std::string errorOf(llvm::Expected<std::unique_ptr<SafetensorsFile>> file) {
  return file ? std::string("<no error>") : llvm::toString(file.takeError());
}

TEST(SafetensorsFile, ViewsTensorsInOffsetOrder) {
  std::string data = "ABCDEFGHIJKL";
  auto file = parseBytes(safetensors(
      R"({"b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},)"
      R"( "a": {"dtype": "BF16", "shape": [1, 2], "data_offsets": [0, 4]},)"
      R"( "__metadata__": {"format": "pt", "n": 3}}   )",
      data));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  const SafetensorsFile &f = **file;
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.tensors()[0].name, "a");
  EXPECT_EQ(f.tensors()[1].name, "b");
  const TensorInfo *b = f.lookup("b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->dtype, DType::F32);
  EXPECT_EQ(b->shape, (llvm::SmallVector<int64_t, 4>{2}));
  EXPECT_EQ(b->numElements(), 2);
  EXPECT_EQ(llvm::StringRef(reinterpret_cast<const char *>(b->data.data()),
                            b->data.size()),
            "EFGHIJKL");
  EXPECT_EQ(b->file, "mem.safetensors");
  EXPECT_EQ(f.lookup("a")->shape, (llvm::SmallVector<int64_t, 4>{1, 2}));
  EXPECT_FALSE(f.lookup("c"));
  EXPECT_FALSE(f.lookup("__metadata__"));
  // Only string metadata is kept.
  EXPECT_EQ(f.metadata().lookup("format"), "pt");
  EXPECT_EQ(f.metadata().count("n"), 0u);
}

TEST(SafetensorsFile, AcceptsScalarsAndEmptyTensors) {
  auto file = parseBytes(safetensors(
      R"({"s": {"dtype": "I64", "shape": [], "data_offsets": [0, 8]},)"
      R"( "e": {"dtype": "F16", "shape": [0, 5], "data_offsets": [8, 8]},)"
      R"( "f": {"dtype": "U8", "shape": [0], "data_offsets": [8, 8]}})",
      std::string(8, '\0')));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->lookup("s")->numElements(), 1);
  EXPECT_EQ((*file)->lookup("e")->numElements(), 0);
  EXPECT_TRUE((*file)->lookup("e")->data.empty());
}

TEST(SafetensorsFile, EmptyHeaderObjectHasNoTensors) {
  auto file = parseBytes(safetensors("{}", ""));
  ASSERT_TRUE(bool(file));
  EXPECT_TRUE((*file)->tensors().empty());
}

TEST(SafetensorsFile, RejectsHugeShapesWithoutOverflow) {
  EXPECT_EQ(errorOf(parseBytes(safetensors(
                R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296],)"
                R"( "data_offsets": [0, 0]}})",
                ""))),
            "mem.safetensors: tensor 'w': dtype/shape mismatch: shape "
            "[4294967296, 4294967296] of F32 needs more than 2^64 bytes, but "
            "data_offsets [0, 0] hold 0");
}

TEST(SafetensorsFile, RejectsHeaderLengthNearUInt64Max) {
  std::string bytes(8, '\xff');
  bytes += "{}";
  EXPECT_EQ(errorOf(parseBytes(bytes)),
            "mem.safetensors: header length 18446744073709551615 extends "
            "past the end of the file (2 bytes follow the length field)");
}

TEST(SafetensorsFile, RejectsInvalidUtf8) {
  std::string err = errorOf(parseBytes(safetensors("{\"\xff\": 1}", "")));
  EXPECT_EQ(err.rfind("mem.safetensors: header is not valid JSON: ", 0), 0u)
      << err;
}

TEST(SafetensorsFile, OpenNamesTheMissingFile) {
  frugal::test::TempDir dir;
  auto file = SafetensorsFile::open(dir.path("absent.safetensors"));
  std::string err = errorOf(std::move(file));
  EXPECT_EQ(err.rfind(dir.path("absent.safetensors") + ": cannot open: ", 0),
            0u)
      << err;
}

TEST(SafetensorsFile, OpenMapsAFile) {
  frugal::test::TempDir dir;
  std::string path = dir.write(
      "m.safetensors",
      safetensors(
          R"({"w": {"dtype": "U8", "shape": [3], "data_offsets": [0, 3]}})",
          "xyz"));
  auto file = SafetensorsFile::open(path);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->path(), path);
  EXPECT_EQ((*file)->lookup("w")->file, path);
  EXPECT_EQ((*file)->lookup("w")->data[2], 'z');
}

} // namespace
