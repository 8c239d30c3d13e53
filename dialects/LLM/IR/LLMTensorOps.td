//===- LLMTensorOps.td - Generic tensor ops of the llm dialect -*- tablegen -*-===//
//
// Part of Frugal. Elementwise math, comparisons, reductions and data movement
// at the granularity of ONNX operators. Frontends emit them for what has no
// transformer-level op; the raising passes fuse them into llm.attention,
// llm.rms_norm, llm.rope and SwiGLU where the pattern allows.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_LLM_TENSOR_OPS_TD
#define FRUGAL_LLM_TENSOR_OPS_TD

include "dialects/LLM/IR/LLMOps.td"

def LLM_AnyTensor : RankedTensorOf<[F32, F16, BF16, I64, I32, I1]>;
def LLM_NumericTensor : RankedTensorOf<[F32, F16, BF16, I64, I32]>;

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

def LLM_SubOp : LLM_BinaryOp<"sub"> {
  let summary = "Elementwise subtraction with broadcasting";
  let description = [{
    ```mlir
    %d = llm.sub %a, %b : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
    ```
  }];
}

def LLM_DivOp : LLM_BinaryOp<"div"> {
  let summary = "Elementwise division with broadcasting";
  let description = [{
    ```mlir
    %q = llm.div %a, %b : tensor<2x8xf32>, tensor<1xf32> -> tensor<2x8xf32>
    ```
  }];
}

def LLM_PowOp : LLM_BinaryOp<"pow"> {
  let summary = "Elementwise power with broadcasting";
  let description = [{
    ```mlir
    %p = llm.pow %a, %b : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
    ```
  }];
}

def LLM_ComparePredicate : I32EnumAttr<"ComparePredicate",
    "comparison of llm.compare", [
      I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"ne", 1>,
      I32EnumAttrCase<"lt", 2>, I32EnumAttrCase<"le", 3>,
      I32EnumAttrCase<"gt", 4>, I32EnumAttrCase<"ge", 5>]> {
  let cppNamespace = "::mlir::llm";
  let genSpecializedAttr = 0;
}
def LLM_ComparePredicateAttr
    : EnumAttr<LLM_Dialect, LLM_ComparePredicate, "compare_predicate">;

def LLM_CompareOp : LLM_Op<"compare", [Pure, ResultsBroadcastableShape,
                                       AllElementTypesMatch<["lhs", "rhs"]>]> {
  let summary = "Elementwise comparison with broadcasting";
  let description = [{
    ```mlir
    %m = llm.compare lt, %a, %b : tensor<4x4xi64>, tensor<4x1xi64> -> tensor<4x4xi1>
    ```
  }];
  let arguments = (ins LLM_ComparePredicateAttr:$predicate,
                       LLM_NumericTensor:$lhs, LLM_NumericTensor:$rhs);
  let results = (outs TensorOf<[I1]>:$result);
  let assemblyFormat = [{
    $predicate `,` $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
}

def LLM_SelectOp : LLM_Op<"select", [Pure, ResultsBroadcastableShape,
    AllElementTypesMatch<["true_value", "false_value", "result"]>]> {
  let summary = "Elementwise choice between two tensors (ONNX Where)";
  let description = [{
    ```mlir
    %r = llm.select %mask, %s, %neg_inf : tensor<4x4xi1>, tensor<1x4x4xf32>, tensor<f32> -> tensor<1x4x4xf32>
    ```
  }];
  let arguments = (ins TensorOf<[I1]>:$condition, LLM_AnyTensor:$true_value,
                       LLM_AnyTensor:$false_value);
  let results = (outs LLM_AnyTensor:$result);
  let assemblyFormat = [{
    $condition `,` $true_value `,` $false_value attr-dict `:` type($condition) `,`
    type($true_value) `,` type($false_value) `->` type($result)
  }];
}

class LLM_FloatUnaryOp<string mnemonic, string formula>
    : LLM_UnaryOp<mnemonic> {
  let summary = "Elementwise " # formula;
  let description = [{
    ```mlir
    %y = llm.}] # mnemonic # [{ %x : tensor<2x8xf32>
    ```
  }];
}

def LLM_SqrtOp : LLM_FloatUnaryOp<"sqrt", "square root">;
def LLM_ReciprocalOp : LLM_FloatUnaryOp<"reciprocal", "1 / x">;
def LLM_TanhOp : LLM_FloatUnaryOp<"tanh", "hyperbolic tangent">;
def LLM_ErfOp : LLM_FloatUnaryOp<"erf", "error function">;
def LLM_SigmoidOp : LLM_FloatUnaryOp<"sigmoid", "logistic function 1 / (1 + exp(-x))">;
def LLM_ExpOp : LLM_FloatUnaryOp<"exp", "exponential">;
def LLM_NegOp : LLM_FloatUnaryOp<"neg", "negation">;

def LLM_CastOp : LLM_Op<"cast", [Pure, SameOperandsAndResultShape]> {
  let summary = "Elementwise conversion between element types";
  let description = [{
    Float to integer conversions round toward zero; integer to i1 is
    "not zero".

    ```mlir
    %f = llm.cast %h : tensor<2x8xf16> -> tensor<2x8xf32>
    ```
  }];
  let arguments = (ins LLM_AnyTensor:$input);
  let results = (outs LLM_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def LLM_TriluOp : LLM_Op<"trilu", [Pure, SameOperandsAndResultType]> {
  let summary = "Keeps the upper or lower triangle of the last two dimensions";
  let description = [{
    Keeps entry `[..., i, j]` when `j - i >= k` (`upper`) or `j - i <= k`
    (lower) and sets the others to zero.

    ```mlir
    %u = llm.trilu %x {upper, k = 1 : i64} : tensor<4x4xf32>
    ```
  }];
  let arguments = (ins LLM_AnyTensor:$input, UnitAttr:$upper,
                       DefaultValuedAttr<I64Attr, "0">:$k);
  let results = (outs LLM_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions and data movement
//===----------------------------------------------------------------------===//

def LLM_ReduceMeanOp : LLM_Op<"reduce_mean", [Pure]> {
  let summary = "Mean over a set of axes";
  let description = [{
    Averages over `axes` (non-negative, strictly increasing); with
    `keepdims` the reduced dimensions stay with extent 1.

    ```mlir
    %m = llm.reduce_mean %x {axes = array<i64: 2>, keepdims} : tensor<1x4x64xf32> -> tensor<1x4x1xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, DenseI64ArrayAttr:$axes,
                       UnitAttr:$keepdims);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def LLM_GatherOp : LLM_Op<"gather", [Pure]> {
  let summary = "Gathers slices of a tensor along one axis (ONNX Gather)";
  let description = [{
    The result has shape `data.shape[:axis] + indices.shape +
    data.shape[axis+1:]`; negative indices count from the end.

    ```mlir
    %r = llm.gather %data, %idx {axis = 1 : i64} : tensor<2x5x3xf32>, tensor<4xi64> -> tensor<2x4x3xf32>
    ```
  }];
  let arguments = (ins LLM_AnyTensor:$data, LLM_IdTensor:$indices, I64Attr:$axis);
  let results = (outs LLM_AnyTensor:$result);
  let assemblyFormat = [{
    $data `,` $indices attr-dict `:` type($data) `,` type($indices) `->` type($result)
  }];
  let hasVerifier = 1;
}

def LLM_ConcatOp : LLM_Op<"concat", [Pure]> {
  let summary = "Joins tensors along one axis";
  let description = [{
    ```mlir
    %c = llm.concat %a, %b {axis = 1 : i64} : tensor<2x3xf32>, tensor<2x5xf32> -> tensor<2x8xf32>
    ```
  }];
  let arguments = (ins Variadic<LLM_AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs LLM_AnyTensor:$result);
  let assemblyFormat = [{
    $inputs attr-dict `:` type($inputs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def LLM_ExpandOp : LLM_Op<"expand", [Pure]> {
  let summary = "Broadcasts a tensor to the result shape (ONNX Expand)";
  let description = [{
    ```mlir
    %e = llm.expand %x : tensor<1x4xf32> -> tensor<3x4xf32>
    ```
  }];
  let arguments = (ins LLM_AnyTensor:$input);
  let results = (outs LLM_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

#endif // FRUGAL_LLM_TENSOR_OPS_TD
