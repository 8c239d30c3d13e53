//===- Budget.h - Budgeted builds of llm-compile ----------------*- C++ -*-===//
//
// Part of Frugal. `llm-compile --budget "memory<=120MB,ppl<=+3%" --objective
// energy` chooses the storage of every decoder layer's weights (int4, int8,
// f32), of the output projection and of the KV cache (int8, f16, f32): the
// configuration with the smallest objective whose predicted figures meet
// every constraint. Costs come from the cost model on the optimized llm IR
// of each candidate; quality from per-layer sensitivities measured on
// calibration text. With --measure the chosen build is run, and a build
// that misses a constraint is corrected and rebuilt (a bounded number of
// times). The method is docs/Budget.md; the report gains a `budget`
// section (docs/report.schema.json).
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_TOOLS_LLM_COMPILE_BUDGET_H
#define FRUGAL_TOOLS_LLM_COMPILE_BUDGET_H

#include "tools/llm-compile/Driver.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace frugal {

/// What a budget constrains, in base units.
enum class BudgetMetric {
  Memory,     ///< Peak resident bytes.
  Perplexity, ///< Relative perplexity increase over the f32 build (0.03).
  Latency,    ///< Decode seconds per token.
  Energy,     ///< Decode joules per token.
  Throughput, ///< Decode tokens per second (a lower bound).
};

/// One term of a budget, e.g. `memory<=120MB`.
struct BudgetConstraint {
  BudgetMetric metric = BudgetMetric::Memory;
  /// In base units: bytes, a fraction, seconds, joules, tokens/s.
  double limit = 0;
  /// `>=` (throughput) rather than `<=`.
  bool atLeast = false;
  /// The term as written.
  std::string text;
};

struct Budget {
  std::vector<BudgetConstraint> constraints;
  std::string text;

  const BudgetConstraint *find(BudgetMetric metric) const {
    for (const BudgetConstraint &c : constraints)
      if (c.metric == metric)
        return &c;
    return nullptr;
  }
};

/// What a budgeted build minimizes.
enum class BudgetObjective { Energy, Latency, Memory, Perplexity };

/// Parses a comma-separated budget: `memory<=N{KB,MB,GB}`, `ppl<=+N%`,
/// `latency<=N{ms,us,s}[/token]`, `energy<=N{mJ,J,uJ}[/token]`,
/// `tokens/s>=N`. Errors name the offending term.
llvm::Expected<Budget> parseBudget(llvm::StringRef text);

/// energy, latency, memory or ppl.
llvm::Expected<BudgetObjective> parseBudgetObjective(llvm::StringRef text);

/// Compiles `options` under `budget`: plans the configuration, builds it
/// and, with --measure, checks the measured figures (rebuilding with a
/// corrected plan when one misses). The report gains a `budget` section.
/// An infeasible budget is an error naming its tightest constraint.
llvm::Error compileWithBudget(CompileOptions options, const Budget &budget,
                              BudgetObjective objective);

/// The `budget` lines of the report table (nothing without the section).
void printBudget(const llvm::json::Object &report, llvm::raw_ostream &os);

} // namespace frugal

#endif // FRUGAL_TOOLS_LLM_COMPILE_BUDGET_H
