//===- llm-calibrate.cpp - Measure this machine for the cost model --------===//
//
// Part of Frugal. Writes the host-cpu target description (read bandwidth,
// peak rates, per-op overhead and efficiency factors of Frugal's own
// kernels) that llm-opt --llm-cost-report and llm-compile --report use.
//
//===----------------------------------------------------------------------===//

#include "tools/llm-calibrate/HostBenchmarks.h"

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
namespace cost = mlir::llm::cost;

static cl::opt<std::string> output(
    "o", cl::desc("Output file (default: <cache>/frugal/targets/host-cpu.json, "
                  "where target lookups find it first; - for stdout)"),
    cl::value_desc("path"), cl::init(""));
static cl::opt<std::string> base(
    "base", cl::desc("Target whose power model, carbon intensity and price "
                     "are kept (default: Frugal's host-cpu)"),
    cl::init(""));
static cl::list<std::string> targetParams(
    "target-param", cl::desc("Override of the result, key=value "
                             "(e.g. carbon=50, price=0.2; repeatable)"));
static cl::opt<unsigned> threads("num-threads",
                                 cl::desc("Threads (default: all cores)"),
                                 cl::init(0));
static cl::opt<bool> quick("quick",
                           cl::desc("Smaller buffers, fewer repetitions"));

static int fail(const Twine &message) {
  WithColor::error(errs(), "llm-calibrate") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Frugal: measure this machine and write the host-cpu target for the "
      "cost model\n");
  std::string basePath = base;
  if (basePath.empty())
    basePath = cost::getBuiltinTargetDir() + "/host-cpu.json";
  auto baseTarget = cost::loadTarget(basePath);
  if (!baseTarget)
    return fail(toString(baseTarget.takeError()));

  // Reject bad overrides before spending time measuring.
  json::Value trial = cost::toJSON(*baseTarget);
  for (const std::string &assignment : targetParams)
    if (Error err = cost::applyOverride(trial, assignment, "the result"))
      return fail(toString(std::move(err)));
  if (auto checked = cost::parseTarget(trial, "the result"); !checked)
    return fail(toString(checked.takeError()));

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::llm::LLMDialect>();
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();

  frugal::CalibrationOptions options;
  options.threads = threads;
  options.quick = quick;
  auto target = frugal::calibrateHost(context, *baseTarget, options, errs());
  if (!target)
    return fail(toString(target.takeError()));

  // Overrides go through the same JSON path as every other target load.
  json::Value value = cost::toJSON(*target);
  for (const std::string &assignment : targetParams)
    if (Error err = cost::applyOverride(value, assignment, "the result"))
      return fail(toString(std::move(err)));
  auto checked = cost::parseTarget(value, "the result");
  if (!checked)
    return fail(toString(checked.takeError()));

  std::string path = output;
  if (path.empty()) {
    std::string dir = cost::getUserTargetDir();
    if (dir.empty())
      return fail("no HOME or XDG_CACHE_HOME: give -o FILE");
    if (std::error_code ec = sys::fs::create_directories(dir))
      return fail("cannot create " + dir + ": " + ec.message());
    path = dir + "/host-cpu.json";
  }
  std::error_code ec;
  raw_fd_ostream out(path, ec);
  if (ec)
    return fail("cannot write " + path + ": " + ec.message());
  out << formatv("{0:2}", value) << "\n";
  if (path != "-")
    errs() << "llm-calibrate: wrote " << path << "\n";
  return 0;
}
