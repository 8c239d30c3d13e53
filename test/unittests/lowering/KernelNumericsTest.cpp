//===- KernelNumericsTest.cpp - CPU kernels against scalar references ------===//
//
// Part of Frugal. Each test lowers a small llm function with the CPU
// pipeline, runs it in the JIT and compares with a straightforward C++
// reference. Shapes are chosen to hit vector bodies, scalar tails and the
// register-blocked and remainder paths of the matmul kernel.
//
//===----------------------------------------------------------------------===//

#include "tools/llm-run/Runner.h"

#include "dialects/LLM/IR/LLMDialect.h"
#include "dialects/LLM/IR/LLMQuant.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

using namespace mlir;
using namespace frugal;

namespace {

class KernelTest : public ::testing::Test {
protected:
  KernelTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    registerAllExtensions(registry);
    registry.insert<llm::LLMDialect>();
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  std::vector<HostTensor> run(const std::string &source,
                              const std::vector<HostTensor> &inputs,
                              const std::vector<uint8_t> &weights = {},
                              const RunOptions &options = {}) {
    auto module = parseSourceString<ModuleOp>(source, &context);
    EXPECT_TRUE(module) << source;
    if (!module)
      return {};
    auto result = runFunction(*module, "main", inputs, weights, options);
    if (!result) {
      ADD_FAILURE() << llvm::toString(result.takeError());
      return {};
    }
    return *result;
  }

  std::vector<float> random(size_t n, float scale = 1.0f) {
    std::uniform_real_distribution<float> dist(-scale, scale);
    std::vector<float> v(n);
    for (float &x : v)
      x = dist(rng);
    return v;
  }

  static HostTensor f32(std::vector<int64_t> shape, const std::vector<float> &v) {
    return HostTensor::fromVector(ElementKind::F32, std::move(shape), v);
  }
  static HostTensor i64(std::vector<int64_t> shape, const std::vector<int64_t> &v) {
    return HostTensor::fromVector(ElementKind::I64, std::move(shape), v);
  }

  static void expectNear(const std::vector<float> &got,
                         const std::vector<float> &want, float tol = 1e-4f) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], tol * (1.0f + std::fabs(want[i])))
          << "at flat index " << i;
  }

  /// `quant` printed (#llm.quant<...>) and in the short form llm.weight
  /// takes (<...>).
  static std::pair<std::string, std::string> spell(llm::QuantAttr quant) {
    std::string attr;
    llvm::raw_string_ostream(attr) << quant;
    return {attr, attr.substr(attr.find('<'))};
  }

  /// `w` ([rows, cols]) rounded to nearest into `quant`'s layout, and the
  /// packed bytes dequantized back (the reference the kernels must match).
  struct Packed {
    std::vector<uint8_t> blob;
    std::vector<float> deq;
  };
  static Packed pack(llm::QuantAttr quant, int64_t rows, int64_t cols,
                     const std::vector<float> &w) {
    llm::QuantLayout layout = llm::getQuantLayout(quant, rows, cols);
    Packed p{std::vector<uint8_t>(layout.totalBytes),
             std::vector<float>(rows * cols)};
    llm::quantizeRTN(quant, layout, w.data(), p.blob.data());
    llm::dequantize(quant, layout, p.blob.data(), p.deq.data());
    return p;
  }

  MLIRContext context;
  std::mt19937 rng{1234};
};

// 2 x 5 rows (both 4-row blocks and a remainder row), N = 7 (a remainder
// output channel), K = 37 (two vectors and a scalar tail).
TEST_F(KernelTest, MatmulTransposedBWithTails) {
  const int64_t rows = 5, n = 7, k = 37;
  std::vector<float> x = random(2 * rows * k), w = random(n * k);
  std::vector<uint8_t> blob(w.size() * 4);
  std::memcpy(blob.data(), w.data(), blob.size());
  auto out = run(R"(
    func.func @main(%x: tensor<2x5x37xf32>) -> tensor<2x5x7xf32> {
      %w = llm.weight "w" at 0 : tensor<7x37xf32>
      %y = llm.matmul %x, %w transpose_b : tensor<2x5x37xf32>, tensor<7x37xf32> -> tensor<2x5x7xf32>
      return %y : tensor<2x5x7xf32>
    })", {f32({2, rows, k}, x)}, blob);
  ASSERT_EQ(out.size(), 1u);
  std::vector<float> want(2 * rows * n);
  for (int64_t r = 0; r < 2 * rows; ++r)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t kk = 0; kk < k; ++kk)
        s += double(x[r * k + kk]) * w[j * k + kk];
      want[r * n + j] = float(s);
    }
  expectNear(out[0].toVector<float>(), want);
}

TEST_F(KernelTest, MatmulPlainAndBatched) {
  std::vector<float> a = random(2 * 3 * 20), b = random(2 * 20 * 18);
  auto out = run(R"(
    func.func @main(%a: tensor<2x3x20xf32>, %b: tensor<2x20x18xf32>) -> (tensor<2x3x18xf32>) {
      %y = llm.matmul %a, %b : tensor<2x3x20xf32>, tensor<2x20x18xf32> -> tensor<2x3x18xf32>
      return %y : tensor<2x3x18xf32>
    })", {f32({2, 3, 20}, a), f32({2, 20, 18}, b)});
  ASSERT_EQ(out.size(), 1u);
  std::vector<float> want(2 * 3 * 18);
  for (int bi = 0; bi < 2; ++bi)
    for (int m = 0; m < 3; ++m)
      for (int n = 0; n < 18; ++n) {
        double s = 0;
        for (int k = 0; k < 20; ++k)
          s += double(a[(bi * 3 + m) * 20 + k]) * b[(bi * 20 + k) * 18 + n];
        want[(bi * 3 + m) * 18 + n] = float(s);
      }
  expectNear(out[0].toVector<float>(), want);

  // A [K, N] weight: the kernel vectorized along N (18 = 16 + 2).
  std::vector<float> w = random(20 * 18);
  std::vector<uint8_t> blob(w.size() * 4);
  std::memcpy(blob.data(), w.data(), blob.size());
  auto out2 = run(R"(
    func.func @main(%a: tensor<2x3x20xf32>) -> tensor<2x3x18xf32> {
      %w = llm.weight "w" at 0 : tensor<20x18xf32>
      %y = llm.matmul %a, %w : tensor<2x3x20xf32>, tensor<20x18xf32> -> tensor<2x3x18xf32>
      return %y : tensor<2x3x18xf32>
    })", {f32({2, 3, 20}, a)}, blob);
  ASSERT_EQ(out2.size(), 1u);
  for (int r = 0; r < 6; ++r)
    for (int n = 0; n < 18; ++n) {
      double s = 0;
      for (int k = 0; k < 20; ++k)
        s += double(a[r * 20 + k]) * w[k * 18 + n];
      want[r * 18 + n] = float(s);
    }
  expectNear(out2[0].toVector<float>(), want);
}

TEST_F(KernelTest, NormsAndSoftmax) {
  const int rows = 3, d = 21;
  std::vector<float> x = random(rows * d, 2.0f), g = random(d), bias = random(d);
  auto out = run(R"(
    func.func @main(%x: tensor<3x21xf32>, %g: tensor<21xf32>, %b: tensor<21xf32>)
        -> (tensor<3x21xf32>, tensor<3x21xf32>, tensor<3x21xf32>, tensor<3x21xf32>) {
      %r = llm.rms_norm %x, %g eps = 1.0e-05 : tensor<3x21xf32>, tensor<21xf32>
      %l = llm.layer_norm %x, %g bias %b eps = 1.0e-05 : tensor<3x21xf32>, tensor<21xf32>, tensor<21xf32>
      %s = llm.softmax %x : tensor<3x21xf32>
      %s0 = llm.softmax %x {axis = 0 : i64} : tensor<3x21xf32>
      return %r, %l, %s, %s0 : tensor<3x21xf32>, tensor<3x21xf32>, tensor<3x21xf32>, tensor<3x21xf32>
    })", {f32({rows, d}, x), f32({d}, g), f32({d}, bias)});
  ASSERT_EQ(out.size(), 4u);
  std::vector<float> rms(rows * d), ln(rows * d), sm(rows * d), sm0(rows * d);
  for (int r = 0; r < rows; ++r) {
    double ss = 0, mean = 0, var = 0, mx = -1e30, sum = 0;
    for (int k = 0; k < d; ++k) {
      ss += x[r * d + k] * x[r * d + k];
      mean += x[r * d + k];
      mx = std::max<double>(mx, x[r * d + k]);
    }
    mean /= d;
    for (int k = 0; k < d; ++k) {
      var += (x[r * d + k] - mean) * (x[r * d + k] - mean);
      sum += std::exp(x[r * d + k] - mx);
    }
    var /= d;
    for (int k = 0; k < d; ++k) {
      rms[r * d + k] = float(x[r * d + k] / std::sqrt(ss / d + 1e-5) * g[k]);
      ln[r * d + k] = float((x[r * d + k] - mean) / std::sqrt(var + 1e-5) * g[k] + bias[k]);
      sm[r * d + k] = float(std::exp(x[r * d + k] - mx) / sum);
    }
  }
  for (int k = 0; k < d; ++k) {
    double mx = -1e30, sum = 0;
    for (int r = 0; r < rows; ++r)
      mx = std::max<double>(mx, x[r * d + k]);
    for (int r = 0; r < rows; ++r)
      sum += std::exp(x[r * d + k] - mx);
    for (int r = 0; r < rows; ++r)
      sm0[r * d + k] = float(std::exp(x[r * d + k] - mx) / sum);
  }
  expectNear(out[0].toVector<float>(), rms);
  expectNear(out[1].toVector<float>(), ln);
  expectNear(out[2].toVector<float>(), sm);
  expectNear(out[3].toVector<float>(), sm0);
}

TEST_F(KernelTest, ElementwiseWithBroadcasting) {
  std::vector<float> a = random(2 * 3 * 17, 2.0f), b = random(17, 2.0f);
  for (float &v : b)
    v = std::fabs(v) + 0.5f;
  auto out = run(R"(
    func.func @main(%a: tensor<2x3x17xf32>, %b: tensor<17xf32>)
        -> (tensor<2x3x17xf32>, tensor<2x3x17xf32>, tensor<2x3x17xf32>, tensor<2x3x17xf32>, tensor<2x3x17xf32>, tensor<2x3x17xf32>) {
      %s = llm.sub %a, %b : tensor<2x3x17xf32>, tensor<17xf32> -> tensor<2x3x17xf32>
      %d = llm.div %a, %b : tensor<2x3x17xf32>, tensor<17xf32> -> tensor<2x3x17xf32>
      %si = llm.silu %a : tensor<2x3x17xf32>
      %ge = llm.gelu %a : tensor<2x3x17xf32>
      %gt = llm.gelu %a tanh : tensor<2x3x17xf32>
      %sg = llm.sigmoid %a : tensor<2x3x17xf32>
      return %s, %d, %si, %ge, %gt, %sg : tensor<2x3x17xf32>, tensor<2x3x17xf32>, tensor<2x3x17xf32>, tensor<2x3x17xf32>, tensor<2x3x17xf32>, tensor<2x3x17xf32>
    })", {f32({2, 3, 17}, a), f32({17}, b)});
  ASSERT_EQ(out.size(), 6u);
  std::vector<float> s(a.size()), dv(a.size()), si(a.size()), ge(a.size()),
      gt(a.size()), sg(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    double x = a[i], y = b[i % 17];
    s[i] = float(x - y);
    dv[i] = float(x / y);
    si[i] = float(x / (1 + std::exp(-x)));
    ge[i] = float(0.5 * x * (1 + std::erf(x / std::sqrt(2.0))));
    gt[i] = float(0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))));
    sg[i] = float(1 / (1 + std::exp(-x)));
  }
  expectNear(out[0].toVector<float>(), s);
  expectNear(out[1].toVector<float>(), dv);
  expectNear(out[2].toVector<float>(), si, 1e-3f);
  expectNear(out[3].toVector<float>(), ge, 1e-3f);
  expectNear(out[4].toVector<float>(), gt, 1e-3f);
  expectNear(out[5].toVector<float>(), sg, 1e-3f);
}

TEST_F(KernelTest, CompareSelectCast) {
  std::vector<float> a = {1, 5, -2, 3, 3, 0}, b = {3, 0, -1};
  auto out = run(R"(
    func.func @main(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xi64>) {
      %c = llm.compare lt, %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xi1>
      %s = llm.select %c, %a, %b : tensor<2x3xi1>, tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
      %i = llm.cast %s : tensor<2x3xf32> -> tensor<2x3xi64>
      return %s, %i : tensor<2x3xf32>, tensor<2x3xi64>
    })", {f32({2, 3}, a), f32({3}, b)});
  ASSERT_EQ(out.size(), 2u);
  // min(a, b) elementwise with broadcasting, then truncation to integers.
  expectNear(out[0].toVector<float>(), {1, 0, -2, 3, 0, -1});
  EXPECT_EQ(out[1].toVector<int64_t>(), (std::vector<int64_t>{1, 0, -2, 3, 0, -1}));
}

TEST_F(KernelTest, DataMovement) {
  std::vector<float> x(2 * 4 * 3);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(i);
  auto out = run(R"(
    func.func @main(%x: tensor<2x4x3xf32>, %i: tensor<2xi64>)
        -> (tensor<2x2x3xf32>, tensor<2x8x3xf32>, tensor<2x4x1xf32>, tensor<3x4x2xf32>, tensor<2x1x3xf32>, tensor<4x4xf32>) {
      %g = llm.gather %x, %i {axis = 1 : i64} : tensor<2x4x3xf32>, tensor<2xi64> -> tensor<2x2x3xf32>
      %c = llm.concat %x, %x {axis = 1 : i64} : tensor<2x4x3xf32>, tensor<2x4x3xf32> -> tensor<2x8x3xf32>
      %m = llm.reduce_mean %x {axes = array<i64: 2>, keepdims} : tensor<2x4x3xf32> -> tensor<2x4x1xf32>
      %t = llm.transpose %x [2, 1, 0] : tensor<2x4x3xf32> -> tensor<3x4x2xf32>
      %s = llm.slice %x {axis = 1 : i64, start = -1 : i64} : tensor<2x4x3xf32> -> tensor<2x1x3xf32>
      %one = llm.slice %m {axis = 0 : i64, start = 0 : i64} : tensor<2x4x1xf32> -> tensor<1x4x1xf32>
      %r = llm.reshape %one : tensor<1x4x1xf32> -> tensor<4x1xf32>
      %e = llm.expand %r : tensor<4x1xf32> -> tensor<4x4xf32>
      %u = llm.trilu %e {upper} : tensor<4x4xf32>
      return %g, %c, %m, %t, %s, %u : tensor<2x2x3xf32>, tensor<2x8x3xf32>, tensor<2x4x1xf32>, tensor<3x4x2xf32>, tensor<2x1x3xf32>, tensor<4x4xf32>
    })", {f32({2, 4, 3}, x), i64({2}, {3, -4})});
  ASSERT_EQ(out.size(), 6u);
  auto at = [&](int b, int r, int c) { return x[(b * 4 + r) * 3 + c]; };
  std::vector<float> g, cc, m, t, s, u;
  for (int b = 0; b < 2; ++b)
    for (int r : {3, 0})
      for (int c = 0; c < 3; ++c)
        g.push_back(at(b, r, c));
  for (int b = 0; b < 2; ++b)
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c < 3; ++c)
        cc.push_back(at(b, r % 4, c));
  for (int b = 0; b < 2; ++b)
    for (int r = 0; r < 4; ++r)
      m.push_back((at(b, r, 0) + at(b, r, 1) + at(b, r, 2)) / 3);
  for (int c = 0; c < 3; ++c)
    for (int r = 0; r < 4; ++r)
      for (int b = 0; b < 2; ++b)
        t.push_back(at(b, r, c));
  for (int b = 0; b < 2; ++b)
    for (int c = 0; c < 3; ++c)
      s.push_back(at(b, 3, c));
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      u.push_back(j >= i ? m[i] : 0.0f);
  expectNear(out[0].toVector<float>(), g);
  expectNear(out[1].toVector<float>(), cc);
  expectNear(out[2].toVector<float>(), m);
  expectNear(out[3].toVector<float>(), t);
  expectNear(out[4].toVector<float>(), s);
  expectNear(out[5].toVector<float>(), u);
}

// Causal GQA attention without a cache against a naive reference, and the
// same prefill through the cache split into two steps.
TEST_F(KernelTest, AttentionCausalGQA) {
  const int s = 5, h = 4, kvh = 2, d = 8;
  std::vector<float> q = random(s * h * d), k = random(s * kvh * d),
                     v = random(s * kvh * d);
  auto out = run(R"(
    func.func @main(%q: tensor<1x5x32xf32>, %k: tensor<1x5x16xf32>, %v: tensor<1x5x16xf32>) -> tensor<1x5x32xf32> {
      %o = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
             : tensor<1x5x32xf32>, tensor<1x5x16xf32>, tensor<1x5x16xf32> -> tensor<1x5x32xf32>
      return %o : tensor<1x5x32xf32>
    })", {f32({1, s, h * d}, q), f32({1, s, kvh * d}, k), f32({1, s, kvh * d}, v)});
  ASSERT_EQ(out.size(), 1u);
  std::vector<float> want(s * h * d);
  double scale = 1.0 / std::sqrt(double(d));
  for (int i = 0; i < s; ++i)
    for (int hh = 0; hh < h; ++hh) {
      int g = hh / (h / kvh);
      std::vector<double> p(i + 1);
      double mx = -1e30, sum = 0;
      for (int t = 0; t <= i; ++t) {
        double dot = 0;
        for (int c = 0; c < d; ++c)
          dot += double(q[(i * h + hh) * d + c]) * k[(t * kvh + g) * d + c];
        p[t] = dot * scale;
        mx = std::max(mx, p[t]);
      }
      for (int t = 0; t <= i; ++t)
        sum += (p[t] = std::exp(p[t] - mx));
      for (int c = 0; c < d; ++c) {
        double acc = 0;
        for (int t = 0; t <= i; ++t)
          acc += p[t] / sum * v[(t * kvh + g) * d + c];
        want[(i * h + hh) * d + c] = float(acc);
      }
    }
  expectNear(out[0].toVector<float>(), want);

  // The same prefill through a KV cache in two steps (positions 0..2, then
  // 3..4): each step's rows must equal the matching rows above.
  auto rows = [](const std::vector<float> &src, int width, int from, int to) {
    return std::vector<float>(src.begin() + from * width, src.begin() + to * width);
  };
  std::vector<float> cache(2 * 1 * kvh * 8 * d, 0.0f);
  auto stepped = run(R"(
    func.func @main(%q1: tensor<1x3x32xf32>, %k1: tensor<1x3x16xf32>, %v1: tensor<1x3x16xf32>,
                    %q2: tensor<1x2x32xf32>, %k2: tensor<1x2x16xf32>, %v2: tensor<1x2x16xf32>,
                    %kv: !llm.kv_cache<1 x 2 x 8 x 8, f32>, %p0: index, %p3: index)
        -> (tensor<1x3x32xf32>, tensor<1x2x32xf32>) {
      %o1 = llm.attention %q1, %k1, %v1 cache %kv[%p0] : !llm.kv_cache<1 x 2 x 8 x 8, f32>
              {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
              : tensor<1x3x32xf32>, tensor<1x3x16xf32>, tensor<1x3x16xf32> -> tensor<1x3x32xf32>
      %o2 = llm.attention %q2, %k2, %v2 cache %kv[%p3] : !llm.kv_cache<1 x 2 x 8 x 8, f32>
              {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
              : tensor<1x2x32xf32>, tensor<1x2x16xf32>, tensor<1x2x16xf32> -> tensor<1x2x32xf32>
      return %o1, %o2 : tensor<1x3x32xf32>, tensor<1x2x32xf32>
    })",
      {f32({1, 3, h * d}, rows(q, h * d, 0, 3)), f32({1, 3, kvh * d}, rows(k, kvh * d, 0, 3)),
       f32({1, 3, kvh * d}, rows(v, kvh * d, 0, 3)), f32({1, 2, h * d}, rows(q, h * d, 3, 5)),
       f32({1, 2, kvh * d}, rows(k, kvh * d, 3, 5)), f32({1, 2, kvh * d}, rows(v, kvh * d, 3, 5)),
       f32({2, 1, kvh, 8, d}, cache), i64({}, {0}), i64({}, {3})});
  ASSERT_EQ(stepped.size(), 2u);
  expectNear(stepped[0].toVector<float>(), rows(want, h * d, 0, 3));
  expectNear(stepped[1].toVector<float>(), rows(want, h * d, 3, 5));
}

// Decoding through planned KV caches: 8 positions fed in steps of 5, 2 and
// 1 tokens, each step's outputs against a double-precision reference that
// sees the exact keys and values of the positions each query attends to.
class KVCacheKernelTest : public KernelTest {
protected:
  static constexpr int kHeads = 4, kKVHeads = 2, kDim = 16, kPositions = 8;

  /// Runs the three steps on a cache of type `cacheType` (16 positions,
  /// one layer) whose buffer is `cache`, attending to the last `window`
  /// positions when non-zero; compares with tolerance `tol`.
  void runSteps(const std::string &cacheType, std::vector<uint8_t> &cache,
                int64_t window, float tol) {
    q = random(kPositions * kHeads * kDim);
    k = random(kPositions * kKVHeads * kDim);
    v = random(kPositions * kKVHeads * kDim);
    std::string source = R"(
      func.func @main(%q1: tensor<1x5x64xf32>, %k1: tensor<1x5x32xf32>, %v1: tensor<1x5x32xf32>,
                      %q2: tensor<1x2x64xf32>, %k2: tensor<1x2x32xf32>, %v2: tensor<1x2x32xf32>,
                      %q3: tensor<1x1x64xf32>, %k3: tensor<1x1x32xf32>, %v3: tensor<1x1x32xf32>,
                      %kv: CACHE, %p0: index, %p5: index, %p7: index)
          -> (tensor<1x5x64xf32>, tensor<1x2x64xf32>, tensor<1x1x64xf32>) {
        %o1 = llm.attention %q1, %k1, %v1 cache %kv[%p0] : CACHE
                {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
                : tensor<1x5x64xf32>, tensor<1x5x32xf32>, tensor<1x5x32xf32> -> tensor<1x5x64xf32>
        %o2 = llm.attention %q2, %k2, %v2 cache %kv[%p5] : CACHE
                {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
                : tensor<1x2x64xf32>, tensor<1x2x32xf32>, tensor<1x2x32xf32> -> tensor<1x2x64xf32>
        %o3 = llm.attention %q3, %k3, %v3 cache %kv[%p7] : CACHE
                {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, causal}
                : tensor<1x1x64xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32> -> tensor<1x1x64xf32>
        return %o1, %o2, %o3 : tensor<1x5x64xf32>, tensor<1x2x64xf32>, tensor<1x1x64xf32>
      })";
    for (size_t at; (at = source.find("CACHE")) != std::string::npos;)
      source.replace(at, 5, cacheType);
    const int qw = kHeads * kDim, kw = kKVHeads * kDim;
    auto rows = [](const std::vector<float> &src, int width, int from, int to) {
      return std::vector<float>(src.begin() + from * width, src.begin() + to * width);
    };
    std::vector<HostTensor> inputs;
    const int bounds[] = {0, 5, 7, 8};
    for (int step = 0; step < 3; ++step) {
      int from = bounds[step], to = bounds[step + 1];
      inputs.push_back(f32({1, to - from, qw}, rows(q, qw, from, to)));
      inputs.push_back(f32({1, to - from, kw}, rows(k, kw, from, to)));
      inputs.push_back(f32({1, to - from, kw}, rows(v, kw, from, to)));
    }
    inputs.push_back(HostTensor{ElementKind::I1,
                                {static_cast<int64_t>(cache.size())}, cache});
    for (int64_t p : {0, 5, 7})
      inputs.push_back(i64({}, {p}));
    auto out = run(source, inputs);
    ASSERT_EQ(out.size(), 3u);
    cache = inputs[9].data;

    std::vector<float> want(kPositions * qw);
    double scale = 1.0 / std::sqrt(double(kDim));
    for (int i = 0; i < kPositions; ++i)
      for (int hh = 0; hh < kHeads; ++hh) {
        int g = hh / (kHeads / kKVHeads);
        int first = window > 0 ? std::max<int>(0, i - int(window) + 1) : 0;
        std::vector<double> p(i + 1, 0.0);
        double mx = -1e30, sum = 0;
        for (int t = first; t <= i; ++t) {
          double dot = 0;
          for (int c = 0; c < kDim; ++c)
            dot += double(q[(i * kHeads + hh) * kDim + c]) * k[(t * kKVHeads + g) * kDim + c];
          p[t] = dot * scale;
          mx = std::max(mx, p[t]);
        }
        for (int t = first; t <= i; ++t)
          sum += (p[t] = std::exp(p[t] - mx));
        for (int c = 0; c < kDim; ++c) {
          double acc = 0;
          for (int t = first; t <= i; ++t)
            acc += p[t] / sum * v[(t * kKVHeads + g) * kDim + c];
          want[(i * kHeads + hh) * kDim + c] = float(acc);
        }
      }
    for (int step = 0; step < 3; ++step)
      expectNear(out[step].toVector<float>(),
                 rows(want, qw, bounds[step], bounds[step + 1]), tol);
  }

  /// IEEE half (normal numbers and zero) to float.
  static float halfToFloat(uint16_t h) {
    int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    float magnitude =
        exponent == 0 ? std::ldexp(float(mantissa), -24)
                      : std::ldexp(float(1024 + mantissa), exponent - 25);
    return (h & 0x8000) ? -magnitude : magnitude;
  }

  std::vector<float> q, k, v;
};

TEST_F(KVCacheKernelTest, ContiguousF32) {
  // [2][1 layer][1 page][2 heads][16 slots][16] f32.
  std::vector<uint8_t> cache(2 * 2 * 16 * 16 * 4);
  runSteps("!llm.kv_cache<1 x 2 x 16 x 16, f32, #llm.kv_layout<contiguous, batch = 1>>",
           cache, 0, 1e-4f);
  // Position 6, head 1, channel 3 of the values sits at [1][0][0][1][6][3].
  float stored;
  std::memcpy(&stored, &cache[((((1 * 2 + 1) * 16) + 6) * 16 + 3) * 4], 4);
  EXPECT_EQ(stored, v[(6 * kKVHeads + 1) * kDim + 3]);
}

TEST_F(KVCacheKernelTest, ContiguousF16) {
  std::vector<uint8_t> cache(2 * 2 * 16 * 16 * 2);
  runSteps("!llm.kv_cache<1 x 2 x 16 x 16, f16, #llm.kv_layout<contiguous, batch = 1>>",
           cache, 0, 2e-3f);
}

TEST_F(KVCacheKernelTest, ContiguousInt8) {
  // Codes [2][1][1][2][16][16] i8 (1024 bytes), then f16 scales [2][1][1][2][16].
  const size_t codes = 2 * 2 * 16 * 16, scales = 2 * 2 * 16 * 2;
  std::vector<uint8_t> cache(codes + scales);
  runSteps("!llm.kv_cache<1 x 2 x 16 x 16, i8, #llm.kv_layout<contiguous, batch = 1>>",
           cache, 0, 3e-2f);
  // The key of position 2, head 0: scale max|x| / 127 in f16, codes
  // round(x / scale) with the stored scale.
  const float *key = &k[(2 * kKVHeads + 0) * kDim];
  float mx = 0;
  for (int c = 0; c < kDim; ++c)
    mx = std::max(mx, std::fabs(key[c]));
  uint16_t bits;
  std::memcpy(&bits, &cache[codes + (0 * 16 + 2) * 2], 2);
  float scale = halfToFloat(bits);
  EXPECT_NEAR(scale, mx / 127.0f, mx / 127.0f * 1e-3f);
  for (int c = 0; c < kDim; ++c)
    EXPECT_EQ(static_cast<int8_t>(cache[(0 * 16 + 2) * 16 + c]),
              static_cast<int8_t>(std::clamp(
                  std::nearbyint(key[c] * (1.0f / scale)), -127.0f, 127.0f)))
        << "channel " << c;
}

TEST_F(KVCacheKernelTest, PagedThroughPermutedBlockTable) {
  // Block table [1][4] i32 (padded to 64 bytes), then 4 blocks of 4 slots:
  // [2][1][4 blocks][2][4][16] f32. The table maps logical block j to
  // physical block 3 - j; the kernel must go through it.
  const size_t table = 64, data = 2 * 4 * 2 * 4 * 16 * 4;
  std::vector<uint8_t> cache(table + data);
  int32_t entries[4] = {3, 2, 1, 0};
  std::memcpy(cache.data(), entries, sizeof(entries));
  runSteps("!llm.kv_cache<1 x 2 x 16 x 16, f32, #llm.kv_layout<paged, batch = 1, block = 4>>",
           cache, 0, 1e-4f);
  // Position 5 is slot 1 of logical block 1, i.e. physical block 2: its key
  // of head 1, channel 0 is at [0][0][2][1][1][0].
  float stored;
  std::memcpy(&stored, &cache[table + ((((2 * 2) + 1) * 4 + 1) * 16) * 4], 4);
  EXPECT_EQ(stored, k[(5 * kKVHeads + 1) * kDim]);
}

TEST_F(KVCacheKernelTest, PagedInt8) {
  const size_t table = 64, codes = 2 * 4 * 2 * 4 * 16, scales = 2 * 4 * 2 * 4 * 2;
  std::vector<uint8_t> cache(table + codes + scales);
  int32_t entries[4] = {0, 1, 2, 3};
  std::memcpy(cache.data(), entries, sizeof(entries));
  runSteps("!llm.kv_cache<1 x 2 x 16 x 16, i8, #llm.kv_layout<paged, batch = 1, block = 4>>",
           cache, 0, 3e-2f);
}

TEST_F(KVCacheKernelTest, RingBufferSlidingWindow) {
  // A 4-position window: the 5-token prefill is longer than the ring, and
  // later steps wrap around; each query sees only its last 4 positions.
  std::vector<uint8_t> cache(2 * 2 * 4 * 16 * 4);
  runSteps("!llm.kv_cache<1 x 2 x 16 x 16, f32, #llm.kv_layout<ring, batch = 1, window = 4>>",
           cache, 4, 1e-4f);
  // Slot 3 holds position 7 (the last write), not position 3.
  float stored;
  std::memcpy(&stored, &cache[(3 * 16) * 4], 4);
  EXPECT_EQ(stored, k[(7 * kKVHeads + 0) * kDim]);
}

TEST_F(KVCacheKernelTest, RingBufferF16) {
  std::vector<uint8_t> cache(2 * 2 * 4 * 16 * 2);
  runSteps("!llm.kv_cache<1 x 2 x 16 x 16, f16, #llm.kv_layout<ring, batch = 1, window = 4>>",
           cache, 4, 2e-3f);
}

TEST_F(KernelTest, RopeMatchesHalfRotation) {
  const int s = 3, h = 2, d = 8;
  std::vector<float> x = random(s * h * d);
  auto out = run(R"(
    func.func @main(%x: tensor<1x3x16xf32>, %p: tensor<1x3xi64>) -> tensor<1x3x16xf32> {
      %r = llm.rope %x, %p {num_heads = 2 : i64, theta = 1.0e+04 : f64} : tensor<1x3x16xf32>, tensor<1x3xi64>
      return %r : tensor<1x3x16xf32>
    })", {f32({1, s, h * d}, x), i64({1, s}, {5, 6, 100})});
  ASSERT_EQ(out.size(), 1u);
  std::vector<float> want(x.size());
  int64_t pos[] = {5, 6, 100};
  for (int i = 0; i < s; ++i)
    for (int hh = 0; hh < h; ++hh)
      for (int c = 0; c < d / 2; ++c) {
        double f = 1.0 / std::pow(10000.0, 2.0 * c / d);
        double a = pos[i] * f;
        double x0 = x[(i * h + hh) * d + c], x1 = x[(i * h + hh) * d + c + d / 2];
        want[(i * h + hh) * d + c] = float(x0 * std::cos(a) - x1 * std::sin(a));
        want[(i * h + hh) * d + c + d / 2] = float(x1 * std::cos(a) + x0 * std::sin(a));
      }
  expectNear(out[0].toVector<float>(), want, 2e-4f);

  // The same rotation from precomputed cos/sin tables, interleaved pairs.
  std::vector<float> cosT(128 * d / 2), sinT(128 * d / 2);
  for (int p = 0; p < 128; ++p)
    for (int c = 0; c < d / 2; ++c) {
      double a = p / std::pow(10000.0, 2.0 * c / d);
      cosT[p * d / 2 + c] = float(std::cos(a));
      sinT[p * d / 2 + c] = float(std::sin(a));
    }
  auto tabled = run(R"(
    func.func @main(%x: tensor<1x3x16xf32>, %p: tensor<1x3xi64>, %c: tensor<128x4xf32>, %s: tensor<128x4xf32>) -> tensor<1x3x16xf32> {
      %r = llm.rope %x, %p tables(%c, %s : tensor<128x4xf32>, tensor<128x4xf32>) {num_heads = 2 : i64, interleaved}
             : tensor<1x3x16xf32>, tensor<1x3xi64>
      return %r : tensor<1x3x16xf32>
    })", {f32({1, s, h * d}, x), i64({1, s}, {5, 6, 100}), f32({128, d / 2}, cosT),
          f32({128, d / 2}, sinT)});
  ASSERT_EQ(tabled.size(), 1u);
  for (int i = 0; i < s; ++i)
    for (int hh = 0; hh < h; ++hh)
      for (int c = 0; c < d / 2; ++c) {
        double a = pos[i] / std::pow(10000.0, 2.0 * c / d);
        double x0 = x[(i * h + hh) * d + 2 * c], x1 = x[(i * h + hh) * d + 2 * c + 1];
        want[(i * h + hh) * d + 2 * c] = float(x0 * std::cos(a) - x1 * std::sin(a));
        want[(i * h + hh) * d + 2 * c + 1] = float(x1 * std::cos(a) + x0 * std::sin(a));
      }
  expectNear(tabled[0].toVector<float>(), want, 2e-4f);
}

// Quantized weights: the fused dequantizing f32 kernel (quant-kernel=fma;
// the VNNI kernel, which quantizes the activations, is checked below and in
// QuantizedMatmulRowsTest.cpp) must compute exactly the matmul with the
// dequantized weights (int8/int4, symmetric/asymmetric, groups of 16, 32
// and 64, several rows: a block of 4 that dequantizes the weights once for
// all its rows, then a remainder row; a block of 4 output channels and 3
// remainder ones).
TEST_F(KernelTest, QuantizedMatmulMatchesDequantizedReference) {
  const int64_t rows = 5, n = 7, k = 128;
  RunOptions fma;
  fma.quantKernel = "fma";
  for (unsigned bits : {8u, 4u})
    for (auto scheme : {llm::QuantScheme::symmetric, llm::QuantScheme::asymmetric})
      for (unsigned group : {16u, 32u, 64u}) {
        auto quant = llm::QuantAttr::get(&context, bits, group, scheme);
        std::vector<float> w = random(n * k), x = random(rows * k);
        auto [blob, deq] = pack(quant, n, k, w);
        auto [attr, shortForm] = spell(quant);
        auto out = run(R"(
          func.func @main(%x: tensor<5x128xf32>) -> tensor<5x7xf32> {
            %w = llm.weight "w" quant )" + shortForm + R"( at 0 : tensor<7x128xf32>
            %y = llm.matmul %x, %w transpose_b : tensor<5x128xf32>, tensor<7x128xf32> -> tensor<5x7xf32>
            return %y : tensor<5x7xf32>
          })", {f32({rows, k}, x)}, blob, fma);
        ASSERT_EQ(out.size(), 1u) << attr;
        std::vector<float> want(rows * n);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t j = 0; j < n; ++j) {
            double acc = 0;
            for (int64_t kk = 0; kk < k; ++kk)
              acc += double(x[r * k + kk]) * deq[j * k + kk];
            want[r * n + j] = float(acc);
          }
        // Quantization error is bounded by the scale: the dequantized
        // weights reproduce the originals closely.
        for (int64_t i = 0; i < n * k; ++i)
          ASSERT_NEAR(deq[i], w[i], bits == 8 ? 0.01 : 0.15) << attr;
        SCOPED_TRACE(attr);
        expectNear(out[0].toVector<float>(), want, 1e-4f);
      }
}

// A lookup in a quantized table returns the dequantized rows exactly (the
// kernel computes scale * q (+ min) in f32 as dequantize does), for every
// bits/scheme/group; out-of-range ids are clamped into the table.
TEST_F(KernelTest, QuantizedEmbedMatchesDequantizedRows) {
  const int64_t vocab = 11, hidden = 128;
  const std::vector<int64_t> ids = {3, 0, 10, 3, 7, 42, -5};
  const std::vector<int64_t> rowsRead = {3, 0, 10, 3, 7, 10, 0};
  for (unsigned bits : {8u, 4u})
    for (auto scheme : {llm::QuantScheme::symmetric, llm::QuantScheme::asymmetric})
      for (unsigned group : {16u, 32u, 128u}) {
        auto quant = llm::QuantAttr::get(&context, bits, group, scheme);
        auto [blob, deq] = pack(quant, vocab, hidden, random(vocab * hidden));
        auto [attr, shortForm] = spell(quant);
        auto out = run(R"(
          func.func @main(%ids: tensor<1x7xi64>) -> tensor<1x7x128xf32> {
            %t = llm.weight "t" quant )" + shortForm + R"( at 0 : tensor<11x128xf32>
            %h = llm.embed %t, %ids : tensor<11x128xf32>, tensor<1x7xi64> -> tensor<1x7x128xf32>
            return %h : tensor<1x7x128xf32>
          })", {i64({1, static_cast<int64_t>(ids.size())}, ids)}, blob);
        ASSERT_EQ(out.size(), 1u) << attr;
        std::vector<float> want;
        for (int64_t row : rowsRead)
          want.insert(want.end(), deq.begin() + row * hidden,
                      deq.begin() + (row + 1) * hidden);
        SCOPED_TRACE(attr);
        expectNear(out[0].toVector<float>(), want, 1e-6f);
      }
}

// The VNNI decode kernel (8- and 4-bit weights, one activation row)
// quantizes the activations per group to int8 with scale max|x| / 127, so
// each product x * scale * q is off by at most |scale * q| * max|x| / 254
// (round to nearest); the asymmetric min * sum(x) term uses the exact f32
// sum. An output is off by at most the sum over groups of
// (max|x| / 254) * sum |w - min|: that bound, plus f32 rounding relative to
// sum |x| * |w|, is the tolerance. The f32 kernel (quant-kernel=fma) stays
// exact on the same row. Both schemes; groups of 16 (8-bit: four groups per
// 64-code dot product; 4-bit falls back to the f32 kernel), 32 (two), 64
// and 128; 16-row blocks plus a remainder of 3 output channels. K = 576
// (SmolLM2's hidden size) gives 18 groups of 32 and 36 of 16: the
// asymmetric min terms take 16 groups per FMA and a remainder.
TEST_F(KernelTest, VnniQuantizedDecodeMatchesDequantizedReference) {
  const int64_t n = 19;
  for (int64_t k : {256, 576})
  for (auto scheme : {llm::QuantScheme::symmetric, llm::QuantScheme::asymmetric})
  for (unsigned bits : {8u, 4u})
  for (unsigned group : {16u, 32u, 64u, 128u})
    for (std::string kernel : {"vnni", "fma"}) {
      if (k % group != 0 || (k != 256 && group > 32))
        continue;
      auto quant = llm::QuantAttr::get(&context, bits, group, scheme);
      llm::QuantLayout layout = llm::getQuantLayout(quant, n, k);
      std::vector<float> w = random(n * k), x = random(k, 3.0f);
      x[5] = 0.0f;
      std::fill(x.begin() + group, x.begin() + 2 * group, 0.0f); // max|x| = 0
      auto [blob, deq] = pack(quant, n, k, w);
      auto [attr, shortForm] = spell(quant);
      std::string ks = std::to_string(k), ns = std::to_string(n);
      RunOptions options;
      options.quantKernel = kernel;
      auto out = run(R"(
        func.func @main(%x: tensor<1x)" + ks + R"(xf32>) -> tensor<1x)" + ns + R"(xf32> {
          %w = llm.weight "w" quant )" + shortForm + R"( at 0 : tensor<)" + ns + "x" + ks + R"(xf32>
          %y = llm.matmul %x, %w transpose_b : tensor<1x)" + ks + R"(xf32>, tensor<)" + ns + "x" + ks + R"(xf32> -> tensor<1x)" + ns + R"(xf32>
          return %y : tensor<1x)" + ns + R"(xf32>
        })", {f32({1, k}, x)}, blob, options);
      ASSERT_EQ(out.size(), 1u) << attr;
      std::vector<float> got = out[0].toVector<float>();
      ASSERT_EQ(got.size(), size_t(n));
      for (int64_t j = 0; j < n; ++j) {
        double want = 0, magnitude = 0, bound = 0;
        for (int64_t g = 0; g < k / group; ++g) {
          double amax = 0, wabs = 0, min = 0;
          if (scheme == llm::QuantScheme::asymmetric) {
            uint16_t h;
            std::memcpy(&h,
                        blob.data() + layout.minsOffset +
                            2 * (j * layout.groupsPerRow + g),
                        2);
            min = llm::halfToFloat(h);
          }
          for (int64_t kk = g * group; kk < (g + 1) * group; ++kk) {
            want += double(x[kk]) * deq[j * k + kk];
            magnitude += std::fabs(double(x[kk]) * deq[j * k + kk]);
            amax = std::max(amax, std::fabs(double(x[kk])));
            wabs += std::fabs(double(deq[j * k + kk]) - min);
          }
          bound += amax / 254.0 * wabs;
        }
        double tol = 1e-5 * magnitude + 1e-6;
        if (kernel == "vnni")
          tol += bound;
        EXPECT_NEAR(got[j], want, tol)
            << attr << " " << kernel << " output " << j << " (sum |x*w| "
            << magnitude << ", quantization bound " << bound << ")";
        // The activation error is real but small: well under 2% of the
        // magnitude for these random rows.
        EXPECT_LT(std::fabs(got[j] - want), 0.02 * magnitude) << attr;
      }
    }
}

// llm-fuse-attention must not change what the program computes: the
// op-by-op causal attention and its fused form agree.
TEST_F(KernelTest, FusedAttentionMatchesOpByOp) {
  std::string mask = "[";
  for (int i = 0; i < 4; ++i) {
    mask += i ? ", [" : "[";
    for (int j = 0; j < 4; ++j)
      mask += std::string(j ? ", " : "") + (j <= i ? "0.0" : "-1.0e+09");
    mask += "]";
  }
  mask += "]";
  std::string source = R"(
    func.func @main(%q: tensor<1x4x32xf32>, %k: tensor<1x4x32xf32>, %v: tensor<1x4x32xf32>) -> tensor<1x4x32xf32> {
      %q4 = llm.reshape %q : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
      %qt = llm.transpose %q4 [0, 2, 1, 3] : tensor<1x4x2x16xf32> -> tensor<1x2x4x16xf32>
      %k4 = llm.reshape %k : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
      %kt = llm.transpose %k4 [0, 2, 3, 1] : tensor<1x4x2x16xf32> -> tensor<1x2x16x4xf32>
      %v4 = llm.reshape %v : tensor<1x4x32xf32> -> tensor<1x4x2x16xf32>
      %vt = llm.transpose %v4 [0, 2, 1, 3] : tensor<1x4x2x16xf32> -> tensor<1x2x4x16xf32>
      %s = llm.matmul %qt, %kt : tensor<1x2x4x16xf32>, tensor<1x2x16x4xf32> -> tensor<1x2x4x4xf32>
      %c = arith.constant dense<4.0> : tensor<f32>
      %sc = llm.div %s, %c : tensor<1x2x4x4xf32>, tensor<f32> -> tensor<1x2x4x4xf32>
      %m = arith.constant dense<)" + mask + R"(> : tensor<4x4xf32>
      %ms = llm.add %sc, %m : tensor<1x2x4x4xf32>, tensor<4x4xf32> -> tensor<1x2x4x4xf32>
      %p = llm.softmax %ms : tensor<1x2x4x4xf32>
      %o = llm.matmul %p, %vt : tensor<1x2x4x4xf32>, tensor<1x2x4x16xf32> -> tensor<1x2x4x16xf32>
      %ot = llm.transpose %o [0, 2, 1, 3] : tensor<1x2x4x16xf32> -> tensor<1x4x2x16xf32>
      %r = llm.reshape %ot : tensor<1x4x2x16xf32> -> tensor<1x4x32xf32>
      return %r : tensor<1x4x32xf32>
    })";
  std::vector<HostTensor> inputs = {f32({1, 4, 32}, random(128)),
                                    f32({1, 4, 32}, random(128)),
                                    f32({1, 4, 32}, random(128))};
  auto unfused = run(source, inputs);
  ASSERT_EQ(unfused.size(), 1u);

  auto module = parseSourceString<ModuleOp>(source, &context);
  ASSERT_TRUE(module);
  PassManager pm(&context);
  pm.addPass(llm::createLLMFuseAttention());
  ASSERT_TRUE(succeeded(pm.run(*module)));
  int fused = 0;
  module->walk([&](llm::AttentionOp) { ++fused; });
  ASSERT_EQ(fused, 1);
  auto result = runFunction(*module, "main", inputs);
  ASSERT_TRUE(static_cast<bool>(result)) << llvm::toString(result.takeError());
  expectNear((*result)[0].toVector<float>(), unfused[0].toVector<float>());
}

// llm-fuse-rope must not change what the program computes: HF llama's
// rotary embedding spelled op by op (cos/sin rows gathered from
// cat(freqs, freqs) tables, rotate_half by slice/neg/concat) and the
// llm.rope it becomes agree.
TEST_F(KernelTest, FusedRoPEMatchesOpByOp) {
  const int maxPos = 16, d = 8;
  auto table = [&](double (*fn)(double)) {
    std::string t = "[";
    for (int p = 0; p < maxPos; ++p) {
      t += p ? ", [" : "[";
      for (int c = 0; c < d; ++c) {
        double a = p / std::pow(10000.0, 2.0 * (c % (d / 2)) / d);
        t += (c ? ", " : "") + std::to_string(float(fn(a)));
      }
      t += "]";
    }
    return t + "]";
  };
  std::string source = R"(
    func.func @main(%x: tensor<1x3x16xf32>, %pos: tensor<1x3xi64>) -> tensor<1x2x3x8xf32> {
      %ct = arith.constant dense<)" + table([](double a) { return std::cos(a); }) + R"(> : tensor<16x8xf32>
      %st = arith.constant dense<)" + table([](double a) { return std::sin(a); }) + R"(> : tensor<16x8xf32>
      %cg = llm.gather %ct, %pos {axis = 0 : i64} : tensor<16x8xf32>, tensor<1x3xi64> -> tensor<1x3x8xf32>
      %cos = llm.reshape %cg : tensor<1x3x8xf32> -> tensor<1x1x3x8xf32>
      %sg = llm.gather %st, %pos {axis = 0 : i64} : tensor<16x8xf32>, tensor<1x3xi64> -> tensor<1x3x8xf32>
      %sin = llm.reshape %sg : tensor<1x3x8xf32> -> tensor<1x1x3x8xf32>
      %x4 = llm.reshape %x : tensor<1x3x16xf32> -> tensor<1x3x2x8xf32>
      %xh = llm.transpose %x4 [0, 2, 1, 3] : tensor<1x3x2x8xf32> -> tensor<1x2x3x8xf32>
      %xc = llm.mul %xh, %cos : tensor<1x2x3x8xf32>, tensor<1x1x3x8xf32> -> tensor<1x2x3x8xf32>
      %lo = llm.slice %xh {axis = 3 : i64, start = 0 : i64} : tensor<1x2x3x8xf32> -> tensor<1x2x3x4xf32>
      %hi = llm.slice %xh {axis = 3 : i64, start = 4 : i64} : tensor<1x2x3x8xf32> -> tensor<1x2x3x4xf32>
      %nhi = llm.neg %hi : tensor<1x2x3x4xf32>
      %rot = llm.concat %nhi, %lo {axis = 3 : i64} : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32> -> tensor<1x2x3x8xf32>
      %xs = llm.mul %rot, %sin : tensor<1x2x3x8xf32>, tensor<1x1x3x8xf32> -> tensor<1x2x3x8xf32>
      %o = llm.add %xc, %xs : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32> -> tensor<1x2x3x8xf32>
      return %o : tensor<1x2x3x8xf32>
    })";
  std::vector<HostTensor> inputs = {f32({1, 3, 16}, random(48)),
                                    i64({1, 3}, {5, 6, 15})};
  auto unfused = run(source, inputs);
  ASSERT_EQ(unfused.size(), 1u);

  auto module = parseSourceString<ModuleOp>(source, &context);
  ASSERT_TRUE(module);
  PassManager pm(&context);
  pm.addPass(llm::createLLMFuseRoPE());
  ASSERT_TRUE(succeeded(pm.run(*module)));
  int fused = 0, gathers = 0;
  module->walk([&](llm::RopeOp) { ++fused; });
  module->walk([&](llm::GatherOp) { ++gathers; });
  ASSERT_EQ(fused, 1);
  ASSERT_EQ(gathers, 0);
  auto result = runFunction(*module, "main", inputs);
  ASSERT_TRUE(static_cast<bool>(result)) << llvm::toString(result.takeError());
  expectNear((*result)[0].toVector<float>(), unfused[0].toVector<float>(), 1e-5f);
}

} // namespace
