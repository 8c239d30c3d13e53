//===- llm-import.cpp - print the llm IR of a model -----------------------===//
//
// Part of Frugal. `llm-import <model dir | file.safetensors | model.onnx |
// model.gguf> [-o out.mlir]` imports a Hugging Face checkpoint (config.json
// next to the weights), an ONNX model (external data next to it) or a GGUF
// file and prints the llm dialect module.
//
//===----------------------------------------------------------------------===//

#include "frontends/gguf/GGUFModel.h"
#include "frontends/onnx/Importer.h"
#include "frontends/safetensors/Importer.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model dir | .safetensors | .onnx | .gguf>"));
static cl::opt<std::string> outputPath("o", cl::desc("Output file"),
                                       cl::value_desc("file"), cl::init("-"));
static cl::opt<int64_t> maxContext(
    "max-context",
    cl::desc("KV cache capacity (default: min(max positions, 2048))"),
    cl::init(0));
static cl::list<std::string> onnxDims(
    "dim",
    cl::desc("ONNX: size of a symbolic input dimension, e.g. --dim batch=1"),
    cl::value_desc("name=size"));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "Imports a safetensors checkpoint, an ONNX model or a GGUF file as llm IR\n");

  mlir::MLIRContext context;
  Expected<mlir::OwningOpRef<mlir::ModuleOp>> module =
      mlir::OwningOpRef<mlir::ModuleOp>();
  if (StringRef(inputPath).ends_with(".onnx")) {
    frugal::onnx::ONNXImportOptions options;
    for (StringRef dim : onnxDims) {
      auto [name, size] = dim.split('=');
      int64_t value = 0;
      if (name.empty() || size.getAsInteger(10, value) || value < 0) {
        WithColor::error(errs(), "llm-import")
            << "--dim expects name=size, got '" << dim << "'\n";
        return 1;
      }
      options.dimValues[name] = value;
    }
    module =
        frugal::onnx::importONNXModelFromPath(context, inputPath, options);
  } else if (StringRef(inputPath).ends_with(".gguf")) {
    frugal::safetensors::ImportOptions options;
    options.maxContext = maxContext;
    module = frugal::gguf::importGGUFModelFromPath(context, inputPath, options);
  } else {
    frugal::safetensors::ImportOptions options;
    options.maxContext = maxContext;
    module =
        frugal::safetensors::importModelFromPath(context, inputPath, options);
  }
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
