//===- Report.cpp - The efficiency report of llm-compile -------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "tools/llm-compile/Report.h"

#include "tools/llm-compile/Budget.h"
#include "passes/CostModel/CostModel.h"

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <map>

using namespace mlir;
using namespace frugal;
namespace cost = mlir::llm::cost;
namespace json = llvm::json;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The prompt of the measured run: ids spread over the second quarter of
/// the vocabulary (no special tokens in the tokenizers at hand).
std::vector<int64_t> promptIds(int64_t vocab, int64_t count) {
  int64_t base = vocab / 4, span = std::max<int64_t>(1, vocab / 4);
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < count; ++i)
    ids.push_back(base + (i * 7919) % span);
  return ids;
}

/// (predicted - measured) / measured in percent.
json::Value errorPercent(double predicted, double measured) {
  if (measured <= 0)
    return nullptr;
  return 100.0 * (predicted - measured) / measured;
}

/// Parses `key=value` fields of the line starting with `prefix`.
llvm::StringMap<double> parseFields(llvm::StringRef text,
                                    llvm::StringRef prefix) {
  llvm::StringMap<double> fields;
  llvm::SmallVector<llvm::StringRef> lines;
  text.split(lines, '\n');
  for (llvm::StringRef line : lines) {
    if (!line.consume_front(prefix))
      continue;
    llvm::SmallVector<llvm::StringRef> words;
    line.split(words, ' ', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef word : words) {
      auto [key, value] = word.split('=');
      double number;
      if (!value.getAsDouble(number))
        fields[key] = number;
    }
  }
  return fields;
}

/// "f32", or the distinct quantizations of the weights with their share,
/// e.g. "int8 g32 symmetric (211 of 272 weights)".
std::string describeQuantization(func::FuncOp forward) {
  llvm::StringSet<> names;
  std::map<std::string, int64_t> counts;
  forward.walk([&](llm::WeightOp weight) {
    if (!names.insert(weight.getName()).second)
      return;
    if (llm::QuantAttr quant = weight.getQuantAttr())
      ++counts[llvm::formatv("int{0} g{1} {2}", quant.getBits(),
                             quant.getGroup(),
                             llm::stringifyQuantScheme(quant.getScheme()))
                   .str()];
  });
  if (counts.empty())
    return "f32";
  std::string text;
  for (const auto &[kind, count] : counts)
    text += llvm::formatv("{0}{1} ({2} of {3} weights)",
                          text.empty() ? "" : ", ", kind, count, names.size())
                .str();
  return text;
}

/// Runs a compiled model with `args` and returns its stdout.
llvm::Expected<std::string> runModel(llvm::StringRef path,
                                     llvm::ArrayRef<std::string> modelArgs) {
  llvm::SmallString<256> executable(path);
  if (std::error_code ec = llvm::sys::fs::make_absolute(executable))
    return makeError("--measure: " + path + ": " + ec.message());
  // Linux keeps a process's peak RSS across exec, and a child of this
  // compiler starts with the compiler's pages: run the model as a
  // grandchild of a small shell so that its peak RSS is its own.
  llvm::SmallVector<llvm::StringRef> args = {
      "/bin/sh", "-c", "\"$0\" \"$@\"; exit $?", executable};
  for (const std::string &arg : modelArgs)
    args.push_back(arg);
  llvm::SmallString<128> outPath, errPath;
  for (auto [path, suffix] : {std::pair{&outPath, "out"}, {&errPath, "err"}})
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "llm-compile-measure", suffix, *path))
      return makeError("--measure: cannot create a temporary file: " +
                       ec.message());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, outPath.str(),
                                                errPath.str()};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait("/bin/sh", args, std::nullopt,
                                     redirects, /*SecondsToWait=*/0,
                                     /*MemoryLimit=*/0, &error);
  auto out = llvm::MemoryBuffer::getFile(outPath);
  auto err = llvm::MemoryBuffer::getFile(errPath);
  llvm::sys::fs::remove(outPath);
  llvm::sys::fs::remove(errPath);
  if (rc != 0)
    return makeError("--measure: " + path + " failed (exit " +
                     llvm::Twine(rc) + ")" +
                     (error.empty() ? "" : ": " + error) +
                     (err ? ": " + (*err)->getBuffer().trim() : ""));
  if (!out)
    return makeError("--measure: cannot read the output of " + path);
  return (*out)->getBuffer().str();
}

double getNumber(const json::Object &obj, llvm::StringRef key) {
  return obj.getNumber(key).value_or(0.0);
}

} // namespace

llvm::Expected<json::Object>
frugal::predictReport(ModuleOp module, const ReportModel &model,
                      const ReportOptions &options) {
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  if (!forward)
    return makeError("--report: the model has no `forward` function");
  if (options.promptTokens < 1 || options.decodeTokens < 1)
    return makeError("--report: the workload needs at least one prompt and "
                     "one decode token");
  // A workload longer than the KV cache shrinks to fit: half of it for the
  // prompt, the rest (up to the request) for decoding.
  int64_t promptTokens = options.promptTokens;
  int64_t decodeTokens = options.decodeTokens;
  if (model.maxContext && promptTokens + decodeTokens > model.maxContext) {
    promptTokens = std::max<int64_t>(
        1, std::min(promptTokens, model.maxContext / 2));
    decodeTokens = std::max<int64_t>(
        1, std::min(decodeTokens, model.maxContext - promptTokens));
  }
  auto target = cost::loadTarget(options.target, options.targetParams);
  if (!target)
    return makeError("--report: " + llvm::toString(target.takeError()));

  auto prefillQuery = cost::StepQuery::prefill(promptTokens);
  int64_t decodeContext = promptTokens + decodeTokens / 2;
  auto decodeQuery = cost::StepQuery::decode(decodeContext);
  cost::StepEstimate prefill =
      cost::estimateStep(forward, *target, prefillQuery);
  cost::StepEstimate decode = cost::estimateStep(forward, *target, decodeQuery);
  cost::MemoryEstimate memory = cost::estimateMemory(forward, prefillQuery);
  cost::TokenFigures prefillToken = prefill.perToken(*target);
  cost::TokenFigures decodeToken = decode.perToken(*target);

  json::Object modelJSON{
      {"name", model.name},
      {"arch", model.arch},
      {"input", model.input},
      {"executable", model.executable},
      {"quantization", describeQuantization(forward)},
      {"vocab_size", model.vocab},
      {"max_context", model.maxContext},
      {"parameters", memory.parameters},
      {"weight_bytes", memory.weightBytes},
      {"f32_weight_bytes", memory.f32WeightBytes},
      {"compression_ratio", memory.getCompressionRatio()},
      {"kv_bytes_per_token", memory.kvBytesPerToken},
      {"kv_cache_bytes", memory.kvCacheBytes},
      {"arena_bytes", memory.arenaBytes},
      {"activation_bytes", memory.activationBytes},
      {"flops_per_token",
       json::Object{{"prefill", double(prefill.total.flops) /
                                    double(promptTokens)},
                    {"decode", decode.total.flops}}}};
  json::Object targetJSON{
      {"name", target->name},
      {"path", target->path},
      {"kind", target->kind},
      {"memory_bandwidth", target->memoryBandwidth},
      {"peak_f32_flops", target->getPeakFlops("f32")},
      {"carbon_g_per_kwh", target->carbonGramsPerKWh},
      {"price_usd_per_hour", target->priceUsdPerHour}};
  // The decode roofline: every byte the step moves at full bandwidth.
  double rooflineSeconds =
      double(decode.total.bytesMoved()) / target->memoryBandwidth;
  json::Object predicted{
      {"peak_memory_bytes", memory.getPeakBytes() + model.runtimeBytes},
      {"model_memory_bytes", memory.getPeakBytes()},
      {"runtime_bytes", model.runtimeBytes},
      {"prefill_seconds", prefill.seconds},
      {"ttft_seconds", prefill.seconds},
      {"prefill_tokens_per_second", prefillToken.tokensPerSecond},
      {"decode_seconds_per_token", decodeToken.seconds},
      {"decode_tokens_per_second", decodeToken.tokensPerSecond},
      {"decode_bytes_per_token", decode.total.bytesMoved()},
      {"decode_roofline_tokens_per_second",
       rooflineSeconds > 0 ? 1.0 / rooflineSeconds : 0.0},
      {"prefill_joules_per_token", prefillToken.joules},
      {"decode_joules_per_token", decodeToken.joules},
      {"g_co2_per_1k_tokens", decodeToken.gramsCO2Per1kTokens},
      {"usd_per_1m_tokens", decodeToken.usdPer1MTokens}};
  return json::Object{
      {"schema_version", 1},
      {"generator", "llm-compile"},
      {"model", std::move(modelJSON)},
      {"target", std::move(targetJSON)},
      {"workload", json::Object{{"prompt_tokens", promptTokens},
                                {"decode_tokens", decodeTokens},
                                {"decode_context", decodeContext}}},
      {"predicted", std::move(predicted)},
      {"measured", nullptr},
      {"fidelity", nullptr}};
}

llvm::Error frugal::measureReport(json::Object &report,
                                  const ReportModel &model,
                                  const ReportOptions &options) {
  const json::Object *predicted = report.getObject("predicted");
  const json::Object *target = report.getObject("target");
  const json::Object *workload = report.getObject("workload");
  if (!predicted || !target || !workload)
    return makeError("--measure: the report has no prediction");
  int64_t promptTokens = workload->getInteger("prompt_tokens").value_or(1);
  std::string ids;
  for (int64_t id : promptIds(model.vocab, promptTokens))
    ids += (ids.empty() ? "" : ",") + std::to_string(id);
  std::string decodeTokens =
      std::to_string(workload->getInteger("decode_tokens").value_or(1));
  auto out = runModel(model.executable,
                      {"--ids", ids, "-n", decodeTokens, "--bench", "--quiet"});
  if (!out)
    return out.takeError();
  llvm::StringMap<double> bench = parseFields(*out, "bench:");
  for (const char *key : {"decode_tok_s", "prefill_tok_s", "ttft_ms",
                          "peak_rss_mb", "decode_tokens", "prompt_tokens"})
    if (!bench.count(key))
      return makeError(llvm::Twine("--measure: no ") + key + " in the `bench:` "
                       "line of " + model.executable + " --bench");

  double decodeRate = bench["decode_tok_s"];
  double decodeSeconds = decodeRate > 0 ? 1.0 / decodeRate : 0.0;
  double rssBytes = bench["peak_rss_mb"] * 1024.0 * 1024.0;
  double price = getNumber(*target, "price_usd_per_hour");
  std::string command = model.executable + " --ids <" +
                        std::to_string(promptTokens) +
                        " ids> -n " + decodeTokens + " --bench --quiet";
  json::Object measured{
      {"command", command},
      {"prompt_tokens", bench["prompt_tokens"]},
      {"decode_tokens", bench["decode_tokens"]},
      {"prefill_tokens_per_second", bench["prefill_tok_s"]},
      {"ttft_seconds", bench["ttft_ms"] / 1e3},
      {"decode_tokens_per_second", decodeRate},
      {"decode_seconds_per_token", decodeSeconds},
      {"peak_rss_bytes", rssBytes},
      // No energy meter is read yet (NVML for GPU binaries, RAPL where
      // /sys/class/powercap exposes it): energy and carbon stay null.
      {"energy_meter", "none"},
      {"decode_joules_per_token", nullptr},
      {"g_co2_per_1k_tokens", nullptr},
      {"usd_per_1m_tokens", decodeSeconds * 1e6 / 3600.0 * price},
      {"error_pct",
       json::Object{
           {"decode_tokens_per_second",
            errorPercent(getNumber(*predicted, "decode_tokens_per_second"),
                         decodeRate)},
           {"prefill_tokens_per_second",
            errorPercent(getNumber(*predicted, "prefill_tokens_per_second"),
                         bench["prefill_tok_s"])},
           {"peak_memory",
            errorPercent(getNumber(*predicted, "peak_memory_bytes"),
                         rssBytes)}}}};
  report["measured"] = std::move(measured);
  if (options.reference.empty())
    return llvm::Error::success();

  // Fidelity: score the same text with the reference build, keeping its
  // logits, then with this one against them.
  llvm::SmallString<128> logitsPath;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "llm-compile-reference", "logits", logitsPath))
    return makeError("--measure: cannot create a temporary file: " +
                     ec.message());
  std::string tokens = std::to_string(options.fidelityTokens);
  auto reference = runModel(options.reference,
                            {"--perplexity", options.fidelityText,
                             "--max-tokens", tokens, "--save-logits",
                             logitsPath.str().str()});
  llvm::Expected<std::string> scored =
      reference ? runModel(model.executable,
                           {"--perplexity", options.fidelityText,
                            "--max-tokens", tokens, "--reference-logits",
                            logitsPath.str().str()})
                : reference.takeError();
  llvm::sys::fs::remove(logitsPath);
  if (!scored)
    return scored.takeError();
  llvm::StringMap<double> ref = parseFields(*reference, "perplexity:");
  llvm::StringMap<double> ppl = parseFields(*scored, "perplexity:");
  llvm::StringMap<double> fid = parseFields(*scored, "fidelity:");
  if (!ref.count("ppl") || !ppl.count("ppl") || !fid.count("mean_kl") ||
      !fid.count("top1_agreement") || !fid.count("ppl_delta_lo_pct") ||
      !fid.count("ppl_delta_hi_pct"))
    return makeError("--measure: no `perplexity:`/`fidelity:` figures from " +
                     options.reference + " and " + model.executable +
                     " --perplexity " + options.fidelityText);
  report["fidelity"] = json::Object{
      {"reference", options.reference},
      {"text", options.fidelityText},
      {"tokens", int64_t(ppl["tokens"])},
      {"perplexity", ppl["ppl"]},
      {"reference_perplexity", ref["ppl"]},
      {"perplexity_delta", ppl["ppl"] - ref["ppl"]},
      {"perplexity_increase_pct_95",
       json::Array{fid["ppl_delta_lo_pct"], fid["ppl_delta_hi_pct"]}},
      {"mean_kl", fid["mean_kl"]},
      {"top1_agreement", fid["top1_agreement"]}};
  return llvm::Error::success();
}

llvm::Error frugal::writeReport(const json::Object &report,
                                llvm::StringRef path) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return makeError("cannot write " + path + ": " + ec.message());
  out << llvm::formatv("{0:2}", json::Value(json::Object(report))) << "\n";
  return llvm::Error::success();
}

void frugal::printReport(const json::Object &report, llvm::raw_ostream &os) {
  const json::Object empty;
  auto object = [&](const json::Object &obj, llvm::StringRef key) {
    const json::Object *child = obj.getObject(key);
    return child ? child : &empty;
  };
  const json::Object &model = *object(report, "model");
  const json::Object &target = *object(report, "target");
  const json::Object &workload = *object(report, "workload");
  const json::Object &predicted = *object(report, "predicted");
  const json::Object *measured = report.getObject("measured");
  const json::Object &flops = *object(model, "flops_per_token");
  auto num = [](const json::Object &obj, llvm::StringRef key) {
    return getNumber(obj, key);
  };
  auto mb = [](double bytes) {
    return llvm::formatv("{0:f1} MB", bytes / (1024.0 * 1024.0)).str();
  };
  // 3 significant digits with an SI prefix: "263 K", "1.23 G".
  auto si = [](double value, llvm::StringRef unit) {
    const char *prefixes[] = {"", "K", "M", "G", "T", "P"};
    int i = 0;
    while (std::abs(value) >= 1000.0 && i < 5) {
      value /= 1000.0;
      ++i;
    }
    return llvm::formatv("{0} {1}{2}", llvm::format("%.3g", value),
                         prefixes[i], unit)
        .str();
  };
  auto row = [&](llvm::StringRef metric, const std::string &predictedText,
                 const std::string &measuredText = "") {
    os << llvm::formatv("  {0,-28} {1,-22} {2}\n", metric, predictedText,
                        measuredText);
  };
  os << llvm::formatv("efficiency report: {0} on {1} ({2}-token prompt, {3} "
                      "decode tokens)\n",
                      model.getString("name").value_or(""),
                      target.getString("name").value_or(""),
                      workload.getInteger("prompt_tokens").value_or(0),
                      workload.getInteger("decode_tokens").value_or(0));
  row("metric", "predicted", measured ? "measured" : "");
  row("parameters", si(num(model, "parameters"), ""));
  row("weights", llvm::formatv("{0} ({1:f2}x vs f32)",
                               mb(num(model, "weight_bytes")),
                               num(model, "compression_ratio")));
  row("KV cache per token",
      llvm::formatv("{0:f1} KB", num(model, "kv_bytes_per_token") / 1024.0));
  row("FLOPs/token prefill", si(num(flops, "prefill"), "FLOP"));
  row("FLOPs/token decode", si(num(flops, "decode"), "FLOP"));
  auto pct = [&](llvm::StringRef key) -> std::string {
    if (!measured)
      return "";
    const json::Object *errors = measured->getObject("error_pct");
    std::optional<double> e = errors ? errors->getNumber(key) : std::nullopt;
    return e ? llvm::formatv(" (prediction {0:+0.0;-0.0}%)", *e).str() : "";
  };
  row("peak memory", mb(num(predicted, "peak_memory_bytes")),
      measured ? mb(num(*measured, "peak_rss_bytes")) + " RSS" +
                     pct("peak_memory")
               : "");
  row("prefill",
      llvm::formatv("{0:f1} tok/s", num(predicted, "prefill_tokens_per_second")),
      measured ? llvm::formatv("{0:f1} tok/s",
                               num(*measured, "prefill_tokens_per_second"))
                         .str() +
                     pct("prefill_tokens_per_second")
               : "");
  row("decode",
      llvm::formatv("{0:f1} tok/s", num(predicted, "decode_tokens_per_second")),
      measured ? llvm::formatv("{0:f1} tok/s",
                               num(*measured, "decode_tokens_per_second"))
                         .str() +
                     pct("decode_tokens_per_second")
               : "");
  row("decode roofline",
      llvm::formatv("{0:f1} tok/s",
                    num(predicted, "decode_roofline_tokens_per_second")));
  row("energy/token (decode)", si(num(predicted, "decode_joules_per_token"), "J"),
      measured ? "no meter" : "");
  row("gCO2 per 1k tokens", si(num(predicted, "g_co2_per_1k_tokens"), "g"));
  row("$ per 1M tokens", si(num(predicted, "usd_per_1m_tokens"), "$"),
      measured ? si(num(*measured, "usd_per_1m_tokens"), "$") : "");
  if (const json::Object *fidelity = report.getObject("fidelity")) {
    const json::Array *interval =
        fidelity->getArray("perplexity_increase_pct_95");
    std::string range;
    if (interval && interval->size() == 2)
      range = llvm::formatv(
          " [{0}%..{1}%]",
          llvm::format("%+.1f", (*interval)[0].getAsNumber().value_or(0.0)),
          llvm::format("%+.1f", (*interval)[1].getAsNumber().value_or(0.0)));
    row("fidelity vs reference", "",
        llvm::formatv("ppl {0:f3} (ref {1:f3}){2}, KL {3:f4}, top-1 {4:f3}",
                      num(*fidelity, "perplexity"),
                      num(*fidelity, "reference_perplexity"), range,
                      num(*fidelity, "mean_kl"),
                      num(*fidelity, "top1_agreement")));
  } else
    row("fidelity", "not measured (--reference)");
  printBudget(report, os);
}
