//===- ONNXModelFuzzer.cpp - fuzz the ONNX decoder and importer -----------===//
//
// Part of Frugal. Feeds raw bytes to ONNXModel::parse as if they were a
// whole .onnx file (external data resolves against a directory that does
// not exist). Every accepted tensor is read end to end under
// AddressSanitizer, and accepted models go through the importer, whose
// shape inference and constant folding see the fuzzed graph.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/Importer.h"
#include "frontends/onnx/ONNXModel.h"

#include "mlir/IR/MLIRContext.h"

#include <cstddef>
#include <cstdint>
#include <vector>

using namespace frugal::onnx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // libFuzzer hands over an exactly sized heap copy, so wrapping it without
  // a null terminator lets AddressSanitizer catch any read past the end.
  std::unique_ptr<llvm::MemoryBuffer> buffer = llvm::MemoryBuffer::getMemBuffer(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz.onnx",
      /*RequiresNullTerminator=*/false);
  llvm::Expected<std::unique_ptr<ONNXModel>> model =
      ONNXModel::parse(std::move(buffer), "/nonexistent-frugal-fuzz-dir");
  if (!model) {
    llvm::consumeError(model.takeError());
    return 0;
  }
  std::vector<float> out;
  for (const ONNXTensor &t : (*model)->graph().initializers) {
    if (isConvertibleToF32(t.dataType)) {
      out.assign(size_t(t.numElements()), 0.0f);
      llvm::cantFail(readAsF32(t, out));
    } else {
      int64_t sum = 0;
      for (int64_t i = 0, n = t.numElements(); i < n; ++i)
        sum += readInteger(t, i);
      (void)sum;
    }
  }
  static mlir::MLIRContext *context = [] {
    auto *ctx = new mlir::MLIRContext();
    ctx->disableMultithreading();
    return ctx;
  }();
  auto module = importONNXModel(*context, **model);
  if (!module)
    llvm::consumeError(module.takeError());
  return 0;
}
