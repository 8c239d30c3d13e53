//===- LLMInterfaces.td - llm dialect interfaces -------------*- tablegen -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_LLM_INTERFACES_TD
#define FRUGAL_LLM_INTERFACES_TD

include "mlir/IR/OpBase.td"

def LLM_CostOpInterface : OpInterface<"CostOpInterface"> {
  let cppNamespace = "::mlir::llm";
  let description = [{
    Reports the arithmetic work and memory traffic of one execution of an op,
    computed from its operand and result shapes. Dynamic dimensions take the
    value `CostContext::dynamicDimSize` (the number of tokens processed by the
    step being costed); attention with a KV cache also reads
    `CostContext::pastTokens` cached positions.

    Conventions: a multiply-add counts as 2 FLOPs; a transcendental (exp,
    tanh, rsqrt, sin/cos) counts as 1. Bytes read count every operand once
    (weights in their stored, possibly quantized, layout); bytes written count
    every result once, plus KV-cache writes.
  }];
  let methods = [
    InterfaceMethod<
      "Returns FLOPs, bytes read and bytes written by one execution.",
      "::mlir::llm::OpCost", "getCost",
      (ins "const ::mlir::llm::CostContext &":$ctx)>
  ];
}

#endif // FRUGAL_LLM_INTERFACES_TD
