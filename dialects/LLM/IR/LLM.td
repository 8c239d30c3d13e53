//===- LLM.td - Umbrella for the llm dialect ---------------*- tablegen -*-===//
//
// Part of Frugal. Includes every ODS file of the dialect so a single
// mlir-tblgen invocation per generator sees the whole dialect.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_LLM_TD
#define FRUGAL_LLM_TD

include "dialects/LLM/IR/LLMBase.td"
include "dialects/LLM/IR/LLMAttrs.td"
include "dialects/LLM/IR/LLMTypes.td"
include "dialects/LLM/IR/LLMInterfaces.td"
include "dialects/LLM/IR/LLMOps.td"
include "dialects/LLM/IR/LLMTensorOps.td"

#endif // FRUGAL_LLM_TD
