//===- TokenizerTest.cpp - Pre-tokenizer, BPE, streaming decode -----------===//

#include "llmrt/Tokenizer.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

using namespace llmrt;
using llmrt::test::idOf;
using llmrt::test::makeVocab;

namespace {

using Pieces = std::vector<std::string>;

Pieces split(const std::string &text, PreTokenizer mode = PreTokenizer::Gpt2) {
  Pieces out;
  for (std::string_view p : preTokenize(text, mode))
    out.emplace_back(p);
  return out;
}

std::unique_ptr<Tokenizer> make(const TokenizerData &d,
                                PreTokenizer mode = PreTokenizer::Gpt2) {
  std::string error;
  auto t = Tokenizer::create(d, mode, error);
  EXPECT_TRUE(t) << error;
  return t;
}

std::vector<int32_t> enc(const Tokenizer &t, const std::string &text,
                         int32_t bos = -1) {
  std::vector<int32_t> ids;
  std::string error;
  EXPECT_TRUE(t.encode(text, bos, ids, error)) << error;
  return ids;
}

TEST(PreTokenizer, WordsAndLeadingSpaces) {
  EXPECT_EQ(split("Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(split("Hello, world!"), (Pieces{"Hello", ",", " world", "!"}));
  EXPECT_EQ(split(" a"), (Pieces{" a"}));
}

TEST(PreTokenizer, Contractions) {
  EXPECT_EQ(split("I'm don't we'll they've she'd you're it's"),
            (Pieces{"I", "'m", " don", "'t", " we", "'ll", " they", "'ve",
                    " she", "'d", " you", "'re", " it", "'s"}));
  // Case-sensitive, like GPT-2: "'S" is not a contraction.
  EXPECT_EQ(split("IT'S"), (Pieces{"IT", "'", "S"}));
}

TEST(PreTokenizer, MultipleSpacesAndNewlines) {
  EXPECT_EQ(split("a  b"), (Pieces{"a", " ", " b"}));
  EXPECT_EQ(split("a   b"), (Pieces{"a", "  ", " b"}));
  EXPECT_EQ(split("hi  "), (Pieces{"hi", "  "}));
  EXPECT_EQ(split("x\n\ny"), (Pieces{"x", "\n", "\n", "y"}));
  EXPECT_EQ(split("x\n\n"), (Pieces{"x", "\n\n"}));
  EXPECT_EQ(split("a \n b"), (Pieces{"a", " \n", " b"}));
  EXPECT_EQ(split("\tx"), (Pieces{"\t", "x"}));
}

TEST(PreTokenizer, DigitsGpt2VersusSmolLM) {
  EXPECT_EQ(split("abc 12345 x9"), (Pieces{"abc", " 12345", " x", "9"}));
  EXPECT_EQ(split("abc 12345 x9", PreTokenizer::SmolLM),
            (Pieces{"abc", " ", "1", "2", "3", "4", "5", " x", "9"}));
  EXPECT_EQ(split("in 2024.", PreTokenizer::SmolLM),
            (Pieces{"in", " ", "2", "0", "2", "4", "."}));
}

TEST(PreTokenizer, UnicodeClasses) {
  EXPECT_EQ(split("héllo wörld"), (Pieces{"héllo", " wörld"}));
  EXPECT_EQ(split("日本語です。"), (Pieces{"日本語です", "。"}));
  EXPECT_EQ(split("hi!!! \xF0\x9F\x98\x80\xF0\x9F\x98\x80"),
            (Pieces{"hi", "!!!", " \xF0\x9F\x98\x80\xF0\x9F\x98\x80"}));
  // Invalid UTF-8 bytes are "other" characters, never lost.
  EXPECT_EQ(split("a\xff\xfe b"), (Pieces{"a", "\xff\xfe", " b"}));
}

TEST(Tokenizer, KnownIdsWithHandBuiltMerges) {
  TokenizerData d = makeVocab({{"h", "e"}, {"l", "l"}, {"he", "ll"},
                               {"hell", "o"}, {" ", "w"}, {" w", "o"}});
  auto t = make(d);
  EXPECT_EQ(enc(*t, "hello"), (std::vector<int32_t>{idOf(d, "hello")}));
  EXPECT_EQ(enc(*t, "hello world"),
            (std::vector<int32_t>{idOf(d, "hello"), idOf(d, " wo"), 'r', 'l',
                                  'd'}));
  EXPECT_EQ(enc(*t, "hell"), (std::vector<int32_t>{idOf(d, "hell")}));
  EXPECT_EQ(enc(*t, "", 7), (std::vector<int32_t>{7}));
  EXPECT_EQ(enc(*t, "he", 7), (std::vector<int32_t>{7, idOf(d, "he")}));
}

TEST(Tokenizer, MergeRankDecidesTheSegmentation) {
  // "abc": with b+c ranked first the result is a|bc, otherwise ab|c.
  TokenizerData bcFirst = makeVocab({{"b", "c"}, {"a", "b"}});
  TokenizerData abFirst = makeVocab({{"a", "b"}, {"b", "c"}});
  EXPECT_EQ(enc(*make(bcFirst), "abc"),
            (std::vector<int32_t>{'a', idOf(bcFirst, "bc")}));
  EXPECT_EQ(enc(*make(abFirst), "abc"),
            (std::vector<int32_t>{idOf(abFirst, "ab"), 'c'}));
  // Equal pairs merge leftmost first.
  TokenizerData aa = makeVocab({{"a", "a"}});
  EXPECT_EQ(enc(*make(aa), "aaa"),
            (std::vector<int32_t>{idOf(aa, "aa"), 'a'}));
}

TEST(Tokenizer, MergesDoNotCrossPieces) {
  TokenizerData d = makeVocab({{"a", " "}});
  EXPECT_EQ(enc(*make(d), "a b"), (std::vector<int32_t>{'a', ' ', 'b'}));
  EXPECT_EQ(enc(*make(d, PreTokenizer::None), "a b"),
            (std::vector<int32_t>{idOf(d, "a "), 'b'}));
}

TEST(Tokenizer, SpecialTokensAreSplitOutLongestFirst) {
  TokenizerData d = makeVocab({{"h", "i"}}, {"<|x|>", "<|x|>y", "<|im_end|>"});
  auto t = make(d);
  EXPECT_EQ(enc(*t, "hi<|im_end|>hi"),
            (std::vector<int32_t>{idOf(d, "hi"), idOf(d, "<|im_end|>"),
                                  idOf(d, "hi")}));
  EXPECT_EQ(enc(*t, "<|x|>yz<|x|>"),
            (std::vector<int32_t>{idOf(d, "<|x|>y"), 'z', idOf(d, "<|x|>")}));
  // A partial special token is ordinary text.
  EXPECT_EQ(enc(*t, "<|im"), (std::vector<int32_t>{'<', '|', 'i', 'm'}));
}

TEST(Tokenizer, Utf8RoundTrip) {
  TokenizerData d = makeVocab({{"\xc3", "\xa9"}, {"e", "s"}, {" ", "t"}},
                              {"<|im_start|>"});
  for (PreTokenizer mode : {PreTokenizer::Gpt2, PreTokenizer::SmolLM}) {
    auto t = make(d, mode);
    for (const char *s :
         {"plain ASCII text, 123 and   spaces\n", "café résumé naïve",
          "日本語のテキスト", "emoji \xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",
          "<|im_start|>mixed é 中 \xF0\x9F\x98\x80<|im_start|>", ""}) {
      EXPECT_EQ(t->decode(enc(*t, s)), s);
    }
  }
}

TEST(Tokenizer, RejectsMergeWithoutResultToken) {
  TokenizerData d = makeVocab({});
  d.merges.push_back({'a', 'b'}); // no "ab" token
  std::string error;
  EXPECT_FALSE(Tokenizer::create(d, PreTokenizer::Gpt2, error));
  EXPECT_NE(error.find("merge 0 (97, 98): no token has the bytes"),
            std::string::npos)
      << error;
}

TEST(Tokenizer, MissingByteTokenIsAnError) {
  TokenizerData d;
  d.tokens.push_back({"a", TokenKind::Normal});
  auto t = make(d);
  std::vector<int32_t> ids;
  std::string error;
  EXPECT_TRUE(t->encode("aa", -1, ids, error));
  EXPECT_FALSE(t->encode("ab", -1, ids, error));
  EXPECT_EQ(error, "byte 0x62 has no token in the vocabulary");
}

TEST(StreamDecoder, NeverEmitsBrokenUtf8) {
  const std::string text = "h\xc3\xa9 \xe4\xb8\xad \xF0\x9F\x98\x80!";
  for (size_t chunk = 1; chunk <= 3; ++chunk) {
    StreamDecoder dec;
    std::string all;
    for (size_t i = 0; i < text.size(); i += chunk) {
      std::string out = dec.push(text.substr(i, chunk));
      // Each piece is complete UTF-8 on its own.
      StreamDecoder check;
      EXPECT_EQ(check.push(out), out);
      EXPECT_EQ(check.flush(), "");
      all += out;
    }
    all += dec.flush();
    EXPECT_EQ(all, text);
  }
  // The emoji arrives in two tokens: nothing is printed for the first half.
  StreamDecoder dec;
  EXPECT_EQ(dec.push("a\xF0\x9F"), "a");
  EXPECT_EQ(dec.push("\x98\x80"), "\xF0\x9F\x98\x80");
}

TEST(StreamDecoder, InvalidBytesBecomeReplacementCharacters) {
  StreamDecoder dec;
  EXPECT_EQ(dec.push("a\xff" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(dec.push("\xc3"), "");
  EXPECT_EQ(dec.push("x"), "\xEF\xBF\xBDx"); // lead byte without continuation
  EXPECT_EQ(dec.push("\xe4\xb8"), "");
  EXPECT_EQ(dec.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(dec.push("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(ChatTemplate, ChatML) {
  EXPECT_EQ(formatChatML("Be brief.", "Hi"),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi"
            "<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(formatChatML("", "Hi"),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

} // namespace

namespace {

/// A small SentencePiece-style vocabulary as the compiler stores it: "▁" as
/// a space, `<0xNN>` as Byte tokens, merges ranked by score.
TokenizerData spmVocab() {
  TokenizerData d;
  auto add = [&](std::string bytes, TokenKind kind) {
    d.tokens.push_back({std::move(bytes), kind});
  };
  add("<unk>", TokenKind::Special);  // 0
  add("<s>", TokenKind::Special);    // 1
  add("</s>", TokenKind::Special);   // 2
  add("\n", TokenKind::Byte);        // 3  <0x0A>
  add("\xC3", TokenKind::Byte);      // 4  <0xC3>
  add("\xA9", TokenKind::Byte);      // 5  <0xA9>
  add(" ", TokenKind::Normal);       // 6  ▁
  add("a", TokenKind::Normal);       // 7
  add("b", TokenKind::Normal);       // 8
  add(" a", TokenKind::Normal);      // 9  ▁a   (score -0)
  add("ab", TokenKind::Normal);      // 10      (score -1)
  add(" ab", TokenKind::Normal);     // 11 ▁ab  (score -2)
  add("ba", TokenKind::Normal);      // 12      (score -3)
  add("a" "\xC3\xA9", TokenKind::Normal); // 13 "aé" (score -4)
  add("\xC3\xA9", TokenKind::Normal);     // 14 "é" (a character)
  // Ranked by the merged token's score; " ab" has two splits sharing a rank.
  d.merges = {{6, 7}, {7, 8}, {9, 8}, {6, 10}, {8, 7}, {7, 14}};
  return d;
}

TEST(SpmTokenizer, PrefixesASpaceAndMergesByScore) {
  std::string error;
  auto t = Tokenizer::create(spmVocab(), PreTokenizer::Spm, error, 1);
  ASSERT_TRUE(t) << error;
  // " ab": " a" outranks "ab", then " a"+"b" gives " ab".
  EXPECT_EQ(enc(*t, "ab", 1), (std::vector<int32_t>{1, 11}));
  // "ba" merges; "\n" is a byte token; "é" is a character token.
  EXPECT_EQ(enc(*t, "ba\n\xC3\xA9", 1),
            (std::vector<int32_t>{1, 6, 12, 3, 14}));
  // Characters, not bytes, are the initial symbols: "a" + "é" merge.
  EXPECT_EQ(enc(*t, "\xC3\xA9" "a\xC3\xA9"), (std::vector<int32_t>{6, 14, 13}));
  // The highest-scoring pair goes first: " a" before "aé".
  EXPECT_EQ(enc(*t, "b a\xC3\xA9"), (std::vector<int32_t>{6, 8, 9, 14}));
  // The dummy prefix also follows a special token.
  EXPECT_EQ(enc(*t, "a</s>a"), (std::vector<int32_t>{9, 2, 9}));
  EXPECT_EQ(enc(*t, ""), (std::vector<int32_t>{}));
}

TEST(SpmTokenizer, ByteFallbackForUnknownCharacters) {
  TokenizerData d = spmVocab();
  d.tokens[14].bytes = "x"; // "é" is no longer a token
  d.merges.pop_back();
  std::string error;
  auto t = Tokenizer::create(d, PreTokenizer::Spm, error, 1);
  ASSERT_TRUE(t) << error;
  // Its two bytes become byte tokens, which never merge ("aé" stays apart).
  EXPECT_EQ(enc(*t, "a\xC3\xA9"), (std::vector<int32_t>{9, 4, 5}));
  std::vector<int32_t> ids;
  EXPECT_FALSE(t->encode("\xE2\x82\xAC", -1, ids, error));
  EXPECT_EQ(error, "byte 0xe2 has no token in the vocabulary");
}

TEST(SpmTokenizer, DecodeDropsTheSpaceAfterBos) {
  std::string error;
  auto t = Tokenizer::create(spmVocab(), PreTokenizer::Spm, error, 1);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->decode({1, 11, 9, 3, 4, 5}), "<s>ab a\n\xC3\xA9");
  EXPECT_EQ(t->decode({11, 9}), " ab a");
  EXPECT_EQ(t->tokenText(1, 9), "a");
  EXPECT_EQ(t->tokenText(7, 9), " a");
  EXPECT_EQ(t->tokenText(-1, 9), " a");
  // Other modes keep every byte.
  auto g = Tokenizer::create(spmVocab(), PreTokenizer::None, error, 1);
  ASSERT_TRUE(g) << error;
  EXPECT_EQ(g->tokenText(1, 9), " a");
}

TEST(SpmTokenizer, ParsesTheMetadataName) {
  PreTokenizer p;
  ASSERT_TRUE(parsePreTokenizer("spm", p));
  EXPECT_EQ(p, PreTokenizer::Spm);
}

} // namespace
