//===- ModelFileTest.cpp - .fgw writer/reader round trip and rejection ----===//

#include "llmrt/ModelFile.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

using namespace llmrt;
using llmrt::test::makeModelBytes;
using llmrt::test::makeVocab;

namespace {

const std::vector<std::pair<std::string, std::string>> kMeta = {
    {"arch", "llama"},
    {"vocab_size", "258"},
    {"chat_template", "chatml"},
    {"default_system_prompt", "line one\nline two with a \\ backslash\\n"},
    {"model_name", "tést"}};

std::string blob() {
  std::string b(1000, '\0');
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<char>(i * 7 + 3);
  return b;
}

std::vector<uint8_t> validFile() {
  std::string err;
  auto bytes = makeModelBytes(kMeta, makeVocab({{"a", "b"}, {"ab", "c"}}, {"<s>"}),
                              blob(), &err);
  EXPECT_EQ(err, "");
  return bytes;
}

void putU64(std::vector<uint8_t> &f, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    f[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
void putU32(std::vector<uint8_t> &f, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    f[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t getU64(const std::vector<uint8_t> &f, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = v << 8 | f[at + i];
  return v;
}

// Opens `bytes` and returns the error ("" if accepted).
std::string openError(const std::vector<uint8_t> &bytes) {
  std::string error;
  auto f = ModelFile::openMemory(bytes.data(), bytes.size(), "m.fgw", error);
  if (f)
    return "";
  EXPECT_EQ(error.rfind("m.fgw: ", 0), 0u) << error;
  return error;
}

#define EXPECT_CONTAINS(hay, needle)                                           \
  EXPECT_NE(std::string(hay).find(needle), std::string::npos)                  \
      << "message: " << (hay)

TEST(ModelFile, RoundTripInMemory) {
  std::vector<uint8_t> bytes = validFile();
  std::string error;
  auto f = ModelFile::openMemory(bytes.data(), bytes.size(), "m", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(f->layout().dataOffset % 64, 0u);
  EXPECT_EQ(f->metadata().size(), kMeta.size());
  for (const auto &[k, v] : kMeta) {
    ASSERT_TRUE(f->get(k)) << k;
    EXPECT_EQ(*f->get(k), v);
  }
  EXPECT_EQ(f->get("missing"), nullptr);
  TokenizerData expected = makeVocab({{"a", "b"}, {"ab", "c"}}, {"<s>"});
  ASSERT_EQ(f->tokenizer().tokens.size(), expected.tokens.size());
  for (size_t i = 0; i < expected.tokens.size(); ++i) {
    EXPECT_EQ(f->tokenizer().tokens[i].bytes, expected.tokens[i].bytes);
    EXPECT_EQ(f->tokenizer().tokens[i].kind, expected.tokens[i].kind);
  }
  EXPECT_EQ(f->tokenizer().merges, expected.merges);
  ASSERT_EQ(f->weightsSize(), blob().size());
  EXPECT_EQ(std::string(reinterpret_cast<const char *>(f->weights()),
                        f->weightsSize()),
            blob());
}

TEST(ModelFile, MetadataEscapingOnDisk) {
  EXPECT_EQ(escapeMetadataValue("a\nb\\n"), "a\\nb\\\\n");
}

TEST(ModelFile, RoundTripThroughFileAndMmap) {
  std::string path = ::testing::TempDir() + "llmrt_roundtrip.fgw";
  ModelFileWriter w;
  w.setMetadata("arch", "gpt2");
  w.setMetadata("arch", "llama"); // replaces
  w.tokenizer = makeVocab({{"x", "y"}});
  std::string b = blob();
  // Stream the blob in chunks, as the compiler does for large weights.
  std::string err = w.writeFile(path, b.size(), [&](ByteSink &s) {
    for (size_t i = 0; i < b.size(); i += 300)
      if (!s.write(b.data() + i, std::min<size_t>(300, b.size() - i)))
        return false;
    return true;
  });
  ASSERT_EQ(err, "");
  std::string error;
  auto f = ModelFile::openFile(path, error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(*f->get("arch"), "llama");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f->weights()) % 64, 0u);
  EXPECT_EQ(std::memcmp(f->weights(), b.data(), b.size()), 0);
  EXPECT_EQ(f->layout().dataOffset, w.layout(b.size()).dataOffset);
  std::remove(path.c_str());
}

TEST(ModelFile, WriterChecksItsInput) {
  ModelFileWriter w;
  std::vector<uint8_t> out;
  w.setMetadata("a=b", "x");
  EXPECT_CONTAINS(w.writeMemory(out, 0, nullptr), "invalid metadata key");
  w.metadata.clear();
  w.tokenizer = makeVocab({});
  w.tokenizer.merges.push_back({1, 999});
  EXPECT_CONTAINS(w.writeMemory(out, 0, nullptr), "refers to token id 999");
  w.tokenizer.merges.clear();
  EXPECT_EQ(w.writeMemory(out, 10,
                          [](ByteSink &s) { return s.write("abc", 3); }),
            "weights blob writer produced 3 bytes, expected 10");
  EXPECT_TRUE(out.empty());
}

TEST(ModelFile, MissingFile) {
  std::string error;
  EXPECT_FALSE(ModelFile::openFile("/nonexistent/x.fgw", error));
  EXPECT_EQ(error, "/nonexistent/x.fgw: cannot open model file: No such file "
                   "or directory");
}

TEST(ModelFile, TooSmall) {
  std::vector<uint8_t> f = validFile();
  f.resize(20);
  EXPECT_CONTAINS(openError(f), "file too small: expected at least 64 bytes "
                                "for the header, found 20");
}

TEST(ModelFile, BadMagic) {
  std::vector<uint8_t> f = validFile();
  std::memcpy(f.data(), "GGUF\x03\0\0\0", 8);
  EXPECT_CONTAINS(openError(f), "bad magic: expected \"FRUGALW1\", found "
                                "\"GGUF\\x03\\x00\\x00\\x00\"");
}

TEST(ModelFile, BadVersionAndFlags) {
  std::vector<uint8_t> f = validFile();
  putU32(f, 8, 2);
  EXPECT_CONTAINS(openError(f),
                  "unsupported format version: expected 1, found 2");
  f = validFile();
  putU32(f, 12, 4);
  EXPECT_CONTAINS(openError(f), "unsupported flags: expected 0, found 4");
}

TEST(ModelFile, SectionPastEndOfFile) {
  std::vector<uint8_t> f = validFile();
  uint64_t off = getU64(f, 48);
  putU64(f, 56, f.size());
  EXPECT_CONTAINS(openError(f), "weights section [" + std::to_string(off) +
                                    ", " + std::to_string(off + f.size()) +
                                    ") extends past the end of the file (" +
                                    std::to_string(f.size()) + " bytes)");
}

TEST(ModelFile, OverlappingSections) {
  std::vector<uint8_t> f = validFile();
  putU64(f, 32, 64); // tokenizer starts where metadata starts
  EXPECT_CONTAINS(openError(f), "metadata section [64, ");
  EXPECT_CONTAINS(openError(f), ") overlaps tokenizer section [64, ");
}

TEST(ModelFile, OffsetOverflowNearUint64Max) {
  std::vector<uint8_t> f = validFile();
  putU64(f, 48, UINT64_MAX - 63); // a multiple of 64, + size overflows
  EXPECT_CONTAINS(openError(f), "weights section: offset " +
                                    std::to_string(UINT64_MAX - 63) +
                                    " + size 1000 overflows 64 bits");
}

TEST(ModelFile, SectionInsideHeaderAndMisalignedData) {
  std::vector<uint8_t> f = validFile();
  putU64(f, 16, 8);
  EXPECT_CONTAINS(openError(f),
                  "metadata section: offset 8 is inside the 64-byte header");
  f = validFile();
  putU64(f, 48, getU64(f, 48) + 1);
  putU64(f, 56, 10);
  EXPECT_CONTAINS(openError(f), "is not a multiple of 64");
}

TEST(ModelFile, MergeIdOutOfRange) {
  std::vector<uint8_t> f = validFile();
  size_t lastMerge = getU64(f, 32) + getU64(f, 40) - 8;
  putU32(f, lastMerge + 4, 7777);
  EXPECT_CONTAINS(openError(f), "tokenizer section: merge 1 refers to token "
                                "id 7777, expected < n_tokens=259");
}

TEST(ModelFile, TruncatedTokenList) {
  std::vector<uint8_t> f = validFile();
  size_t tok = getU64(f, 32);
  putU32(f, tok + 4 + 1, 0x00ffffff); // token 0's length
  EXPECT_CONTAINS(openError(f), "tokenizer section: truncated token list: "
                                "token 0 of 259 has length 16777215 but only");
  f = validFile();
  putU32(f, tok, 100000); // n_tokens far beyond the section
  EXPECT_CONTAINS(openError(f), "tokenizer section: n_tokens=100000 needs at "
                                "least 500008 bytes, section has ");
  f = validFile();
  f[tok + 4] = 9; // token 0's kind
  EXPECT_CONTAINS(openError(f), "token 0 has kind 9, expected 0 (normal)");
}

TEST(ModelFile, MalformedMetadata) {
  auto withMetaText = [](const std::string &text) {
    std::vector<uint8_t> f = validFile();
    size_t meta = getU64(f, 16), size = getU64(f, 24);
    std::string padded = text;
    padded.resize(size, '\n');
    std::memcpy(f.data() + meta, padded.data(), size);
    return openError(f);
  };
  EXPECT_CONTAINS(withMetaText("arch=llama\nno equals sign\n"),
                  "metadata line 2: expected key=value, found \"no equals "
                  "sign\"");
  EXPECT_CONTAINS(withMetaText("=x\n"), "metadata line 1: empty key");
  EXPECT_CONTAINS(withMetaText("a=b\\t\n"), "metadata line 1: invalid escape");
  EXPECT_CONTAINS(withMetaText("a=1\na=2\n"),
                  "metadata line 2: duplicate key \"a\"");
  EXPECT_CONTAINS(withMetaText("a=\xc3\x28\n"),
                  "metadata is not valid UTF-8 (byte 2)");
}

// Writes seed inputs for llmrt-fuzz-model-file when LLMRT_WRITE_FUZZ_CORPUS
// names a directory (runtime/fuzz/corpus was produced this way).
TEST(ModelFile, WriteFuzzCorpus) {
  const char *dir = std::getenv("LLMRT_WRITE_FUZZ_CORPUS");
  if (!dir)
    GTEST_SKIP() << "set LLMRT_WRITE_FUZZ_CORPUS=<dir> to write the corpus";
  auto save = [&](const std::string &name, const std::vector<uint8_t> &b) {
    std::ofstream(std::string(dir) + "/" + name, std::ios::binary)
        .write(reinterpret_cast<const char *>(b.data()), b.size());
  };
  save("valid", validFile());
  save("small", makeModelBytes({{"vocab_size", "3"}}, makeVocab({{"a", "b"}}),
                               "xyz"));
  save("specials", makeModelBytes({{"pre_tokenizer", "smollm"},
                                   {"chat_template", "chatml"}},
                                  makeVocab({{" ", "1"}, {"h", "i"}},
                                            {"<|im_start|>", "<|im_end|>"}),
                                  ""));
  std::vector<uint8_t> f = validFile();
  putU32(f, getU64(f, 32), 100000);
  save("bad-ntokens", f);
}

} // namespace
