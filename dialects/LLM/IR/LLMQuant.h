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

namespace mlir {
namespace llm {

struct QuantLayout {
  int64_t rows = 0, cols = 0, group = 0, groupsPerRow = 0;
  int64_t codesBytes = 0;   ///< Offset of the scales.
  int64_t minsOffset = 0;   ///< Offset of the mins (asymmetric).
  int64_t totalBytes = 0;
};

/// The layout of a [rows, cols] weight quantized as `quant`.
QuantLayout getQuantLayout(QuantAttr quant, int64_t rows, int64_t cols);

/// Round-to-nearest quantization of row-major f32 `weights` into `out`
/// (layout.totalBytes bytes). Scales and mins are rounded to f16 before the
/// codes are chosen, so dequantization reproduces the stored values.
void quantizeRTN(QuantAttr quant, const QuantLayout &layout,
                 const float *weights, uint8_t *out);

/// Dequantizes `packed` back to row-major f32 (the reference semantics).
void dequantize(QuantAttr quant, const QuantLayout &layout,
                const uint8_t *packed, float *out);

/// IEEE half <-> float.
uint16_t floatToHalf(float value);
float halfToFloat(uint16_t value);

} // namespace llm
} // namespace mlir

#endif // FRUGAL_DIALECTS_LLM_IR_LLMQUANT_H
