//===- Importer.h - safetensors checkpoint to llm IR ------------*- C++ -*-===//
//
// Part of Frugal. Builds the llm dialect form of a Hugging Face model:
// one `func.func @forward(%tokens, %start, %kv) -> logits` with every layer
// unrolled and every weight a named `llm.weight` (the checkpoint tensor
// name). Activations are f32 whatever the checkpoint dtype; the compiler
// converts weights to f32 when it packs them.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_SAFETENSORS_IMPORTER_H
#define FRUGAL_FRONTENDS_SAFETENSORS_IMPORTER_H

#include "frontends/safetensors/Checkpoint.h"
#include "frontends/safetensors/ModelConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

namespace frugal::safetensors {

struct ImportOptions {
  /// KV cache capacity in tokens; 0 picks min(max positions, 2048). It must
  /// not exceed the model's max positions.
  int64_t maxContext = 0;
};

/// Checks every tensor the model needs (under HF names) against `config`
/// and emits the module. Errors name missing tensors and shape or dtype
/// mismatches (all of them, one per line). Any TensorSource serves: a
/// safetensors Checkpoint, or another format presenting HF names.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importModel(mlir::MLIRContext &context, const frugal::TensorSource &checkpoint,
            const ModelConfig &config, const ImportOptions &options = {});

/// Opens the checkpoint at `path` (a model directory or a .safetensors
/// file), reads config.json next to it and imports the model.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importModelFromPath(mlir::MLIRContext &context, llvm::StringRef path,
                    const ImportOptions &options = {});

} // namespace frugal::safetensors

#endif // FRUGAL_FRONTENDS_SAFETENSORS_IMPORTER_H
