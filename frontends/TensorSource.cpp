//===- TensorSource.cpp - Where the compiler finds weights -----------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/TensorSource.h"

#include "dialects/LLM/IR/LLMDialect.h"

frugal::TensorSource::~TensorSource() = default;

llvm::Expected<bool>
frugal::TensorSource::readPacked(llvm::StringRef, mlir::llm::QuantAttr, int64_t,
                                 int64_t, llvm::MutableArrayRef<uint8_t>) const {
  return false;
}
