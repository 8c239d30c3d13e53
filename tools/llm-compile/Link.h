//===- Link.h - Link a model object with the runtime ------------*- C++ -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_TOOLS_LLM_COMPILE_LINK_H
#define FRUGAL_TOOLS_LLM_COMPILE_LINK_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace frugal {

/// Shapes the C-ABI entry point needs to describe its memrefs.
struct ForwardSignature {
  int64_t vocab = 0;
  int64_t kvLayers = 0, kvHeads = 0, kvMaxSeq = 0, kvHeadDim = 0;
  /// A planned cache is one byte buffer of kvBytes (memref<kvBytes x i8>);
  /// an unplanned one the f32 array [2, L, H, C, D].
  bool kvPlanned = false;
  int64_t kvBytes = 0;
  /// The plan's metadata (kv_dtype, kv_layout, ...), as written to the .fgw.
  std::vector<std::pair<std::string, std::string>> kvMetadata;
  int64_t weightsBytes = 0;
  /// llm-plan-memory's plan of `forward`: its arena size and the most
  /// tokens one call may process (0: no plan, any count).
  int64_t arenaBytes = 0, maxTokensPerCall = 0;
  /// llm-batch-decode's `forward_batch`: the most rows (sequences) of one
  /// batched decode step (0: no batched step) and its arena.
  int64_t batchRows = 0, batchArenaBytes = 0;
  /// llm-score-positions' `forward_all`: the most tokens of one call (0: no
  /// such step) and its arena.
  int64_t scoreRows = 0, scoreArenaBytes = 0;
};

/// Links `objectPath` with the runtime (and, when `embeddedWeights` is
/// non-empty, that model file as a read-only section) into `output`.
llvm::Error linkExecutable(const std::string &objectPath,
                           const ForwardSignature &signature,
                           const std::string &embeddedWeights,
                           const std::string &output);

} // namespace frugal

#endif // FRUGAL_TOOLS_LLM_COMPILE_LINK_H
