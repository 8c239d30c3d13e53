//===- LLMBase.td - llm dialect definition ------------------*- tablegen -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_LLM_BASE_TD
#define FRUGAL_LLM_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def LLM_Dialect : Dialect {
  let name = "llm";
  let cppNamespace = "::mlir::llm";
  let summary = "Transformer-granularity operations for LLM inference.";
  let description = [{
    The `llm` dialect models a decoder-only language model at the granularity
    a compiler for inference needs: whole normalizations, rotary embeddings,
    fused attention with an explicit KV cache, and matmuls whose right-hand
    side is a named reference to external weights (`llm.weight`), never inline
    data. Every op reports its FLOPs and bytes moved through
    `CostOpInterface`, which the cost model and the efficiency passes use to
    choose quantization, sparsity, KV layout and offload.

    Activations are ranked tensors. Attention-related ops use the
    `[batch, sequence, heads * head_dim]` layout that linear projections
    produce, and take the head counts as attributes.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let hasConstantMaterializer = 0;
}

#endif // FRUGAL_LLM_BASE_TD
