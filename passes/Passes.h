//===- Passes.h - Frugal passes on the llm dialect --------------*- C++ -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_PASSES_PASSES_H
#define FRUGAL_PASSES_PASSES_H

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace llm {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace llm
} // namespace mlir

#endif // FRUGAL_PASSES_PASSES_H
