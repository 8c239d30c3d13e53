//===- RaisingUtils.h - Matchers shared by the raising passes ---*- C++ -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_PASSES_RAISINGUTILS_H
#define FRUGAL_PASSES_RAISINGUTILS_H

#include "dialects/LLM/IR/LLMDialect.h"

#include <optional>

namespace mlir {
namespace llm {

/// The value of a splat floating-point constant.
std::optional<double> getSplatFloat(Value value);

/// A [B, S, H*D] value split into heads: transpose(reshape(x3d :
/// [B,S,H*D] -> [B,S,H,D]), perm).
struct HeadSplit {
  Value x3d;
  /// The reshaped [B, S, H, D] type.
  RankedTensorType heads;
};

/// Matches the head split above with the given permutation.
std::optional<HeadSplit> matchHeadSplit(Value value, ArrayRef<int64_t> perm);

} // namespace llm
} // namespace mlir

#endif // FRUGAL_PASSES_RAISINGUTILS_H
