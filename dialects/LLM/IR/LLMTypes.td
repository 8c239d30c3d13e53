//===- LLMTypes.td - llm dialect types -----------------------*- tablegen -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_LLM_TYPES_TD
#define FRUGAL_LLM_TYPES_TD

include "dialects/LLM/IR/LLMBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

class LLM_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<LLM_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def LLM_KVCacheType : LLM_Type<"KVCache", "kv_cache"> {
  let summary = "Handle to the key/value cache of every layer of a model";
  let description = [{
    A mutable buffer holding keys and values for `layers` layers,
    `heads` KV heads, up to `max_seq` positions and `head_dim` channels, with
    elements of `element_type` (f32, f16, bf16, or i8 for a quantized cache
    with one f32 scale per token, head, and K/V).
    Attention ops read and write it; its physical layout (contiguous, paged,
    ring buffer) is chosen later by the KV-cache planning pass.

    ```mlir
    !llm.kv_cache<30 x 3 x 2048 x 64, f16>
    ```
  }];
  let parameters = (ins
    "int64_t":$numLayers,
    "int64_t":$numHeads,
    "int64_t":$maxSeq,
    "int64_t":$headDim,
    "::mlir::Type":$elementType
  );
  let assemblyFormat =
      "`<` $numLayers `x` $numHeads `x` $maxSeq `x` $headDim `,` $elementType `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Bytes of keys plus values stored for one token of one layer.
    int64_t getBytesPerTokenPerLayer() const;
  }];
}

#endif // FRUGAL_LLM_TYPES_TD
