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

#endif // FRUGAL_PASSES_TD
