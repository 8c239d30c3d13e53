//===- Cli.cpp - The command line of a compiled model ---------------------===//

#include "llmrt/Generate.h"
#include "llmrt/Tokenizer.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace llmrt {
namespace {

const char kUsage[] =
    "usage: %s [--prompt TEXT | --ids 1,2,3] [options]\n"
    "  --prompt TEXT       prompt text (tokenized with the model's tokenizer)\n"
    "  --ids LIST          prompt as comma-separated token ids (no BOS added)\n"
    "                      (neither: start from BOS if the model adds one)\n"
    "  -n N                tokens to generate (default 64)\n"
    "  --temp T            temperature; 0 = greedy (default 0)\n"
    "  --top-k K           sample among the K most likely tokens (0 = all)\n"
    "  --top-p P           nucleus sampling threshold in (0, 1] (default 1)\n"
    "  --seed S            sampler seed (default 0)\n"
    "  --chat              wrap the prompt in the model's chat template\n"
    "  --system TEXT       system prompt for --chat\n"
    "  --max-context N     stop at N tokens of context (<= the model's)\n"
    "  --weights PATH      model file (default: embedded weights, else the\n"
    "                      executable's path + .fgw)\n"
    "  --print-ids         print `ids: ...` with the generated ids\n"
    "  --dump-logits FILE  append each forward call's logits (f32 LE)\n"
    "  --bench             print `bench: ...` and `memory: ...` (predicted\n"
    "                      vs measured peak memory) lines on stdout\n"
    "  --perplexity FILE   score the text of FILE (no chat template) token by\n"
    "                      token and print `perplexity: tokens=... ppl=...`\n"
    "  --ctx N             perplexity window in tokens (default: the model's\n"
    "                      context)\n"
    "  --max-tokens N      score at most the first N tokens\n"
    "  --save-logits FILE  write every scored position's logits to FILE\n"
    "  --reference-logits FILE\n"
    "                      compare with logits saved from another model on\n"
    "                      the same text: `fidelity: mean_kl=... top1_...`,\n"
    "                      the reference's perplexity and the increase over\n"
    "                      it with a 95%% interval (positions independent)\n"
    "  --prompts FILE      generate for every line of FILE (one prompt per\n"
    "                      non-empty line; --chat applies to each), decoding\n"
    "                      up to --batch sequences together\n"
    "  --batch N           sequences per decode step with --prompts (default:\n"
    "                      the model's --max-batch)\n"
    "  --quiet             do not print the generated text\n"
    "  --help              this help\n";

struct CliOptions {
  std::string prompt, ids, system, weights, dumpLogits;
  std::string perplexity, saveLogits, referenceLogits, prompts;
  int64_t pplContext = 0, pplMaxTokens = 0, batch = 0;
  bool havePrompt = false, haveIds = false, chat = false, bench = false;
  bool printIds = false, quiet = false, help = false;
  GenerateOptions gen;
};

bool parseI64(const std::string &s, int64_t lo, int64_t hi, int64_t &out) {
  if (s.empty())
    return false;
  errno = 0;
  char *end = nullptr;
  long long v = strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi)
    return false;
  out = v;
  return true;
}

bool parseF32(const std::string &s, float lo, float hi, float &out) {
  if (s.empty())
    return false;
  errno = 0;
  char *end = nullptr;
  float v = strtof(s.c_str(), &end);
  if (errno != 0 || *end != '\0' || !(v >= lo && v <= hi))
    return false;
  out = v;
  return true;
}

// Returns "" on success, else the error message.
std::string parseArgs(int argc, char **argv, CliOptions &o) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i], value;
    bool inlineValue = false;
    size_t eq = flag.find('=');
    if (flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
      inlineValue = true;
    }
    auto takeValue = [&]() {
      if (inlineValue)
        return true;
      if (i + 1 >= argc)
        return false;
      value = argv[++i];
      return true;
    };
    auto isSwitch = [&](const char *name, bool &field) {
      if (flag != name)
        return false;
      field = true;
      return true;
    };
    if (isSwitch("--chat", o.chat) || isSwitch("--bench", o.bench) ||
        isSwitch("--print-ids", o.printIds) || isSwitch("--quiet", o.quiet) ||
        isSwitch("--help", o.help) || isSwitch("-h", o.help)) {
      if (inlineValue)
        return flag + " takes no value";
      continue;
    }
    static const char *const kValued[] = {
        "--prompt", "--ids",       "-n",          "--temp",
        "--top-k",  "--top-p",     "--seed",      "--system",
        "--weights", "--max-context", "--dump-logits", "--perplexity",
        "--ctx", "--max-tokens", "--save-logits", "--reference-logits",
        "--prompts", "--batch"};
    bool known = false;
    for (const char *k : kValued)
      known |= flag == k;
    if (!known)
      return "unknown option '" + flag + "' (see --help)";
    if (!takeValue())
      return "option " + flag + " needs a value";
    int64_t v = 0;
    bool ok = true;
    if (flag == "--prompt") {
      o.prompt = value;
      o.havePrompt = true;
    } else if (flag == "--ids") {
      o.ids = value;
      o.haveIds = true;
    } else if (flag == "--system") {
      o.system = value;
    } else if (flag == "--weights") {
      o.weights = value;
    } else if (flag == "--dump-logits") {
      o.dumpLogits = value;
    } else if (flag == "--perplexity") {
      o.perplexity = value;
    } else if (flag == "--save-logits") {
      o.saveLogits = value;
    } else if (flag == "--reference-logits") {
      o.referenceLogits = value;
    } else if (flag == "--prompts") {
      o.prompts = value;
    } else if (flag == "--batch") {
      ok = parseI64(value, 1, INT32_MAX, o.batch);
    } else if (flag == "--ctx") {
      ok = parseI64(value, 2, INT32_MAX, o.pplContext);
    } else if (flag == "--max-tokens") {
      ok = parseI64(value, 1, INT64_MAX, o.pplMaxTokens);
    } else if (flag == "-n") {
      ok = parseI64(value, 0, INT32_MAX, o.gen.maxNewTokens);
    } else if (flag == "--max-context") {
      ok = parseI64(value, 1, INT32_MAX, o.gen.maxContext);
    } else if (flag == "--top-k") {
      ok = parseI64(value, 0, INT32_MAX, v);
      o.gen.sampler.topK = static_cast<int32_t>(v);
    } else if (flag == "--seed") {
      ok = parseI64(value, 0, INT64_MAX, v);
      o.gen.sampler.seed = static_cast<uint64_t>(v);
    } else if (flag == "--temp") {
      ok = parseF32(value, 0.0f, 1e6f, o.gen.sampler.temperature);
    } else if (flag == "--top-p") {
      ok = parseF32(value, 1e-6f, 1.0f, o.gen.sampler.topP);
    }
    if (!ok)
      return "invalid value '" + value + "' for " + flag;
  }
  if (!o.help && o.havePrompt && o.haveIds)
    return "give either --prompt or --ids, not both";
  if (!o.help && o.perplexity.empty() &&
      (o.pplContext || o.pplMaxTokens || !o.saveLogits.empty() ||
       !o.referenceLogits.empty()))
    return "--ctx, --max-tokens, --save-logits and --reference-logits go "
           "with --perplexity FILE";
  if (!o.help && !o.perplexity.empty() && (o.havePrompt || o.haveIds))
    return "--perplexity scores a file; it takes no --prompt or --ids";
  if (!o.help && !o.prompts.empty() &&
      (o.havePrompt || o.haveIds || !o.perplexity.empty()))
    return "--prompts FILE takes no --prompt, --ids or --perplexity";
  if (!o.help && o.batch && o.prompts.empty())
    return "--batch N goes with --prompts FILE";
  if (!o.help && !o.prompts.empty() && !o.dumpLogits.empty())
    return "--dump-logits is not supported with --prompts";
  return "";
}

std::unique_ptr<ModelFile> openModel(const std::string &weights,
                                     std::string &error) {
  if (!weights.empty())
    return ModelFile::openFile(weights, error);
  if (&frugal_embedded_weights_size && &frugal_embedded_weights[0] &&
      frugal_embedded_weights_size != 0)
    return ModelFile::openMemory(frugal_embedded_weights,
                                 frugal_embedded_weights_size,
                                 "<embedded weights>", error);
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) {
    error = "cannot find the executable's path; give --weights PATH";
    return nullptr;
  }
  exe[n] = '\0';
  return ModelFile::openFile(std::string(exe) + ".fgw", error);
}

int fail(FILE *err, const std::string &msg) {
  fprintf(err, "llmrt: error: %s\n", msg.c_str());
  return 1;
}

bool readTextFile(const std::string &path, std::string &text,
                  std::string &error) {
  FILE *f = fopen(path.c_str(), "rb");
  if (!f) {
    error = path + ": cannot open: " + strerror(errno);
    return false;
  }
  char buf[65536];
  size_t n;
  text.clear();
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
    text.append(buf, n);
  bool ok = !ferror(f);
  fclose(f);
  if (!ok)
    error = path + ": read error";
  return ok;
}

/// `--perplexity FILE`: scores the file's text and prints the result.
int runPerplexity(const CliOptions &o, const ModelConfig &config,
                  const Tokenizer &tok, Session &session, ForwardFn forwardAll,
                  FILE *out, FILE *err) {
  std::string text, error;
  if (!readTextFile(o.perplexity, text, error))
    return fail(err, error);
  std::vector<int32_t> ids;
  if (!tok.encode(text, -1, ids, error))
    return fail(err, "cannot tokenize " + o.perplexity + ": " + error);
  PerplexityOptions opt;
  opt.context = o.pplContext;
  opt.maxTokens = o.pplMaxTokens;
  opt.bosId = config.addBos ? config.bosId : -1;
  opt.forwardAll = forwardAll;
  FILE *save = nullptr, *reference = nullptr;
  if (!o.saveLogits.empty() && !(save = fopen(o.saveLogits.c_str(), "wb")))
    return fail(err, o.saveLogits + ": cannot open: " + strerror(errno));
  if (!o.referenceLogits.empty() &&
      !(reference = fopen(o.referenceLogits.c_str(), "rb"))) {
    if (save)
      fclose(save);
    return fail(err, o.referenceLogits + ": cannot open: " + strerror(errno));
  }
  opt.saveLogits = save;
  opt.referenceLogits = reference;
  PerplexityResult result;
  bool ok = session.perplexity(ids, opt, result, error);
  if (reference)
    fclose(reference);
  if (save && fclose(save) != 0 && ok) {
    ok = false;
    error = o.saveLogits + ": " + strerror(errno);
  }
  if (!ok)
    return fail(err, error);
  printPerplexity(out, result);
  fflush(out);
  return 0;
}

/// The prompt of `text` as ids: the chat template when asked for, BOS when
/// the model adds one.
bool encodePrompt(const CliOptions &o, const ModelConfig &config,
                  const Tokenizer &tok, const std::string &prompt,
                  std::vector<int32_t> &ids, std::string &error) {
  std::string text = prompt;
  if (o.chat) {
    if (config.chatTemplate != "chatml") {
      error = "--chat: the model has no chat template";
      return false;
    }
    text = formatChatML(
        o.system.empty() ? config.defaultSystemPrompt : o.system, text);
  }
  if (!tok.encode(text, config.addBos ? config.bosId : -1, ids, error)) {
    error = "cannot tokenize the prompt: " + error;
    return false;
  }
  return true;
}

const char *stopName(StopReason stop) {
  switch (stop) {
  case StopReason::Eos:
    return "eos";
  case StopReason::ContextFull:
    return "context full";
  case StopReason::Length:
    break;
  }
  return "length";
}

/// `--prompts FILE [--batch N]`: every line's completion, in the file's
/// order, each after a `--- sequence I: ...` header line.
int runBatch(const CliOptions &o, const ModelConfig &config,
             const Tokenizer &tok, Session &session,
             ForwardBatchFn forwardBatch, FILE *out, FILE *err) {
  std::string text, error;
  if (!readTextFile(o.prompts, text, error))
    return fail(err, error);
  std::vector<std::vector<int32_t>> prompts;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    start = end + 1;
    if (line.find_first_not_of(" \t") == std::string::npos)
      continue;
    prompts.emplace_back();
    if (!encodePrompt(o, config, tok, line, prompts.back(), error))
      return fail(err, o.prompts + ": prompt " +
                           std::to_string(prompts.size()) + ": " + error);
  }
  if (prompts.empty())
    return fail(err, o.prompts + ": no prompts (one per non-empty line)");
  int64_t batch = o.batch ? o.batch : config.kvMaxBatch;
  std::vector<GenerateResult> results;
  BatchStats stats;
  auto onDone = [&](size_t index, const GenerateResult &r) {
    fprintf(err, "llmrt: sequence %zu done (%lld tokens, %s)\n", index + 1,
            static_cast<long long>(r.stats.generatedTokens),
            stopName(r.stop));
  };
  if (!session.generateBatch(prompts, o.gen, batch, forwardBatch,
                             o.quiet ? SequenceCallback() : onDone, results,
                             stats, error))
    return fail(err, error);
  for (size_t i = 0; i < results.size(); ++i) {
    const GenerateResult &r = results[i];
    fprintf(out, "--- sequence %zu: %lld prompt tokens, %lld generated, %s\n",
            i + 1, static_cast<long long>(r.stats.promptTokens),
            static_cast<long long>(r.stats.generatedTokens), stopName(r.stop));
    if (!o.quiet) {
      StreamDecoder decoder;
      int32_t prev = prompts[i].back();
      std::string generated;
      for (int32_t id : r.tokens) {
        if (config.isEos(id))
          break;
        generated += decoder.push(tok.tokenText(prev, id));
        prev = id;
      }
      generated += decoder.flush();
      fwrite(generated.data(), 1, generated.size(), out);
      fputc('\n', out);
    }
    if (o.printIds) {
      fputs("ids:", out);
      for (int32_t id : r.tokens)
        fprintf(out, " %d", id);
      fputc('\n', out);
    }
  }
  if (o.bench) {
    printBatchLine(out, stats);
    printMemoryLine(out, config);
  } else {
    printBatchLine(err, stats);
  }
  fflush(out);
  return 0;
}

} // namespace

int runCli(int argc, char **argv, ForwardFn forward, FILE *out, FILE *err) {
  llmrt_backend backend = {forward, nullptr, nullptr};
  return runCli(argc, argv, backend, out, err);
}

int runCli(int argc, char **argv, const llmrt_backend &backend, FILE *out,
           FILE *err) {
  ForwardFn forward = backend.forward;
  CliOptions o;
  std::string error = parseArgs(argc, argv, o);
  if (!error.empty())
    return fail(err, error);
  if (o.help) {
    fprintf(out, kUsage, argc > 0 ? argv[0] : "model");
    return 0;
  }
  std::unique_ptr<ModelFile> file = openModel(o.weights, error);
  if (!file)
    return fail(err, error);
  ModelConfig config;
  PreTokenizer pre;
  if (!parseModelConfig(*file, config, error))
    return fail(err, error);
  if (!parsePreTokenizer(config.preTokenizer, pre))
    return fail(err, file->name() + ": unknown pre_tokenizer \"" +
                         config.preTokenizer + "\"");
  std::unique_ptr<Tokenizer> tok =
      Tokenizer::create(file->tokenizer(), pre, error, config.bosId);
  if (!tok)
    return fail(err, file->name() + ": " + error);

  if (!o.perplexity.empty()) {
    std::unique_ptr<Session> session =
        Session::create(config, file->weights(), forward, error);
    if (!session)
      return fail(err, error);
    return runPerplexity(o, config, *tok, *session, backend.forward_all, out,
                         err);
  }

  if (!o.prompts.empty()) {
    std::unique_ptr<Session> session =
        Session::create(config, file->weights(), forward, error);
    if (!session)
      return fail(err, error);
    return runBatch(o, config, *tok, *session, backend.forward_batch, out,
                    err);
  }

  std::vector<int32_t> prompt;
  // Without a prompt, a model that adds BOS starts from BOS alone.
  if (!o.havePrompt && !o.haveIds && !config.addBos)
    return fail(err, "no prompt: give --prompt TEXT or --ids LIST");
  if (o.haveIds) {
    if (!parseIdList(o.ids, prompt))
      return fail(err, "invalid --ids '" + o.ids + "': expected 1,2,3");
  } else if (!encodePrompt(o, config, *tok, o.prompt, prompt, error)) {
    return fail(err, error);
  }
  std::unique_ptr<Session> session =
      Session::create(config, file->weights(), forward, error);
  if (!session)
    return fail(err, error);
  FILE *dump = nullptr;
  if (!o.dumpLogits.empty()) {
    dump = fopen(o.dumpLogits.c_str(), "ab");
    if (!dump)
      return fail(err, o.dumpLogits + ": cannot open: " + strerror(errno));
  }
  o.gen.dumpLogits = dump;

  StreamDecoder decoder;
  bool printed = false;
  int32_t prev = prompt.empty() ? -1 : prompt.back();
  auto onToken = [&](int32_t id) {
    if (o.quiet)
      return;
    std::string text = decoder.push(tok->tokenText(prev, id));
    prev = id;
    if (!text.empty()) {
      fwrite(text.data(), 1, text.size(), out);
      printed = true;
    }
    fflush(out);
  };
  GenerateResult result;
  bool ok = session->generate(prompt, o.gen, onToken, result, error);
  if (dump && fclose(dump) != 0 && ok) {
    ok = false;
    error = o.dumpLogits + ": " + strerror(errno);
  }
  if (!ok)
    return fail(err, error);
  if (!o.quiet) {
    std::string rest = decoder.flush();
    fwrite(rest.data(), 1, rest.size(), out);
    if (printed || !rest.empty())
      fputc('\n', out);
    // The text ends before the metrics start on stderr.
    fflush(out);
  }
  if (result.stop == StopReason::ContextFull)
    fprintf(err, "llmrt: context full (%lld tokens); generation stopped\n",
            static_cast<long long>(o.gen.maxContext > 0 ? o.gen.maxContext
                                                        : config.maxContext));
  else if (config.kvLayout == "ring" &&
           result.stats.promptTokens + result.stats.generatedTokens >
               config.kvWindow)
    fprintf(err, "llmrt: past the sliding window: attention saw the last %lld "
                 "positions\n",
            static_cast<long long>(config.kvWindow));
  if (o.printIds) {
    fputs("ids:", out);
    for (int32_t id : result.tokens)
      fprintf(out, " %d", id);
    fputc('\n', out);
  }
  printMetrics(err, result.stats);
  if (o.bench) {
    printBenchLine(out, result.stats);
    printMemoryLine(out, config);
  }
  fflush(out);
  return 0;
}

} // namespace llmrt
