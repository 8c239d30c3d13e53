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
                                  Type elementType, KVLayoutAttr layout) {
  if (numLayers <= 0 || numHeads <= 0 || maxSeq <= 0 || headDim <= 0)
    return emitError() << "KV cache dimensions must be positive, got "
                       << numLayers << " x " << numHeads << " x " << maxSeq
                       << " x " << headDim;
  if (!elementType.isF32() && !elementType.isF16() && !elementType.isBF16() &&
      !elementType.isInteger(8))
    return emitError() << "KV cache element type must be f32, f16, bf16 or "
                          "i8, got "
                       << elementType;
  if (!layout)
    return success();
  if (layout.getKind() == KVLayoutKind::ring && layout.getWindow() >= maxSeq)
    return emitError() << "a ring KV layout's window (" << layout.getWindow()
                       << ") must be below max_seq (" << maxSeq
                       << "); use a contiguous layout";
  if (layout.getKind() == KVLayoutKind::paged &&
      layout.getBlockSize() > maxSeq)
    return emitError() << "KV block size " << layout.getBlockSize()
                       << " exceeds max_seq (" << maxSeq << ")";
  return success();
}

int64_t KVCacheType::getBytesPerTokenPerLayer() const {
  int64_t elementBytes = getElementType().getIntOrFloatBitWidth() / 8;
  int64_t bytes = 2 * getNumHeads() * getHeadDim() * elementBytes;
  // An i8 cache keeps one f16 scale per token, head, and K/V.
  if (getElementType().isInteger(8))
    bytes += 2 * getNumHeads() * 2;
  return bytes;
}

static int64_t alignTo64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

int64_t KVCacheType::getBlocksPerSequence() const {
  KVLayoutAttr layout = getLayout();
  if (!layout || layout.getKind() != KVLayoutKind::paged)
    return 0;
  return llvm::divideCeil(getMaxSeq(), layout.getBlockSize());
}

int64_t KVCacheType::getNumPages() const {
  KVLayoutAttr layout = getLayout();
  if (!layout)
    return 1;
  if (layout.getKind() == KVLayoutKind::paged)
    return layout.getMaxBatch() * getBlocksPerSequence();
  return layout.getMaxBatch();
}

int64_t KVCacheType::getSlotsPerPage() const {
  KVLayoutAttr layout = getLayout();
  if (!layout)
    return getMaxSeq();
  switch (layout.getKind()) {
  case KVLayoutKind::contiguous:
    return getMaxSeq();
  case KVLayoutKind::paged:
    return layout.getBlockSize();
  case KVLayoutKind::ring:
    return layout.getWindow();
  }
  llvm_unreachable("unknown KV layout");
}

int64_t KVCacheType::getBlockTableBytes() const {
  KVLayoutAttr layout = getLayout();
  if (!layout || layout.getKind() != KVLayoutKind::paged)
    return 0;
  return alignTo64(layout.getMaxBatch() * getBlocksPerSequence() * 4);
}

int64_t KVCacheType::getDataOffset() const { return getBlockTableBytes(); }

int64_t KVCacheType::getDataBytes() const {
  int64_t elementBytes = getElementType().getIntOrFloatBitWidth() / 8;
  return 2 * getNumLayers() * getNumPages() * getNumHeads() *
         getSlotsPerPage() * getHeadDim() * elementBytes;
}

int64_t KVCacheType::getScalesOffset() const {
  return alignTo64(getDataOffset() + getDataBytes());
}

int64_t KVCacheType::getScalesBytes() const {
  if (!getElementType().isInteger(8))
    return 0;
  return 2 * getNumLayers() * getNumPages() * getNumHeads() *
         getSlotsPerPage() * 2;
}

int64_t KVCacheType::getStorageBytes() const {
  if (!getLayout())
    return getDataBytes();
  return alignTo64(getScalesOffset() + getScalesBytes());
}

MemRefType KVCacheType::getStorageType() const {
  if (!getLayout())
    return MemRefType::get({2, getNumLayers(), getNumHeads(), getMaxSeq(),
                            getHeadDim()},
                           getElementType());
  return MemRefType::get({getStorageBytes()},
                         IntegerType::get(getContext(), 8));
}
