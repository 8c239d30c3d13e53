//===- LLMQuant.h - Storage layout of group-wise quantized weights -*- C++ -*-===//
//
// Part of Frugal. A weight of logical type [N, K] with #llm.quant<bits = b,
// group = g, scheme = s> is stored as three consecutive sections:
//
//   codes   N * K * b / 8 bytes, row-major. 8-bit: one byte per element
//           (int8 for symmetric, uint8 for asymmetric). 4-bit: two elements
//           per byte, element 2j in the low nibble and 2j+1 in the high one;
//           symmetric codes are stored plus 8 (so in [0, 15]).
//   scales  N * (K / g) f16, row-major by group.
//   mins    N * (K / g) f16 (asymmetric only).
//
// Dequantization: symmetric w = scale * q (q signed); asymmetric
// w = scale * q + min (q unsigned). group = 0 means one group per row.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_DIALECTS_LLM_IR_LLMQUANT_H
#define FRUGAL_DIALECTS_LLM_IR_LLMQUANT_H

#include "dialects/LLM/IR/LLMDialect.h"

#include <cstdint>
#include <vector>

namespace mlir {
namespace llm {

/// Discardable attribute of an `llm.weight` naming how the packer picks its
/// codes when that is not round-to-nearest (llm-quantize's `method`).
constexpr llvm::StringLiteral kQuantMethodAttr = "llm.quant_method";

/// Whether `method` is a quantization method the packer implements: "rtn"
/// or "gptq".
inline bool isQuantMethod(llvm::StringRef method) {
  return method == "rtn" || method == "gptq";
}

struct QuantLayout {
  int64_t rows = 0, cols = 0, group = 0, groupsPerRow = 0;
  int64_t codesBytes = 0;   ///< Offset of the scales.
  int64_t minsOffset = 0;   ///< Offset of the mins (asymmetric).
  int64_t totalBytes = 0;
};

/// Uses of `weight` that read it in its packed layout once it is quantized:
/// the rhs of every transpose_b llm.matmul, then, with `lookups`, the table
/// of every llm.embed (the CPU lowering dequantizes the rows it selects).
llvm::SmallVector<mlir::OpOperand *> getPackedReaders(WeightOp weight,
                                                      bool lookups);

/// The layout of a [rows, cols] weight quantized as `quant`.
QuantLayout getQuantLayout(QuantAttr quant, int64_t rows, int64_t cols);

/// Round-to-nearest quantization of row-major f32 `weights` into `out`
/// (layout.totalBytes bytes). Scales and mins are rounded to f16 before the
/// codes are chosen, so dequantization reproduces the stored values.
void quantizeRTN(QuantAttr quant, const QuantLayout &layout,
                 const float *weights, uint8_t *out);

/// GPTQ (Frantar et al., 2022): choices for factorGPTQ.
struct GPTQOptions {
  /// Added to the Hessian's diagonal, as a fraction of its mean (raised
  /// tenfold until the Cholesky factorization succeeds). 0.1 rather than
  /// the paper's 0.01: on SmolLM2-135M at int4 g128 it lowered the
  /// perplexity delta and KL (docs/Quantization.md).
  double dampening = 0.1;
  /// Quantize columns by decreasing Hessian diagonal ("act order"), so the
  /// channels with the largest activations are rounded first and their
  /// errors compensated by the rest. The group parameters then come from
  /// the original weights, since the layout has one scale per contiguous
  /// group.
  bool actOrder = true;
  /// Choose each group's range among shrunk ones (clipping outliers) by the
  /// rounding error weighted by each channel's mean x^2, instead of the
  /// full range.
  bool clipSearch = true;
};

/// What GPTQ needs of a layer's input statistics, computed once per
/// Hessian and shared by every weight reading the same input.
struct GPTQFactor {
  int64_t cols = 0;
  /// Quantization order of the columns.
  std::vector<int64_t> perm;
  /// U (cols x cols, upper triangular, row-major) with U^T U the inverse of
  /// the permuted, dampened Hessian.
  std::vector<float> upper;
  /// Per channel (original order): the Hessian's diagonal over its mean.
  std::vector<float> importance;
  bool clipSearch = true;
};

/// Factors `hessian` (cols x cols, row-major, symmetric: X^T X of the
/// layer's inputs X [tokens, cols], at any positive scale). Channels with a
/// zero diagonal (never active in the calibration) get a unit one.
GPTQFactor factorGPTQ(const double *hessian, int64_t cols,
                      const GPTQOptions &options = {});

/// GPTQ quantization of row-major f32 `weights` [rows, cols] into `out`
/// (the same layout as quantizeRTN): columns are rounded one at a time and
/// each rounding error is spread over the columns not yet rounded so that
/// the output error ||W X - Q X|| on the calibration inputs stays small.
/// Scales and mins are f16 exactly as stored.
void quantizeGPTQ(QuantAttr quant, const QuantLayout &layout,
                  const float *weights, const GPTQFactor &factor,
                  uint8_t *out);

/// Discardable attributes of activation-aware equalization (AWQ, Lin et
/// al. 2024; llm-quantize's `equalize`). A weight marked
/// `llm.equalize = "<producer>"` has its input channels multiplied by
/// per-channel scales s when packed; the producer weight, marked
/// `llm.equalized_output`, has its output channels (its elements when
/// rank 1, an RMSNorm weight; its rows when rank 2, a [N, K] matmul weight)
/// divided by the same s, so the product is unchanged in exact arithmetic
/// and the rounding error moves off the channels with large activations.
constexpr llvm::StringLiteral kEqualizeAttr = "llm.equalize";
constexpr llvm::StringLiteral kEqualizedOutputAttr = "llm.equalized_output";

/// One weight [rows, cols] of a group that reads the same input.
struct EqualizedWeight {
  QuantAttr quant;
  const float *weights = nullptr;
  int64_t rows = 0;
};

/// The per-input-channel scales of `weights` (all `cols` wide, reading one
/// input whose channels have mean |x| `meanAbs` and mean x^2 `meanSquare`):
/// s = meanAbs^alpha normalized to a geometric mean range of 1, with alpha
/// in {0, 0.05, ..., 1} chosen by the least output error
/// sum_c meanSquare[c] (W[r][c] - Q(W[r][c] s[c]) / s[c])^2 of round to
/// nearest. alpha = 0 (all ones) is a candidate, so the error is never
/// above plain rounding's. `alpha`, when given, receives the choice.
std::vector<float> searchEqualization(llvm::ArrayRef<EqualizedWeight> weights,
                                      int64_t cols,
                                      llvm::ArrayRef<double> meanAbs,
                                      llvm::ArrayRef<double> meanSquare,
                                      double *alpha = nullptr);

/// Dequantizes `packed` back to row-major f32 (the reference semantics).
void dequantize(QuantAttr quant, const QuantLayout &layout,
                const uint8_t *packed, float *out);

/// IEEE half <-> float.
uint16_t floatToHalf(float value);
float halfToFloat(uint16_t value);

} // namespace llm
} // namespace mlir

#endif // FRUGAL_DIALECTS_LLM_IR_LLMQUANT_H
