//===- Importer.h - ONNX model to llm IR ------------------------*- C++ -*-===//
//
// Part of Frugal. Builds the llm dialect form of an ONNX graph with static
// shapes: one `func.func @main` whose arguments are the graph inputs (those
// without an initializer) and whose results are the graph outputs.
// Initializers with more than `maxInlineElements` float elements become
// `llm.weight "<initializer name>"` (the compiler packs them from
// ONNXModel::lookupTensor); smaller ones, and every value computed from
// known values (Shape, ConstantOfShape, Range, shape arithmetic), become
// `arith.constant` tensors where a runtime op uses them.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_ONNX_IMPORTER_H
#define FRUGAL_FRONTENDS_ONNX_IMPORTER_H

#include "frontends/onnx/ONNXModel.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace frugal::onnx {

/// The default-domain opsets the importer accepts.
constexpr int64_t kMinOpset = 13;
constexpr int64_t kMaxOpset = 23;

/// Options of the decoder import (importONNXDecoder).
struct ONNXDecoderOptions {
  /// KV cache capacity in tokens; 0 picks min(rotary table rows, 2048).
  int64_t maxContext = 0;
  /// Graph input holding the token ids, and graph output holding logits.
  std::string inputIdsName = "input_ids";
  std::string logitsName = "logits";
  /// Float initializers with more elements than this become llm.weight
  /// (0: every float initializer does, so norms weights are packed too).
  int64_t maxInlineElements = 0;
};

struct ONNXImportOptions {
  /// Sizes for symbolic dimensions (dim_param) of the graph inputs, e.g.
  /// {"batch": 1, "sequence": 16}. Unbound symbolic dimensions stay
  /// dynamic, which only elementwise ops accept so far.
  llvm::StringMap<int64_t> dimValues;
  /// Float initializers with more elements than this become llm.weight.
  int64_t maxInlineElements = 64;
  /// Graph inputs bound to values at import time, imported as if they were
  /// initializers (e.g. the shape operand of a Reshape that a test feeds as
  /// an input). The tensors must outlive the import.
  llvm::StringMap<const ONNXTensor *> knownInputs;
  /// Set by importONNXDecoder: emit `@forward` (see there).
  std::optional<ONNXDecoderOptions> decoder;
};

/// Emits the module. Errors name the model file and the node (index, name,
/// op type, domain, opset) that could not be imported.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importONNXModel(mlir::MLIRContext &context, const ONNXModel &model,
                const ONNXImportOptions &options = {});

/// Imports an onnxruntime-genai style decoder (input_ids, attention_mask,
/// past_key_values.N.key/value -> logits, present.N.key/value, attention
/// in com.microsoft GroupQueryAttention nodes) as the `@forward` function
/// the compiler builds executables from:
///
///   func.func @forward(%tokens: tensor<1x?xi64>, %start: index,
///                      %kv: !llm.kv_cache<L x Hkv x C x D, f32>)
///       -> tensor<1x1xVxf32>
///
/// The past/present KV tensors become the one KV cache (layer i = the i-th
/// GroupQueryAttention node), positions are `llm.position_ids %tokens,
/// %start`, and only the last position's logits are computed (an llm.slice
/// of the last hidden row precedes the lm_head MatMul). Batch 1 with a
/// dense attention mask is assumed: attention_mask, seqlens_k,
/// total_sequence_length and the nodes computing them are not imported.
/// Only the nodes the logits depend on are imported.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importONNXDecoder(mlir::MLIRContext &context, const ONNXModel &model,
                  const ONNXDecoderOptions &options = {});

/// Whether `model` is a decoder graph for importONNXDecoder: it has a
/// com.microsoft GroupQueryAttention node.
bool isDecoderGraph(const ONNXModel &model);

/// Opens the .onnx file at `path` (external data next to it) and imports it:
/// with importONNXDecoder (default decoder options, `maxContext` aside)
/// when it is a decoder graph, otherwise with importONNXModel.
/// The model must outlive nothing: the IR holds no views into it.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importONNXModelFromPath(mlir::MLIRContext &context, llvm::StringRef path,
                        const ONNXImportOptions &options = {});

} // namespace frugal::onnx

#endif // FRUGAL_FRONTENDS_ONNX_IMPORTER_H
