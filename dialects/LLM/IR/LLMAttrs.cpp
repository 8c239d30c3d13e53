//===- LLMAttrs.cpp - llm dialect attributes -------------------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/IR/DialectImplementation.h"

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

//===----------------------------------------------------------------------===//
// KVLayoutAttr
//===----------------------------------------------------------------------===//

LogicalResult KVLayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   KVLayoutKind kind, int64_t maxBatch,
                                   int64_t blockSize, int64_t window) {
  if (maxBatch <= 0)
    return emitError() << "KV layout batch must be positive, got " << maxBatch;
  if (kind == KVLayoutKind::paged) {
    if (blockSize <= 0 || !llvm::isPowerOf2_64(blockSize))
      return emitError() << "paged KV layout needs a power-of-two block size, "
                            "got "
                         << blockSize;
  } else if (blockSize != 0) {
    return emitError() << "only a paged KV layout has a block size";
  }
  if (kind == KVLayoutKind::ring) {
    if (window <= 0)
      return emitError() << "ring KV layout needs a positive window, got "
                         << window;
  } else if (window != 0) {
    return emitError() << "only a ring KV layout has a window";
  }
  return success();
}

Attribute KVLayoutAttr::parse(AsmParser &parser, Type) {
  StringRef keyword;
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  std::optional<KVLayoutKind> kind = symbolizeKVLayoutKind(keyword);
  if (!kind) {
    parser.emitError(parser.getCurrentLocation(),
                     "expected contiguous, paged or ring, got '")
        << keyword << "'";
    return {};
  }
  int64_t batch = 1, block = 0, window = 0;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    int64_t value;
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key) || parser.parseEqual() ||
        parser.parseInteger(value))
      return {};
    if (key == "batch")
      batch = value;
    else if (key == "block")
      block = value;
    else if (key == "window")
      window = value;
    else {
      parser.emitError(loc, "unknown KV layout parameter '") << key << "'";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<KVLayoutAttr>(parser.getContext(), *kind, batch,
                                         block, window);
}

void KVLayoutAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifyKVLayoutKind(getKind())
          << ", batch = " << getMaxBatch();
  if (getBlockSize())
    printer << ", block = " << getBlockSize();
  if (getWindow())
    printer << ", window = " << getWindow();
  printer << ">";
}
