//===- LLMQuant.cpp - Storage layout of group-wise quantized weights -------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "dialects/LLM/IR/LLMQuant.h"

#include "llvm/ADT/APFloat.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::llm;

QuantLayout mlir::llm::getQuantLayout(QuantAttr quant, int64_t rows,
                                      int64_t cols) {
  QuantLayout l;
  l.rows = rows;
  l.cols = cols;
  l.group = quant.getGroup() == 0 ? cols : quant.getGroup();
  l.groupsPerRow = cols / l.group;
  l.codesBytes = rows * cols * quant.getBits() / 8;
  int64_t scalesBytes = rows * l.groupsPerRow * 2;
  l.minsOffset = l.codesBytes + scalesBytes;
  l.totalBytes = l.minsOffset +
                 (quant.getScheme() == QuantScheme::asymmetric ? scalesBytes : 0);
  return l;
}

uint16_t mlir::llm::floatToHalf(float value) {
  llvm::APFloat f(value);
  bool lost;
  f.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven, &lost);
  return static_cast<uint16_t>(f.bitcastToAPInt().getZExtValue());
}

float mlir::llm::halfToFloat(uint16_t value) {
  llvm::APFloat f(llvm::APFloat::IEEEhalf(), llvm::APInt(16, value));
  bool lost;
  f.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven, &lost);
  return f.convertToFloat();
}

static void storeHalf(uint8_t *base, int64_t index, float value) {
  uint16_t h = floatToHalf(value);
  std::memcpy(base + 2 * index, &h, 2);
}

static float loadHalf(const uint8_t *base, int64_t index) {
  uint16_t h;
  std::memcpy(&h, base + 2 * index, 2);
  return halfToFloat(h);
}

static void storeCode(uint8_t *codes, unsigned bits, int64_t index, int code) {
  if (bits == 8) {
    codes[index] = static_cast<uint8_t>(code);
    return;
  }
  uint8_t &byte = codes[index / 2];
  if (index % 2 == 0)
    byte = static_cast<uint8_t>((byte & 0xF0) | (code & 0x0F));
  else
    byte = static_cast<uint8_t>((byte & 0x0F) | ((code & 0x0F) << 4));
}

static int loadCode(const uint8_t *codes, unsigned bits, int64_t index) {
  if (bits == 8)
    return codes[index];
  uint8_t byte = codes[index / 2];
  return index % 2 == 0 ? (byte & 0x0F) : (byte >> 4);
}

void mlir::llm::quantizeRTN(QuantAttr quant, const QuantLayout &l,
                            const float *weights, uint8_t *out) {
  std::memset(out, 0, l.totalBytes);
  unsigned bits = quant.getBits();
  bool symmetric = quant.getScheme() == QuantScheme::symmetric;
  uint8_t *scales = out + l.codesBytes, *mins = out + l.minsOffset;
  int qmax = symmetric ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  for (int64_t r = 0; r < l.rows; ++r) {
    for (int64_t g = 0; g < l.groupsPerRow; ++g) {
      const float *w = weights + r * l.cols + g * l.group;
      int64_t slot = r * l.groupsPerRow + g;
      float lo = *std::min_element(w, w + l.group);
      float hi = *std::max_element(w, w + l.group);
      float scale, min = 0.0f;
      if (symmetric) {
        scale = std::max(std::fabs(lo), std::fabs(hi)) / qmax;
      } else {
        min = halfToFloat(floatToHalf(lo));
        scale = (hi - min) / qmax;
      }
      scale = halfToFloat(floatToHalf(scale));
      storeHalf(scales, slot, scale);
      if (!symmetric)
        storeHalf(mins, slot, min);
      for (int64_t k = 0; k < l.group; ++k) {
        int q = 0;
        if (scale > 0.0f) {
          q = static_cast<int>(std::lround((w[k] - min) / scale));
          q = symmetric ? std::clamp(q, -qmax, qmax) : std::clamp(q, 0, qmax);
        }
        int code = symmetric && bits == 4 ? q + 8 : q;
        storeCode(out, bits, r * l.cols + g * l.group + k, code);
      }
    }
  }
}

void mlir::llm::dequantize(QuantAttr quant, const QuantLayout &l,
                           const uint8_t *packed, float *out) {
  unsigned bits = quant.getBits();
  bool symmetric = quant.getScheme() == QuantScheme::symmetric;
  const uint8_t *scales = packed + l.codesBytes, *mins = packed + l.minsOffset;
  for (int64_t r = 0; r < l.rows; ++r)
    for (int64_t k = 0; k < l.cols; ++k) {
      int64_t slot = r * l.groupsPerRow + k / l.group;
      int code = loadCode(packed, bits, r * l.cols + k);
      int q = code;
      if (symmetric)
        q = bits == 4 ? code - 8 : static_cast<int8_t>(code);
      float w = loadHalf(scales, slot) * static_cast<float>(q);
      if (!symmetric)
        w += loadHalf(mins, slot);
      out[r * l.cols + k] = w;
    }
}
