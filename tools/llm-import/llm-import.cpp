//===- llm-import.cpp - print the llm IR of a safetensors model -----------===//
//
// Part of Frugal. `llm-import <model dir | file.safetensors> [-o out.mlir]`
// imports a Hugging Face checkpoint (config.json next to the weights) and
// prints the llm dialect module.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/Importer.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model dir | .safetensors>"));
static cl::opt<std::string> outputPath("o", cl::desc("Output file"),
                                       cl::value_desc("file"), cl::init("-"));
static cl::opt<int64_t> maxContext(
    "max-context",
    cl::desc("KV cache capacity (default: min(max positions, 2048))"),
    cl::init(0));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "Imports a safetensors checkpoint as llm IR\n");

  mlir::MLIRContext context;
  frugal::safetensors::ImportOptions options;
  options.maxContext = maxContext;
  Expected<mlir::OwningOpRef<mlir::ModuleOp>> module =
      frugal::safetensors::importModelFromPath(context, inputPath, options);
  if (!module) {
    WithColor::error(errs(), "llm-import")
        << toString(module.takeError()) << "\n";
    return 1;
  }

  std::error_code ec;
  ToolOutputFile out(outputPath, ec, sys::fs::OF_Text);
  if (ec) {
    WithColor::error(errs(), "llm-import")
        << outputPath << ": " << ec.message() << "\n";
    return 1;
  }
  (*module)->print(out.os());
  out.os() << "\n";
  out.keep();
  return 0;
}
