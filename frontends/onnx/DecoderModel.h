//===- DecoderModel.h - an ONNX decoder ready for the compiler --*- C++ -*-===//
//
// Part of Frugal. Opens an onnxruntime-genai export (model.onnx with its
// external data, genai_config.json and tokenizer.json beside it), imports
// it with importONNXDecoder and gathers what the compiler's metadata
// needs: the same view the safetensors and GGUF frontends give.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_ONNX_DECODERMODEL_H
#define FRUGAL_FRONTENDS_ONNX_DECODERMODEL_H

#include "frontends/onnx/Importer.h"
#include "frontends/safetensors/ModelConfig.h"
#include "frontends/safetensors/Tokenizer.h"

#include <memory>
#include <optional>

namespace frugal::onnx {

struct ONNXDecoderModel {
  /// The decoded graph; serves the initializers that llm.weight ops name.
  std::unique_ptr<ONNXModel> source;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// From genai_config.json when present (type, vocabulary, bos/eos,
  /// context length), otherwise from the imported graph.
  safetensors::ModelConfig config;
  /// From tokenizer.json (and tokenizer_config.json) when present.
  std::optional<safetensors::TokenizerData> tokenizer;
};

/// Opens the decoder at `path` and imports it; `maxContext` as in
/// ONNXDecoderOptions.
llvm::Expected<ONNXDecoderModel>
openONNXDecoderModel(mlir::MLIRContext &context, llvm::StringRef path,
                     int64_t maxContext = 0);

} // namespace frugal::onnx

#endif // FRUGAL_FRONTENDS_ONNX_DECODERMODEL_H
