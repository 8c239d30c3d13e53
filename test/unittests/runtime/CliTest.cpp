//===- CliTest.cpp - The model CLI and llmrt-tokenize end to end ----------===//

#include "llmrt/Generate.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cstdio>

using namespace llmrt;

namespace {

constexpr int64_t kVocab = 300;

// Favours (last token + 1) % vocab; the tokenizer maps ids < 256 to bytes.
void forward(const uint8_t *, void *, const int64_t *tokens, int64_t n,
             int64_t, float *logits) {
  for (int64_t v = 0; v < kVocab; ++v)
    logits[v] = 0.0f;
  logits[(tokens[n - 1] + 1) % kVocab] = 5.0f;
}

struct Output {
  int code;
  std::string out, err;
};

std::string slurp(FILE *f) {
  std::string s;
  rewind(f);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
    s.append(buf, n);
  fclose(f);
  return s;
}

class Cli : public ::testing::Test {
protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "llmrt_cli_test.fgw";
    TokenizerData tok =
        test::makeVocab({{"h", "i"}}, {"<|im_start|>", "<|im_end|>"});
    // ids: 0..255 bytes, 256 "hi", 257 <|im_start|>, 258 <|im_end|>.
    ModelFileWriter w;
    w.setMetadata("arch", "llama");
    w.setMetadata("vocab_size", std::to_string(kVocab));
    w.setMetadata("max_context", "64");
    w.setMetadata("kv_cache_bytes", "1024");
    w.setMetadata("bos_id", "1");
    w.setMetadata("eos_ids", "258,122"); // <|im_end|>, 'z'
    w.setMetadata("add_bos", "0");
    w.setMetadata("chat_template", "chatml");
    w.setMetadata("pre_tokenizer", "smollm");
    w.tokenizer = tok;
    ASSERT_EQ(w.writeFile(path_, 64, [](ByteSink &s) {
      std::string zeros(64, '\0');
      return s.write(zeros.data(), zeros.size());
    }), "");
  }
  void TearDown() override { std::remove(path_.c_str()); }

  Output run(std::vector<std::string> args) {
    args.insert(args.begin(), {"model", "--weights", path_});
    std::vector<char *> argv;
    for (std::string &a : args)
      argv.push_back(a.data());
    FILE *out = tmpfile(), *err = tmpfile();
    int code = runCli(int(argv.size()), argv.data(), forward, out, err);
    return {code, slurp(out), slurp(err)};
  }
  std::string path_;
};

TEST_F(Cli, GeneratesStreamsAndReports) {
  Output o = run({"--prompt", "ab", "-n", "3", "--print-ids", "--bench"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out.substr(0, 20), "cde\nids: 99 100 101\n");
  EXPECT_NE(o.out.find("\nbench: prompt_tokens=2 prefill_tok_s="),
            std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find(" decode_tokens=3 decode_tok_s="), std::string::npos);
  EXPECT_NE(o.out.find(" peak_rss_mb="), std::string::npos);
  EXPECT_NE(o.err.find("prompt tokens:   2"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("peak RSS:"), std::string::npos);
}

TEST_F(Cli, PerplexityOfATextFile) {
  std::string text = ::testing::TempDir() + "llmrt_cli_ppl.txt";
  std::string logits = ::testing::TempDir() + "llmrt_cli_ppl.logits";
  FILE *f = fopen(text.c_str(), "wb");
  ASSERT_TRUE(f);
  fputs("abcdxy", f);
  fclose(f);
  // Five scored tokens, four follow the model ("b" after "a", ...).
  Output o = run({"--perplexity", text, "--save-logits", logits});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out.rfind("perplexity: tokens=5 windows=1 ppl=", 0), 0u)
      << o.out;
  o = run({"--perplexity", text, "--ctx", "3", "--reference-logits", logits});
  EXPECT_NE(o.code, 0); // other windows: other positions scored
  o = run({"--perplexity", text, "--reference-logits", logits});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("\nfidelity: tokens=5 mean_kl=0.000000 "
                       "top1_agreement=1.0000 ref_ppl="),
            std::string::npos)
      << o.out;
  // The same model: no increase, and an interval of width 0.
  EXPECT_NE(o.out.find(" ppl_delta_pct=0.00 ppl_delta_lo_pct=0.00 "
                       "ppl_delta_hi_pct=0.00\n"),
            std::string::npos)
      << o.out;
  o = run({"--perplexity", text, "--max-tokens", "2"});
  EXPECT_EQ(o.out.rfind("perplexity: tokens=2 ", 0), 0u) << o.out;
  o = run({"--ctx", "3"});
  EXPECT_NE(o.code, 0);
  EXPECT_NE(o.err.find("go with --perplexity"), std::string::npos) << o.err;
  o = run({"--perplexity", text, "--prompt", "hi"});
  EXPECT_NE(o.code, 0);
  std::remove(text.c_str());
  std::remove(logits.c_str());
}

TEST_F(Cli, EosStopsAndIsNotPrinted) {
  Output o = run({"--ids", "120", "-n", "10", "--print-ids"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "y\nids: 121 122\n");
}

TEST_F(Cli, ContextFullMessage) {
  Output o = run({"--ids", "65,66", "-n", "50", "--max-context", "4",
                  "--quiet"});
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.out, "");
  EXPECT_NE(o.err.find("llmrt: context full (4 tokens); generation stopped"),
            std::string::npos)
      << o.err;
}

TEST_F(Cli, ChatTemplateTokenizesSpecialTokens) {
  Output o = run({"--prompt", "hi", "--chat", "-n", "1", "--print-ids",
                  "--quiet"});
  EXPECT_EQ(o.code, 0) << o.err;
  // The prompt ends with "assistant\n": the toy model continues with 11.
  EXPECT_EQ(o.out, "ids: 11\n");
}

TEST_F(Cli, DumpLogitsAppends) {
  std::string dump = ::testing::TempDir() + "llmrt_cli_logits.bin";
  std::remove(dump.c_str());
  ASSERT_EQ(run({"--ids", "1", "-n", "3", "--dump-logits", dump}).code, 0);
  ASSERT_EQ(run({"--ids", "1", "-n", "1", "--dump-logits", dump}).code, 0);
  FILE *f = fopen(dump.c_str(), "rb");
  ASSERT_TRUE(f);
  fseek(f, 0, SEEK_END);
  EXPECT_EQ(ftell(f), long((3 + 1) * kVocab * sizeof(float)));
  fclose(f);
  std::remove(dump.c_str());
}

TEST_F(Cli, ErrorsAreOneLineAndExitOne) {
  auto expectError = [&](std::vector<std::string> args,
                         const std::string &msg) {
    Output o = run(std::move(args));
    EXPECT_EQ(o.code, 1);
    EXPECT_EQ(o.err, "llmrt: error: " + msg + "\n");
  };
  expectError({"--prompt", "x", "--frobnicate"},
              "unknown option '--frobnicate' (see --help)");
  expectError({"--prompt", "x", "-n", "many"}, "invalid value 'many' for -n");
  expectError({"--prompt", "x", "--top-p", "1.5"},
              "invalid value '1.5' for --top-p");
  expectError({"-n", "3"}, "no prompt: give --prompt TEXT or --ids LIST");
  expectError({"--prompt"}, "option --prompt needs a value");
  expectError({"--prompt", std::string(70, 'a')},
              "the prompt has 70 tokens but the context holds only 64");
  expectError({"--ids", "1,x"}, "invalid --ids '1,x': expected 1,2,3");
  expectError({"--ids", "1", "--weights", "/nonexistent.fgw"},
              "/nonexistent.fgw: cannot open model file: No such file or "
              "directory");
}

TEST_F(Cli, Help) {
  Output o = run({"--help"});
  EXPECT_EQ(o.code, 0);
  EXPECT_NE(o.out.find("--dump-logits FILE"), std::string::npos);
}

std::string capture(const std::string &cmd) {
  FILE *p = popen(cmd.c_str(), "r");
  std::string s;
  char buf[256];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof(buf), p)) > 0)
    s.append(buf, n);
  if (p)
    pclose(p);
  return s;
}

TEST_F(Cli, TokenizeTool) {
  std::string tool = LLMRT_TOKENIZE_PATH;
  EXPECT_EQ(capture(tool + " " + path_ + " 'hi 42<|im_end|>'"),
            "256 32 52 50 258\n");
  EXPECT_EQ(capture(tool + " " + path_ + " --decode 256,33,258"),
            "hi!<|im_end|>");
  EXPECT_EQ(capture(tool + " /nonexistent.fgw x 2>&1"),
            "llmrt-tokenize: error: /nonexistent.fgw: cannot open model "
            "file: No such file or directory\n");
}

} // namespace
