//===- MemoryPlan.h - Attributes of the activation arena plan ---*- C++ -*-===//
//
// Part of Frugal. llm-plan-memory records where each intermediate tensor of
// a function lives in one static arena; convert-llm-to-kernels reads the
// plan and views the arena instead of allocating.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_PASSES_MEMORYPLAN_H
#define FRUGAL_PASSES_MEMORYPLAN_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace mlir {
namespace llm {

/// On an op: byte offset of its result in the function's arena (i64).
constexpr llvm::StringLiteral kArenaOffsetAttr = "llm.arena_offset";
/// On an op: bytes reserved for its result; on a function: the arena size
/// (i64).
constexpr llvm::StringLiteral kArenaBytesAttr = "llm.arena_bytes";
/// On an op: [first, last] indices of the ops of the function's block
/// during which its result is live (array<i64>).
constexpr llvm::StringLiteral kArenaLiveAttr = "llm.arena_live";
/// On a function: the most tokens one call may process; dynamic extents are
/// bounded by it (i64).
constexpr llvm::StringLiteral kArenaMaxTokensAttr = "llm.arena_max_tokens";
/// On a function: its dynamic extents are batch rows of one token each, at
/// most this many (i64); set by llm-batch-decode, bounds llm-plan-memory.
/// llm-score-positions sets it too: there the dynamic extents are the
/// tokens of one call.
constexpr llvm::StringLiteral kMaxRowsAttr = "llm.max_rows";
/// Alignment of the arena and of every buffer in it, in bytes.
constexpr int64_t kArenaAlignment = 64;

} // namespace llm
} // namespace mlir

#endif // FRUGAL_PASSES_MEMORYPLAN_H
