//===- QuantTest.cpp - Group-wise quantization: RTN and GPTQ ---------------===//
//
// Part of Frugal. Round trips of the packed layout, and GPTQ against
// round-to-nearest on a random weight with correlated activations: GPTQ must
// reproduce the layer's outputs W X better than RTN at the same storage.
//
//===----------------------------------------------------------------------===//

#include "dialects/LLM/IR/LLMQuant.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using namespace mlir;
using namespace mlir::llm;

namespace {

class QuantTest : public ::testing::Test {
protected:
  QuantTest() { context.loadDialect<LLMDialect>(); }

  QuantAttr quant(unsigned bits, unsigned group, QuantScheme scheme) {
    return QuantAttr::get(&context, bits, group, scheme);
  }

  /// Random weights [n, k] and activations X [tokens, k] whose channels are
  /// correlated (mixed from a few latent factors) and of uneven scale, as
  /// transformer activations are.
  void makeProblem(int64_t n, int64_t k, int64_t tokens, unsigned seed) {
    rows = n;
    cols = k;
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    weights.resize(n * k);
    for (float &w : weights)
      w = 0.05f * normal(rng);
    const int64_t factors = 8;
    std::vector<float> mix(factors * k), scale(k);
    for (float &m : mix)
      m = normal(rng);
    for (int64_t c = 0; c < k; ++c)
      scale[c] = std::exp(0.7f * normal(rng));
    inputs.assign(tokens * k, 0.0f);
    for (int64_t t = 0; t < tokens; ++t) {
      float z[factors];
      for (float &v : z)
        v = normal(rng);
      for (int64_t c = 0; c < k; ++c) {
        float v = 0.3f * normal(rng);
        for (int64_t f = 0; f < factors; ++f)
          v += z[f] * mix[f * k + c];
        inputs[t * k + c] = scale[c] * v;
      }
    }
    hessian.assign(k * k, 0.0);
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < k; ++j)
          hessian[i * k + j] +=
              static_cast<double>(inputs[t * k + i]) * inputs[t * k + j];
  }

  /// ||(W - Q) X^T||_F^2 of the dequantized `packed`.
  double outputError(QuantAttr q, const std::vector<uint8_t> &packed) {
    QuantLayout l = getQuantLayout(q, rows, cols);
    std::vector<float> deq(rows * cols);
    dequantize(q, l, packed.data(), deq.data());
    int64_t tokens = static_cast<int64_t>(inputs.size()) / cols;
    double total = 0.0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t t = 0; t < tokens; ++t) {
        double e = 0.0;
        for (int64_t c = 0; c < cols; ++c)
          e += (double(weights[r * cols + c]) - deq[r * cols + c]) *
               inputs[t * cols + c];
        total += e * e;
      }
    return total;
  }

  /// ||W - Q||_F^2 of the dequantized `packed`.
  double weightError(QuantAttr q, const std::vector<uint8_t> &packed) {
    QuantLayout l = getQuantLayout(q, rows, cols);
    std::vector<float> deq(rows * cols);
    dequantize(q, l, packed.data(), deq.data());
    double total = 0.0;
    for (int64_t i = 0; i < rows * cols; ++i)
      total += (double(weights[i]) - deq[i]) * (double(weights[i]) - deq[i]);
    return total;
  }

  std::vector<uint8_t> rtn(QuantAttr q) {
    QuantLayout l = getQuantLayout(q, rows, cols);
    std::vector<uint8_t> out(l.totalBytes);
    quantizeRTN(q, l, weights.data(), out.data());
    return out;
  }

  std::vector<uint8_t> gptq(QuantAttr q, const GPTQOptions &options = {}) {
    QuantLayout l = getQuantLayout(q, rows, cols);
    std::vector<uint8_t> out(l.totalBytes);
    GPTQFactor factor = factorGPTQ(hessian.data(), cols, options);
    quantizeGPTQ(q, l, weights.data(), factor, out.data());
    return out;
  }

  MLIRContext context;
  int64_t rows = 0, cols = 0;
  std::vector<float> weights, inputs;
  std::vector<double> hessian;
};

// Every dequantized value is within half a step of the weight (RTN), and
// requantizing the dequantized weights reproduces the same bytes.
TEST_F(QuantTest, RTNRoundTrip) {
  makeProblem(16, 128, 1, 1);
  for (QuantScheme scheme : {QuantScheme::symmetric, QuantScheme::asymmetric})
    for (unsigned bits : {4u, 8u}) {
      QuantAttr q = quant(bits, 32, scheme);
      QuantLayout l = getQuantLayout(q, rows, cols);
      std::vector<uint8_t> packed = rtn(q);
      std::vector<float> deq(rows * cols);
      dequantize(q, l, packed.data(), deq.data());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t g = 0; g < l.groupsPerRow; ++g) {
          float lo = 1e30f, hi = -1e30f;
          for (int64_t c = g * 32; c < (g + 1) * 32; ++c) {
            lo = std::min(lo, weights[r * cols + c]);
            hi = std::max(hi, weights[r * cols + c]);
          }
          // Symmetric groups use every level: the end of larger magnitude
          // is -2^(bits-1) steps, so the other end may be clamped to
          // 2^(bits-1) - 1 steps, a full step away.
          bool symmetric = scheme == QuantScheme::symmetric;
          float absMax = std::max(std::fabs(lo), std::fabs(hi));
          float step = symmetric ? absMax / float(1 << (bits - 1))
                                 : (hi - lo) / float((1 << bits) - 1);
          float clampedAbove = (float((1 << (bits - 1)) - 1) + 0.5f) * step;
          for (int64_t c = g * 32; c < (g + 1) * 32; ++c) {
            float w = weights[r * cols + c];
            float bound = symmetric && std::fabs(w) > clampedAbove
                              ? 1.02f * step
                              : 0.52f * step;
            EXPECT_LE(std::fabs(deq[r * cols + c] - w), bound + 1e-4f)
                << "bits " << bits << " row " << r << " col " << c;
          }
          if (symmetric) {
            // The end of larger magnitude is represented exactly (to f16).
            float extreme = std::fabs(lo) >= std::fabs(hi) ? lo : hi;
            bool found = false;
            for (int64_t c = g * 32; c < (g + 1) * 32; ++c)
              found |= std::fabs(deq[r * cols + c] - extreme) <=
                       1e-3f * std::fabs(extreme);
            EXPECT_TRUE(found) << "bits " << bits << " row " << r;
          }
        }
      std::vector<float> original = weights;
      weights = deq;
      EXPECT_EQ(rtn(q), packed) << "bits " << bits;
      weights = original;
    }
}

// With uncorrelated unit activations (H = I) there is nothing to
// compensate: without the clipping search GPTQ picks exactly RTN's codes,
// scales and mins; with it, the weight error can only go down.
TEST_F(QuantTest, GPTQWithIdentityHessianIsRTN) {
  makeProblem(24, 128, 1, 2);
  hessian.assign(cols * cols, 0.0);
  for (int64_t i = 0; i < cols; ++i)
    hessian[i * cols + i] = 1.0;
  for (QuantScheme scheme : {QuantScheme::symmetric, QuantScheme::asymmetric})
    for (unsigned group : {0u, 32u, 128u}) {
      QuantAttr q = quant(4, group, scheme);
      GPTQOptions plain;
      plain.clipSearch = false;
      EXPECT_EQ(gptq(q, plain), rtn(q)) << "group " << group;
      EXPECT_LE(weightError(q, gptq(q)), weightError(q, rtn(q)))
          << "group " << group;
    }
}

// On correlated activations GPTQ's output error is well below RTN's, for
// every scheme, width and group size, with and without act order.
TEST_F(QuantTest, GPTQBeatsRTNOnCorrelatedInputs) {
  makeProblem(48, 256, 600, 3);
  struct Case {
    unsigned bits, group;
    QuantScheme scheme;
  } cases[] = {{4, 128, QuantScheme::symmetric},
               {4, 32, QuantScheme::asymmetric},
               {4, 0, QuantScheme::symmetric},
               {8, 64, QuantScheme::symmetric}};
  for (const Case &c : cases)
    for (bool actOrder : {false, true}) {
      QuantAttr q = quant(c.bits, c.group, c.scheme);
      GPTQOptions options;
      options.actOrder = actOrder;
      double rtnError = outputError(q, rtn(q));
      double gptqError = outputError(q, gptq(q, options));
      EXPECT_LT(gptqError, 0.7 * rtnError)
          << "bits " << c.bits << " group " << c.group << " act order "
          << actOrder << ": gptq " << gptqError << " rtn " << rtnError;
    }
}

// A channel the calibration never saw (zero row and column of H) and a
// singular Hessian still factor and quantize to values on the grid.
TEST_F(QuantTest, GPTQDegenerateHessian) {
  makeProblem(8, 64, 3, 4); // 3 tokens: X^T X has rank 3
  for (int64_t j = 0; j < cols; ++j)
    hessian[5 * cols + j] = hessian[j * cols + 5] = 0.0;
  QuantAttr q = quant(4, 32, QuantScheme::symmetric);
  QuantLayout l = getQuantLayout(q, rows, cols);
  std::vector<uint8_t> packed = gptq(q);
  std::vector<float> deq(rows * cols);
  dequantize(q, l, packed.data(), deq.data());
  for (int64_t i = 0; i < rows * cols; ++i) {
    ASSERT_TRUE(std::isfinite(deq[i]));
    EXPECT_LT(std::fabs(deq[i] - weights[i]), 0.5f) << i;
  }
}

// Equalization on activations of uneven channel scale: the chosen scales
// move rounding error off the large channels, so the output error of round
// to nearest on W diag(s) (undone by diag(1/s) on the inputs) is well below
// plain rounding's; with equal channels every scale is 1.
TEST_F(QuantTest, EqualizationLowersOutputError) {
  makeProblem(48, 256, 600, 5);
  int64_t tokens = static_cast<int64_t>(inputs.size()) / cols;
  std::vector<double> meanAbs(cols, 0.0), meanSquare(cols, 0.0);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t c = 0; c < cols; ++c) {
      meanAbs[c] += std::fabs(inputs[t * cols + c]) / tokens;
      meanSquare[c] += double(inputs[t * cols + c]) * inputs[t * cols + c] /
                       tokens;
    }
  for (unsigned group : {32u, 128u}) {
    QuantAttr q = quant(4, group, QuantScheme::symmetric);
    double alpha = -1.0;
    std::vector<float> s = searchEqualization(
        {EqualizedWeight{q, weights.data(), rows}}, cols, meanAbs, meanSquare,
        &alpha);
    ASSERT_EQ(static_cast<int64_t>(s.size()), cols);
    EXPECT_GT(alpha, 0.0) << "group " << group;
    // Quantize W diag(s), then fold diag(1/s) back for the comparison.
    std::vector<float> original = weights;
    for (int64_t i = 0; i < rows * cols; ++i)
      weights[i] *= s[i % cols];
    std::vector<uint8_t> packed = rtn(q);
    QuantLayout l = getQuantLayout(q, rows, cols);
    std::vector<float> deq(rows * cols);
    dequantize(q, l, packed.data(), deq.data());
    weights = original;
    std::vector<uint8_t> plain = rtn(q);
    double plainError = outputError(q, plain);
    double equalizedError = 0.0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t t = 0; t < tokens; ++t) {
        double e = 0.0;
        for (int64_t c = 0; c < cols; ++c)
          e += (double(weights[r * cols + c]) - deq[r * cols + c] / s[c]) *
               inputs[t * cols + c];
        equalizedError += e * e;
      }
    EXPECT_LT(equalizedError, 0.9 * plainError)
        << "group " << group << " alpha " << alpha;
  }
  std::vector<double> flat(cols, 0.5);
  std::vector<float> ones = searchEqualization(
      {EqualizedWeight{quant(4, 32, QuantScheme::symmetric), weights.data(),
                       rows}},
      cols, flat, flat);
  for (float v : ones)
    EXPECT_FLOAT_EQ(v, 1.0f);
}

} // namespace
