//===- LLMQuant.cpp - Storage layout of group-wise quantized weights -------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "dialects/LLM/IR/LLMQuant.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/Support/Parallel.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;
using namespace mlir::llm;

SmallVector<OpOperand *> mlir::llm::getPackedReaders(WeightOp weight,
                                                     bool lookups) {
  SmallVector<OpOperand *> matmuls, tables;
  for (OpOperand &use : weight.getResult().getUses()) {
    auto matmul = dyn_cast<MatmulOp>(use.getOwner());
    if (matmul && use.getOperandNumber() == 1 && matmul.getTransposeB())
      matmuls.push_back(&use);
    else if (lookups && isa<EmbedOp>(use.getOwner()) &&
             use.getOperandNumber() == 0)
      tables.push_back(&use);
  }
  llvm::append_range(matmuls, tables);
  return matmuls;
}

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

namespace {
/// Scale and min of one group, both already rounded to f16.
struct GroupParams {
  float scale = 0.0f, min = 0.0f;
};

struct QuantFormat {
  unsigned bits;
  bool symmetric;
  /// Codes are integers in [qmin, qmax]: every level the bits hold, so a
  /// symmetric 4-bit group has 16 levels (-8..7) as ggml's Q4_0.
  int qmin, qmax;
  explicit QuantFormat(QuantAttr quant)
      : bits(quant.getBits()),
        symmetric(quant.getScheme() == QuantScheme::symmetric),
        qmin(symmetric ? -(1 << (bits - 1)) : 0),
        qmax(symmetric ? (1 << (bits - 1)) - 1 : (1 << bits) - 1) {}

  /// Parameters covering [lo, hi]. Symmetric: the end of larger magnitude
  /// maps to qmin exactly (the scale is negative when that end is
  /// positive), the other end to at most qmax + 1, clamped.
  GroupParams fromRange(float lo, float hi) const {
    GroupParams p;
    if (symmetric) {
      float extreme = std::fabs(lo) >= std::fabs(hi) ? lo : hi;
      p.scale = extreme / static_cast<float>(qmin);
    } else {
      p.min = halfToFloat(floatToHalf(lo));
      p.scale = (hi - p.min) / qmax;
    }
    p.scale = halfToFloat(floatToHalf(p.scale));
    return p;
  }
  /// Round-to-nearest parameters of the `n` values at `w`.
  GroupParams choose(const float *w, int64_t n) const {
    return fromRange(*std::min_element(w, w + n),
                     *std::max_element(w, w + n));
  }
  /// sum importance * (w - deq(q(w)))^2 over the group.
  double error(const float *w, const float *importance, int64_t n,
               GroupParams p) const {
    double total = 0.0;
    for (int64_t k = 0; k < n; ++k) {
      double e = w[k] - dequantize(quantize(w[k], p), p);
      total += importance[k] * e * e;
    }
    return total;
  }
  /// The scale (and min) that best fit `w` by least squares weighted by
  /// `importance` with the codes `p` gives, rounded to f16; `p` when the
  /// fit is degenerate.
  GroupParams refit(const float *w, const float *importance, int64_t n,
                    GroupParams p) const {
    double sqq = 0.0, sq = 0.0, s1 = 0.0, swq = 0.0, sw = 0.0;
    for (int64_t k = 0; k < n; ++k) {
      double q = quantize(w[k], p), i = importance[k];
      sqq += i * q * q;
      sq += i * q;
      s1 += i;
      swq += i * w[k] * q;
      sw += i * w[k];
    }
    GroupParams fit = p;
    if (symmetric) {
      if (!(sqq > 0.0))
        return p;
      fit.scale = static_cast<float>(swq / sqq);
    } else {
      double det = sqq * s1 - sq * sq;
      if (!(std::fabs(det) > 1e-12 * sqq * s1))
        return p;
      fit.scale = static_cast<float>((swq * s1 - sq * sw) / det);
      fit.min = halfToFloat(
          floatToHalf(static_cast<float>((sqq * sw - sq * swq) / det)));
    }
    fit.scale = halfToFloat(floatToHalf(fit.scale));
    return fit;
  }
  /// The parameters whose rounding error on `w` weighted by `importance` is
  /// least among the ranges [p lo, p hi], p in (0.5, 1], each followed by
  /// two weighted least-squares refits of its scale (and min).
  GroupParams search(const float *w, const float *importance,
                     int64_t n) const {
    float lo = *std::min_element(w, w + n);
    float hi = *std::max_element(w, w + n);
    GroupParams best;
    double bestError = std::numeric_limits<double>::infinity();
    auto consider = [&](GroupParams p) {
      double e = error(w, importance, n, p);
      if (e < bestError) {
        best = p;
        bestError = e;
      }
      return e;
    };
    for (int step = 0; step < 25; ++step) {
      float shrink = 1.0f - 0.02f * static_cast<float>(step);
      GroupParams p = fromRange(shrink * lo, shrink * hi);
      double e = consider(p);
      for (int iteration = 0; iteration < 2; ++iteration) {
        GroupParams fit = refit(w, importance, n, p);
        double fitError = consider(fit);
        if (!(fitError < e))
          break;
        p = fit;
        e = fitError;
      }
    }
    return best;
  }
  /// The integer nearest to `w` (signed when symmetric).
  int quantize(float w, GroupParams p) const {
    if (p.scale == 0.0f || !std::isfinite(p.scale))
      return 0;
    float x = (w - p.min) / p.scale;
    if (!(x > static_cast<float>(qmin)))
      return qmin;
    if (!(x < static_cast<float>(qmax)))
      return qmax;
    return static_cast<int>(std::lround(x));
  }
  float dequantize(int q, GroupParams p) const {
    return p.scale * static_cast<float>(q) + p.min;
  }
  /// The stored code: symmetric 4-bit codes are q + 8, 8-bit ones q's
  /// two's complement byte.
  int code(int q) const { return symmetric && bits == 4 ? q + 8 : q; }
};

void storeParams(const QuantFormat &f, const QuantLayout &l, uint8_t *out,
                 int64_t slot, GroupParams p) {
  storeHalf(out + l.codesBytes, slot, p.scale);
  if (!f.symmetric)
    storeHalf(out + l.minsOffset, slot, p.min);
}
} // namespace

void mlir::llm::quantizeRTN(QuantAttr quant, const QuantLayout &l,
                            const float *weights, uint8_t *out) {
  std::memset(out, 0, l.totalBytes);
  QuantFormat f(quant);
  for (int64_t r = 0; r < l.rows; ++r) {
    for (int64_t g = 0; g < l.groupsPerRow; ++g) {
      const float *w = weights + r * l.cols + g * l.group;
      GroupParams p = f.choose(w, l.group);
      storeParams(f, l, out, r * l.groupsPerRow + g, p);
      for (int64_t k = 0; k < l.group; ++k)
        storeCode(out, f.bits, r * l.cols + g * l.group + k,
                  f.code(f.quantize(w[k], p)));
    }
  }
}

//===----------------------------------------------------------------------===//
// GPTQ
//===----------------------------------------------------------------------===//

/// sum a[k] * b[k] for k < n, in four independent partial sums.
static double dot(const double *a, const double *b, int64_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int64_t k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; ++k)
    s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

/// Lower Cholesky factor of the symmetric n x n `a` in place (the upper
/// triangle is left as is); false when `a` is not positive definite.
static bool choleskyLower(std::vector<double> &a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double *rowJ = &a[j * n];
    double d = rowJ[j] - dot(rowJ, rowJ, j);
    if (!(d > 0.0))
      return false;
    d = std::sqrt(d);
    rowJ[j] = d;
    for (int64_t i = j + 1; i < n; ++i) {
      double *rowI = &a[i * n];
      rowI[j] = (rowI[j] - dot(rowI, rowJ, j)) / d;
    }
  }
  return true;
}

GPTQFactor mlir::llm::factorGPTQ(const double *hessian, int64_t k,
                                  const GPTQOptions &options) {
  GPTQFactor f;
  f.cols = k;
  f.perm.resize(k);
  for (int64_t i = 0; i < k; ++i)
    f.perm[i] = i;
  std::vector<double> diag(k);
  double mean = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    diag[i] = hessian[i * k + i];
    mean += diag[i];
  }
  mean /= static_cast<double>(std::max<int64_t>(k, 1));
  if (options.actOrder)
    std::sort(f.perm.begin(), f.perm.end(), [&](int64_t a, int64_t b) {
      return diag[a] != diag[b] ? diag[a] > diag[b] : a < b;
    });
  // The factor U (upper, H^-1 = U^T U) of the permuted Hessian H' is
  // J L^-1 J, with L the lower Cholesky factor of R = J H' J (J reverses the
  // index order): one factorization and one triangular inverse.
  std::vector<double> r(k * k);
  for (double damp = options.dampening;; damp *= 10.0) {
    // Channels the calibration never saw get a unit diagonal.
    double add = damp * (mean > 0.0 ? mean : 1.0);
    for (int64_t a = 0; a < k; ++a)
      for (int64_t b = 0; b < k; ++b) {
        int64_t i = f.perm[k - 1 - a], j = f.perm[k - 1 - b];
        double h = hessian[i * k + j];
        if (i == j)
          h = (h > 0.0 ? h : 1.0) + add;
        r[a * k + b] = h;
      }
    if (choleskyLower(r, k))
      break;
    if (damp > 1e4) {
      // Not a Hessian: plain rounding (U = I).
      for (int64_t a = 0; a < k; ++a)
        for (int64_t b = 0; b < k; ++b)
          r[a * k + b] = a == b ? 1.0 : 0.0;
      break;
    }
  }
  // Linv = L^-1, lower, row by row: row i is (e_i - sum_{m<i} L[i][m]
  // Linv[m]) / L[i][i].
  std::vector<double> inv(k * k, 0.0);
  for (int64_t i = 0; i < k; ++i) {
    double *row = &inv[i * k];
    row[i] = 1.0;
    for (int64_t m = 0; m < i; ++m) {
      double c = r[i * k + m];
      const double *src = &inv[m * k];
      for (int64_t j = 0; j <= m; ++j)
        row[j] -= c * src[j];
    }
    double d = r[i * k + i];
    for (int64_t j = 0; j <= i; ++j)
      row[j] /= d;
  }
  f.importance.resize(k);
  for (int64_t i = 0; i < k; ++i)
    f.importance[i] = static_cast<float>(diag[i] / (mean > 0.0 ? mean : 1.0));
  f.clipSearch = options.clipSearch;
  f.upper.assign(k * k, 0.0f);
  for (int64_t a = 0; a < k; ++a)
    for (int64_t b = a; b < k; ++b)
      f.upper[a * k + b] =
          static_cast<float>(inv[(k - 1 - a) * k + (k - 1 - b)]);
  return f;
}

void mlir::llm::quantizeGPTQ(QuantAttr quant, const QuantLayout &l,
                             const float *weights, const GPTQFactor &factor,
                             uint8_t *out) {
  assert(factor.cols == l.cols && "GPTQ factor of another width");
  std::memset(out, 0, l.totalBytes);
  QuantFormat f(quant);
  const int64_t n = l.rows, k = l.cols;
  bool identity = true;
  for (int64_t a = 0; a < k; ++a)
    identity &= factor.perm[a] == a;
  // Columns in quantization order; with act order the group parameters come
  // from the original weights (the layout has one scale per contiguous
  // group), else from the updated ones when their group starts.
  std::vector<float> w(n * k);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t a = 0; a < k; ++a)
      w[r * k + a] = weights[r * k + factor.perm[a]];
  std::vector<GroupParams> params(n * l.groupsPerRow);
  // A group's parameters: its full range, or the clipped range that costs
  // the least error weighted by its channels' mean x^2.
  auto choose = [&](const float *values, int64_t firstCol) {
    return factor.clipSearch
               ? f.search(values, &factor.importance[firstCol], l.group)
               : f.choose(values, l.group);
  };
  if (!identity)
    llvm::parallelFor(0, n, [&](int64_t r) { // a row's parameters only
      for (int64_t g = 0; g < l.groupsPerRow; ++g) {
        params[r * l.groupsPerRow + g] =
            choose(weights + r * k + g * l.group, g * l.group);
        storeParams(f, l, out, r * l.groupsPerRow + g,
                    params[r * l.groupsPerRow + g]);
      }
    });
  // Rows are independent (and, with an even width, share no byte of the
  // output): blocks of rows stay in cache while each row of the factor is
  // read once per block, and blocks run in parallel.
  constexpr int64_t kRowBlock = 16;
  bool parallel = f.bits == 8 || k % 2 == 0;
  auto forEachBlock = [&](llvm::function_ref<void(int64_t)> fn) {
    int64_t blocks = (n + kRowBlock - 1) / kRowBlock;
    if (parallel)
      llvm::parallelFor(0, blocks, fn);
    else
      for (int64_t block = 0; block < blocks; ++block)
        fn(block);
  };
  forEachBlock([&](int64_t block) {
    int64_t r0 = block * kRowBlock;
    int64_t r1 = std::min(n, r0 + kRowBlock);
    for (int64_t a = 0; a < k; ++a) {
      int64_t col = factor.perm[a], g = col / l.group;
      const float *u = &factor.upper[a * k];
      float d = u[a];
      for (int64_t r = r0; r < r1; ++r) {
        float *row = &w[r * k];
        GroupParams &p = params[r * l.groupsPerRow + g];
        if (identity && col % l.group == 0) {
          p = choose(row + a, col);
          storeParams(f, l, out, r * l.groupsPerRow + g, p);
        }
        int q = f.quantize(row[a], p);
        storeCode(out, f.bits, r * k + col, f.code(q));
        float err = (row[a] - f.dequantize(q, p)) / d;
        for (int64_t b = a + 1; b < k; ++b)
          row[b] -= err * u[b];
      }
    }
  });
}

//===----------------------------------------------------------------------===//
// Equalization
//===----------------------------------------------------------------------===//

std::vector<float> mlir::llm::searchEqualization(
    llvm::ArrayRef<EqualizedWeight> weights, int64_t cols,
    llvm::ArrayRef<double> meanAbs, llvm::ArrayRef<double> meanSquare,
    double *alphaOut) {
  assert(static_cast<int64_t>(meanAbs.size()) == cols &&
         static_cast<int64_t>(meanSquare.size()) == cols &&
         "statistics of another width");
  // Channels the calibration barely saw keep a floor, so no scale is 0.
  double top = 0.0;
  for (double m : meanAbs)
    top = std::max(top, m);
  std::vector<double> base(cols, 1.0);
  if (top > 0.0)
    for (int64_t c = 0; c < cols; ++c)
      base[c] = std::max(meanAbs[c], 1e-5 * top);
  auto scalesFor = [&](double alpha) {
    std::vector<float> s(cols);
    double lo = 1e300, hi = 0.0;
    for (int64_t c = 0; c < cols; ++c) {
      double v = std::pow(base[c], alpha);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      s[c] = static_cast<float>(v);
    }
    float norm = static_cast<float>(std::sqrt(lo * hi));
    for (float &v : s)
      v /= norm;
    return s;
  };
  // The importance-weighted error of rounding each group of the scaled
  // weights, measured on the unscaled ones; rows in parallel.
  auto errorOf = [&](const std::vector<float> &s) {
    double total = 0.0;
    for (const EqualizedWeight &w : weights) {
      QuantFormat f(w.quant);
      QuantLayout l = getQuantLayout(w.quant, w.rows, cols);
      std::vector<double> rowError(w.rows, 0.0);
      llvm::parallelFor(0, w.rows, [&](int64_t r) {
        std::vector<float> scaled(l.group);
        double e = 0.0;
        for (int64_t g = 0; g < l.groupsPerRow; ++g) {
          const float *row = w.weights + r * cols + g * l.group;
          const float *sg = &s[g * l.group];
          for (int64_t k = 0; k < l.group; ++k)
            scaled[k] = row[k] * sg[k];
          GroupParams p = f.choose(scaled.data(), l.group);
          for (int64_t k = 0; k < l.group; ++k) {
            double d =
                row[k] - f.dequantize(f.quantize(scaled[k], p), p) / sg[k];
            e += meanSquare[g * l.group + k] * d * d;
          }
        }
        rowError[r] = e;
      });
      for (double e : rowError)
        total += e;
    }
    return total;
  };
  std::vector<float> best = scalesFor(0.0);
  double bestError = errorOf(best), bestAlpha = 0.0;
  for (int step = 1; step <= 20; ++step) {
    double alpha = 0.05 * step;
    std::vector<float> s = scalesFor(alpha);
    double e = errorOf(s);
    if (e < bestError) {
      bestError = e;
      best = std::move(s);
      bestAlpha = alpha;
    }
  }
  if (alphaOut)
    *alphaOut = bestAlpha;
  return best;
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
