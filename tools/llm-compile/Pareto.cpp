//===- Pareto.cpp - Sweep of compile configurations and its frontier ------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "tools/llm-compile/Pareto.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <optional>

using namespace frugal;
namespace json = llvm::json;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Exit status of scripts/plot_pareto.py when matplotlib cannot be imported.
constexpr int kPlotLibraryMissing = 3;

/// What the sweep keeps of one build.
struct Point {
  ParetoConfig config;
  std::string name, dir, reportPath, executable, weightsFile, quantization;
  int64_t fileBytes = 0;
  double predictedTokS = 0, measuredTokS = 0;
  double predictedJoules = 0;
  std::optional<double> measuredJoules;
  std::string energyMeter = "none";
  double predictedPeak = 0, measuredPeak = 0;
  double ppl = 0, referencePpl = 0, meanKL = 0, top1 = 0;
  bool frontierEnergy = false, frontierSpeed = false;

  /// The energy axis: measured where a meter read it, else predicted.
  double energy() const { return measuredJoules.value_or(predictedJoules); }
  double pplDeltaPct() const {
    return referencePpl > 0 ? 100.0 * (ppl - referencePpl) / referencePpl
                            : 0.0;
  }
  bool kept() const { return frontierEnergy || frontierSpeed; }
};

/// Flags the points no other point dominates, both coordinates minimized:
/// q dominates p when it is no worse in both and better in one.
std::vector<bool>
nonDominated(const std::vector<std::pair<double, double>> &points) {
  std::vector<bool> result(points.size(), true);
  for (size_t p = 0; p < points.size(); ++p)
    for (size_t q = 0; q < points.size() && result[p]; ++q) {
      auto [px, py] = points[p];
      auto [qx, qy] = points[q];
      if (q != p && qx <= px && qy <= py && (qx < px || qy < py))
        result[p] = false;
    }
  return result;
}

const json::Object &child(const json::Object &obj, llvm::StringRef key) {
  static const json::Object empty;
  const json::Object *c = obj.getObject(key);
  return c ? *c : empty;
}

double number(const json::Object &obj, llvm::StringRef key) {
  return obj.getNumber(key).value_or(0.0);
}

json::Value optionalNumber(std::optional<double> value) {
  if (value)
    return *value;
  return nullptr;
}

llvm::Expected<json::Object> readJSON(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return makeError("cannot read " + path + ": " +
                     buffer.getError().message());
  auto value = json::parse((*buffer)->getBuffer());
  if (!value)
    return makeError(path + ": " + llvm::toString(value.takeError()));
  json::Object *obj = value->getAsObject();
  if (!obj)
    return makeError(path + ": not a JSON object");
  return std::move(*obj);
}

int64_t fileSize(llvm::StringRef path) {
  uint64_t size = 0;
  if (llvm::sys::fs::file_size(path, size))
    return 0;
  return static_cast<int64_t>(size);
}

std::string joinPath(llvm::StringRef a, llvm::StringRef b) {
  llvm::SmallString<256> path(a);
  llvm::sys::path::append(path, b);
  return path.str().str();
}

/// Compiles `config` into DIR/<name>/model with a predicted report, then
/// measures it (speed, peak RSS, fidelity against `reference`; the fastest
/// of `benchRuns` --bench runs).
llvm::Expected<Point> buildPoint(const CompileOptions &base,
                                 const ParetoConfig &config,
                                 llvm::StringRef dir,
                                 llvm::StringRef reference, int benchRuns,
                                 bool progress) {
  Point point;
  point.config = config;
  point.name = config.getName();
  point.dir = joinPath(dir, point.name);
  if (std::error_code ec = llvm::sys::fs::create_directories(point.dir))
    return makeError("cannot create " + point.dir + ": " + ec.message());
  CompileOptions options = base;
  options.output = joinPath(point.dir, "model");
  options.emit = EmitKind::Executable;
  options.embedWeights = false;
  options.progress = false;
  options.optimization.quantBits = config.bits;
  options.optimization.quantGroup = config.group;
  options.optimization.quantScheme = config.scheme;
  options.optimization.quantMethod = config.method;
  options.optimization.kvDtype = config.kvDtype;
  point.reportPath = joinPath(point.dir, "report.json");
  options.report.path = point.reportPath;
  options.report.measure = false;
  options.report.print = false;
  options.report.reference.clear();
  if (llvm::Error err = compileModel(options))
    return std::move(err);
  point.executable = options.output;
  point.weightsFile = options.output + ".fgw";
  point.fileBytes = fileSize(point.executable) + fileSize(point.weightsFile);

  if (progress)
    llvm::errs() << " measuring ...";
  auto report = readJSON(point.reportPath);
  if (!report)
    return report.takeError();
  ReportModel reportModel;
  const json::Object &model = child(*report, "model");
  reportModel.name = model.getString("name").value_or("").str();
  reportModel.arch = model.getString("arch").value_or("").str();
  reportModel.input = model.getString("input").value_or("").str();
  reportModel.executable = point.executable;
  reportModel.vocab = model.getInteger("vocab_size").value_or(0);
  reportModel.maxContext = model.getInteger("max_context").value_or(0);
  ReportOptions measureOptions = options.report;
  measureOptions.measure = true;
  measureOptions.reference = reference.str();
  if (llvm::Error err = measureReport(*report, reportModel, measureOptions))
    return std::move(err);
  // More --bench runs on a shared machine: keep the fastest decode, the run
  // least disturbed by other work.
  ReportOptions benchOnly = measureOptions;
  benchOnly.reference.clear();
  for (int run = 1; run < benchRuns; ++run) {
    json::Object again = *report;
    if (llvm::Error err = measureReport(again, reportModel, benchOnly))
      return std::move(err);
    const json::Object *best = report->getObject("measured");
    const json::Object *next = again.getObject("measured");
    if (best && next &&
        number(*next, "decode_tokens_per_second") >
            number(*best, "decode_tokens_per_second"))
      (*report)["measured"] = json::Object(*next);
  }
  if (llvm::Error err = writeReport(*report, point.reportPath))
    return std::move(err);

  const json::Object &predicted = child(*report, "predicted");
  const json::Object &measured = child(*report, "measured");
  const json::Object &fidelity = child(*report, "fidelity");
  if (!report->getObject("fidelity"))
    return makeError(point.reportPath + " has no fidelity figures");
  point.quantization =
      child(*report, "model").getString("quantization").value_or("").str();
  point.predictedTokS = number(predicted, "decode_tokens_per_second");
  point.measuredTokS = number(measured, "decode_tokens_per_second");
  point.predictedJoules = number(predicted, "decode_joules_per_token");
  point.measuredJoules = measured.getNumber("decode_joules_per_token");
  point.energyMeter = measured.getString("energy_meter").value_or("none").str();
  point.predictedPeak = number(predicted, "peak_memory_bytes");
  point.measuredPeak = number(measured, "peak_rss_bytes");
  point.ppl = number(fidelity, "perplexity");
  point.referencePpl = number(fidelity, "reference_perplexity");
  point.meanKL = number(fidelity, "mean_kl");
  point.top1 = number(fidelity, "top1_agreement");
  return point;
}

json::Object pointJSON(const Point &p) {
  const ParetoConfig &c = p.config;
  json::Object config{
      {"weights", c.bits ? "int" + std::to_string(c.bits) : "f32"},
      {"group", c.bits ? json::Value(int64_t(c.group)) : nullptr},
      {"scheme", c.bits ? json::Value(c.scheme) : nullptr},
      {"method", c.bits ? json::Value(c.method) : nullptr},
      {"kv_dtype", c.kvDtype}};
  return json::Object{
      {"name", p.name},
      {"config", std::move(config)},
      {"quantization", p.quantization},
      {"report", p.reportPath},
      {"executable", p.kept() ? json::Value(p.executable) : nullptr},
      {"weights_file", p.kept() ? json::Value(p.weightsFile) : nullptr},
      {"kept", p.kept()},
      {"file_bytes", p.fileBytes},
      {"file_mb", double(p.fileBytes) / (1024.0 * 1024.0)},
      {"decode_tokens_per_second",
       json::Object{{"predicted", p.predictedTokS},
                    {"measured", p.measuredTokS}}},
      {"decode_joules_per_token",
       json::Object{{"predicted", p.predictedJoules},
                    {"measured", optionalNumber(p.measuredJoules)},
                    {"meter", p.energyMeter}}},
      {"energy_joules_per_token", p.energy()},
      {"energy_source", p.measuredJoules ? "measured" : "predicted"},
      {"peak_memory_bytes",
       json::Object{{"predicted", p.predictedPeak},
                    {"measured", p.measuredPeak}}},
      {"perplexity", p.ppl},
      {"reference_perplexity", p.referencePpl},
      {"perplexity_delta_pct", p.pplDeltaPct()},
      {"mean_kl", p.meanKL},
      {"top1_agreement", p.top1},
      {"frontier", json::Object{{"energy", p.frontierEnergy},
                                {"speed", p.frontierSpeed}}}};
}

/// The plotting script and the interpreters to try, in order.
std::string plotScript() {
  if (std::optional<std::string> env =
          llvm::sys::Process::GetEnv("FRUGAL_PLOT_SCRIPT"))
    return *env;
  return FRUGAL_SOURCE_DIR "/scripts/plot_pareto.py";
}

std::vector<std::string> pythonCandidates() {
  if (std::optional<std::string> env =
          llvm::sys::Process::GetEnv("FRUGAL_PYTHON"))
    return {*env};
  std::vector<std::string> candidates;
  if (auto python = llvm::sys::findProgramByName("python3"))
    candidates.push_back(*python);
  // Debian's python3-matplotlib is for the system interpreter, which a
  // python3 earlier in PATH (a venv, pyenv) may hide.
  if (llvm::sys::fs::can_execute("/usr/bin/python3") &&
      (candidates.empty() || candidates.front() != "/usr/bin/python3"))
    candidates.push_back("/usr/bin/python3");
  return candidates;
}

/// Draws DIR/pareto.{png,svg}; on failure says why in `note` and returns
/// false (the sweep still succeeds).
bool drawPlot(llvm::StringRef jsonPath, llvm::StringRef prefix,
              std::string &note) {
  std::string script = plotScript();
  if (!llvm::sys::fs::exists(script)) {
    note = "plot skipped: " + script + " not found (set FRUGAL_PLOT_SCRIPT)";
    return false;
  }
  std::vector<std::string> pythons = pythonCandidates();
  if (pythons.empty()) {
    note = "plot skipped: no python3 found (install python3 and "
           "python3-matplotlib, or bash scripts/setup.sh)";
    return false;
  }
  std::string tried;
  for (const std::string &python : pythons) {
    llvm::SmallVector<llvm::StringRef> args = {python, script, jsonPath,
                                               prefix};
    std::string error;
    int rc = llvm::sys::ExecuteAndWait(python, args, std::nullopt, {}, 0, 0,
                                       &error);
    if (rc == 0)
      return true;
    if (rc != kPlotLibraryMissing) {
      note = llvm::formatv("plot skipped: {0} {1} failed (exit {2}){3}",
                           python, script, rc,
                           error.empty() ? "" : ": " + error)
                 .str();
      return false;
    }
    tried += (tried.empty() ? "" : ", ") + python;
  }
  note = "plot skipped: matplotlib is not installed for " + tried +
         " (apt-get install python3-matplotlib, or bash scripts/setup.sh; "
         "FRUGAL_PYTHON picks the interpreter); then run " + script + " " +
         jsonPath.str() + " " + prefix.str();
  return false;
}

void printTable(llvm::ArrayRef<Point> points, llvm::StringRef modelName,
                llvm::StringRef target, const ReportOptions &report,
                llvm::raw_ostream &os) {
  bool metered = llvm::any_of(points, [](const Point &p) {
    return p.measuredJoules.has_value();
  });
  os << llvm::formatv("pareto sweep: {0} on {1}, {2} configurations, "
                      "reference f32 ({3} tokens of {4})\n",
                      modelName, target, points.size(), report.fidelityTokens,
                      report.fidelityText);
  os << llvm::formatv("  {0,-20} {1,8} {2,10} {3,10} {4,9} {5,17} {6,9} "
                      "{7,8} {8,7} {9,6}  {10}\n",
                      "config", "file MB", "tok/s pred", "tok/s meas",
                      metered ? "mJ/tok" : "mJ/tok*", "peak MB pred/meas",
                      "ppl", "dppl %", "KL", "top-1", "frontier");
  for (const Point &p : points) {
    std::string frontier = std::string(p.frontierEnergy ? "E" : "") +
                           (p.frontierSpeed ? "S" : "");
    os << llvm::formatv(
        "  {0,-20} {1,8} {2,10} {3,10} {4,9} {5,17} {6,9} {7,8} {8,7} "
        "{9,6}  {10}\n",
        p.name, llvm::format("%.1f", p.fileBytes / 1048576.0),
        llvm::format("%.1f", p.predictedTokS),
        llvm::format("%.1f", p.measuredTokS),
        llvm::format("%.3f", p.energy() * 1e3),
        llvm::formatv("{0:f0} / {1:f0}", p.predictedPeak / 1048576.0,
                      p.measuredPeak / 1048576.0)
            .str(),
        llvm::format("%.3f", p.ppl), llvm::format("%+.2f", p.pplDeltaPct()),
        llvm::format("%.4f", p.meanKL), llvm::format("%.3f", p.top1),
        frontier.empty() ? "-" : frontier);
  }
  if (!metered)
    os << "  * predicted by the cost model: no energy meter (RAPL/NVML) "
          "was read\n";
  auto list = [&](bool Point::*flag) {
    std::string names;
    for (const Point &p : points)
      if (p.*flag)
        names += (names.empty() ? "" : ", ") + p.name;
    return names;
  };
  os << "frontier (energy/token vs ppl delta): "
     << list(&Point::frontierEnergy) << "\n";
  os << "frontier (tok/s vs ppl delta):        "
     << list(&Point::frontierSpeed) << "\n";
}

} // namespace

std::string ParetoConfig::getName() const {
  std::string name;
  if (!bits) {
    name = "f32";
  } else {
    name = "int" + std::to_string(bits);
    bool asym = scheme == "asymmetric";
    if (bits == 4 || asym)
      name += asym ? "-asym" : "-sym";
    name += "-g" + std::to_string(group);
    if (method != "rtn")
      name += "-" + method;
  }
  if (kvDtype == "int8")
    name += "-kv8";
  else if (kvDtype == "f16")
    name += "-kv16";
  return name;
}

llvm::Expected<ParetoConfig> ParetoConfig::parse(llvm::StringRef name) {
  llvm::SmallVector<llvm::StringRef> parts;
  name.split(parts, '-');
  ParetoConfig config;
  auto bad = [&](const llvm::Twine &why) {
    return makeError("--pareto-configs: '" + name + "': " + why +
                     " (expected <f32|int8|int4>[-sym|-asym][-g<N>][-gptq]"
                     "[-kv8|-kv16], e.g. int4-asym-g128-kv8)");
  };
  if (parts[0] == "int8" || parts[0] == "int4")
    config.bits = parts[0] == "int8" ? 8 : 4;
  else if (parts[0] != "f32")
    return bad("unknown weight storage '" + parts[0] + "'");
  for (llvm::StringRef part : llvm::ArrayRef(parts).drop_front()) {
    unsigned group;
    if (part == "kv8" || part == "kv16" || part == "kv32") {
      config.kvDtype = part == "kv8" ? "int8" : part == "kv16" ? "f16" : "f32";
      continue;
    }
    if (!config.bits)
      return bad("f32 weights take only a KV suffix");
    if (part == "sym" || part == "asym")
      config.scheme = part == "sym" ? "symmetric" : "asymmetric";
    else if (part == "gptq" || part == "rtn")
      config.method = part.str();
    else if (part.consume_front("g") && !part.getAsInteger(10, group))
      config.group = group;
    else
      return bad("unknown part '" + part + "'");
  }
  return config;
}

std::vector<std::string> frugal::defaultParetoConfigs() {
  return {"f32",          "int8-g32",         "int4-sym-g32",
          "int4-asym-g32", "int4-sym-g128",   "int8-g32-kv8",
          "int4-sym-g32-kv8", "int4-asym-g32-kv8"};
}

llvm::Error frugal::runParetoSweep(const CompileOptions &base,
                                   const ParetoOptions &options) {
  // The configurations, deduplicated by canonical name, f32 first: it is
  // the fidelity reference of the others.
  std::vector<std::string> names =
      options.configs.empty() ? defaultParetoConfigs() : options.configs;
  std::vector<ParetoConfig> configs;
  llvm::StringSet<> seen;
  ParetoConfig reference;
  configs.push_back(reference);
  seen.insert(reference.getName());
  for (const std::string &name : names) {
    auto config = ParetoConfig::parse(llvm::StringRef(name).trim());
    if (!config)
      return config.takeError();
    if (seen.insert(config->getName()).second)
      configs.push_back(*config);
  }
  if (std::error_code ec = llvm::sys::fs::create_directories(options.dir))
    return makeError("cannot create " + options.dir + ": " + ec.message());

  bool progress = base.progress;
  std::vector<Point> points;
  std::vector<std::pair<std::string, std::string>> failures;
  std::string referenceExe;
  for (size_t i = 0; i < configs.size(); ++i) {
    std::string name = configs[i].getName();
    auto start = std::chrono::steady_clock::now();
    if (progress)
      llvm::errs() << llvm::formatv("llm-compile: [{0}/{1}] {2}: compiling ...",
                                    i + 1, configs.size(), name);
    auto point = buildPoint(base, configs[i], options.dir,
                            i == 0 ? joinPath(joinPath(options.dir, name),
                                              "model")
                                   : referenceExe,
                            options.benchRuns, progress);
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    if (!point) {
      std::string message = llvm::toString(point.takeError());
      if (progress)
        llvm::errs() << " failed\n";
      // Without the reference nothing else can be scored.
      if (i == 0)
        return makeError("the f32 reference build failed: " + message);
      llvm::errs() << "llm-compile: " << name << ": " << message << "\n";
      failures.emplace_back(name, message);
      continue;
    }
    if (progress)
      llvm::errs() << llvm::formatv(
          " {0:f1} tok/s, ppl {1:f3} ({2:+0.00;-0.00}%), done in {3:f1} s\n",
          point->measuredTokS, point->ppl, point->pplDeltaPct(), seconds);
    if (i == 0)
      referenceExe = point->executable;
    points.push_back(std::move(*point));
  }

  // The two frontiers, then the builds off both are removed.
  std::vector<std::pair<double, double>> energy, speed;
  for (const Point &p : points) {
    energy.emplace_back(p.energy(), p.pplDeltaPct());
    speed.emplace_back(-p.measuredTokS, p.pplDeltaPct());
  }
  std::vector<bool> onEnergy = nonDominated(energy);
  std::vector<bool> onSpeed = nonDominated(speed);
  for (size_t i = 0; i < points.size(); ++i) {
    points[i].frontierEnergy = onEnergy[i];
    points[i].frontierSpeed = onSpeed[i];
    if (!points[i].kept()) {
      llvm::sys::fs::remove(points[i].executable);
      llvm::sys::fs::remove(points[i].weightsFile);
    }
  }

  // pareto.json, the plot, and pareto.json again with the plot's paths.
  auto firstReport = readJSON(points.front().reportPath);
  if (!firstReport)
    return firstReport.takeError();
  const json::Object &model = child(*firstReport, "model");
  std::string modelName = model.getString("name").value_or("").str();
  std::string targetName =
      child(*firstReport, "target").getString("name").value_or("").str();
  auto frontierNames = [&](bool Point::*flag) {
    json::Array names;
    for (const Point &p : points)
      if (p.*flag)
        names.push_back(p.name);
    return names;
  };
  json::Array pointsJSON, failedJSON;
  for (const Point &p : points)
    pointsJSON.push_back(pointJSON(p));
  for (const auto &[name, message] : failures)
    failedJSON.push_back(json::Object{{"name", name}, {"error", message}});
  json::Object result{
      {"schema_version", 1},
      {"generator", "llm-compile --pareto"},
      {"model",
       json::Object{{"name", modelName},
                    {"arch", model.getString("arch").value_or("")},
                    {"input", model.getString("input").value_or("")}}},
      {"target", targetName},
      {"workload", json::Value(json::Object(child(*firstReport, "workload")))},
      {"reference", points.front().name},
      {"bench_runs", options.benchRuns},
      {"fidelity", json::Object{{"text", base.report.fidelityText},
                                {"tokens", base.report.fidelityTokens}}},
      {"frontiers",
       json::Object{{"energy", frontierNames(&Point::frontierEnergy)},
                    {"speed", frontierNames(&Point::frontierSpeed)}}},
      {"plot", nullptr},
      {"plot_note", nullptr},
      {"points", std::move(pointsJSON)},
      {"failed", std::move(failedJSON)}};
  std::string jsonPath = joinPath(options.dir, "pareto.json");
  std::string prefix = joinPath(options.dir, "pareto");
  if (llvm::Error err = writeReport(result, jsonPath))
    return err;
  std::string note;
  if (drawPlot(jsonPath, prefix, note)) {
    result["plot"] = json::Object{{"png", prefix + ".png"},
                                  {"svg", prefix + ".svg"}};
  } else {
    result["plot_note"] = note;
  }
  if (llvm::Error err = writeReport(result, jsonPath))
    return err;

  printTable(points, modelName, targetName, base.report, llvm::outs());
  llvm::outs() << "kept:";
  for (const Point &p : points)
    if (p.kept())
      llvm::outs() << " " << p.executable;
  llvm::outs() << "\njson: " << jsonPath << "\n";
  if (note.empty())
    llvm::outs() << "plot: " << prefix << ".png (and " << prefix << ".svg)\n";
  else
    llvm::outs() << note << "\n";
  llvm::outs().flush();
  if (!failures.empty())
    return makeError(llvm::Twine(failures.size()) + " of " +
                     llvm::Twine(configs.size()) +
                     " configurations failed (listed in " + jsonPath + ")");
  return llvm::Error::success();
}
