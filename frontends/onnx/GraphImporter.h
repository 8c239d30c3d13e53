//===- GraphImporter.h - ONNX graph to llm ops ------------------*- C++ -*-===//
//
// Part of Frugal. Internal to the ONNX frontend. Walks the nodes of the
// main graph in order (ONNX requires a topological order) and keeps, per
// value name, either the SSA value that holds it at run time, its known
// contents, or the initializer it names. Known values and initializers are
// materialized only where a runtime op consumes them. Op handlers live in
// ImportOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_ONNX_GRAPHIMPORTER_H
#define FRUGAL_FRONTENDS_ONNX_GRAPHIMPORTER_H

#include "frontends/onnx/Importer.h"
#include "frontends/onnx/KnownTensor.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"

#include <optional>
#include <string>

namespace frugal::onnx {

class GraphImporter {
public:
  GraphImporter(mlir::MLIRContext &context, const ONNXModel &model,
                const ONNXImportOptions &options);

  llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> run();

  //===--------------------------------------------------------------------===//
  // Used by the op handlers (ImportOps.cpp)
  //===--------------------------------------------------------------------===//

  /// `file: node N 'name' (Op, opset K): msg`.
  llvm::Error nodeError(const llvm::Twine &msg) const;

  const ONNXNode &node() const { return *cur; }
  const ONNXModel &onnxModel() const { return model; }
  int64_t opset() const { return opsetVersion; }
  mlir::OpBuilder &builder() { return b; }
  mlir::Location loc() const { return curLoc; }

  /// Whether input `i` is present (not omitted).
  bool hasInput(size_t i) const;
  /// The known contents of input `i`, or null when it is only known at run
  /// time (or omitted).
  const KnownTensor *known(size_t i);
  /// The type of input `i` (static or with dynamic dimensions).
  llvm::Expected<mlir::RankedTensorType> typeOf(size_t i);
  /// The SSA value of input `i`, materializing known values and
  /// initializers; `kind` converts a known value to another element kind.
  llvm::Expected<mlir::Value> value(size_t i,
                                    std::optional<ElemKind> kind = {});
  /// When input `i` is a 2-D initializer that imports as a weight, the
  /// `llm.weight ... transposed` of it; otherwise null.
  mlir::Value transposedWeight(size_t i);
  /// Input `i` as a list of known integers; an error names `what`.
  llvm::Expected<llvm::SmallVector<int64_t, 4>> knownInts(size_t i,
                                                          llvm::StringRef what);
  /// Fails with the "dynamic dimension" error when input `i` has one.
  llvm::Error requireStatic(size_t i);

  int64_t attrInt(llvm::StringRef name, int64_t def) const;
  float attrFloat(llvm::StringRef name, float def) const;
  std::string attrString(llvm::StringRef name, llvm::StringRef def) const;
  std::optional<llvm::SmallVector<int64_t, 4>>
  attrInts(llvm::StringRef name) const;

  /// Normalizes `axis` into [0, rank) or fails naming `what`.
  llvm::Expected<int64_t> normalizeAxis(int64_t axis, int64_t rank,
                                        llvm::StringRef what) const;

  /// Output `i` gets a runtime value / known contents / another value's
  /// entry (Identity).
  void define(size_t i, mlir::Value v);
  void defineKnown(size_t i, KnownTensor t);
  void forward(size_t out, size_t in);

  mlir::RankedTensorType tensorType(llvm::ArrayRef<int64_t> shape,
                                    mlir::Type elem) {
    return mlir::RankedTensorType::get(shape, elem);
  }
  /// A splat f32 constant of shape [1].
  mlir::Value scalarF32(double v);

  /// What the decoder import (importONNXDecoder) shares with the handlers
  /// of the attention operators.
  struct DecoderState {
    mlir::Value tokens, start, kvCache, positions;
    /// GroupQueryAttention nodes imported so far (the next layer index).
    int64_t numLayers = 0;
    /// KV heads, head size and rotary table rows of the first layer; the
    /// others must agree.
    int64_t kvHeads = 0, headDim = 0, maxPositions = 0;
  };
  /// The decoder import's state, or null in the plain import.
  DecoderState *decoder() { return dec ? &*dec : nullptr; }

private:
  struct Entry {
    mlir::Value value;
    std::optional<KnownTensor> known;
    const ONNXTensor *init = nullptr;
  };

  llvm::Error checkOpset();
  llvm::Error importInputs();
  /// importONNXDecoder's body (DecoderImport.cpp).
  llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> runDecoder();
  llvm::Error verifyModule(mlir::ModuleOp module);
  /// Whether input `i` of the current node is one the decoder import
  /// leaves out (GroupQueryAttention's past KV, seqlens, total length).
  bool droppedInput(size_t i) const;
  llvm::Error importNode(size_t index);
  llvm::Error dispatch();
  const Entry *lookup(llvm::StringRef name) const;
  llvm::Expected<mlir::Value> materialize(llvm::StringRef name,
                                          std::optional<ElemKind> kind);
  llvm::Expected<mlir::RankedTensorType> typeOfName(llvm::StringRef name);
  llvm::Error missing(llvm::StringRef name) const;
  llvm::Error fail(const llvm::Twine &msg) const;

  mlir::MLIRContext &ctx;
  const ONNXModel &model;
  const ONNXImportOptions &options;
  mlir::OpBuilder b;
  mlir::Location curLoc;
  const ONNXNode *cur = nullptr;
  size_t curIndex = 0;
  int64_t opsetVersion = 0;
  llvm::StringMap<Entry> values;
  /// Declared symbolic dimension names per value (from inputs, outputs and
  /// value_info), for error messages.
  llvm::StringMap<llvm::SmallVector<std::string, 4>> dimParams;
  std::optional<DecoderState> dec;
};

/// Imports the current node of `gi`; defined in ImportOps.cpp.
llvm::Error importOp(GraphImporter &gi);

} // namespace frugal::onnx

#endif // FRUGAL_FRONTENDS_ONNX_GRAPHIMPORTER_H
