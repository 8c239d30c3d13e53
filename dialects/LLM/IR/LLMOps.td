//===- LLMOps.td - llm dialect operations --------------------*- tablegen -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_LLM_OPS_TD
#define FRUGAL_LLM_OPS_TD

include "dialects/LLM/IR/LLMBase.td"
include "dialects/LLM/IR/LLMAttrs.td"
include "dialects/LLM/IR/LLMTypes.td"
include "dialects/LLM/IR/LLMInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Base classes and constraints
//===----------------------------------------------------------------------===//

/// Every llm op reports its cost.
class LLM_Op<string mnemonic, list<Trait> traits = []>
    : Op<LLM_Dialect, mnemonic,
         !listconcat(traits,
                     [DeclareOpInterfaceMethods<LLM_CostOpInterface>])>;

def LLM_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
def LLM_IdTensor : RankedTensorOf<[I32, I64]>;
/// Where a step's tokens start: one absolute position for every row (index),
/// or one per row of a batch (`tensor<?xi64>`, `[batch]`).
def LLM_Position : AnyTypeOf<[Index, 1DTensorOf<[I64]>],
                             "index or 1-D tensor of i64 row positions">;
def LLM_KVCache : Type<CPred<"::llvm::isa<::mlir::llm::KVCacheType>($_self)">,
                       "KV cache", "::mlir::llm::KVCacheType">;

/// Elementwise ops with numpy-style broadcasting of static shapes.
class LLM_BinaryOp<string mnemonic, list<Trait> traits = []>
    : LLM_Op<mnemonic, !listconcat(traits,
        [Pure, ResultsBroadcastableShape, SameOperandsAndResultElementType])> {
  let arguments = (ins LLM_FloatTensor:$lhs, LLM_FloatTensor:$rhs);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
}

class LLM_UnaryOp<string mnemonic, list<Trait> traits = []>
    : LLM_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType])> {
  let arguments = (ins LLM_FloatTensor:$input);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Weights and embeddings
//===----------------------------------------------------------------------===//

def LLM_WeightOp : LLM_Op<"weight", [Pure]> {
  let summary = "Named reference to a tensor of the model's weights file";
  let description = [{
    Produces the weight called `name` in the model's weights file. The IR
    never holds the data: the compiled binary memory-maps the file and the
    lowering turns this op into a view at the tensor's offset. The result
    type is the logical (dequantized) type; an optional `quant` attribute
    (a `#llm.quant`, printed without its prefix) says the stored form is
    group-wise quantized. `transposed` says the source tensor is stored as
    the transpose of the result type (a rank-2 `[K, N]` tensor used as
    `[N, K]`); the packer writes it in the result's layout. Once the compiler
    has packed the weights file,
    `at` gives the byte offset of the tensor in it (64-byte aligned); the
    CPU lowering requires it.

    ```mlir
    %w = llm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<576x576xf32>
    %q = llm.weight "lm_head.weight"
           quant <bits = 4, group = 32, scheme = symmetric>
           : tensor<49152x576xf32>
    %p = llm.weight "model.norm.weight" at 1024 : tensor<576xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<LLM_QuantAttr>:$quant,
                       OptionalAttr<I64Attr>:$offset, UnitAttr:$transposed);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $name (`transposed` $transposed^)? (`quant` $quant^)? (`at` $offset^)?
    attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Bytes of this weight as stored in the weights file.
    int64_t getStorageBytes();
  }];
}

def LLM_EmbedOp : LLM_Op<"embed", [Pure]> {
  let summary = "Token embedding lookup";
  let description = [{
    Gathers rows of `table` (`[vocab, hidden]`) selected by the integer
    `ids`; the result has shape `ids.shape + [hidden]`.

    ```mlir
    %h = llm.embed %table, %ids
           : tensor<49152x576xf32>, tensor<1x?xi64> -> tensor<1x?x576xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$table, LLM_IdTensor:$ids);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $table `,` $ids attr-dict `:` type($table) `,` type($ids) `->` type($result)
  }];
  let hasVerifier = 1;
}

def LLM_PositionIdsOp : LLM_Op<"position_ids", [Pure]> {
  let summary = "Absolute positions of a step's tokens";
  let description = [{
    `result[b, s] = start + s`: the positions of the tokens of `tokens`
    (`[batch, seq]`) when the step starts at absolute position `start`. Feeds
    `llm.rope` and learned position embeddings. With one start per row
    (`start` a `[batch]` tensor, as in a batched decode step where every
    sequence is at its own length), `result[b, s] = start[b] + s`.

    ```mlir
    %pos = llm.position_ids %tokens, [%start] : tensor<1x?xi64> -> tensor<1x?xi64>
    %rows = llm.position_ids %tokens, [%starts : tensor<?xi64>]
              : tensor<?x1xi64> -> tensor<?x1xi64>
    ```
  }];
  let arguments = (ins LLM_IdTensor:$tokens, LLM_Position:$start);
  let results = (outs LLM_IdTensor:$result);
  let assemblyFormat = [{
    $tokens `,` custom<Position>($start, type($start)) attr-dict `:`
    type($tokens) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def LLM_MatmulOp : LLM_Op<"matmul", [Pure]> {
  let summary = "Matrix multiplication, optionally against a transposed weight";
  let description = [{
    Multiplies `lhs` (`[..., M, K]`) by `rhs`. A rank-2 `rhs` is shared by
    all leading (batch) dimensions of `lhs`; a higher-rank `rhs` must have the
    same batch dimensions. With `transpose_b`, `rhs` is `[..., N, K]` (the
    layout of HF linear weights), otherwise `[..., K, N]`. When `rhs` comes
    from a quantized `llm.weight`, the lowering fuses the dequantization.

    ```mlir
    %y = llm.matmul %x, %w transpose_b
           : tensor<1x?x576xf32>, tensor<1536x576xf32> -> tensor<1x?x1536xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$lhs, LLM_FloatTensor:$rhs,
                       UnitAttr:$transpose_b);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`transpose_b` $transpose_b^)? attr-dict `:` type($lhs) `,`
    type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

def LLM_RMSNormOp : LLM_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Root-mean-square normalization over the last dimension";
  let description = [{
    `result = input / sqrt(mean(input^2, -1) + epsilon) * weight`, with
    `weight` of shape `[hidden]`.

    ```mlir
    %n = llm.rms_norm %x, %g eps = 1.0e-05 : tensor<1x?x576xf32>, tensor<576xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, LLM_FloatTensor:$weight,
                       F64Attr:$epsilon);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `eps` `=` $epsilon attr-dict `:` type($input) `,` type($weight)
  }];
  let hasVerifier = 1;
}

def LLM_LayerNormOp : LLM_Op<"layer_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Layer normalization over the last dimension";
  let description = [{
    `result = (input - mean) / sqrt(var + epsilon) * weight + bias` over the
    last dimension; `bias` is optional. `weight` and `bias` have shape
    `[hidden]`.

    ```mlir
    %n = llm.layer_norm %x, %g bias %b eps = 1.0e-05
           : tensor<1x?x768xf32>, tensor<768xf32>, tensor<768xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, LLM_FloatTensor:$weight,
                       Optional<LLM_FloatTensor>:$bias, F64Attr:$epsilon);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? `eps` `=` $epsilon attr-dict `:`
    type($input) `,` type($weight) (`,` type($bias)^)?
  }];
  let hasVerifier = 1;
}

def LLM_SoftmaxOp : LLM_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "Numerically stable softmax along one axis";
  let description = [{
    ```mlir
    %p = llm.softmax %s {axis = -1 : i64} : tensor<1x9x?x?xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Positional encoding and attention
//===----------------------------------------------------------------------===//

def LLM_RopeOp : LLM_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>,
                                  AttrSizedOperandSegments]> {
  let summary = "Rotary position embedding";
  let description = [{
    Rotates the first `rotary_dim` channels (default: all) of every head of
    `input` (`[batch, seq, heads * head_dim]`) by angles
    `positions[b, s] * theta^(-2i / rotary_dim)`. By default the two halves of
    the rotated channels are paired (the HF "rotate_half" convention); with
    `interleaved`, adjacent channel pairs are (GPT-J / GGUF convention).

    Instead of `theta`, precomputed `tables` (`cos_cache`, `sin_cache`, each
    `[max_positions, rotary_dim / 2]`, as ONNX RotaryEmbedding and
    GroupQueryAttention carry them) give the cosines and sines by position.

    ```mlir
    %r = llm.rope %q, %pos {num_heads = 9 : i64, theta = 1.0e+04 : f64}
           : tensor<1x?x576xf32>, tensor<1x?xi64>
    %t = llm.rope %q, %pos tables(%cos, %sin : tensor<2048x32xf32>, tensor<2048x32xf32>)
           {num_heads = 9 : i64} : tensor<1x?x576xf32>, tensor<1x?xi64>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, LLM_IdTensor:$positions,
                       Optional<LLM_FloatTensor>:$cos_cache,
                       Optional<LLM_FloatTensor>:$sin_cache,
                       I64Attr:$num_heads, OptionalAttr<F64Attr>:$theta,
                       OptionalAttr<I64Attr>:$rotary_dim, UnitAttr:$interleaved);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $positions
    (`tables` `(` $cos_cache^ `,` $sin_cache `:` type($cos_cache) `,` type($sin_cache) `)`)?
    attr-dict `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getHeadDim();
    int64_t getEffectiveRotaryDim();
  }];
}

def LLM_AttentionOp : LLM_Op<"attention", [AttrSizedOperandSegments]> {
  let summary = "Fused scaled dot-product attention with optional KV cache";
  let description = [{
    Multi-head attention over `query` (`[batch, seq_q, num_heads * head_dim]`),
    `key` and `value` (`[batch, seq_kv, num_kv_heads * head_dim]`). Query
    heads are split into `num_kv_heads` groups that share one KV head
    (grouped-query attention; `num_kv_heads == num_heads` is plain MHA).
    Scores are multiplied by `scale` (default `1/sqrt(head_dim)`); `causal`
    masks keys at later positions than the query.

    With a `cache`, the new keys and values are written into layer `layer` of
    the cache at positions `[position, position + seq_kv)` and the queries
    attend over all cached positions `[0, position + seq_kv)`; query `i` sits
    at absolute position `position + i`. Row `b` of the batch is sequence `b`
    of the cache (for a paged cache: row `b` of its block table). The
    position is one index for every row, or a `[batch]` tensor of per-row
    positions: the batched decode step of sequences of different lengths.

    ```mlir
    %o = llm.attention %q, %k, %v {num_heads = 9 : i64, num_kv_heads = 3 : i64, causal}
           : tensor<1x?x576xf32>, tensor<1x?x192xf32>, tensor<1x?x192xf32>
           -> tensor<1x?x576xf32>
    %o2 = llm.attention %q, %k, %v cache %kv[%pos] : !llm.kv_cache<30 x 3 x 2048 x 64, f32>
           {layer = 0 : i64, num_heads = 9 : i64, num_kv_heads = 3 : i64, causal}
           : tensor<1x1x576xf32>, tensor<1x1x192xf32>, tensor<1x1x192xf32>
           -> tensor<1x1x576xf32>
    %o3 = llm.attention %q, %k, %v cache %kv[%starts : tensor<?xi64>]
           : !llm.kv_cache<30 x 3 x 2048 x 64, f32, #llm.kv_layout<paged, batch = 16, block = 64>>
           {layer = 0 : i64, num_heads = 9 : i64, num_kv_heads = 3 : i64, causal}
           : tensor<?x1x576xf32>, tensor<?x1x192xf32>, tensor<?x1x192xf32>
           -> tensor<?x1x576xf32>
    ```
  }];
  let arguments = (ins
    LLM_FloatTensor:$query, LLM_FloatTensor:$key, LLM_FloatTensor:$value,
    Arg<Optional<LLM_KVCache>, "KV cache", [MemRead, MemWrite]>:$cache,
    Optional<LLM_Position>:$position,
    I64Attr:$num_heads, I64Attr:$num_kv_heads, OptionalAttr<F32Attr>:$scale,
    UnitAttr:$causal, OptionalAttr<I64Attr>:$layer);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`cache` $cache^ `` custom<Position>($position, type($position)) `:`
     type($cache))?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getHeadDim();
    /// `scale` if set, otherwise 1/sqrt(head_dim).
    float getEffectiveScale();
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

def LLM_AddOp : LLM_BinaryOp<"add", [Commutative]> {
  let summary = "Elementwise addition with broadcasting";
  let description = [{
    ```mlir
    %s = llm.add %a, %b : tensor<1x?x576xf32>, tensor<576xf32> -> tensor<1x?x576xf32>
    ```
  }];
}

def LLM_MulOp : LLM_BinaryOp<"mul", [Commutative]> {
  let summary = "Elementwise multiplication with broadcasting";
  let description = [{
    ```mlir
    %p = llm.mul %a, %b : tensor<1x?x1536xf32>, tensor<1x?x1536xf32> -> tensor<1x?x1536xf32>
    ```
  }];
}

def LLM_SiluOp : LLM_UnaryOp<"silu"> {
  let summary = "Sigmoid linear unit, x * sigmoid(x)";
  let description = [{
    ```mlir
    %a = llm.silu %g : tensor<1x?x1536xf32>
    ```
  }];
}

def LLM_GeluOp : LLM_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "Gaussian error linear unit";
  let description = [{
    Exact (erf) form by default; `tanh` selects the tanh approximation used
    by GPT-2.

    ```mlir
    %a = llm.gelu %h tanh : tensor<1x?x3072xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, UnitAttr:$tanh);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input (`tanh` $tanh^)? attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

def LLM_ReshapeOp : LLM_Op<"reshape", [Pure]> {
  let summary = "Reinterprets a tensor with another shape of equal size";
  let description = [{
    ```mlir
    %r = llm.reshape %x : tensor<1x4x576xf32> -> tensor<1x4x9x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def LLM_SliceOp : LLM_Op<"slice", [Pure]> {
  let summary = "Contiguous range along one axis";
  let description = [{
    Takes `size` (the result's extent along `axis`, which must be static)
    consecutive entries of `input` along `axis`, starting at `start`. A
    negative `start` counts from the end, so `start = -1` selects the last
    entry of a dynamic dimension.

    ```mlir
    %q = llm.slice %qkv {axis = 2 : i64, start = 0 : i64} : tensor<1x?x2304xf32> -> tensor<1x?x768xf32>
    %last = llm.slice %h {axis = 1 : i64, start = -1 : i64} : tensor<1x?x576xf32> -> tensor<1x1x576xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, I64Attr:$axis, I64Attr:$start);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def LLM_TransposeOp : LLM_Op<"transpose", [Pure]> {
  let summary = "Permutes the dimensions of a tensor";
  let description = [{
    Result dimension `i` is input dimension `permutation[i]`.

    ```mlir
    %t = llm.transpose %x [0, 2, 1, 3] : tensor<1x4x9x64xf32> -> tensor<1x9x4x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input $permutation attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

#endif // FRUGAL_LLM_OPS_TD
