//===- ImportBuilder.h - op helpers shared by the importers -----*- C++ -*-===//
//
// Part of Frugal. Internal to the safetensors frontend. Emits llm ops for
// the per-family importers and checks every weight against the checkpoint;
// a failed check is recorded and a placeholder of the expected shape is
// emitted so that building continues and every problem gets reported.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_SAFETENSORS_IMPORTBUILDER_H
#define FRUGAL_FRONTENDS_SAFETENSORS_IMPORTBUILDER_H

#include "frontends/TensorSource.h"
#include "frontends/safetensors/ModelConfig.h"
#include "frontends/safetensors/SafetensorsFile.h"
#include "frontends/safetensors/ModelConfig.h"
#include "frontends/safetensors/SafetensorsFile.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"

#include <string>
#include <vector>

namespace frugal::safetensors {

/// The arguments of @forward and the positions derived from them.
struct ForwardArgs {
  mlir::Value tokens;    // tensor<1x?xi64>
  mlir::Value start;     // index
  mlir::Value kvCache;   // !llm.kv_cache<...>
  mlir::Value positions; // tensor<1x?xi64>
};

class ImportBuilder {
public:
  ImportBuilder(mlir::OpBuilder &builder, mlir::Location loc,
                const frugal::TensorSource &weights, const ModelConfig &config)
      : b(builder), loc(loc), ckpt(weights), cfg(config) {}

  const ModelConfig &config() const { return cfg; }
  bool hasTensor(llvm::StringRef name) const {
    return ckpt.lookupTensor(name).has_value();
  }

  /// tensor<1x?xNxf32> (or a static sequence length).
  mlir::RankedTensorType activation(int64_t features,
                                    int64_t seq = mlir::ShapedType::kDynamic);

  /// `llm.weight "name"` of f32 type `shape`, after checking the checkpoint
  /// tensor exists, has that shape and a convertible dtype. Each name is
  /// emitted once.
  mlir::Value weight(llvm::StringRef name, llvm::ArrayRef<int64_t> shape);

  /// x · Wᵀ (+ bias) for an HF Linear `prefix` with weight [out, in].
  mlir::Value linear(mlir::Value x, llvm::StringRef prefix, int64_t out,
                     int64_t in, bool bias);
  /// x · W + bias for a GPT-2 Conv1D `prefix` with weight [in, out].
  mlir::Value conv1d(mlir::Value x, llvm::StringRef prefix, int64_t in,
                     int64_t out);

  mlir::Value embed(mlir::Value table, mlir::Value ids);
  mlir::Value add(mlir::Value lhs, mlir::Value rhs);
  mlir::Value mul(mlir::Value lhs, mlir::Value rhs);
  mlir::Value silu(mlir::Value x);
  mlir::Value gelu(mlir::Value x, bool tanh);
  mlir::Value rmsNorm(mlir::Value x, llvm::StringRef weightName);
  mlir::Value layerNorm(mlir::Value x, llvm::StringRef prefix);
  mlir::Value rope(mlir::Value x, mlir::Value positions, int64_t numHeads);
  mlir::Value attention(mlir::Value q, mlir::Value k, mlir::Value v,
                        const ForwardArgs &args, int64_t layer);
  /// `size` entries along `axis` from `start` (negative: from the end).
  mlir::Value slice(mlir::Value x, int64_t axis, int64_t start, int64_t size);
  /// Last position, then logits against `table` ([vocab, hidden]).
  mlir::Value logits(mlir::Value hidden, mlir::Value table);

  /// Every problem found, one per line; empty on success.
  const std::vector<std::string> &errors() const { return problems; }

private:
  mlir::OpBuilder &b;
  mlir::Location loc;
  const frugal::TensorSource &ckpt;
  const ModelConfig &cfg;
  llvm::StringMap<mlir::Value> weights;
  std::vector<std::string> problems;
};

/// Per-family bodies of @forward; they return the logits.
mlir::Value emitLlamaForward(ImportBuilder &ib, const ForwardArgs &args);
mlir::Value emitGPT2Forward(ImportBuilder &ib, const ForwardArgs &args);

} // namespace frugal::safetensors

#endif // FRUGAL_FRONTENDS_SAFETENSORS_IMPORTBUILDER_H
