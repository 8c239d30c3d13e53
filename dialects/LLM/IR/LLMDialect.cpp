//===- LLMDialect.cpp - llm dialect registration ---------------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::llm;

#include "dialects/LLM/IR/LLMDialect.cpp.inc"
#include "dialects/LLM/IR/LLMEnums.cpp.inc"
#include "dialects/LLM/IR/LLMInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/LLM/IR/LLMAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/LLM/IR/LLMTypes.cpp.inc"

void LLMDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/LLM/IR/LLMAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/LLM/IR/LLMTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/LLM/IR/LLMOps.cpp.inc"
      >();
}
