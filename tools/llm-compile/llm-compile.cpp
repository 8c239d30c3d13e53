//===- llm-compile.cpp - Model file -> native executable -------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "tools/llm-compile/Budget.h"
#include "tools/llm-compile/Driver.h"
#include "tools/llm-compile/Pareto.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

#include <cmath>

using namespace llvm;

static cl::opt<std::string> input(cl::Positional, cl::Required,
                                  cl::desc("<model dir | model.safetensors | model.gguf | model.mlir>"));
static cl::opt<std::string> output("o", cl::desc("Output file"),
                                   cl::value_desc("path"), cl::init("model"));
static cl::opt<frugal::EmitKind> emit(
    "emit", cl::desc("What to produce"),
    cl::values(clEnumValN(frugal::EmitKind::Executable, "exe",
                          "an executable (default) and its weights file"),
               clEnumValN(frugal::EmitKind::Object, "obj", "an object file"),
               clEnumValN(frugal::EmitKind::LLVMIR, "llvm", "LLVM IR"),
               clEnumValN(frugal::EmitKind::MLIR, "mlir",
                          "the imported llm IR, with weight offsets")),
    cl::init(frugal::EmitKind::Executable));
static cl::opt<bool> embedWeights(
    "embed-weights", cl::desc("Embed the weights in the executable"));
static cl::opt<int64_t> maxContext(
    "max-context", cl::desc("KV-cache capacity in tokens (default: "
                            "min(model maximum, 2048))"),
    cl::init(0));
static cl::opt<int64_t> vectorWidth("vector-width",
                                    cl::desc("f32 lanes per vector"),
                                    cl::init(16));
static cl::opt<std::string> quantKernel(
    "quant-kernel",
    cl::desc("Kernel of 8- and 4-bit quantized matmuls (every row count): vnni "
             "(int8 activations, AVX-512 VNNI) or fma"),
    cl::init("vnni"));
static cl::opt<bool> noOpenMP("no-openmp",
                              cl::desc("Run on one thread (no OpenMP)"));
static cl::opt<std::string> quantize(
    "quantize", cl::desc("Weight storage: f32 (default), int8 or int4"),
    cl::init("f32"));
static cl::opt<unsigned> quantGroup(
    "quant-group", cl::desc("Elements per quantization scale (32, 64, 128; "
                            "0: per row)"),
    cl::init(32));
static cl::opt<std::string> quantScheme(
    "quant-scheme", cl::desc("symmetric or asymmetric"), cl::init("symmetric"));
static cl::list<std::string> quantKeep(
    "quant-keep", cl::desc("Glob of weight names kept in f32 (repeatable)"));
static cl::list<std::string> quantInt8(
    "quant-int8", cl::desc("Glob of weight names quantized to 8 bits even "
                           "with --quantize=int4 (repeatable)"));
static cl::opt<std::string> quantMethod(
    "quant-method",
    cl::desc("How quantized codes are chosen: rtn (round to nearest, "
             "default) or gptq (activation-aware: runs the f32 model on "
             "--calibration text first)"),
    cl::init("rtn"));
static cl::list<std::string> quantRTN(
    "quant-rtn", cl::desc("Glob of weight names rounded to nearest whatever "
                          "--quant-method says (repeatable)"));
static cl::opt<bool> quantEqualize(
    "quant-equalize",
    cl::desc("Activation-aware per-channel scaling (AWQ) of each quantized "
             "matmul's inputs, folded into the RMSNorm or up projection "
             "that produces them (runs the f32 model on --calibration text "
             "first; combines with either --quant-method)"),
    cl::init(false));
static cl::opt<bool> quantEmbeddings(
    "quant-embeddings",
    cl::desc("Quantize the embedding table too (rounded to nearest); the "
             "lookup dequantizes the rows it reads, and a tied table is "
             "stored once, quantized, instead of f32 plus a quantized copy"),
    cl::init(false));
static cl::opt<std::string> calibration(
    "calibration",
    cl::desc("Calibration text of --quant-method=gptq and --quant-equalize"),
    cl::value_desc("file"), cl::init("/usr/share/common-licenses/GPL-3"));
static cl::opt<int64_t> calibrationTokens(
    "calibration-tokens",
    cl::desc("Tokens of the calibration text to run (default 2048)"),
    cl::init(2048));
static cl::opt<int64_t> calibrationStages(
    "calibration-stages",
    cl::desc("Sequential calibration: split the quantized layers into N "
             "stages, each calibrated on the outputs of the stages before "
             "it already quantized (N runs of the calibration text; "
             "default 1, the f32 model only)"),
    cl::init(1));
static cl::opt<double> calibrationSinkWeight(
    "calibration-sink-weight",
    cl::desc("How many times the first position of each calibration window "
             "counts in GPTQ's X^T X of the key and value projections' "
             "inputs: every later position attends to its keys and values, "
             "so their errors reach them all (default 128; 1: every "
             "position alike)"),
    cl::init(128.0));
static cl::opt<std::string> kvDtype(
    "kv-dtype", cl::desc("KV cache element type: f32 (default), f16 or int8 "
                         "(per-token, per-head scales)"),
    cl::init("f32"));
static cl::opt<std::string> kvLayout(
    "kv-layout", cl::desc("KV cache layout: auto (default), contiguous or "
                          "paged; sliding-window models get a ring buffer"),
    cl::init("auto"));
static cl::opt<int64_t> kvBlockSize(
    "kv-block-size", cl::desc("Positions per paged KV block (0: choose)"),
    cl::init(0));
static cl::opt<int64_t> maxBatch(
    "max-batch", cl::desc("Sequences the KV cache holds at once (default 1)"),
    cl::init(1));
static cl::opt<int64_t> maxTokensPerCall(
    "max-tokens-per-call",
    cl::desc("Tokens per forward call the static activation arena is sized "
             "for; longer prompts are prefilled in chunks (default 512; 0: "
             "no arena, allocate per call)"),
    cl::init(512));
static cl::opt<int64_t> scoreRows(
    "score-rows",
    cl::desc("Tokens per call of the step that returns every position's "
             "logits, which --perplexity uses (default 64; 0: no such step, "
             "score one token per call)"),
    cl::init(64));
static cl::opt<std::string> reportPath(
    "report", cl::desc("Write the efficiency report (predicted size, FLOPs, "
                       "memory, latency, energy, gCO2 and $ per token; "
                       "docs/report.schema.json) to FILE and print a table"),
    cl::value_desc("FILE"), cl::init(""));
static cl::opt<std::string> reportTarget(
    "target", cl::desc("Cost-model target of --report and of the KV cache's "
                       "block size: a name (host-cpu, sm_80, sm_90, "
                       "gfx942) or a target JSON file"),
    cl::init("host-cpu"));
static cl::list<std::string> targetParams(
    "target-param", cl::desc("Override of the --target, key=value "
                             "(carbon=50, price=2.5; repeatable)"));
static cl::opt<bool> measure(
    "measure", cl::desc("With --report: run the built executable (--bench) "
                        "and add measured latency, throughput and peak RSS"));
static cl::opt<int64_t> reportPrompt(
    "report-prompt-tokens",
    cl::desc("Prompt length of the --report workload (default 128)"),
    cl::init(128));
static cl::opt<int64_t> reportDecode(
    "report-decode-tokens",
    cl::desc("Tokens generated in the --report workload (default 64)"),
    cl::init(64));
static cl::opt<std::string> reference(
    "reference", cl::desc("With --measure: a reference build of the same "
                          "model (e.g. f32); the report adds perplexity, KL "
                          "and top-1 agreement against it"),
    cl::value_desc("executable"), cl::init(""));
static cl::opt<std::string> fidelityText(
    "fidelity-text", cl::desc("Text scored for --reference"),
    cl::value_desc("file"), cl::init("/usr/share/common-licenses/GPL-3"));
static cl::opt<int64_t> fidelityTokens(
    "fidelity-tokens", cl::desc("Tokens of --fidelity-text scored (default "
                                "256)"),
    cl::init(256));
static cl::opt<std::string> paretoDir(
    "pareto", cl::desc("Compile and measure a sweep of configurations into "
                       "DIR (one folder each), write DIR/pareto.json and a "
                       "plot of the energy and speed frontiers against the "
                       "perplexity delta, keep only the frontier's builds"),
    cl::value_desc("DIR"), cl::init(""));
static cl::list<std::string> paretoConfigs(
    "pareto-configs",
    cl::desc("Configurations of --pareto, comma-separated: <f32|int8|int4>"
             "[-sym|-asym][-g<N>][-gptq][-kv8|-kv16] (default: f32,int8-g32,"
             "int4-sym-g32,int4-asym-g32,int4-sym-g128,int8-g32-kv8,"
             "int4-sym-g32-kv8,int4-asym-g32-kv8; f32 is always built as "
             "the reference)"),
    cl::CommaSeparated);
static cl::opt<int> paretoRuns(
    "pareto-runs", cl::desc("--bench runs per --pareto build; the fastest "
                            "decode is kept (default 3)"),
    cl::init(3));
static cl::opt<std::string> budget(
    "budget",
    cl::desc("Choose per-layer weight storage and the KV-cache type to meet "
             "constraints, e.g. \"memory<=120MB,ppl<=+3%\" (memory, ppl, "
             "latency, energy, tokens/s; docs/Budget.md)"),
    cl::init(""));
static cl::opt<std::string> objective(
    "objective", cl::desc("What --budget minimizes: energy (default), "
                          "latency, memory, or ppl (the best quality that "
                          "fits)"),
    cl::init("energy"));
static cl::opt<bool> quiet("q", cl::desc("No progress output"));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "Frugal: compile a language model to a native "
                              "executable\n");
  frugal::CompileOptions options;
  options.input = input;
  options.output = output;
  options.emit = emit;
  options.embedWeights = embedWeights;
  options.maxContext = maxContext;
  options.vectorWidth = vectorWidth;
  options.openmp = !noOpenMP;
  options.quantKernel = quantKernel;
  options.progress = !quiet;
  if (measure && reportPath.empty()) {
    WithColor::error(errs(), "llm-compile") << "--measure needs --report FILE\n";
    return 1;
  }
  options.report.path = reportPath;
  options.report.target = reportTarget;
  options.report.targetParams = targetParams;
  options.optimization.costTarget = reportTarget;
  options.optimization.costTargetParams = targetParams;
  options.report.measure = measure;
  options.report.promptTokens = reportPrompt;
  options.report.decodeTokens = reportDecode;
  if (!reference.empty() && !measure) {
    WithColor::error(errs(), "llm-compile") << "--reference needs --measure\n";
    return 1;
  }
  options.report.reference = reference;
  options.report.fidelityText = fidelityText;
  options.report.fidelityTokens = fidelityTokens;
  if (quantize == "int8" || quantize == "int4") {
    options.optimization.quantBits = quantize == "int8" ? 8 : 4;
  } else if (quantize != "f32") {
    WithColor::error(errs(), "llm-compile")
        << "--quantize expects f32, int8 or int4, got '" << quantize << "'\n";
    return 1;
  }
  options.optimization.quantGroup = quantGroup;
  options.optimization.quantScheme = quantScheme;
  options.optimization.quantKeep = quantKeep;
  options.optimization.quantInt8 = quantInt8;
  if (quantMethod != "rtn" && quantMethod != "gptq") {
    WithColor::error(errs(), "llm-compile")
        << "--quant-method expects rtn or gptq, got '" << quantMethod << "'\n";
    return 1;
  }
  if (calibrationTokens < 1) {
    WithColor::error(errs(), "llm-compile")
        << "--calibration-tokens must be at least 1\n";
    return 1;
  }
  options.optimization.quantMethod = quantMethod;
  options.optimization.quantRTN = quantRTN;
  options.optimization.quantEqualize = quantEqualize;
  options.optimization.quantEmbeddings = quantEmbeddings;
  options.calibrationText = calibration;
  options.calibrationTokens = calibrationTokens;
  if (calibrationStages < 1) {
    WithColor::error(errs(), "llm-compile")
        << "--calibration-stages must be at least 1\n";
    return 1;
  }
  if (calibrationStages > 1 && quantMethod != "gptq") {
    WithColor::error(errs(), "llm-compile")
        << "--calibration-stages calibrates GPTQ layer by layer; it needs "
           "--quant-method gptq\n";
    return 1;
  }
  if (calibrationStages > 1 && quantEqualize) {
    WithColor::error(errs(), "llm-compile")
        << "--calibration-stages does not combine with equalization "
           "(--quant-equalize)\n";
    return 1;
  }
  options.calibrationStages = calibrationStages;
  if (!(calibrationSinkWeight > 0.0) || !std::isfinite(calibrationSinkWeight)) {
    WithColor::error(errs(), "llm-compile")
        << "--calibration-sink-weight must be positive, got "
        << calibrationSinkWeight << "\n";
    return 1;
  }
  options.calibrationSinkWeight = calibrationSinkWeight;
  if (kvDtype != "f32" && kvDtype != "f16" && kvDtype != "int8") {
    WithColor::error(errs(), "llm-compile")
        << "--kv-dtype expects f32, f16 or int8, got '" << kvDtype << "'\n";
    return 1;
  }
  if (kvLayout != "auto" && kvLayout != "contiguous" && kvLayout != "paged") {
    WithColor::error(errs(), "llm-compile")
        << "--kv-layout expects auto, contiguous or paged, got '" << kvLayout
        << "'\n";
    return 1;
  }
  options.optimization.kvDtype = kvDtype;
  options.optimization.kvLayout = kvLayout;
  options.optimization.kvBlockSize = kvBlockSize;
  options.optimization.maxBatch = maxBatch;
  if (maxTokensPerCall < 0) {
    WithColor::error(errs(), "llm-compile")
        << "--max-tokens-per-call must be >= 0, got " << maxTokensPerCall
        << "\n";
    return 1;
  }
  options.optimization.maxTokensPerCall = maxTokensPerCall;
  if (scoreRows < 0) {
    WithColor::error(errs(), "llm-compile")
        << "--score-rows must be >= 0, got " << scoreRows << "\n";
    return 1;
  }
  options.optimization.scoreRows = scoreRows;
  if (!paretoDir.empty()) {
    if (!reportPath.empty() || !reference.empty() || !budget.empty() ||
        emit != frugal::EmitKind::Executable || embedWeights) {
      WithColor::error(errs(), "llm-compile")
          << "--pareto writes and measures its own builds and reports: "
             "drop --report, --reference, --budget, --emit and "
             "--embed-weights\n";
      return 1;
    }
    frugal::ParetoOptions pareto;
    pareto.dir = paretoDir;
    pareto.configs.assign(paretoConfigs.begin(), paretoConfigs.end());
    if (paretoRuns < 1) {
      WithColor::error(errs(), "llm-compile")
          << "--pareto-runs must be at least 1\n";
      return 1;
    }
    pareto.benchRuns = paretoRuns;
    if (Error err = frugal::runParetoSweep(options, pareto)) {
      WithColor::error(errs(), "llm-compile") << toString(std::move(err)) << "\n";
      return 1;
    }
    return 0;
  }
  if (!budget.empty()) {
    if (quantize != "f32" || kvDtype != "f32") {
      WithColor::error(errs(), "llm-compile")
          << "--budget chooses the weight and KV-cache storage: drop "
             "--quantize and --kv-dtype\n";
      return 1;
    }
    auto parsed = frugal::parseBudget(budget);
    auto goal = frugal::parseBudgetObjective(objective);
    if (!parsed || !goal) {
      Error err = joinErrors(parsed.takeError(), goal.takeError());
      WithColor::error(errs(), "llm-compile") << toString(std::move(err))
                                              << "\n";
      return 1;
    }
    if (Error err = frugal::compileWithBudget(options, *parsed, *goal)) {
      WithColor::error(errs(), "llm-compile") << toString(std::move(err))
                                              << "\n";
      return 1;
    }
    return 0;
  }
  if (Error err = frugal::compileModel(options)) {
    WithColor::error(errs(), "llm-compile") << toString(std::move(err)) << "\n";
    return 1;
  }
  return 0;
}
