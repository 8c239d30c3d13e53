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

#endif // FRUGAL_LLM_ATTRS_TD
