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

def LLMCostReport : Pass<"llm-cost-report", "::mlir::ModuleOp"> {
  let summary = "Predicts latency, energy and memory per op, layer and token";
  let description = [{
    Combines every op's `CostOpInterface` figures with a target description
    (passes/CostModel/targets/*.json, docs/CostModel.md) into a roofline
    prediction: an op takes `max(FLOPs / (peak[dtype] * compute efficiency),
    bytes / (bandwidth * memory efficiency))` plus the target's per-op
    overhead, and uses `idle W * time + pJ/FLOP * FLOPs + pJ/byte * bytes`
    of energy. Efficiency factors are per op class (GEMV/GEMM per weight
    dtype, attention, elementwise, data movement); `llm-calibrate` measures
    them for the host CPU.

    For each function with llm ops it emits a remark per op (class, time,
    bound, energy), one per layer (ops grouped by the layer index in their
    weights' names: `embed`, `layer.N`, `head`) and one with the step's
    totals and per-token figures: latency, tokens/s, energy, gCO2 per 1k
    tokens and $ per 1M tokens. `json` writes the same data as JSON (`-` for
    stdout).

    Example: `llm-opt --llm-cost-report="target=sm_90 phase=decode
    context=511" model.mlir` predicts one decode step at position 512 on an
    H100; `phase=prefill tokens=128` a 128-token prompt.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host-cpu\"",
           "Target name (a file in the user's or Frugal's target "
           "directory) or path of a target JSON file">,
    ListOption<"targetParams", "target-param", "std::string",
               "Overrides of the target, key=value (carbon=50, price=2.5, "
               "power.idle_w=10, efficiency.gemv_f32.memory=0.8)">,
    Option<"phase", "phase", "std::string", /*default=*/"\"decode\"",
           "prefill or decode (a label for the step; sets the tokens "
           "default)">,
    Option<"tokens", "tokens", "int64_t", /*default=*/"0",
           "Tokens processed by the step (every dynamic dimension); 0: 1 "
           "for decode, 128 for prefill">,
    Option<"context", "context", "int64_t", /*default=*/"0",
           "Positions already held in the KV cache">,
    Option<"perOp", "per-op", "bool", /*default=*/"true",
           "Emit one remark per op">,
    Option<"perLayer", "per-layer", "bool", /*default=*/"true",
           "Emit one remark per layer">,
    Option<"json", "json", "std::string", /*default=*/"\"\"",
           "Write the prediction as JSON to this file (- for stdout)">
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
    compile time (scales and mins in f16, layout in
    dialects/LLM/IR/LLMQuant.h) and the CPU lowering fuses dequantization
    into the matmul kernel. With `embeddings`, embedding tables
    (`llm.embed`'s table) are quantized the same way and the lookup
    dequantizes the selected rows, so a tied embedding is one quantized
    table read by both the lookup and the logits matmul. Without it, a
    weight that also has other users (a tied embedding table) keeps its
    float copy for them and gets a quantized copy for its matmuls. `keep` lists glob patterns of weight names left in
    f32; `int8` lists patterns quantized to 8 bits whatever `bits` says.
    When `group` does not divide a weight's rows, the weight uses the
    largest smaller power of two (at least 16) that does, with a remark;
    without one it stays f32.

    `method` chooses how the packer picks the codes: `rtn` rounds each
    weight to the nearest level of its group; `gptq` (activation-aware,
    Frantar et al. 2022) rounds one input channel at a time, largest mean
    x^2 first, and compensates each error in the channels not yet rounded,
    using X^T X of the layer's inputs collected by running the f32 model on
    calibration text (passes/Calibration); each group's range is clipped
    where that lowers its error weighted by mean x^2. Scales and mins are
    the f16 values the layout stores. A weight quantized with a method
    other than `rtn` carries it as `llm.quant_method`; `rtn` lists glob
    patterns of weight names rounded to nearest whatever `method` says.

    With `equalize` (activation-aware scaling, AWQ, Lin et al. 2024), each
    input read only by quantized matmuls whose producer can absorb
    per-channel scales (an RMSNorm's weight, or the up projection feeding
    one side of SwiGLU's product) is marked: its consumers with
    `llm.equalize = "<producer>"`, the producer with
    `llm.equalized_output`. The packer then picks scales s from the
    calibration statistics (searchEqualization in LLMQuant.h), multiplies
    the consumers' input channels by s before quantizing and divides the
    producer's output channels by s, so the model computes the same
    function while rounding moves off the channels with large activations.
    Inputs with other readers (the attention output, read through the KV
    cache's grouped heads) are left alone.

    ```mlir
    %w = llm.weight "down_proj" quant <bits = 4, group = 128, scheme = symmetric>
        {llm.quant_method = "gptq", llm.equalize = "up_proj"} : tensor<576x1536xf32>
    ```
  }];
  let options = [
    Option<"bits", "bits", "unsigned", /*default=*/"8", "4 or 8">,
    Option<"group", "group", "unsigned", /*default=*/"32",
           "Elements per scale: 32, 64, 128 (0: one per row)">,
    Option<"scheme", "scheme", "std::string", /*default=*/"\"symmetric\"",
           "symmetric or asymmetric">,
    Option<"method", "method", "std::string", /*default=*/"\"rtn\"",
           "Quantization method: rtn (round to nearest) or gptq "
           "(activation-aware, needs calibration statistics when packing)">,
    ListOption<"keep", "keep", "std::string",
               "Glob patterns of weight names to keep in f32">,
    ListOption<"int8", "int8", "std::string",
               "Glob patterns of weight names to quantize to 8 bits">,
    ListOption<"rtn", "rtn", "std::string",
               "Glob patterns of weight names to round to nearest whatever "
               "the method">,
    Option<"embeddings", "embeddings", "bool", /*default=*/"false",
           "Also quantize embedding tables (rounded to nearest when only "
           "looked up); lookups dequantize the selected rows">,
    Option<"equalize", "equalize", "bool", /*default=*/"false",
           "Mark inputs for activation-aware per-channel scaling (AWQ), "
           "folded into their producers when packing (needs calibration)">
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

def LLMPlanKVCache : Pass<"llm-plan-kv-cache", "::mlir::ModuleOp"> {
  let summary = "Chooses the KV cache's element type and physical layout";
  let description = [{
    Rewrites every `!llm.kv_cache` argument of the module's functions to a
    planned cache: element type `kv-dtype` (`f32`, `f16`, or `int8` with one
    f16 scale per token, head and K/V) and a `#llm.kv_layout`:

    - `ring` when the model has a sliding window (`sliding-window`, or the
      module's `llm.sliding_window`) shorter than the cache's `max_seq`,
      whatever `layout` says: the cache holds only the last `window`
      positions of each sequence, which is all attention may see;
    - else `paged` when `layout=paged`, or `layout=auto` and
      `max-batch > 1` (sequences share a pool of blocks through a block
      table); `block-size=0` asks the cost model (`target`, `target-param`;
      docs/CostModel.md): for each power of two from 16 to 256 positions
      (at most `max_seq`) it predicts decode attention over a full context,
      where every block restarts the stream (a block-table lookup and a
      memory latency on a CPU), and the memory a sequence wastes (half a
      block on average plus `max_seq` rounded up to whole blocks), both
      relative to a contiguous cache, and takes the block with the smallest
      sum. A remark gives the chosen size and every candidate's figures;
    - else `contiguous` (one dense region per sequence).

    The plan is recorded on each function as `llm.kv_plan`, a dictionary
    with `layout`, `dtype`, `block_size`, `window`, `max_batch`,
    `bytes_per_token` (keys, values and scales of all layers) and
    `total_bytes` (the buffer the runtime reserves); a paged plan adds
    `block_size_source` (`option` or `cost-model`) and, when chosen,
    `block_target`, `block_attention_overhead` and `block_memory_waste`
    (the chosen candidate's figures).
  }];
  let options = [
    Option<"kvDtype", "kv-dtype", "std::string", /*default=*/"\"\"",
           "f32, f16 or int8 (empty: keep the imported element type)">,
    Option<"layout", "layout", "std::string", /*default=*/"\"auto\"",
           "auto, contiguous or paged (a sliding window always gives ring)">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"0",
           "Positions per paged block, a power of two (0: choose)">,
    Option<"maxBatch", "max-batch", "int64_t", /*default=*/"1",
           "Sequences the cache holds at once">,
    Option<"slidingWindow", "sliding-window", "int64_t", /*default=*/"0",
           "Attention window in positions (0: the module's "
           "llm.sliding_window, if any)">,
    Option<"target", "target", "std::string", /*default=*/"\"host-cpu\"",
           "Cost-model target that chooses the paged block size: a name or "
           "the path of a target JSON file">,
    ListOption<"targetParams", "target-param", "std::string",
               "Overrides of the target, key=value (as llm-cost-report)">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

def LLMBatchDecode : Pass<"llm-batch-decode", "::mlir::ModuleOp"> {
  let summary = "Derives the batched decode step of several sequences";
  let description = [{
    From `@function` (`(tokens: tensor<1x?xi64>, start: index, cache) ->
    tensor<1x1xVxf32>`, one sequence's step) derives `@function_batch`
    (`(tokens: tensor<?x1xi64>, positions: tensor<?xi64>, cache) ->
    tensor<?x1xVxf32>`): one new token for each of up to `max-rows`
    sequences, row `b` at absolute position `positions[b]` and in sequence
    `b` of the KV cache (for a paged cache, whatever blocks row `b` of the
    block table names, so that a runtime can batch any of the sequences it
    holds). Every weight matmul then reads its weight once for all rows.
    `llm.position_ids` and `llm.attention` take the per-row positions; every
    other token-dependent value keeps its op and gets the batched shape
    (batch dynamic, token extents 1). Row results equal those of the
    single-sequence step run on that row alone.

    Run after llm-plan-kv-cache (the cache's sequence count bounds the rows)
    and before llm-plan-memory, which sizes the batched step's arena for
    `max-rows` rows (the function's `llm.max_rows`).
  }];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"forward\"",
           "The single-sequence step to batch">,
    Option<"maxRows", "max-rows", "int64_t", /*default=*/"0",
           "Most sequences per step (0: the KV cache's sequences)">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect",
                           "::mlir::func::FuncDialect"];
}

def LLMScorePositions : Pass<"llm-score-positions", "::mlir::ModuleOp"> {
  let summary = "Derives a step that returns the logits of every position";
  let description = [{
    From `@function` (`(tokens: tensor<1x?xi64>, ...) -> tensor<1x1xVxf32>`,
    the logits of the last new token) derives `@function_all`, the same step
    returning `tensor<1x?xVxf32>`: the logits of every new token. Scoring a
    text (perplexity, fidelity against a reference) then runs one call per
    chunk of tokens, with the prefill's matmuls, instead of one decode step
    per token.

    The `llm.slice` ops that keep the last token (`axis = 1, start = -1` of
    a `[1, ?, ...]` value) are removed, and the values computed from them
    (the final norm, the logits matmul) get back the dynamic token extent.
    Every other op is the source step's, so position `i`'s logits are those
    the source step returns for a call that ends at token `i`, up to the
    order of floating-point sums.

    The step's calls take at most `max-rows` tokens (the function's
    `llm.max_rows`), which bounds its activation arena in llm-plan-memory:
    its logits alone take `max-rows * V * 4` bytes. Run before
    llm-plan-memory.

    ```mlir
    // Before: the last token's logits.
    %last = llm.slice %h {axis = 1 : i64, start = -1 : i64} : tensor<1x?x576xf32> -> tensor<1x1x576xf32>
    %n = llm.rms_norm %last, %g eps = 1.0e-05 : tensor<1x1x576xf32>, tensor<576xf32>
    // @forward_all: every token's.
    %n = llm.rms_norm %h, %g eps = 1.0e-05 : tensor<1x?x576xf32>, tensor<576xf32>
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"forward\"",
           "The step to derive from">,
    Option<"maxRows", "max-rows", "int64_t", /*default=*/"64",
           "Most tokens per call of the derived step">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect",
                           "::mlir::func::FuncDialect"];
}

def LLMPlanMemory : Pass<"llm-plan-memory", "::mlir::func::FuncOp"> {
  let summary = "Places every intermediate tensor in one static arena";
  let description = [{
    Every llm op lowers to a kernel writing a fresh result buffer. This pass
    plans those buffers ahead of time so that a call allocates nothing:

    1. Bounds: each result gets an upper bound per dimension. Dynamic
       extents of the function's arguments are token counts, at most
       `max-tokens` per call (and at most the KV cache's capacity); each op
       propagates bounds by its shape rule (elementwise and broadcasting
       ops, matmul, embed, reshape, slice, gather, concat...). A result
       that cannot be bounded keeps its own allocation.
    2. Liveness: a buffer lives from its op to its last user in the
       function's block. Kernels copy, never alias, so a value whose users
       are all llm ops is dead after the last one; a returned value (written
       into the caller's buffer) or one with other users stays out.
    3. In place: with `in-place`, an elementwise op (add, mul, sub, div,
       pow, silu, gelu and the unary math ops, whose kernels read each
       element before writing it) that is the last user of a same-typed
       operand writes its result over that operand.
    4. Packing: largest slots first, each at the lowest 64-byte-aligned
       offset that overlaps no placed slot live at the same time (greedy by
       size), so the buffers of one layer reuse those of the previous.

    The plan is recorded as attributes: on each planned op
    `llm.arena_offset` and `llm.arena_bytes` (its slot) and `llm.arena_live`
    (`[first, last]` op indices); on the function `llm.arena_bytes` (the
    arena size) and `llm.arena_max_tokens` (the token bound the sizes
    assume; callers split longer inputs). convert-llm-to-kernels turns the
    planned results into views of one static arena.

    ```mlir
    %n = llm.rms_norm %x, %w eps = 1.0e-05 {llm.arena_bytes = 1179648 : i64,
           llm.arena_live = array<i64: 4, 9>, llm.arena_offset = 0 : i64}
           : tensor<1x?x576xf32>, tensor<576xf32>
    ```
  }];
  let options = [
    Option<"maxTokens", "max-tokens", "int64_t", /*default=*/"512",
           "Most tokens one call processes (bound of dynamic extents)">,
    Option<"inPlace", "in-place", "bool", /*default=*/"true",
           "Let elementwise ops overwrite an operand they use last">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per function with the plan's size, and one per "
           "result kept out of the arena">
  ];
  let statistics = [
    Statistic<"numPlanned", "planned", "Buffers placed in an arena">,
    Statistic<"numInPlace", "in-place", "Buffers written over an operand">,
    Statistic<"numUnplanned", "unplanned", "Results kept out of the arena">,
    Statistic<"arenaBytes", "arena-bytes", "Bytes of all arenas">
  ];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
}

#endif // FRUGAL_PASSES_TD
