//===- Passes.td - Frugal passes on the llm dialect ----------*- tablegen -*-===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_PASSES_TD
#define FRUGAL_PASSES_TD

include "mlir/Pass/PassBase.td"

def LLMCostSummary : Pass<"llm-cost-summary", "::mlir::func::FuncOp"> {
  let summary = "Reports FLOPs and bytes moved per op and per function";
  let description = [{
    Queries `CostOpInterface` on every op of a function and emits a remark
    with its FLOPs, bytes read and bytes written, then one remark with the
    function's totals and its arithmetic intensity. Dynamic dimensions take
    the value of `tokens`; attention with a KV cache sees `past-tokens`
    cached positions. Totals are also recorded as pass statistics (visible
    with `-mlir-pass-statistics` when LLVM is built with statistics enabled;
    Debian's release build compiles them out, so the remarks are the
    portable output).

    Example: `llm-opt --llm-cost-summary="tokens=1 past-tokens=127" model.mlir`
    describes one decode step at position 128.
  }];
  let options = [
    Option<"tokens", "tokens", "int64_t", /*default=*/"1",
           "Value of every dynamic dimension (tokens processed per step)">,
    Option<"pastTokens", "past-tokens", "int64_t", /*default=*/"0",
           "Positions already held in the KV cache">,
    Option<"perOp", "per-op", "bool", /*default=*/"true",
           "Emit one remark per op, not only the function total">
  ];
  let statistics = [
    Statistic<"numOpsCosted", "ops-costed", "Ops that reported a cost">,
    Statistic<"totalFlops", "total-flops", "FLOPs over all functions">,
    Statistic<"totalBytes", "total-bytes",
              "Bytes read plus written over all functions">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

def LLMFuseRMSNorm : Pass<"llm-fuse-rms-norm"> {
  let summary = "Raises x * rsqrt(mean(x^2) + eps) * w into llm.rms_norm";
  let description = [{
    Recognizes the RMS normalization an exporter spells out op by op:
    `pow(x, 2)` or `x * x`, `reduce_mean` over the last axis with
    `keepdims`, `+ eps` (a constant), `sqrt` then `reciprocal` (or `1 / .`,
    or dividing `x` by it), times `x`, times a rank-1 weight, and replaces
    it with one `llm.rms_norm`.
  }];
  let options = [
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per function with the number of fusions">
  ];
  let statistics = [
    Statistic<"numFused", "fused", "RMS norms raised">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

def LLMFuseSwiGLU : Pass<"llm-fuse-swiglu"> {
  let summary = "Raises x * sigmoid(x) into llm.silu";
  let description = [{
    Exporters write SiLU as `x * sigmoid(x)`; this pass turns it back into
    `llm.silu`, so a SwiGLU MLP from ONNX reads `silu(gate) * up` exactly as
    the safetensors importer emits it and both take the same kernels.
  }];
  let options = [
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per function with the number of fusions">
  ];
  let statistics = [
    Statistic<"numFused", "fused", "SiLUs raised">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

def LLMFuseAttention : Pass<"llm-fuse-attention"> {
  let summary = "Raises op-by-op scaled dot-product attention into llm.attention";
  let description = [{
    Recognizes attention as exporters spell it on `[batch, heads, seq,
    head_dim]` tensors: heads split by `reshape` + `transpose`, scores
    `matmul(q, k^T)` scaled by a constant (`mul` or `div`), an optional
    causal mask (a constant added to the scores, or a `select` against a
    constant fill), `softmax` over keys, `matmul` with the values and the
    heads merged back. Grouped-query attention's repeat of KV heads
    (`reshape` + `expand` + `reshape`) becomes `num_kv_heads`. The result
    is one `llm.attention` on the `[batch, seq, heads * head_dim]` values.
  }];
  let options = [
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per function with the number of fusions">
  ];
  let statistics = [
    Statistic<"numFused", "fused", "Attentions raised">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

def LLMQuantize : Pass<"llm-quantize"> {
  let summary = "Chooses group-wise integer storage for matmul weights";
  let description = [{
    Marks every rank-2 weight used as a (transposed) matmul rhs with
    `#llm.quant<bits, group, scheme>`; the packer then quantizes it at
    compile time (round-to-nearest, scales and mins in f16, layout in
    dialects/LLM/IR/LLMQuant.h) and the CPU lowering fuses dequantization
    into the matmul kernel. A weight that also has other users (a tied
    embedding table) keeps its float copy for them and gets a quantized
    copy for its matmuls. `keep` lists glob patterns of weight names left in
    f32; `int8` lists patterns quantized to 8 bits whatever `bits` says.
  }];
  let options = [
    Option<"bits", "bits", "unsigned", /*default=*/"8", "4 or 8">,
    Option<"group", "group", "unsigned", /*default=*/"32",
           "Elements per scale: 32, 64, 128 (0: one per row)">,
    Option<"scheme", "scheme", "std::string", /*default=*/"\"symmetric\"",
           "symmetric or asymmetric">,
    Option<"method", "method", "std::string", /*default=*/"\"rtn\"",
           "Quantization method: rtn (round to nearest)">,
    ListOption<"keep", "keep", "std::string",
               "Glob patterns of weight names to keep in f32">,
    ListOption<"int8", "int8", "std::string",
               "Glob patterns of weight names to quantize to 8 bits">
  ];
  let statistics = [
    Statistic<"numQuantized", "quantized", "Weights quantized">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

def LLMFuseRoPE : Pass<"llm-fuse-rope"> {
  let summary = "Raises x * cos + rotate_half(x) * sin into llm.rope";
  let description = [{
    Recognizes the rotary embedding exporters spell out on `[batch, heads,
    seq, head_dim]` heads split by `reshape` + `transpose`: `x * cos +
    rotate_half(x) * sin`, with `rotate_half(x) = concat(neg(x[..., D/2:]),
    x[..., :D/2])`. `cos` and `sin` are `[batch or 1, 1, seq, head_dim]`,
    either rows of constant `[max_positions, head_dim]` tables gathered by
    position ids or constants already indexed for a static sequence
    (positions `0..seq-1`). Every table row must be `cat(h, h)`; its first
    halves become the `[max_positions, head_dim / 2]` tables of one
    `llm.rope` on the `[batch, seq, heads * head_dim]` value, whose result
    is split into heads again so that llm-fuse-attention still matches.
  }];
  let options = [
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per function with the number of fusions">
  ];
  let statistics = [
    Statistic<"numFused", "fused", "Rotary embeddings raised">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect",
                           "::mlir::arith::ArithDialect"];
}

def LLMTransposeWeights : Pass<"llm-transpose-weights"> {
  let summary = "Stores [K, N] matmul weights as [N, K] for the GEMV kernel";
  let description = [{
    ONNX MatMul and GPT-2 Conv1D keep weights as `[in, out]`. Decode reads
    each weight once per token, and the transposed-B kernel streams weight
    rows contiguously, so this pass rewrites `llm.matmul %x, %w` with `%w` a
    rank-2 `llm.weight` used only by matmuls into `llm.matmul %x, %wt
    transpose_b`, where `%wt` is the same weight marked `transposed` (the
    packer writes it transposed at compile time).
  }];
  let statistics = [
    Statistic<"numTransposed", "transposed", "Weights repacked as [N, K]">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

#endif // FRUGAL_PASSES_TD
