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

// The layout is printed and parsed in full (#llm.kv_layout<...>), not in the
// stripped form ODS uses for attribute parameters.
def LLM_KVLayoutParameter : OptionalParameter<"::mlir::llm::KVLayoutAttr"> {
  let printer = "$_printer.printAttribute($_self)";
  let parser = [{ [&]() -> ::mlir::FailureOr<::mlir::llm::KVLayoutAttr> {
    ::mlir::llm::KVLayoutAttr layout;
    if ($_parser.parseAttribute(layout))
      return ::mlir::failure();
    return layout;
  }() }];
}

def LLM_KVCacheType : LLM_Type<"KVCache", "kv_cache"> {
  let summary = "Handle to the key/value cache of every layer of a model";
  let description = [{
    A mutable buffer holding keys and values for `layers` layers,
    `heads` KV heads, up to `max_seq` positions and `head_dim` channels, with
    elements of `element_type` (f32, f16, bf16, or i8 for a quantized cache
    with one f16 scale per token, head, and K/V).
    Attention ops read and write it. Without a `layout` the cache is the
    dense array `[2][layers][heads][max_seq][head_dim]` of one sequence;
    `llm-plan-kv-cache` chooses a `#llm.kv_layout` (contiguous, paged, or a
    ring buffer for sliding-window models) and the cache becomes one byte
    buffer of `getStorageBytes()` bytes laid out as that attribute says.
    An i8 cache needs a layout (its scales live in the planned buffer).

    ```mlir
    !llm.kv_cache<30 x 3 x 2048 x 64, f16>
    !llm.kv_cache<30 x 3 x 8192 x 64, i8, #llm.kv_layout<paged, batch = 1, block = 64>>
    ```
  }];
  let parameters = (ins
    "int64_t":$numLayers,
    "int64_t":$numHeads,
    "int64_t":$maxSeq,
    "int64_t":$headDim,
    "::mlir::Type":$elementType,
    LLM_KVLayoutParameter:$layout
  );
  let builders = [
    TypeBuilder<(ins "int64_t":$numLayers, "int64_t":$numHeads,
                     "int64_t":$maxSeq, "int64_t":$headDim,
                     "::mlir::Type":$elementType), [{
      return $_get($_ctxt, numLayers, numHeads, maxSeq, headDim, elementType,
                   ::mlir::llm::KVLayoutAttr());
    }]>
  ];
  let assemblyFormat =
      "`<` $numLayers `x` $numHeads `x` $maxSeq `x` $headDim `,` $elementType "
      "(`,` $layout^)? `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Bytes of keys plus values stored for one token of one layer.
    int64_t getBytesPerTokenPerLayer() const;

    /// Planned storage (all zero / trivial without a layout). Keys and values
    /// are [2][layers][pages][heads][slots][head_dim]; see KVLayoutAttr.
    int64_t getNumPages() const;
    int64_t getSlotsPerPage() const;
    /// Logical blocks per sequence of a paged layout (0 otherwise).
    int64_t getBlocksPerSequence() const;
    int64_t getBlockTableBytes() const;
    int64_t getDataOffset() const;
    int64_t getDataBytes() const;
    int64_t getScalesOffset() const;
    int64_t getScalesBytes() const;
    /// Total bytes of the cache buffer (planned or not).
    int64_t getStorageBytes() const;
    /// The memref a lowering passes around: the dense 5-d array without a
    /// layout, else memref<storage bytes x i8>.
    ::mlir::MemRefType getStorageType() const;
  }];
}

#endif // FRUGAL_LLM_TYPES_TD
