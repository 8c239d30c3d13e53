//===- TokenizerTest.cpp - tokenizer.json import --------------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/Tokenizer.h"

#include "TestFiles.h"

#include "gtest/gtest.h"

using namespace frugal::safetensors;
using frugal::test::TempDir;

namespace {

const char *kSmolPre = R"({"type": "Sequence", "pretokenizers": [
    {"type": "Digits", "individual_digits": true},
    {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
     "use_regex": true}]})";

/// A tokenizer.json with a small byte-level vocabulary.
std::string tokenizerJson(llvm::StringRef preTokenizer,
                          llvm::StringRef merges = R"(["\u0120 t", "h e"])",
                          llvm::StringRef modelType = "BPE") {
  return (R"({"version": "1.0", "added_tokens": [
      {"id": 0, "content": "<|endoftext|>", "special": true},
      {"id": 7, "content": "<|im_start|>", "special": true},
      {"id": 8, "content": "<|im_end|>", "special": true}],
    "pre_tokenizer": )" +
          preTokenizer + R"(,
    "model": {"type": ")" +
          modelType +
          R"(", "byte_fallback": false,
      "vocab": {"<|endoftext|>": 0, "\u0120": 1, "t": 2, "h": 3, "e": 4,
                "\u0120t": 5, "he": 6, "\u010a": 10},
      "merges": )" +
          merges + "}}")
      .str();
}

std::string errorOf(llvm::Expected<TokenizerData> data) {
  return data ? std::string("<no error>") : llvm::toString(data.takeError());
}

TEST(Tokenizer, ReadsVocabularyMergesAndSpecials) {
  TempDir dir;
  std::string path = dir.write("tokenizer.json", tokenizerJson(kSmolPre));
  llvm::Expected<TokenizerData> data = importTokenizerJson(path);
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  ASSERT_EQ(data->tokens.size(), 11u);
  EXPECT_EQ(data->tokens[0], "<|endoftext|>");
  EXPECT_EQ(data->kinds[0], kTokenSpecial);
  EXPECT_EQ(data->tokens[1], " "); // "Ġ" unmapped to a space
  EXPECT_EQ(data->tokens[5], " t");
  EXPECT_EQ(data->tokens[10], "\n");
  EXPECT_EQ(data->kinds[5], kTokenNormal);
  EXPECT_EQ(data->tokens[7], "<|im_start|>");
  EXPECT_EQ(data->kinds[8], kTokenSpecial);
  EXPECT_EQ(data->tokens[9], "");
  EXPECT_EQ(data->kinds[9], kTokenUnused);
  ASSERT_EQ(data->merges.size(), 2u);
  EXPECT_EQ(data->merges[0], std::make_pair(1u, 2u));
  EXPECT_EQ(data->merges[1], std::make_pair(3u, 4u));
  EXPECT_EQ(data->preTokenizer, "smollm");
  EXPECT_EQ(data->bos, -1);
}

TEST(Tokenizer, AcceptsPairMergesAndPlainByteLevel) {
  TempDir dir;
  std::string path = dir.write(
      "tokenizer.json",
      tokenizerJson(R"({"type": "ByteLevel", "add_prefix_space": false})",
                    R"([["\u0120", "t"], ["h", "e"]])"));
  llvm::Expected<TokenizerData> data = importTokenizerJson(path);
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  EXPECT_EQ(data->preTokenizer, "gpt2");
  EXPECT_EQ(data->merges[1], std::make_pair(3u, 4u));
}

TEST(Tokenizer, Errors) {
  TempDir dir;
  std::string path = dir.path("tokenizer.json");
  dir.write("tokenizer.json",
            tokenizerJson(R"({"type": "Sequence", "pretokenizers": [
                {"type": "Split"}, {"type": "ByteLevel"}]})"));
  EXPECT_EQ(errorOf(importTokenizerJson(path)),
            path + ": unsupported pre_tokenizer Sequence[Split, ByteLevel] "
                   "(supported: ByteLevel, or Sequence[Digits("
                   "individual_digits=true), ByteLevel])");
  dir.write("tokenizer.json", tokenizerJson("null"));
  EXPECT_EQ(errorOf(importTokenizerJson(path)),
            path + ": unsupported pre_tokenizer null (supported: ByteLevel, "
                   "or Sequence[Digits(individual_digits=true), ByteLevel])");
  dir.write("tokenizer.json", tokenizerJson(kSmolPre, "[]", "WordPiece"));
  EXPECT_EQ(errorOf(importTokenizerJson(path)),
            path + ": unsupported tokenizer model 'WordPiece' (supported: "
                   "BPE)");
  dir.write("tokenizer.json", tokenizerJson(kSmolPre, R"(["t x"])"));
  EXPECT_EQ(errorOf(importTokenizerJson(path)),
            path + ": merge 0 ('t x'): token 'x' is not in the vocabulary");
  dir.write("tokenizer.json", tokenizerJson(kSmolPre, R"(["tx"])"));
  EXPECT_EQ(errorOf(importTokenizerJson(path)),
            path + ": merge 0 is neither \"a b\" nor [\"a\", \"b\"]");
  dir.write("tokenizer.json",
            R"({"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type":
                "BPE", "vocab": {"a b": 0}, "merges": []}})");
  EXPECT_EQ(errorOf(importTokenizerJson(path)),
            path + ": token 'a b' (id 0) is not byte-level encoded");
  dir.write("tokenizer.json",
            R"({"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type":
                "BPE", "vocab": {"a": -1}, "merges": []}})");
  EXPECT_EQ(errorOf(importTokenizerJson(path)),
            path + ": token 'a' has an invalid id");
  EXPECT_EQ(errorOf(importTokenizerJson(dir.path("none.json")))
                .rfind(dir.path("none.json") + ": cannot open: ", 0),
            0u);
}

TEST(Tokenizer, ChatTemplateAndSpecialTokensFromConfig) {
  TempDir dir;
  dir.write("tokenizer.json", tokenizerJson(kSmolPre));
  dir.write("tokenizer_config.json", R"({
      "bos_token": "<|im_start|>",
      "eos_token": {"content": "<|im_end|>", "special": true},
      "chat_template": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"})");
  llvm::Expected<TokenizerData> data = importTokenizer(dir.root());
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  EXPECT_EQ(data->chatTemplate, "chatml");
  EXPECT_EQ(data->bos, 7);
  EXPECT_EQ(data->eos, std::vector<int64_t>{8});

  dir.write(
      "tokenizer_config.json",
      R"({"chat_template": [{"name": "default", "template": "{{ x }}"}]})");
  EXPECT_EQ(*detectChatTemplate(dir.path("tokenizer_config.json")), "none");
  dir.write("tokenizer_config.json", R"({"model_max_length": 1024})");
  EXPECT_EQ(*detectChatTemplate(dir.path("tokenizer_config.json")), "none");
}

TEST(Tokenizer, ConfigIsOptional) {
  TempDir dir;
  dir.write("tokenizer.json", tokenizerJson(kSmolPre));
  llvm::Expected<TokenizerData> data = importTokenizer(dir.root());
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  EXPECT_EQ(data->chatTemplate, "none");
  EXPECT_TRUE(data->eos.empty());
}

} // namespace
