//===- LLMAttrs.td - llm dialect attributes ------------------*- tablegen -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_LLM_ATTRS_TD
#define FRUGAL_LLM_ATTRS_TD

include "dialects/LLM/IR/LLMBase.td"
include "mlir/IR/EnumAttr.td"

def LLM_QuantSymmetric : I32EnumAttrCase<"symmetric", 0>;
def LLM_QuantAsymmetric : I32EnumAttrCase<"asymmetric", 1>;
def LLM_QuantScheme : I32EnumAttr<"QuantScheme",
    "how a quantization group maps integers back to reals",
    [LLM_QuantSymmetric, LLM_QuantAsymmetric]> {
  let cppNamespace = "::mlir::llm";
  let genSpecializedAttr = 0;
}

class LLM_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<LLM_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def LLM_QuantAttr : LLM_Attr<"Quant", "quant"> {
  let summary = "Group-wise integer quantization layout of a weight";
  let description = [{
    Describes how a weight is stored: `bits`-bit integers, one scale (and, for
    the `asymmetric` scheme, one zero point) per `group` consecutive elements
    along the innermost (reduction) dimension. `group = 0` means one group per
    row (per output channel).

    ```mlir
    #llm.quant<bits = 4, group = 32, scheme = asymmetric>
    ```
  }];
  let parameters = (ins
    "unsigned":$bits,
    "unsigned":$group,
    EnumParameter<LLM_QuantScheme>:$scheme
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Bytes needed to store a weight of `shape` in this layout: packed
    /// integers plus one f16 scale (and f16 zero point) per group.
    int64_t getStorageBytes(::llvm::ArrayRef<int64_t> shape) const;
  }];
}

def LLM_KVLayoutContiguous : I32EnumAttrCase<"contiguous", 0>;
def LLM_KVLayoutPaged : I32EnumAttrCase<"paged", 1>;
def LLM_KVLayoutRing : I32EnumAttrCase<"ring", 2>;
def LLM_KVLayoutKind : I32EnumAttr<"KVLayoutKind",
    "physical organization of a KV cache",
    [LLM_KVLayoutContiguous, LLM_KVLayoutPaged, LLM_KVLayoutRing]> {
  let cppNamespace = "::mlir::llm";
  let genSpecializedAttr = 0;
}

def LLM_KVLayoutAttr : LLM_Attr<"KVLayout", "kv_layout"> {
  let summary = "Planned physical layout of a KV cache";
  let description = [{
    Chosen by `llm-plan-kv-cache`. A planned cache is one byte buffer that
    holds, in order (each part 64-byte aligned): the block table (paged
    only), the keys and values, and for an `i8` cache their scales.
    With `P` pages of `S` slots each, keys and values are
    `[2][layers][P][heads][S][head_dim]` elements and the scales
    `[2][layers][P][heads][S]` f16 (one per token, head and K/V):

    - `contiguous`: one page per sequence (`P = batch`, `S = max_seq`);
      position `t` of sequence `b` is slot `t` of page `b`.
    - `paged`: `P = batch * ceil(max_seq / block)` blocks of `S = block`
      slots shared by all sequences; the block table
      `[batch][ceil(max_seq / block)]` of i32 maps the logical block
      `t / block` of a sequence to a physical block, and position `t` is
      slot `t % block` of it. The runtime owns the table.
    - `ring`: a sliding-window cache (`P = batch`, `S = window`): position
      `t` is slot `t % window`, and attention sees only the last `window`
      positions.

    ```mlir
    #llm.kv_layout<contiguous, batch = 1>
    #llm.kv_layout<paged, batch = 4, block = 32>
    #llm.kv_layout<ring, batch = 1, window = 4096>
    ```
  }];
  let parameters = (ins
    EnumParameter<LLM_KVLayoutKind>:$kind,
    "int64_t":$maxBatch,
    "int64_t":$blockSize,
    "int64_t":$window
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

#endif // FRUGAL_LLM_ATTRS_TD
