//===- LLMDialect.h - llm dialect -------------------------------*- C++ -*-===//
//
// Part of Frugal. Including this header gives the dialect, its attributes,
// types, interfaces and operations.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_DIALECTS_LLM_IR_LLMDIALECT_H
#define FRUGAL_DIALECTS_LLM_IR_LLMDIALECT_H

#include "dialects/LLM/IR/LLMCost.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/LLM/IR/LLMDialect.h.inc"
#include "dialects/LLM/IR/LLMEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/LLM/IR/LLMAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/LLM/IR/LLMTypes.h.inc"

#include "dialects/LLM/IR/LLMInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/LLM/IR/LLMOps.h.inc"

#endif // FRUGAL_DIALECTS_LLM_IR_LLMDIALECT_H
