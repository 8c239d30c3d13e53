//===- Budget.cpp - Budgeted builds of llm-compile
//-------------------------===//
//
// Part of Frugal. See docs/Budget.md for the method.
//
//===----------------------------------------------------------------------===//

#include "tools/llm-compile/Budget.h"

#include "tools/llm-compile/Calibrate.h"
#include "tools/llm-compile/Report.h"
#include "tools/llm-compile/WeightPacker.h"

#include "dialects/LLM/IR/LLMDialect.h"
#include "dialects/LLM/IR/LLMQuant.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

using namespace mlir;
using namespace frugal;
namespace json = llvm::json;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

/// Splits "120MB" into 120 and "MB".
bool splitNumber(llvm::StringRef text, double &value, llvm::StringRef &unit) {
  size_t end = 0;
  while (end < text.size() &&
         (llvm::isDigit(text[end]) || text[end] == '.' || text[end] == 'e' ||
          text[end] == 'E' ||
          ((text[end] == '-' || text[end] == '+') && end > 0 &&
           (text[end - 1] == 'e' || text[end - 1] == 'E'))))
    ++end;
  // "1e" followed by a unit letter is not an exponent: back off.
  while (end > 0 && (text[end - 1] == 'e' || text[end - 1] == 'E'))
    --end;
  if (end == 0 || text.substr(0, end).getAsDouble(value))
    return false;
  unit = text.substr(end).trim();
  return true;
}

const char *metricName(BudgetMetric metric) {
  switch (metric) {
  case BudgetMetric::Memory:
    return "memory";
  case BudgetMetric::Perplexity:
    return "ppl";
  case BudgetMetric::Latency:
    return "latency";
  case BudgetMetric::Energy:
    return "energy";
  case BudgetMetric::Throughput:
    return "tokens/s";
  }
  return "";
}

/// A value of `metric` for messages and the table.
std::string formatValue(BudgetMetric metric, double value) {
  switch (metric) {
  case BudgetMetric::Memory:
    return llvm::formatv("{0:f2} MB", value / (1024.0 * 1024.0)).str();
  case BudgetMetric::Perplexity:
    return llvm::formatv("{0}%", llvm::format("%+.2f", 100.0 * value)).str();
  case BudgetMetric::Latency:
    return llvm::formatv("{0:f3} ms/token", value * 1e3).str();
  case BudgetMetric::Energy:
    return llvm::formatv("{0:f3} mJ/token", value * 1e3).str();
  case BudgetMetric::Throughput:
    return llvm::formatv("{0:f1} tok/s", value).str();
  }
  return "";
}

const char *objectiveName(BudgetObjective objective) {
  switch (objective) {
  case BudgetObjective::Energy:
    return "energy";
  case BudgetObjective::Latency:
    return "latency";
  case BudgetObjective::Memory:
    return "memory";
  case BudgetObjective::Perplexity:
    return "ppl";
  }
  return "";
}

llvm::Expected<BudgetConstraint> parseTerm(llvm::StringRef term) {
  BudgetConstraint c;
  c.text = term.str();
  auto fail = [&](const llvm::Twine &why) {
    return makeError("budget term '" + term + "': " + why);
  };
  size_t le = term.find("<="), ge = term.find(">=");
  if (le == llvm::StringRef::npos && ge == llvm::StringRef::npos)
    return fail("expected METRIC<=VALUE or tokens/s>=VALUE");
  c.atLeast = le == llvm::StringRef::npos;
  size_t at = c.atLeast ? ge : le;
  std::string name = term.substr(0, at).trim().lower();
  llvm::StringRef value = term.substr(at + 2).trim();
  if (value.empty())
    return fail("no value after '" + term.substr(at, 2) + "'");
  double number = 0;
  llvm::StringRef unit;
  if (name == "memory" || name == "mem") {
    c.metric = BudgetMetric::Memory;
    if (!splitNumber(value, number, unit))
      return fail("expected a size such as 120MB");
    std::string u = unit.lower();
    double scale = u == "b"                  ? 1.0
                   : u == "kb" || u == "kib" ? 1024.0
                   : u == "mb" || u == "mib" ? 1024.0 * 1024.0
                   : u == "gb" || u == "gib" ? 1024.0 * 1024.0 * 1024.0
                                             : 0.0;
    if (scale == 0)
      return fail("unknown size unit '" + unit +
                  "' (expected B, KB, MB or GB)");
    c.limit = number * scale;
  } else if (name == "ppl" || name == "perplexity") {
    c.metric = BudgetMetric::Perplexity;
    llvm::StringRef v = value;
    v.consume_front("+");
    if (!v.consume_back("%") || !splitNumber(v, number, unit) || !unit.empty())
      return fail("expected a relative increase over the f32 build such as "
                  "+3%");
    c.limit = number / 100.0;
  } else if (name == "latency") {
    c.metric = BudgetMetric::Latency;
    llvm::StringRef v = value;
    if (!v.consume_back("/token"))
      v.consume_back("/tok");
    if (!splitNumber(v, number, unit))
      return fail("expected a decode time such as 5ms/token");
    double scale = unit == "s"    ? 1.0
                   : unit == "ms" ? 1e-3
                   : unit == "us" ? 1e-6
                                  : 0.0;
    if (scale == 0)
      return fail("unknown time unit '" + unit + "' (expected s, ms or us)");
    c.limit = number * scale;
  } else if (name == "energy") {
    c.metric = BudgetMetric::Energy;
    llvm::StringRef v = value;
    if (!v.consume_back("/token"))
      v.consume_back("/tok");
    if (!splitNumber(v, number, unit))
      return fail("expected a decode energy such as 2mJ/token");
    double scale = unit == "J"    ? 1.0
                   : unit == "mJ" ? 1e-3
                   : unit == "uJ" ? 1e-6
                                  : 0.0;
    if (scale == 0)
      return fail("unknown energy unit '" + unit + "' (expected J, mJ or uJ)");
    c.limit = number * scale;
  } else if (name == "tokens/s" || name == "tok/s" || name == "throughput") {
    c.metric = BudgetMetric::Throughput;
    if (!splitNumber(value, number, unit) || !unit.empty())
      return fail("expected a decode rate such as 100");
    c.limit = number;
  } else {
    return fail("unknown metric '" + name +
                "' (expected memory, ppl, latency, energy or tokens/s)");
  }
  if (c.atLeast != (c.metric == BudgetMetric::Throughput))
    return fail(llvm::Twine(metricName(c.metric)) + " takes " +
                (c.metric == BudgetMetric::Throughput ? ">=" : "<="));
  if (!(c.limit > 0) && c.metric != BudgetMetric::Perplexity)
    return fail("the limit must be positive");
  if (c.limit < 0)
    return fail("the limit must not be negative");
  return c;
}

//===----------------------------------------------------------------------===//
// Candidates
//===----------------------------------------------------------------------===//

/// Predicted figures of a candidate (the report's `predicted` section).
struct Figures {
  double memory = 0, latency = 0, energy = 0;

  Figures operator+(const Figures &o) const {
    return {memory + o.memory, latency + o.latency, energy + o.energy};
  }
  Figures operator-(const Figures &o) const {
    return {memory - o.memory, latency - o.latency, energy - o.energy};
  }
};

/// One choice of the candidate space: its levels run from the smallest and
/// cheapest storage to the most accurate. A weight group (a decoder layer,
/// the output projection) and the KV cache are knobs; more (sparsity,
/// offload) join as more knobs.
struct Knob {
  std::string name;
  bool isKV = false;
  int64_t layer = -1;
  std::vector<std::string> weights;
  std::vector<std::string> levels;
  /// Sensitivity proxy per level (docs/Budget.md); 0 at full precision.
  std::vector<double> error;
  /// Log-perplexity per unit of the proxy (measured; 1 until then).
  double pplScale = 1.0;
  /// Knobs with equal cost classes change the costs equally.
  std::string costClass;
};

using Config = std::vector<int>;

class Planner {
public:
  Planner(const CompileOptions &options, const Budget &budget,
          BudgetObjective objective)
      : options(options), budget(budget), objective(objective) {
    for (const BudgetConstraint &c : budget.constraints)
      effective.push_back(c.limit);
  }

  /// The optimization options of the chosen configuration.
  llvm::Expected<llm::LLMOptimizationOptions>
  plan(const ImportedModelView &view);

  /// Checks a finished report; false when a measured figure misses and the
  /// plan was corrected for another build.
  llvm::Expected<bool> review(json::Object &report);

  /// Built references and probes go here.
  std::string workDir;
  int attempt = 0;
  static constexpr int kMaxAttempts = 3;
  /// The final report's verdict.
  bool met = true;
  std::string missed;

private:
  llvm::Error analyze(const ImportedModelView &view);
  llvm::Error measureSensitivity(const ImportedModelView &view);
  llvm::Error measureScale(const ImportedModelView &view);
  llm::LLMOptimizationOptions toOptions(const Config &config) const;
  llvm::Expected<Figures> evaluate(ModuleOp module, const Config &config);
  Figures estimate(const Config &config) const;
  double error(const Config &config) const;
  /// Relative perplexity increase over f32: exp of the summed
  /// log-perplexity contributions, corrected after measured misses.
  double predictPerplexity(const Config &config) const {
    return std::expm1(correction * error(config));
  }
  double value(BudgetMetric metric, const Figures &f,
               const Config &config) const;
  /// How far `value` is over constraint `i`'s effective limit (> 1: over).
  double ratio(size_t i, double value) const;
  double objectiveCost(const Figures &from, const Figures &to) const;
  std::string describe(const Config &config) const;
  /// describe() plus the KV cache's storage.
  std::string describeAll(const Config &config) const {
    for (size_t k = 0; k < knobs.size(); ++k)
      if (knobs[k].isKV)
        return describe(config) + "; KV " + knobs[k].levels[config[k]];
    return describe(config);
  }
  json::Object configJSON(const Config &config) const;
  void progress(const llvm::Twine &line) const {
    if (options.progress)
      llvm::errs() << "llm-compile: budget: " << line << "\n";
  }

  CompileOptions options;
  Budget budget;
  BudgetObjective objective;
  /// Limits the plan aims at: the budget's, tightened after a miss.
  std::vector<double> effective;

  bool analyzed = false, sensitivityMeasured = false;
  std::vector<Knob> knobs;
  /// The quantized weights of the smallest configuration.
  std::vector<PackedTensor> quantized;
  Config smallest;
  Figures base;
  /// delta[knob][level]: figures minus the smallest configuration's.
  std::vector<std::vector<Figures>> delta;
  /// The factor of the predicted log-perplexity, raised after a measured
  /// miss; the probes' perplexities.
  double correction = 1;
  json::Array probes;
  bool hasScale = false;
  double probePerplexity = 0, referencePerplexity = 0;
  int64_t calibrationTokens = 0;

  Config chosen;
  Figures chosenFigures;
  std::vector<std::string> steps;
  std::string stopReason;
  json::Array attempts;
};

llm::LLMOptimizationOptions Planner::toOptions(const Config &config) const {
  llm::LLMOptimizationOptions o = options.optimization;
  // The method (rtn or gptq) and its options are the user's, for every
  // candidate.
  o.quantBits = 4;
  // The lookup reads the table in the logits knob's storage: a tied
  // embedding is one table, never an f32 table plus a quantized copy.
  o.quantEmbeddings = true;
  bool anyQuantized = false;
  for (size_t k = 0; k < knobs.size(); ++k) {
    const Knob &knob = knobs[k];
    const std::string &level = knob.levels[config[k]];
    if (knob.isKV) {
      o.kvDtype = level;
      continue;
    }
    anyQuantized |= level != "f32";
    for (const std::string &w : knob.weights) {
      if (level == "f32")
        o.quantKeep.push_back(w);
      else if (level == "int8")
        o.quantInt8.push_back(w);
    }
  }
  if (!anyQuantized) {
    o.quantBits = 0;
    o.quantKeep = options.optimization.quantKeep;
    o.quantInt8 = options.optimization.quantInt8;
  }
  return o;
}

/// Runs llm-optimize with `opts` on a clone of `module`.
llvm::Expected<OwningOpRef<ModuleOp>>
optimizeClone(ModuleOp module, const llm::LLMOptimizationOptions &opts) {
  OwningOpRef<ModuleOp> clone = module.clone();
  PassManager pm(module.getContext());
  llm::buildLLMOptimizationPipeline(pm, opts);
  if (failed(pm.run(*clone)))
    return makeError("budget: optimizing a candidate failed");
  return std::move(clone);
}

llvm::Expected<Figures> Planner::evaluate(ModuleOp module,
                                          const Config &config) {
  auto clone = optimizeClone(module, toOptions(config));
  if (!clone)
    return clone.takeError();
  auto forward = (*clone)->lookupSymbol<func::FuncOp>("forward");
  if (!forward)
    return makeError("budget: the model has no `forward` function");
  ReportModel model;
  FunctionType type = forward.getFunctionType();
  if (type.getNumResults() == 1)
    if (auto logits = dyn_cast<RankedTensorType>(type.getResult(0)))
      model.vocab = logits.getDimSize(logits.getRank() - 1);
  for (Type input : type.getInputs())
    if (auto kv = dyn_cast<llm::KVCacheType>(input))
      model.maxContext = kv.getMaxSeq();
  model.runtimeBytes = runtimeOverheadBytes(model.vocab);
  auto report = predictReport(**clone, model, options.report);
  if (!report)
    return report.takeError();
  const json::Object *predicted = report->getObject("predicted");
  if (!predicted)
    return makeError("budget: the cost model predicted nothing");
  Figures f;
  f.memory = predicted->getNumber("peak_memory_bytes").value_or(0);
  f.latency = predicted->getNumber("decode_seconds_per_token").value_or(0);
  f.energy = predicted->getNumber("decode_joules_per_token").value_or(0);
  return f;
}

Figures Planner::estimate(const Config &config) const {
  Figures f = base;
  for (size_t k = 0; k < knobs.size(); ++k)
    f = f + delta[k][config[k]];
  return f;
}

double Planner::error(const Config &config) const {
  double e = 0;
  for (size_t k = 0; k < knobs.size(); ++k)
    e += knobs[k].pplScale * knobs[k].error[config[k]];
  return e;
}

double Planner::value(BudgetMetric metric, const Figures &f,
                      const Config &config) const {
  switch (metric) {
  case BudgetMetric::Memory:
    return f.memory;
  case BudgetMetric::Perplexity:
    return predictPerplexity(config);
  case BudgetMetric::Latency:
    return f.latency;
  case BudgetMetric::Energy:
    return f.energy;
  case BudgetMetric::Throughput:
    return f.latency > 0 ? 1.0 / f.latency : 0.0;
  }
  return 0;
}

double Planner::ratio(size_t i, double value) const {
  const BudgetConstraint &c = budget.constraints[i];
  double limit = effective[i];
  if (c.atLeast)
    return value > 0 ? limit / value : INFINITY;
  if (limit <= 0)
    return value <= 0 ? 0.0 : INFINITY;
  return value / limit;
}

double Planner::objectiveCost(const Figures &from, const Figures &to) const {
  Figures d = to - from;
  switch (objective) {
  case BudgetObjective::Energy:
    return d.energy;
  case BudgetObjective::Latency:
    return d.latency;
  case BudgetObjective::Memory:
    return d.memory;
  case BudgetObjective::Perplexity:
    break;
  }
  // Maximizing quality: an upgrade costs the share of the tightest
  // resource limit it uses.
  double cost = 0;
  bool any = false;
  for (size_t i = 0; i < budget.constraints.size(); ++i) {
    const BudgetConstraint &c = budget.constraints[i];
    if (c.metric == BudgetMetric::Perplexity)
      continue;
    any = true;
    double share = c.metric == BudgetMetric::Memory   ? d.memory / effective[i]
                   : c.metric == BudgetMetric::Energy ? d.energy / effective[i]
                   : c.metric == BudgetMetric::Latency
                       ? d.latency / effective[i]
                       : d.latency * effective[i]; // tokens/s: latency x rate
    cost = std::max(cost, share);
  }
  if (!any)
    cost = base.memory > 0 ? d.memory / base.memory : 0.0;
  return cost;
}

/// "layer 3" etc. grouped by storage: "int4: layers 0-2,5; int8: layer 3".
std::string Planner::describe(const Config &config) const {
  std::map<std::string, std::vector<int64_t>> layers;
  std::string rest;
  for (size_t k = 0; k < knobs.size(); ++k) {
    const Knob &knob = knobs[k];
    const std::string &level = knob.levels[config[k]];
    if (knob.layer >= 0)
      layers[level].push_back(knob.layer);
    else if (!knob.isKV)
      rest += "; " + knob.name + " " + level;
  }
  std::string text;
  for (const char *level : {"int4", "int8", "f32"}) {
    auto it = layers.find(level);
    if (it == layers.end())
      continue;
    std::string ids;
    const std::vector<int64_t> &v = it->second;
    for (size_t i = 0; i < v.size();) {
      size_t j = i;
      while (j + 1 < v.size() && v[j + 1] == v[j] + 1)
        ++j;
      ids += (ids.empty() ? "" : ",") + std::to_string(v[i]) +
             (j > i ? "-" + std::to_string(v[j]) : "");
      i = j + 1;
    }
    text += llvm::formatv("{0}{1} layer{2} {3} ({4})", text.empty() ? "" : ", ",
                          v.size(), v.size() == 1 ? "" : "s", level, ids)
                .str();
  }
  return text + rest;
}

json::Object Planner::configJSON(const Config &config) const {
  json::Array groups;
  std::string kv;
  for (size_t k = 0; k < knobs.size(); ++k) {
    const Knob &knob = knobs[k];
    if (knob.isKV) {
      kv = knob.levels[config[k]];
      continue;
    }
    json::Object sensitivity;
    for (size_t l = 0; l < knob.levels.size(); ++l)
      sensitivity[knob.levels[l]] = knob.error[l];
    groups.push_back(json::Object{
        {"name", knob.name},
        {"layer", knob.layer >= 0 ? json::Value(knob.layer) : nullptr},
        {"weights", static_cast<int64_t>(knob.weights.size())},
        {"storage", knob.levels[config[k]]},
        {"sensitivity", std::move(sensitivity)}});
  }
  return json::Object{{"summary", describe(config)},
                      {"kv_dtype", kv},
                      {"groups", std::move(groups)}};
}

/// The decoder layer a weight belongs to: its first all-digit name
/// component ("model.layers.12.mlp.up_proj.weight", "blk.3.attn_q.weight").
int64_t layerOf(llvm::StringRef name) {
  llvm::SmallVector<llvm::StringRef> parts;
  name.split(parts, '.');
  for (llvm::StringRef part : parts) {
    int64_t index;
    if (!part.empty() && llvm::all_of(part, llvm::isDigit) &&
        !part.getAsInteger(10, index))
      return index;
  }
  return -1;
}

/// Activation-weighted relative error of rounding `t` (logical [N, K] in
/// `w`) to `bits`: sum_k E[x_k^2] ||W[:,k] - Q(W)[:,k]||^2 over
/// sum_k E[x_k^2] ||W[:,k]||^2.
double quantizationError(const PackedTensor &t, const std::vector<float> &w,
                         unsigned bits, const llm::ChannelStats *stats) {
  auto quant = llm::QuantAttr::get(t.quant.getContext(), bits,
                                   t.quant.getGroup(), t.quant.getScheme());
  llm::QuantLayout layout =
      llm::getQuantLayout(quant, t.logicalRows, t.logicalCols);
  std::vector<uint8_t> packed(layout.totalBytes);
  std::vector<float> back(w.size());
  llm::quantizeRTN(quant, layout, w.data(), packed.data());
  llm::dequantize(quant, layout, packed.data(), back.data());
  int64_t k = t.logicalCols;
  bool weighted = stats && stats->channels == k && stats->count > 0;
  double num = 0, den = 0;
  for (int64_t r = 0; r < t.logicalRows; ++r)
    for (int64_t c = 0; c < k; ++c) {
      double m = weighted ? stats->meanSquare(c) : 1.0;
      double x = w[r * k + c], d = x - back[r * k + c];
      num += m * d * d;
      den += m * x * x;
    }
  return den > 0 ? num / den : 0.0;
}

/// Relative error energy of one KV element stored as `dtype`: f16 rounds
/// with a unit roundoff of 2^-11 (variance u^2/3); int8 with per-token,
/// per-head absmax scales has a step of max|x|/127 (variance step^2/12),
/// taken at a squared crest factor max|x|^2 / E[x^2] of kKVCrestSquared.
constexpr double kKVCrestSquared = 8.0;
double kvElementError(llvm::StringRef dtype) {
  if (dtype == "int8")
    return kKVCrestSquared / (12.0 * 127.0 * 127.0);
  if (dtype == "f16")
    return std::ldexp(1.0, -22) / 3.0;
  return 0.0;
}

} // namespace

llvm::Error Planner::analyze(const ImportedModelView &view) {
  // The knobs: the quantizable weights of the smallest configuration, by
  // decoder layer, and the KV cache.
  progress("finding the candidate space");
  llm::LLMOptimizationOptions smallestOpts = options.optimization;
  smallestOpts.quantBits = 4;
  smallestOpts.quantMethod = "rtn";
  smallestOpts.quantEmbeddings = true;
  smallestOpts.kvDtype = "int8";
  auto probe = optimizeClone(view.module, smallestOpts);
  if (!probe)
    return probe.takeError();
  WeightLayout layout = assignWeightOffsets(**probe);
  std::map<int64_t, size_t> byLayer;
  for (const PackedTensor &t : layout.tensors) {
    if (!t.quant)
      continue;
    int64_t layer = layerOf(t.name);
    auto [it, inserted] = byLayer.try_emplace(layer, knobs.size());
    if (inserted) {
      Knob knob;
      knob.layer = layer;
      knob.name = layer >= 0 ? "layer " + std::to_string(layer)
                             : std::string("lm_head");
      knob.levels = {"int4", "int8", "f32"};
      knobs.push_back(knob);
    }
    Knob &knob = knobs[it->second];
    knob.weights.push_back(t.name);
    knob.costClass += llvm::formatv("{0}x{1};", t.logicalRows, t.logicalCols);
    quantized.push_back(t);
  }
  if (knobs.empty())
    return makeError("--budget: " + options.input +
                     " has no weight that can be quantized");
  std::stable_sort(knobs.begin(), knobs.end(),
                   [](const Knob &a, const Knob &b) {
                     return (a.layer < 0 ? INT64_MAX : a.layer) <
                            (b.layer < 0 ? INT64_MAX : b.layer);
                   });
  for (Knob &knob : knobs)
    if (knob.layer < 0)
      knob.costClass = "head:" + knob.costClass;
  int64_t kvLayers = 0;
  auto forward = (*probe)->lookupSymbol<func::FuncOp>("forward");
  if (forward)
    for (Type input : forward.getFunctionType().getInputs())
      if (auto kv = dyn_cast<llm::KVCacheType>(input))
        kvLayers = kv.getNumLayers();
  if (kvLayers > 0) {
    Knob kv;
    kv.name = "KV cache";
    kv.isKV = true;
    kv.levels = {"int8", "f16", "f32"};
    kv.costClass = "kv";
    for (const std::string &level : kv.levels)
      kv.error.push_back(2.0 * kvLayers * kvElementError(level));
    knobs.push_back(kv);
  }
  smallest.assign(knobs.size(), 0);

  // Costs: the smallest configuration, then each knob's levels alone (once
  // per cost class: layers of equal shapes cost the same).
  progress(
      llvm::formatv("costing {0} knobs with the cost model", knobs.size()));
  auto baseFigures = evaluate(view.module, smallest);
  if (!baseFigures)
    return baseFigures.takeError();
  base = *baseFigures;
  std::map<std::string, std::vector<Figures>> byClass;
  for (size_t k = 0; k < knobs.size(); ++k) {
    auto it = byClass.find(knobs[k].costClass);
    if (it == byClass.end()) {
      std::vector<Figures> d(knobs[k].levels.size());
      for (size_t l = 1; l < d.size(); ++l) {
        Config c = smallest;
        c[k] = static_cast<int>(l);
        auto f = evaluate(view.module, c);
        if (!f)
          return f.takeError();
        d[l] = *f - base;
      }
      it = byClass.emplace(knobs[k].costClass, std::move(d)).first;
    }
    delta.push_back(it->second);
  }

  analyzed = true;
  return llvm::Error::success();
}

llvm::Error Planner::measureSensitivity(const ImportedModelView &view) {
  // Sensitivity: the activation-weighted rounding error of every weight.
  if (!view.tokenizer)
    return makeError("--budget measures layer sensitivity on calibration "
                     "text, but " +
                     options.input + " has no tokenizer");
  auto tokens = readCalibrationTokens(options.calibrationText, *view.tokenizer,
                                      view.bosId, options.calibrationTokens);
  if (!tokens)
    return tokens.takeError();
  calibrationTokens = static_cast<int64_t>(tokens->size());
  progress(llvm::formatv("measuring layer sensitivity on {0} tokens of {1}",
                         tokens->size(), options.calibrationText));
  llm::LLMOptimizationOptions f32Opts = options.optimization;
  f32Opts.quantBits = 0;
  f32Opts.kvDtype = "f32";
  auto f32 = optimizeClone(view.module, f32Opts);
  if (!f32)
    return f32.takeError();
  llm::CalibrationOptions calOpts;
  calOpts.vectorWidth = options.vectorWidth;
  calOpts.openmp = options.openmp;
  auto stats = calibrateModel(**f32, *view.weights, *tokens, calOpts);
  if (!stats)
    return stats.takeError();
  std::map<std::string, std::pair<double, double>> errors;
  std::vector<float> buffer, w;
  for (const PackedTensor &t : quantized) {
    buffer.resize(t.numElements);
    if (llvm::Error err = view.weights->readAsF32(t.name, buffer))
      return err;
    if (t.transposed) {
      w.resize(t.numElements);
      for (int64_t r = 0; r < t.rows; ++r)
        for (int64_t c = 0; c < t.cols; ++c)
          w[c * t.rows + r] = buffer[r * t.cols + c];
    } else {
      w = buffer;
    }
    const llm::ChannelStats *s = stats->lookup(t.name);
    errors[t.name] = {quantizationError(t, w, 4, s),
                      quantizationError(t, w, 8, s)};
  }
  for (Knob &knob : knobs) {
    if (knob.isKV)
      continue;
    double e4 = 0, e8 = 0;
    for (const std::string &name : knob.weights) {
      e4 += errors[name].first;
      e8 += errors[name].second;
    }
    knob.error = {e4, e8, 0.0};
  }
  sensitivityMeasured = true;
  return llvm::Error::success();
}

llvm::Error Planner::measureScale(const ImportedModelView &view) {
  // Perplexity per unit of the proxy: the smallest configuration and the
  // f32 build score the calibration text.
  std::string reference = options.report.reference;
  CompileOptions build = options;
  build.planOptimization = nullptr;
  build.reviewReport = nullptr;
  build.progress = false;
  build.emit = EmitKind::Executable;
  build.embedWeights = false;
  build.report = ReportOptions();
  if (reference.empty() || llvm::StringRef(reference).starts_with(workDir)) {
    reference = workDir + "/reference";
    progress("building the f32 reference " + reference);
    CompileOptions ref = build;
    ref.optimization.quantBits = 0;
    ref.optimization.kvDtype = "f32";
    ref.output = reference;
    if (llvm::Error err = compileModel(ref))
      return err;
  }
  // The perplexity of a configuration's build on the calibration text.
  auto measure = [&](const Config &config,
                     const llvm::Twine &what) -> llvm::Expected<double> {
    progress("building " + what + " (" + describeAll(config) +
             ") to measure its perplexity");
    CompileOptions probe = build;
    probe.optimization = toOptions(config);
    probe.output = workDir + "/probe";
    probe.report.path = workDir + "/probe.json";
    probe.report.target = options.report.target;
    probe.report.targetParams = options.report.targetParams;
    probe.report.measure = true;
    probe.report.promptTokens = 4;
    probe.report.decodeTokens = 4;
    probe.report.reference = reference;
    // The probes score the text the perplexity constraint is checked on;
    // the calibration text would flatter GPTQ, which was fitted to it.
    probe.report.fidelityText = options.report.fidelityText;
    probe.report.fidelityTokens = options.report.fidelityTokens;
    std::optional<json::Object> fidelity;
    probe.reviewReport = [&](json::Object &report) -> llvm::Expected<bool> {
      if (const json::Object *f = report.getObject("fidelity"))
        fidelity = *f;
      return false;
    };
    llvm::Error err = compileModel(probe);
    for (const char *suffix : {"/probe", "/probe.fgw", "/probe.json"})
      llvm::sys::fs::remove(workDir + suffix);
    if (err)
      return std::move(err);
    if (!fidelity)
      return makeError("budget: the probe build measured no perplexity");
    referencePerplexity =
        fidelity->getNumber("reference_perplexity").value_or(0);
    if (!(referencePerplexity > 0))
      return makeError("budget: the reference build measured no perplexity");
    double ppl = fidelity->getNumber("perplexity").value_or(0);
    probes.push_back(
        json::Object{{"config", describeAll(config)}, {"perplexity", ppl}});
    return ppl;
  };
  auto smallestPPL = measure(smallest, "the smallest configuration");
  if (!smallestPPL)
    return smallestPPL.takeError();
  probePerplexity = *smallestPPL;
  // Log-perplexity contributions: the output projection and the KV cache
  // are measured apart (one probe each lifts that knob alone to f32), the
  // decoder layers share the rest.
  double total = std::max(0.0, std::log(probePerplexity / referencePerplexity));
  double rest = total;
  for (Knob &knob : knobs) {
    if (knob.layer >= 0)
      continue;
    Config lifted = smallest;
    lifted[&knob - knobs.data()] = static_cast<int>(knob.levels.size()) - 1;
    auto ppl = measure(lifted, "the smallest configuration with the " +
                                   knob.name + " in " + knob.levels.back());
    if (!ppl)
      return ppl.takeError();
    double contribution =
        std::clamp(std::log(probePerplexity / *ppl), 0.0, rest);
    rest -= contribution;
    knob.pplScale = knob.error[0] > 0 ? contribution / knob.error[0] : 0.0;
  }
  double layerError = 0;
  for (const Knob &knob : knobs)
    if (knob.layer >= 0)
      layerError += knob.error[0];
  for (Knob &knob : knobs)
    if (knob.layer >= 0)
      knob.pplScale = layerError > 0 ? rest / layerError : 0.0;
  hasScale = true;
  progress(llvm::formatv(
      "smallest configuration: ppl {0:f3} vs f32 {1:f3} "
      "({2}), of which decoder layers {3}",
      probePerplexity, referencePerplexity,
      formatValue(BudgetMetric::Perplexity, std::exp(total) - 1.0),
      formatValue(BudgetMetric::Perplexity, std::exp(rest) - 1.0)));
  return llvm::Error::success();
}

llvm::Expected<llm::LLMOptimizationOptions>
Planner::plan(const ImportedModelView &view) {
  if (!analyzed)
    if (llvm::Error err = analyze(view))
      return std::move(err);

  // Resource constraints first: the smallest configuration must fit.
  auto checkSmallest = [&]() -> llvm::Error {
    Figures f = estimate(smallest);
    double worst = 1.0;
    int worstIndex = -1;
    for (size_t i = 0; i < budget.constraints.size(); ++i) {
      const BudgetConstraint &c = budget.constraints[i];
      if (c.metric == BudgetMetric::Perplexity)
        continue;
      double r = ratio(i, value(c.metric, f, smallest));
      if (r > worst) {
        worst = r;
        worstIndex = static_cast<int>(i);
      }
    }
    if (worstIndex < 0)
      return llvm::Error::success();
    const BudgetConstraint &c = budget.constraints[worstIndex];
    bool tightened = effective[worstIndex] != c.limit;
    return makeError(
        "budget " + c.text + " is infeasible: the smallest configuration " +
        "(every layer int4, int8 KV) " + (c.atLeast ? "reaches " : "needs ") +
        formatValue(c.metric, value(c.metric, f, smallest)) +
        (tightened
             ? " (against " + formatValue(c.metric, effective[worstIndex]) +
                   " after correcting for a measured miss)"
             : ""));
  };
  if (llvm::Error err = checkSmallest())
    return std::move(err);
  if (!sensitivityMeasured)
    if (llvm::Error err = measureSensitivity(view))
      return std::move(err);
  const BudgetConstraint *pplConstraint = budget.find(BudgetMetric::Perplexity);
  if ((pplConstraint || objective == BudgetObjective::Perplexity) && !hasScale)
    if (llvm::Error err = measureScale(view))
      return std::move(err);

  auto fits = [&](const Config &c, const Figures &f) {
    for (size_t i = 0; i < budget.constraints.size(); ++i) {
      const BudgetConstraint &bc = budget.constraints[i];
      if (bc.metric != BudgetMetric::Perplexity &&
          ratio(i, value(bc.metric, f, c)) > 1.0)
        return false;
    }
    return true;
  };
  size_t pplIndex = 0;
  for (; pplConstraint && pplIndex < budget.constraints.size(); ++pplIndex)
    if (&budget.constraints[pplIndex] == pplConstraint)
      break;

  // Greedy: from the smallest configuration, take the upgrade with the most
  // predicted perplexity gained per unit of objective cost until the
  // quality constraint holds (objective ppl: until no upgrade fits). The
  // exact figures of the result are checked; an additive misestimate
  // tightens the limit and plans again.
  for (int round = 0; round < 4; ++round) {
    Config c = smallest;
    steps.clear();
    Figures f = estimate(c);
    while (true) {
      bool qualityMissed =
          pplConstraint && ratio(pplIndex, predictPerplexity(c)) > 1.0;
      if (!qualityMissed && objective != BudgetObjective::Perplexity) {
        stopReason = pplConstraint
                         ? "the quality constraint " + pplConstraint->text +
                               " holds; every further upgrade would raise " +
                               objectiveName(objective)
                         : std::string("no quality constraint: the smallest "
                                       "configuration minimizes ") +
                               objectiveName(objective);
        break;
      }
      int bestKnob = -1;
      double bestScore = -1, bestGain = 0;
      Figures bestFigures;
      for (size_t k = 0; k < knobs.size(); ++k) {
        if (c[k] + 1 >= static_cast<int>(knobs[k].levels.size()))
          continue;
        Config next = c;
        ++next[k];
        Figures nf = estimate(next);
        if (!fits(next, nf))
          continue;
        double gain = error(c) - error(next);
        if (gain <= 0)
          continue;
        double cost = objectiveCost(f, nf);
        double score = cost > 0 ? gain / cost : gain * 1e30;
        if (score > bestScore) {
          bestScore = score;
          bestKnob = static_cast<int>(k);
          bestGain = gain;
          bestFigures = nf;
        }
      }
      if (bestKnob < 0) {
        if (qualityMissed) {
          std::string within;
          for (const BudgetConstraint &bc : budget.constraints)
            if (bc.metric != BudgetMetric::Perplexity)
              within += (within.empty() ? "" : ",") + bc.text;
          return makeError(
              "budget " + pplConstraint->text + " is infeasible" +
              (within.empty() ? "" : " within " + within) +
              ": the most accurate configuration that fits (" + describe(c) +
              ") predicts " +
              formatValue(BudgetMetric::Perplexity, predictPerplexity(c)));
        }
        stopReason = "no further upgrade fits the budget";
        break;
      }
      const Knob &knob = knobs[bestKnob];
      steps.push_back(
          llvm::formatv(
              "{0} {1} -> {2}: ppl {3} for {4} memory, {5} latency", knob.name,
              knob.levels[c[bestKnob]], knob.levels[c[bestKnob] + 1],
              formatValue(BudgetMetric::Perplexity,
                          std::expm1(correction * (error(c) - bestGain)) -
                              predictPerplexity(c)),
              llvm::format("%+.3f MB",
                           (bestFigures.memory - f.memory) / (1024.0 * 1024.0)),
              llvm::format("%+.4f ms", (bestFigures.latency - f.latency) * 1e3))
              .str());
      ++c[bestKnob];
      f = bestFigures;
    }
    auto exact = evaluate(view.module, c);
    if (!exact)
      return exact.takeError();
    chosen = c;
    chosenFigures = *exact;
    // The additive estimate missed a limit: tighten it by the miss.
    bool retry = false;
    for (size_t i = 0; i < budget.constraints.size(); ++i) {
      const BudgetConstraint &bc = budget.constraints[i];
      if (bc.metric == BudgetMetric::Perplexity)
        continue;
      double r = ratio(i, value(bc.metric, *exact, c));
      if (r > 1.0) {
        // ratio() is value/limit (limit/value for >=): move the limit by it.
        effective[i] =
            bc.atLeast ? effective[i] * r * 1.001 : effective[i] / (r * 1.001);
        retry = true;
      }
    }
    if (!retry)
      break;
    if (llvm::Error err = checkSmallest())
      return std::move(err);
  }
  progress("chose " + describeAll(chosen));
  return toOptions(chosen);
}

llvm::Expected<bool> Planner::review(json::Object &report) {
  ++attempt;
  const json::Object *predicted = report.getObject("predicted");
  const json::Object *measured = report.getObject("measured");
  const json::Object *fidelity = report.getObject("fidelity");
  auto num = [](const json::Object *o,
                llvm::StringRef key) -> std::optional<double> {
    return o ? o->getNumber(key) : std::nullopt;
  };
  json::Array constraints;
  double tightestSlack = INFINITY;
  std::string tightest, missedTerm;
  double missedPredicted = 0, missedMeasured = 0;
  size_t missedIndex = 0;
  met = true;
  for (size_t i = 0; i < budget.constraints.size(); ++i) {
    const BudgetConstraint &c = budget.constraints[i];
    std::optional<double> p, m;
    switch (c.metric) {
    case BudgetMetric::Memory:
      p = num(predicted, "peak_memory_bytes");
      m = num(measured, "peak_rss_bytes");
      break;
    case BudgetMetric::Perplexity:
      if (hasScale)
        p = predictPerplexity(chosen);
      if (fidelity) {
        double ppl = num(fidelity, "perplexity").value_or(0);
        double ref = num(fidelity, "reference_perplexity").value_or(0);
        if (ref > 0)
          m = ppl / ref - 1.0;
      }
      break;
    case BudgetMetric::Latency:
      p = num(predicted, "decode_seconds_per_token");
      m = num(measured, "decode_seconds_per_token");
      break;
    case BudgetMetric::Energy:
      p = num(predicted, "decode_joules_per_token");
      m = num(measured, "decode_joules_per_token");
      break;
    case BudgetMetric::Throughput:
      p = num(predicted, "decode_tokens_per_second");
      m = num(measured, "decode_tokens_per_second");
      break;
    }
    std::optional<double> judged = m ? m : p;
    std::optional<double> slack;
    bool ok = true;
    if (judged) {
      double v = *judged;
      slack = c.atLeast     ? (v - c.limit) / c.limit
              : c.limit > 0 ? (c.limit - v) / c.limit
                            : (v <= 0 ? 0.0 : -INFINITY);
      ok = c.atLeast ? v >= c.limit : v <= c.limit;
      if (*slack < tightestSlack) {
        tightestSlack = *slack;
        tightest = c.text;
      }
    }
    if (!ok && met) {
      met = false;
      missedTerm = c.text;
      missedIndex = i;
      missedPredicted = p.value_or(0);
      missedMeasured = judged.value_or(0);
    }
    json::Object entry{{"term", c.text},
                       {"metric", metricName(c.metric)},
                       {"limit", c.limit},
                       {"predicted", p ? json::Value(*p) : nullptr},
                       {"measured", m ? json::Value(*m) : nullptr},
                       {"slack_pct", slack && std::isfinite(*slack)
                                         ? json::Value(100.0 * *slack)
                                         : nullptr},
                       {"met", ok}};
    constraints.push_back(std::move(entry));
  }

  if (!met) {
    const BudgetConstraint &c = budget.constraints[missedIndex];
    bool measuredMiss = c.metric == BudgetMetric::Perplexity
                            ? fidelity != nullptr
                            : measured != nullptr;
    std::string action;
    if (measuredMiss && attempt < kMaxAttempts) {
      // Correct the plan by the miss and build again.
      if (c.metric == BudgetMetric::Perplexity) {
        // Predictions are exp(correction * sum) - 1: scale the sum.
        double factor = missedPredicted > 0
                            ? std::log1p(missedMeasured) /
                                  std::log1p(missedPredicted) * 1.05
                            : 2.0;
        correction *= std::max(factor, 1.05);
        action = llvm::formatv("sensitivity scaled by {0:f2}; rebuilding",
                               std::max(factor, 1.05))
                     .str();
      } else {
        double r = missedPredicted > 0 && missedMeasured > 0
                       ? (c.atLeast ? missedPredicted / missedMeasured
                                    : missedMeasured / missedPredicted)
                       : 1.1;
        r = std::max(r, 1.0) * 1.02;
        effective[missedIndex] =
            c.atLeast ? effective[missedIndex] * r : effective[missedIndex] / r;
        action = "limit tightened to " +
                 formatValue(c.metric, effective[missedIndex]) + "; rebuilding";
      }
      attempts.push_back(json::Object{{"config", describeAll(chosen)},
                                      {"missed", missedTerm},
                                      {"predicted", missedPredicted},
                                      {"measured", missedMeasured},
                                      {"action", action}});
      progress(llvm::formatv("build {0} missed {1}: measured {2} (predicted "
                             "{3}); {4}",
                             attempt, missedTerm,
                             formatValue(c.metric, missedMeasured),
                             formatValue(c.metric, missedPredicted), action));
      return false;
    }
    missed = llvm::formatv("budget {0} not met after {1} build{2}: measured "
                           "{3} (predicted {4})",
                           missedTerm, attempt, attempt == 1 ? "" : "s",
                           formatValue(c.metric, missedMeasured),
                           formatValue(c.metric, missedPredicted))
                 .str();
  }

  json::Array stepArray;
  for (const std::string &s : steps)
    stepArray.push_back(s);
  std::string why =
      "every layer int4 and an int8 KV cache cost the least; " +
      (steps.empty()
           ? std::string("no upgrade was needed")
           : std::to_string(steps.size()) + " upgrade" +
                 (steps.size() == 1 ? "" : "s") +
                 " from there, each the most predicted perplexity gained "
                 "per unit of " +
                 (objective == BudgetObjective::Perplexity
                      ? std::string("the tightest resource limit")
                      : std::string(objectiveName(objective)))) +
      "; stopped: " + stopReason;
  json::Object scales;
  for (const Knob &knob : knobs)
    if (hasScale && (knob.layer < 0 || knob.layer == 0))
      scales[knob.layer >= 0 ? "decoder layers" : knob.name] = knob.pplScale;
  json::Object method{
      {"calibration_text", options.calibrationText},
      {"calibration_tokens", calibrationTokens},
      {"sensitivity", "activation-weighted relative rounding error per layer "
                      "(docs/Budget.md)"},
      {"log_ppl_per_unit_error", std::move(scales)},
      {"probes", std::move(probes)},
      {"correction", correction},
      {"probe_perplexity", hasScale ? json::Value(probePerplexity) : nullptr},
      {"reference_perplexity",
       hasScale ? json::Value(referencePerplexity) : nullptr},
      {"kv_crest_factor_squared", kKVCrestSquared}};
  report["budget"] = json::Object{
      {"spec", budget.text},
      {"objective", objectiveName(objective)},
      {"met", met},
      {"predicted_ppl_increase",
       hasScale ? json::Value(predictPerplexity(chosen)) : nullptr},
      {"constraints", std::move(constraints)},
      {"tightest",
       tightest.empty() ? json::Value(nullptr) : json::Value(tightest)},
      {"config", configJSON(chosen)},
      {"why", why},
      {"steps", std::move(stepArray)},
      {"method", std::move(method)},
      {"attempts", std::move(attempts)}};
  return true;
}

llvm::Expected<Budget> frugal::parseBudget(llvm::StringRef text) {
  Budget budget;
  budget.text = text.trim().str();
  llvm::SmallVector<llvm::StringRef> terms;
  text.split(terms, ',');
  for (llvm::StringRef term : terms) {
    term = term.trim();
    if (term.empty())
      return makeError("budget '" + text + "': empty term");
    auto c = parseTerm(term);
    if (!c)
      return c.takeError();
    if (budget.find(c->metric))
      return makeError("budget term '" + term + "': " + metricName(c->metric) +
                       " is constrained twice");
    budget.constraints.push_back(std::move(*c));
  }
  return budget;
}

llvm::Expected<BudgetObjective>
frugal::parseBudgetObjective(llvm::StringRef text) {
  if (text == "energy")
    return BudgetObjective::Energy;
  if (text == "latency")
    return BudgetObjective::Latency;
  if (text == "memory")
    return BudgetObjective::Memory;
  if (text == "ppl" || text == "quality")
    return BudgetObjective::Perplexity;
  return makeError("--objective expects energy, latency, memory or ppl, got '" +
                   text + "'");
}

llvm::Error frugal::compileWithBudget(CompileOptions options,
                                      const Budget &budget,
                                      BudgetObjective objective) {
  llvm::SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("llm-compile-budget", dir))
    return makeError("--budget: cannot create a work directory: " +
                     ec.message());
  auto planner = std::make_shared<Planner>(options, budget, objective);
  planner->workDir = dir.str().str();
  // Perplexity is measured against an f32 build: the planner builds one
  // when none is given.
  if (options.report.measure && options.report.reference.empty() &&
      budget.find(BudgetMetric::Perplexity))
    options.report.reference = planner->workDir + "/reference";
  // The budget section lands in the report; without --report it still
  // prints.
  bool ownReport = options.report.path.empty();
  if (ownReport)
    options.report.path = planner->workDir + "/report.json";
  options.optimization.quantBits = 4;
  options.planOptimization = [planner](const ImportedModelView &view) {
    return planner->plan(view);
  };
  options.reviewReport = [planner](json::Object &report) {
    return planner->review(report);
  };
  llvm::Error result = llvm::Error::success();
  while (true) {
    int before = planner->attempt;
    if (llvm::Error err = compileModel(options)) {
      result = std::move(err);
      break;
    }
    // A kept report ends the loop (review returned true).
    if (planner->attempt == before ||
        planner->attempt >= Planner::kMaxAttempts || !planner->missed.empty() ||
        planner->met)
      break;
  }
  if (!result && !planner->missed.empty())
    result = makeError(planner->missed);
  for (const char *name : {"/reference", "/reference.fgw", "/report.json",
                           "/probe", "/probe.fgw", "/probe.json"})
    llvm::sys::fs::remove(planner->workDir + name);
  llvm::sys::fs::remove(planner->workDir);
  return result;
}

void frugal::printBudget(const json::Object &report, llvm::raw_ostream &os) {
  const json::Object *b = report.getObject("budget");
  if (!b)
    return;
  os << llvm::formatv("budget {0} (objective {1}): {2}\n",
                      b->getString("spec").value_or(""),
                      b->getString("objective").value_or(""),
                      b->getBoolean("met").value_or(false) ? "met" : "NOT met");
  if (const json::Object *config = b->getObject("config"))
    os << llvm::formatv("  chosen: {0}; KV {1}\n",
                        config->getString("summary").value_or(""),
                        config->getString("kv_dtype").value_or(""));
  auto metricOf = [](llvm::StringRef name) {
    return name == "memory"    ? BudgetMetric::Memory
           : name == "ppl"     ? BudgetMetric::Perplexity
           : name == "latency" ? BudgetMetric::Latency
           : name == "energy"  ? BudgetMetric::Energy
                               : BudgetMetric::Throughput;
  };
  if (const json::Array *constraints = b->getArray("constraints"))
    for (const json::Value &v : *constraints) {
      const json::Object *c = v.getAsObject();
      if (!c)
        continue;
      BudgetMetric metric = metricOf(c->getString("metric").value_or(""));
      auto show = [&](llvm::StringRef key) -> std::string {
        std::optional<double> x = c->getNumber(key);
        return x ? formatValue(metric, *x) : "-";
      };
      std::optional<double> slack = c->getNumber("slack_pct");
      os << llvm::formatv(
          "  {0,-20} predicted {1,-17} measured {2,-17} slack {3,-8} {4}\n",
          c->getString("term").value_or(""), show("predicted"),
          show("measured"),
          slack ? llvm::formatv("{0:f1}%", *slack).str() : std::string("-"),
          c->getBoolean("met").value_or(false) ? "met" : "MISSED");
    }
  if (std::optional<llvm::StringRef> tightest = b->getString("tightest"))
    os << "  tightest: " << *tightest << "\n";
  if (const json::Array *attempts = b->getArray("attempts"))
    for (const json::Value &v : *attempts)
      if (const json::Object *a = v.getAsObject())
        os << llvm::formatv("  earlier build: {0} missed {1}; {2}\n",
                            a->getString("config").value_or(""),
                            a->getString("missed").value_or(""),
                            a->getString("action").value_or(""));
  os << "  why: " << b->getString("why").value_or("") << "\n";
}
