//===- LLMTypes.cpp - llm dialect types ------------------------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "dialects/LLM/IR/LLMDialect.h"

using namespace mlir;
using namespace mlir::llm;

LogicalResult KVCacheType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t numLayers, int64_t numHeads,
                                  int64_t maxSeq, int64_t headDim,
                                  Type elementType) {
  if (numLayers <= 0 || numHeads <= 0 || maxSeq <= 0 || headDim <= 0)
    return emitError() << "KV cache dimensions must be positive, got "
                       << numLayers << " x " << numHeads << " x " << maxSeq
                       << " x " << headDim;
  if (!elementType.isF32() && !elementType.isF16() && !elementType.isBF16() &&
      !elementType.isInteger(8))
    return emitError() << "KV cache element type must be f32, f16, bf16 or "
                          "i8, got "
                       << elementType;
  return success();
}

int64_t KVCacheType::getBytesPerTokenPerLayer() const {
  int64_t elementBytes = getElementType().getIntOrFloatBitWidth() / 8;
  int64_t bytes = 2 * getNumHeads() * getHeadDim() * elementBytes;
  // An i8 cache keeps one f32 scale per token, head, and K/V.
  if (getElementType().isInteger(8))
    bytes += 2 * getNumHeads() * 4;
  return bytes;
}
