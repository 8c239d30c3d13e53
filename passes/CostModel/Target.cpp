//===- Target.cpp - Reading and writing target descriptions ----------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "passes/CostModel/Target.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

#include <cmath>

using namespace mlir::llm::cost;
namespace json = llvm::json;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

const char *kindOf(const json::Value &value) {
  switch (value.kind()) {
  case json::Value::Null: return "null";
  case json::Value::Boolean: return "a boolean";
  case json::Value::Number: return "a number";
  case json::Value::String: return "a string";
  case json::Value::Array: return "an array";
  case json::Value::Object: return "an object";
  }
  return "a value";
}

/// Reads fields of one JSON object, reporting "<file>: key '<a.b>':
/// expected ..., got ..." on the first problem.
class Reader {
public:
  Reader(llvm::StringRef path) : path(path) {}

  llvm::Error error(llvm::StringRef key, const llvm::Twine &what) {
    return makeError(path + ": key '" + key + "': " + what);
  }

  llvm::Error number(const json::Object &obj, llvm::StringRef prefix,
                     llvm::StringRef key, double &out, bool required,
                     bool positive = false) {
    std::string full = join(prefix, key);
    const json::Value *value = obj.get(key);
    if (!value)
      return required ? error(full, "missing (expected a number)")
                      : llvm::Error::success();
    std::optional<double> number = value->getAsNumber();
    if (!number)
      return error(full, llvm::Twine("expected a number, got ") +
                             kindOf(*value));
    if (!std::isfinite(*number) || *number < 0 ||
        (positive && *number == 0))
      return error(full, llvm::Twine("expected a ") +
                             (positive ? "positive" : "non-negative") +
                             " number, got " + std::to_string(*number));
    out = *number;
    return llvm::Error::success();
  }

  llvm::Error string(const json::Object &obj, llvm::StringRef key,
                     std::string &out, bool required) {
    const json::Value *value = obj.get(key);
    if (!value)
      return required ? error(key, "missing (expected a string)")
                      : llvm::Error::success();
    std::optional<llvm::StringRef> text = value->getAsString();
    if (!text)
      return error(key, llvm::Twine("expected a string, got ") +
                            kindOf(*value));
    out = text->str();
    return llvm::Error::success();
  }

  /// An optional object member; `out` stays null when absent.
  llvm::Error object(const json::Object &obj, llvm::StringRef prefix,
                     llvm::StringRef key, const json::Object *&out,
                     bool required) {
    out = nullptr;
    std::string full = join(prefix, key);
    const json::Value *value = obj.get(key);
    if (!value)
      return required ? error(full, "missing (expected an object)")
                      : llvm::Error::success();
    out = value->getAsObject();
    if (!out)
      return error(full, llvm::Twine("expected an object, got ") +
                             kindOf(*value));
    return llvm::Error::success();
  }

  /// An object of numbers, e.g. {"f32": 1e12, "int8": 4e12}.
  llvm::Error numberMap(const json::Object &obj, llvm::StringRef key,
                        llvm::StringMap<double> &out, bool required) {
    const json::Object *map;
    if (llvm::Error err = object(obj, "", key, map, required))
      return err;
    if (!map)
      return llvm::Error::success();
    for (const auto &entry : *map) {
      double value = 0;
      if (llvm::Error err = number(*map, key, entry.first, value, true))
        return err;
      out[entry.first] = value;
    }
    return llvm::Error::success();
  }

  static std::string join(llvm::StringRef prefix, llvm::StringRef key) {
    return prefix.empty() ? key.str() : (prefix + "." + key).str();
  }

private:
  std::string path;
};

const llvm::StringRef kOpClasses[] = {
    "gemv_f32", "gemm_f32", "gemv_int8", "gemm_int8", "gemv_int4",
    "gemm_int4", "attention", "elementwise", "data"};

const llvm::StringRef kTopLevelKeys[] = {
    "name", "kind", "description", "sources", "peak_flops",
    "memory_bandwidth", "memory_bytes", "links", "op_overhead_s",
    "efficiency", "power", "carbon_g_per_kwh", "price_usd_per_hour",
    "calibration"};

} // namespace

llvm::ArrayRef<llvm::StringRef> mlir::llm::cost::opClassNames() {
  return kOpClasses;
}

double TargetDescription::getPeakFlops(llvm::StringRef dtype) const {
  auto it = peakFlops.find(dtype);
  if (it != peakFlops.end())
    return it->second;
  if (dtype == "int4")
    return getPeakFlops("int8");
  return peakFlops.lookup("f32");
}

double TargetDescription::getPicojoulesPerFlop(llvm::StringRef dtype) const {
  auto it = picojoulesPerFlop.find(dtype);
  if (it != picojoulesPerFlop.end())
    return it->second;
  if (dtype == "int4")
    return getPicojoulesPerFlop("int8");
  return picojoulesPerFlop.lookup("f32");
}

Efficiency TargetDescription::getEfficiency(llvm::StringRef opClass) const {
  auto it = efficiency.find(opClass);
  return it == efficiency.end() ? Efficiency() : it->second;
}

llvm::Expected<TargetDescription>
mlir::llm::cost::parseTarget(const json::Value &value, llvm::StringRef path) {
  Reader r(path);
  const json::Object *root = value.getAsObject();
  if (!root)
    return makeError(path + ": expected a JSON object at the top level, got " +
                     kindOf(value));
  for (const auto &entry : *root)
    if (!llvm::is_contained(kTopLevelKeys, entry.first.str()))
      return r.error(entry.first, "unknown key (expected one of " +
                                      llvm::join(llvm::ArrayRef(kTopLevelKeys), ", ") + ")");
  TargetDescription t;
  t.path = path.str();
  if (llvm::Error err = r.string(*root, "name", t.name, true))
    return std::move(err);
  if (llvm::Error err = r.string(*root, "kind", t.kind, true))
    return std::move(err);
  if (t.kind != "cpu" && t.kind != "gpu")
    return r.error("kind", "expected \"cpu\" or \"gpu\", got \"" + t.kind +
                               "\"");
  if (llvm::Error err = r.string(*root, "description", t.description, false))
    return std::move(err);
  if (const json::Value *sources = root->get("sources")) {
    const json::Array *list = sources->getAsArray();
    if (!list)
      return r.error("sources", llvm::Twine("expected an array of strings, "
                                            "got ") + kindOf(*sources));
    for (const json::Value &source : *list) {
      std::optional<llvm::StringRef> text = source.getAsString();
      if (!text)
        return r.error("sources", llvm::Twine("expected an array of "
                                              "strings, got an element that "
                                              "is ") + kindOf(source));
      t.sources.push_back(text->str());
    }
  }

  if (llvm::Error err = r.numberMap(*root, "peak_flops", t.peakFlops, true))
    return std::move(err);
  if (!t.peakFlops.lookup("f32"))
    return r.error("peak_flops.f32", "missing or zero (expected a positive "
                                     "number: every target computes in f32)");
  if (llvm::Error err = r.number(*root, "", "memory_bandwidth",
                                 t.memoryBandwidth, true, /*positive=*/true))
    return std::move(err);
  if (llvm::Error err =
          r.number(*root, "", "memory_bytes", t.memoryBytes, false))
    return std::move(err);
  if (llvm::Error err = r.numberMap(*root, "links", t.linkBandwidth, false))
    return std::move(err);
  if (llvm::Error err =
          r.number(*root, "", "op_overhead_s", t.opOverheadSeconds, false))
    return std::move(err);

  const json::Object *efficiency;
  if (llvm::Error err = r.object(*root, "", "efficiency", efficiency, false))
    return std::move(err);
  if (efficiency)
    for (const auto &entry : *efficiency) {
      std::string key = "efficiency." + entry.first.str();
      if (!llvm::is_contained(kOpClasses, entry.first.str()))
        return r.error(key, "unknown op class (expected one of " +
                                llvm::join(llvm::ArrayRef(kOpClasses), ", ") + ")");
      const json::Object *factors;
      if (llvm::Error err =
              r.object(*efficiency, "efficiency", entry.first, factors, true))
        return std::move(err);
      Efficiency e;
      if (llvm::Error err = r.number(*factors, key, "compute", e.compute,
                                     false, /*positive=*/true))
        return std::move(err);
      if (llvm::Error err = r.number(*factors, key, "memory", e.memory, false,
                                     /*positive=*/true))
        return std::move(err);
      if (e.compute > 1.0 || e.memory > 1.0)
        return r.error(key, "efficiency factors must be in (0, 1]");
      if (factors->get("overhead_s")) {
        double overhead = 0;
        if (llvm::Error err =
                r.number(*factors, key, "overhead_s", overhead, false))
          return std::move(err);
        e.overheadSeconds = overhead;
      }
      t.efficiency[entry.first] = e;
    }

  const json::Object *power;
  if (llvm::Error err = r.object(*root, "", "power", power, true))
    return std::move(err);
  if (llvm::Error err = r.number(*power, "power", "idle_w", t.idleWatts, true))
    return std::move(err);
  if (llvm::Error err = r.numberMap(*power, "pj_per_flop",
                                    t.picojoulesPerFlop, true))
    return std::move(err);
  if (!t.picojoulesPerFlop.count("f32"))
    return r.error("power.pj_per_flop.f32", "missing (expected a number)");
  if (llvm::Error err = r.number(*power, "power", "pj_per_byte",
                                 t.picojoulesPerByte, true))
    return std::move(err);

  if (llvm::Error err = r.number(*root, "", "carbon_g_per_kwh",
                                 t.carbonGramsPerKWh, true))
    return std::move(err);
  if (llvm::Error err = r.number(*root, "", "price_usd_per_hour",
                                 t.priceUsdPerHour, true))
    return std::move(err);
  if (const json::Value *calibration = root->get("calibration")) {
    const json::Object *obj = calibration->getAsObject();
    if (!obj)
      return r.error("calibration", llvm::Twine("expected an object, got ") +
                                        kindOf(*calibration));
    t.calibration = *obj;
  }
  return t;
}

llvm::Error mlir::llm::cost::applyOverride(json::Value &json,
                                           llvm::StringRef assignment,
                                           llvm::StringRef path) {
  auto [key, text] = assignment.split('=');
  key = key.trim();
  text = text.trim();
  if (!assignment.contains('=') || key.empty())
    return makeError("target parameter '" + assignment +
                     "': expected key=value, e.g. carbon=50");
  static const std::pair<llvm::StringRef, llvm::StringRef> kAliases[] = {
      {"carbon", "carbon_g_per_kwh"},
      {"price", "price_usd_per_hour"},
      {"bandwidth", "memory_bandwidth"},
      {"idle", "power.idle_w"}};
  for (auto [alias, full] : kAliases)
    if (key == alias)
      key = full;
  double value;
  if (text.getAsDouble(value))
    return makeError("target parameter '" + assignment +
                     "': expected a number after '=', got '" + text + "'");
  json::Object *obj = json.getAsObject();
  if (!obj)
    return makeError(path + ": expected a JSON object at the top level");
  llvm::SmallVector<llvm::StringRef> parts;
  key.split(parts, '.');
  for (llvm::StringRef part : llvm::ArrayRef(parts).drop_back()) {
    json::Value *next = obj->get(part);
    if (!next)
      next = &((*obj)[part] = json::Object());
    obj = next->getAsObject();
    if (!obj)
      return makeError("target parameter '" + assignment + "': '" + part +
                       "' in " + path + " is not an object");
  }
  (*obj)[parts.back()] = value;
  return llvm::Error::success();
}

std::string mlir::llm::cost::getBuiltinTargetDir() {
  return FRUGAL_COST_TARGETS_DIR;
}

std::string mlir::llm::cost::getUserTargetDir() {
  llvm::SmallString<256> dir;
  if (std::optional<std::string> xdg =
          llvm::sys::Process::GetEnv("XDG_CACHE_HOME"))
    dir = *xdg;
  else if (std::optional<std::string> home =
               llvm::sys::Process::GetEnv("HOME"))
    llvm::sys::path::append(dir, *home, ".cache");
  else
    return "";
  llvm::sys::path::append(dir, "frugal", "targets");
  return dir.str().str();
}

llvm::Expected<std::string>
mlir::llm::cost::findTargetFile(llvm::StringRef nameOrPath) {
  if (nameOrPath.contains('/') || nameOrPath.ends_with(".json")) {
    if (!llvm::sys::fs::exists(nameOrPath))
      return makeError("target file " + nameOrPath + " does not exist");
    return nameOrPath.str();
  }
  std::vector<std::string> tried;
  for (const std::string &dir : {getUserTargetDir(), getBuiltinTargetDir()}) {
    if (dir.empty())
      continue;
    llvm::SmallString<256> file(dir);
    llvm::sys::path::append(file, nameOrPath + ".json");
    if (llvm::sys::fs::exists(file))
      return file.str().str();
    tried.push_back(file.str().str());
  }
  return makeError("unknown target '" + nameOrPath + "' (looked for " +
                   llvm::join(tried, " and ") + ")");
}

llvm::Expected<TargetDescription>
mlir::llm::cost::loadTarget(llvm::StringRef nameOrPath,
                            llvm::ArrayRef<std::string> overrides) {
  llvm::Expected<std::string> path = findTargetFile(nameOrPath);
  if (!path)
    return path.takeError();
  auto buffer = llvm::MemoryBuffer::getFile(*path);
  if (!buffer)
    return makeError("cannot read target file " + *path + ": " +
                     buffer.getError().message());
  llvm::Expected<json::Value> json = json::parse((*buffer)->getBuffer());
  if (!json)
    return makeError(*path + ": invalid JSON: " +
                     llvm::toString(json.takeError()));
  for (const std::string &assignment : overrides)
    if (llvm::Error err = applyOverride(*json, assignment, *path))
      return std::move(err);
  return parseTarget(*json, *path);
}

json::Value mlir::llm::cost::toJSON(const TargetDescription &t) {
  auto numberMap = [](const llvm::StringMap<double> &map) {
    json::Object obj;
    for (const auto &entry : map)
      obj[entry.first()] = entry.second;
    return obj;
  };
  json::Object efficiency;
  for (llvm::StringRef opClass : kOpClasses) {
    auto it = t.efficiency.find(opClass);
    if (it == t.efficiency.end())
      continue;
    json::Object factors{{"compute", it->second.compute},
                         {"memory", it->second.memory}};
    if (it->second.overheadSeconds)
      factors["overhead_s"] = *it->second.overheadSeconds;
    efficiency[opClass] = std::move(factors);
  }
  json::Array sources;
  for (const std::string &source : t.sources)
    sources.push_back(source);
  json::Object root{
      {"name", t.name},
      {"kind", t.kind},
      {"description", t.description},
      {"sources", std::move(sources)},
      {"peak_flops", numberMap(t.peakFlops)},
      {"memory_bandwidth", t.memoryBandwidth},
      {"memory_bytes", t.memoryBytes},
      {"links", numberMap(t.linkBandwidth)},
      {"op_overhead_s", t.opOverheadSeconds},
      {"efficiency", std::move(efficiency)},
      {"power", json::Object{{"idle_w", t.idleWatts},
                             {"pj_per_flop", numberMap(t.picojoulesPerFlop)},
                             {"pj_per_byte", t.picojoulesPerByte}}},
      {"carbon_g_per_kwh", t.carbonGramsPerKWh},
      {"price_usd_per_hour", t.priceUsdPerHour}};
  if (!t.calibration.empty())
    root["calibration"] = json::Object(t.calibration);
  return root;
}
