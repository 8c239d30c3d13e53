//===- LLMCost.h - Cost figures reported by llm ops -------------*- C++ -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_DIALECTS_LLM_IR_LLMCOST_H
#define FRUGAL_DIALECTS_LLM_IR_LLMCOST_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/ArrayRef.h"

#include <cstdint>

namespace mlir {
namespace llm {

/// What a cost query is asked about: how many tokens a step processes (the
/// value of every dynamic dimension) and how many positions are already in
/// the KV cache.
struct CostContext {
  int64_t dynamicDimSize = 1;
  int64_t pastTokens = 0;
};

/// Work and memory traffic of one op execution.
struct OpCost {
  int64_t flops = 0;
  int64_t bytesRead = 0;
  int64_t bytesWritten = 0;

  int64_t bytesMoved() const { return bytesRead + bytesWritten; }
  OpCost &operator+=(const OpCost &other) {
    flops += other.flops;
    bytesRead += other.bytesRead;
    bytesWritten += other.bytesWritten;
    return *this;
  }
  bool operator==(const OpCost &other) const {
    return flops == other.flops && bytesRead == other.bytesRead &&
           bytesWritten == other.bytesWritten;
  }
};

/// Number of elements of `shape`, with dynamic dimensions set to
/// `ctx.dynamicDimSize`.
int64_t getNumElements(llvm::ArrayRef<int64_t> shape, const CostContext &ctx);

/// Bytes of a ranked tensor value under `ctx`. A value produced by a quantized
/// `llm.weight` counts its stored (packed) size.
int64_t getTensorBytes(Value value, const CostContext &ctx);

} // namespace llm
} // namespace mlir

#endif // FRUGAL_DIALECTS_LLM_IR_LLMCOST_H
