//===- LLMAttrs.cpp - llm dialect attributes -------------------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "dialects/LLM/IR/LLMDialect.h"

using namespace mlir;
using namespace mlir::llm;

LogicalResult QuantAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                unsigned bits, unsigned group,
                                QuantScheme scheme) {
  if (bits < 2 || bits > 8)
    return emitError() << "quantization bits must be in [2, 8], got " << bits;
  if (group != 0 && (group < 8 || !llvm::isPowerOf2_32(group)))
    return emitError()
           << "quantization group must be 0 (per row) or a power of two >= 8, "
              "got "
           << group;
  return success();
}

int64_t QuantAttr::getStorageBytes(ArrayRef<int64_t> shape) const {
  if (shape.empty())
    return 0;
  int64_t numElements = 1;
  for (int64_t dim : shape)
    numElements *= dim;
  int64_t rowLength = shape.back();
  int64_t groupSize = getGroup() == 0 ? rowLength : getGroup();
  int64_t numGroups = numElements / groupSize;
  int64_t bytesPerGroupParams =
      getScheme() == QuantScheme::asymmetric ? 4 : 2; // f16 scale (+ zero).
  return (numElements * getBits() + 7) / 8 + numGroups * bytesPerGroupParams;
}
