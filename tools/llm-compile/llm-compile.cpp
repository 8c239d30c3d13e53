//===- llm-compile.cpp - Model file -> native executable -------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "tools/llm-compile/Driver.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

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
    cl::desc("Decode kernel of symmetric 8- and 4-bit quantized matmuls: vnni "
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
  if (quantize == "int8" || quantize == "int4") {
    options.quantBits = quantize == "int8" ? 8 : 4;
  } else if (quantize != "f32") {
    WithColor::error(errs(), "llm-compile")
        << "--quantize expects f32, int8 or int4, got '" << quantize << "'\n";
    return 1;
  }
  options.quantGroup = quantGroup;
  options.quantScheme = quantScheme;
  options.quantKeep = quantKeep;
  options.quantInt8 = quantInt8;
  if (Error err = frugal::compileModel(options)) {
    WithColor::error(errs(), "llm-compile") << toString(std::move(err)) << "\n";
    return 1;
  }
  return 0;
}
