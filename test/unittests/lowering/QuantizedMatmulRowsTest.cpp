//===- QuantizedMatmulRowsTest.cpp - Quantized matmuls, row by row --------===//
//
// Part of Frugal. A quantized matmul must give every activation row the
// same result whatever rows it is computed with: batched decode runs the
// steps of several sequences as one matmul, and each sequence must get
// exactly the output it gets alone. Each layout runs the same weights on
// M = 1..17 rows and on 67 rows (more than one chunk of quantized
// activations for the VNNI kernel), and every row must equal the one-row
// result bit for bit; the rows are also checked against a double-precision
// reference on the dequantized weights. The VNNI kernel's activation scales
// (one per 16 elements) are checked on activations it represents exactly.
//
//===----------------------------------------------------------------------===//

#include "tools/llm-run/Runner.h"

#include "dialects/LLM/IR/LLMDialect.h"
#include "dialects/LLM/IR/LLMQuant.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <tuple>

using namespace mlir;
using namespace frugal;

namespace {

struct RowsCase {
  unsigned bits;
  unsigned group;
  llm::QuantScheme scheme;
  int64_t k;
  /// quant-kernel option: "vnni" (taken where the shape allows) or "fma".
  const char *kernel;
  /// Whether the VNNI kernel computes this shape (activations quantized to
  /// int8, so a looser bound against the reference).
  bool vnni;
  /// Whether 4-bit codes may be unpacked with GFNI (where the host has it);
  /// false: the shift and mask.
  bool gfni = true;
};

std::string caseName(const RowsCase &c) {
  return std::to_string(c.bits) + "-bit g" + std::to_string(c.group) +
         (c.scheme == llm::QuantScheme::symmetric ? " sym" : " asym") + " K=" +
         std::to_string(c.k) + " " + c.kernel + (c.gfni ? "" : " no-gfni");
}

void PrintTo(const RowsCase &c, std::ostream *os) { *os << caseName(c); }

class QuantizedMatmulTest : public ::testing::Test {
protected:
  QuantizedMatmulTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    registerAllExtensions(registry);
    registry.insert<llm::LLMDialect>();
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  /// `@main(%x: [rows, k]) -> [rows, n]`: %x times the weight `w`, stored
  /// as `quant` at offset 0, transposed.
  OwningOpRef<ModuleOp> singleMatmul(llm::QuantAttr quant, int64_t rows,
                                     int64_t n, int64_t k) {
    std::string attr;
    llvm::raw_string_ostream(attr) << quant;
    std::string ks = std::to_string(k), ns = std::to_string(n),
                rs = std::to_string(rows);
    std::string lhs = "tensor<" + rs + "x" + ks + "xf32>",
                res = "tensor<" + rs + "x" + ns + "xf32>",
                wt = "tensor<" + ns + "x" + ks + "xf32>";
    return parseSourceString<ModuleOp>(
        "func.func @main(%x: " + lhs + ") -> " + res +
            " {\n  %w = llm.weight \"w\" quant " + attr.substr(attr.find('<')) +
            " at 0 : " + wt + "\n  %y = llm.matmul %x, %w transpose_b : " +
            lhs + ", " + wt + " -> " + res + "\n  return %y : " + res + "\n}\n",
        &context);
  }

  MLIRContext context;
};

class QuantizedMatmulRowsTest : public QuantizedMatmulTest,
                                public ::testing::WithParamInterface<RowsCase> {
protected:
  std::mt19937 rng{2024};
};

uint32_t bitsOf(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

TEST_P(QuantizedMatmulRowsTest, EveryRowMatchesItsOneRowResultBitwise) {
  const RowsCase &tc = GetParam();
  SCOPED_TRACE(caseName(tc));
  // Two blocks of 16 weight rows and 3 remaining ones.
  const int64_t n = 35, k = tc.k, maxRows = 67;
  std::vector<int64_t> counts;
  for (int64_t m = 1; m <= 17; ++m)
    counts.push_back(m);
  counts.push_back(maxRows);

  auto quant = llm::QuantAttr::get(&context, tc.bits, tc.group, tc.scheme);
  llm::QuantLayout layout = llm::getQuantLayout(quant, n, k);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> w(n * k), x(maxRows * k);
  for (float &v : w)
    v = dist(rng);
  // Rows of different magnitudes (different activation scales), one zero
  // row and one zero group.
  for (int64_t r = 0; r < maxRows; ++r)
    for (int64_t i = 0; i < k; ++i)
      x[r * k + i] = dist(rng) * (0.25f + float(r % 5));
  std::fill(x.begin() + 2 * k, x.begin() + 3 * k, 0.0f);
  std::fill(x.begin() + 5 * k + tc.group, x.begin() + 5 * k + 2 * tc.group, 0.0f);
  std::vector<uint8_t> blob(layout.totalBytes);
  llm::quantizeRTN(quant, layout, w.data(), blob.data());
  std::vector<float> deq(n * k);
  llm::dequantize(quant, layout, blob.data(), deq.data());

  // One function: every row alone (one-row matmuls share one kernel), then
  // the first M rows together for each M.
  std::string attr;
  llvm::raw_string_ostream(attr) << quant;
  std::string shortForm = attr.substr(attr.find('<'));
  std::string ks = std::to_string(k), ns = std::to_string(n);
  auto lhs = [&](int64_t m) { return "tensor<" + std::to_string(m) + "x" + ks + "xf32>"; };
  auto res = [&](int64_t m) { return "tensor<" + std::to_string(m) + "x" + ns + "xf32>"; };
  std::string args, results, body, returns, returnTypes;
  std::vector<HostTensor> inputs;
  std::vector<int64_t> callRows;
  for (int64_t r = 0; r < maxRows; ++r)
    callRows.push_back(1);
  callRows.insert(callRows.end(), counts.begin(), counts.end());
  for (size_t i = 0; i < callRows.size(); ++i) {
    int64_t m = callRows[i];
    int64_t first = i < size_t(maxRows) ? int64_t(i) : 0;
    std::string id = std::to_string(i);
    args += (i ? ", " : "") + std::string("%x") + id + ": " + lhs(m);
    body += "  %y" + id + " = llm.matmul %x" + id + ", %w transpose_b : " +
            lhs(m) + ", tensor<" + ns + "x" + ks + "xf32> -> " + res(m) + "\n";
    returns += (i ? ", " : "") + std::string("%y") + id;
    returnTypes += (i ? ", " : "") + res(m);
    inputs.push_back(HostTensor::fromVector(
        ElementKind::F32, {m, k},
        std::vector<float>(x.begin() + first * k, x.begin() + (first + m) * k)));
  }
  std::string source = "func.func @main(" + args + ") -> (" + returnTypes +
                       ") {\n  %w = llm.weight \"w\" quant " + shortForm +
                       " at 0 : tensor<" + ns + "x" + ks + "xf32>\n" + body +
                       "  return " + returns + " : " + returnTypes + "\n}\n";
  auto module = parseSourceString<ModuleOp>(source, &context);
  ASSERT_TRUE(module) << source;
  RunOptions options;
  options.quantKernel = tc.kernel;
  options.gfni = tc.gfni;
  auto out = runFunction(*module, "main", inputs, blob, options);
  ASSERT_TRUE(bool(out)) << llvm::toString(out.takeError());
  ASSERT_EQ(out->size(), callRows.size());

  std::vector<std::vector<float>> alone;
  for (int64_t r = 0; r < maxRows; ++r)
    alone.push_back((*out)[r].toVector<float>());
  for (size_t i = 0; i < counts.size(); ++i) {
    int64_t m = counts[i];
    std::vector<float> got = (*out)[maxRows + i].toVector<float>();
    ASSERT_EQ(got.size(), size_t(m * n));
    for (int64_t r = 0; r < m; ++r)
      for (int64_t j = 0; j < n; ++j)
        ASSERT_EQ(bitsOf(got[r * n + j]), bitsOf(alone[r][j]))
            << "M = " << m << ", row " << r << ", output " << j << ": "
            << got[r * n + j] << " vs " << alone[r][j] << " alone";
  }

  // Numerics of every row (alone, hence in any batch) against the
  // dequantized weights. The VNNI kernel quantizes each activation group to
  // int8 with scale max|x| / 127: an output is off by at most the sum over
  // groups of (max|x| / 254) * sum |w - min|, plus f32 rounding.
  for (int64_t r = 0; r < maxRows; ++r)
    for (int64_t j = 0; j < n; ++j) {
      double want = 0, magnitude = 0, bound = 0;
      for (int64_t g = 0; g < k / tc.group; ++g) {
        double amax = 0, wabs = 0, min = 0;
        if (tc.scheme == llm::QuantScheme::asymmetric) {
          uint16_t h;
          std::memcpy(&h,
                      blob.data() + layout.minsOffset +
                          2 * (j * layout.groupsPerRow + g),
                      2);
          min = llm::halfToFloat(h);
        }
        for (int64_t kk = g * tc.group; kk < (g + 1) * tc.group; ++kk) {
          double xv = x[r * k + kk], wv = deq[j * k + kk];
          want += xv * wv;
          magnitude += std::fabs(xv * wv);
          amax = std::max(amax, std::fabs(xv));
          wabs += std::fabs(wv - min);
        }
        bound += amax / 254.0 * wabs;
      }
      double tol = 1e-5 * magnitude + 1e-6 + (tc.vnni ? bound : 0.0);
      ASSERT_NEAR(alone[r][j], want, tol)
          << "row " << r << ", output " << j << " (sum |x*w| " << magnitude
          << ")";
    }
}

using llm::QuantScheme;
INSTANTIATE_TEST_SUITE_P(
    Layouts, QuantizedMatmulRowsTest,
    ::testing::Values(
        // VNNI: K = 576 (SmolLM2's hidden size).
        RowsCase{8, 32, QuantScheme::symmetric, 576, "vnni", true},
        RowsCase{4, 32, QuantScheme::symmetric, 576, "vnni", true},
        RowsCase{4, 32, QuantScheme::asymmetric, 576, "vnni", true},
        RowsCase{8, 16, QuantScheme::symmetric, 576, "vnni", true},
        RowsCase{8, 16, QuantScheme::asymmetric, 576, "vnni", true},
        RowsCase{4, 64, QuantScheme::symmetric, 256, "vnni", true},
        // 4-bit codes unpacked by a shift and a mask, not GFNI.
        RowsCase{4, 32, QuantScheme::symmetric, 576, "vnni", true, false},
        RowsCase{4, 32, QuantScheme::asymmetric, 576, "vnni", true, false},
        // K not a multiple of 64, K = 64, 4-bit groups of 16, and
        // quant-kernel=fma: the f32 kernel for every number of rows.
        RowsCase{8, 32, QuantScheme::symmetric, 96, "vnni", false},
        RowsCase{4, 32, QuantScheme::symmetric, 64, "vnni", false},
        RowsCase{4, 32, QuantScheme::asymmetric, 96, "vnni", false},
        RowsCase{4, 16, QuantScheme::symmetric, 576, "vnni", false},
        RowsCase{4, 32, QuantScheme::asymmetric, 576, "fma", false}),
    [](const ::testing::TestParamInfo<RowsCase> &info) {
      std::string name = caseName(info.param);
      for (char &ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch)))
          ch = '_';
      return name;
    });

} // namespace

namespace {
// The VNNI kernel quantizes activations in blocks of 16 elements, each with
// its own int8 scale max|x| / 127, whatever the weight group. Activations
// whose every block is an exact multiple of its scale (block b: c_b * j /
// 127 with integer j, one j = 127) then lose nothing, so the result must
// be the dequantized weights' up to f32 rounding even where the blocks of
// one weight group differ 40-fold in magnitude (one scale per group of 32
// or 128 would round the small blocks to a few levels). 4-bit codes are
// unpacked both with GFNI and with the shift and mask.
TEST_F(QuantizedMatmulTest, VnniActivationScalesPerBlockOf16) {
  std::mt19937 rng{11};
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::uniform_int_distribution<int> level(-127, 127);
  const int64_t rows = 5, n = 32, k = 256;
  for (auto [bits, group, scheme] :
       {std::tuple{8u, 32u, llm::QuantScheme::symmetric},
        std::tuple{4u, 32u, llm::QuantScheme::symmetric},
        std::tuple{4u, 128u, llm::QuantScheme::symmetric},
        std::tuple{4u, 64u, llm::QuantScheme::asymmetric}})
  for (bool gfni : {true, false}) {
    if (bits == 8 && !gfni)
      continue;
    auto quant = llm::QuantAttr::get(&context, bits, group, scheme);
    SCOPED_TRACE(std::to_string(bits) + "-bit g" + std::to_string(group) +
                 (gfni ? "" : " no-gfni"));
    llm::QuantLayout layout = llm::getQuantLayout(quant, n, k);
    std::vector<float> w(n * k), x(rows * k);
    for (float &v : w)
      v = dist(rng);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t b = 0; b < k / 16; ++b) {
        float c = (b % 2 ? 0.05f : 2.0f) * float(1 + (r + b) % 3);
        for (int64_t i = 0; i < 16; ++i)
          x[r * k + b * 16 + i] =
              c * float(i == (b + r) % 16 ? 127 : level(rng)) / 127.0f;
      }
    std::vector<uint8_t> blob(layout.totalBytes);
    llm::quantizeRTN(quant, layout, w.data(), blob.data());
    std::vector<float> deq(n * k);
    llm::dequantize(quant, layout, blob.data(), deq.data());
    auto module = singleMatmul(quant, rows, n, k);
    ASSERT_TRUE(module);
    RunOptions options;
    options.quantKernel = "vnni";
    options.gfni = gfni;
    auto out = runFunction(
        *module, "main", {HostTensor::fromVector(ElementKind::F32, {rows, k}, x)},
        blob, options);
    ASSERT_TRUE(bool(out)) << llvm::toString(out.takeError());
    std::vector<float> got = (*out)[0].toVector<float>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j) {
        double want = 0, magnitude = 0;
        for (int64_t i = 0; i < k; ++i) {
          want += double(x[r * k + i]) * deq[j * k + i];
          magnitude += std::fabs(double(x[r * k + i]) * deq[j * k + i]);
        }
        ASSERT_NEAR(got[r * n + j], want, 1e-5 * magnitude + 1e-6)
            << "row " << r << ", output " << j;
      }
  }
}

// Prefill speed of the quantized kernels (not a test: run with
// --gtest_also_run_disabled_tests): the fastest of 20 calls of a 253-row
// matmul per kernel, layout and SmolLM2 shape.
TEST_F(QuantizedMatmulTest, DISABLED_PrefillSpeed) {
  std::mt19937 rng{7};
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int64_t rows = 253;
  for (auto [bits, group, scheme] :
       {std::tuple{8u, 32u, llm::QuantScheme::symmetric},
        std::tuple{4u, 32u, llm::QuantScheme::symmetric},
        std::tuple{4u, 32u, llm::QuantScheme::asymmetric},
        std::tuple{8u, 16u, llm::QuantScheme::symmetric}})
    for (auto [n, k] : {std::pair<int64_t, int64_t>{576, 576}, {1536, 576}, {576, 1536}})
      for (std::string kernel : {"vnni", "fma"}) {
        auto quant = llm::QuantAttr::get(&context, bits, group, scheme);
        llm::QuantLayout layout = llm::getQuantLayout(quant, n, k);
        std::vector<float> w(n * k), x(rows * k);
        for (float &v : w)
          v = dist(rng);
        for (float &v : x)
          v = dist(rng);
        std::vector<uint8_t> blob(layout.totalBytes);
        llm::quantizeRTN(quant, layout, w.data(), blob.data());
        std::string attr;
        llvm::raw_string_ostream(attr) << quant;
        auto module = singleMatmul(quant, rows, n, k);
        ASSERT_TRUE(module);
        RunOptions options;
        options.quantKernel = kernel;
        options.optimizeLLVM = true;
        options.timedCalls = 20;
        double fastest = 0;
        options.fastestCallSeconds = &fastest;
        auto out = runFunction(*module, "main",
                               {HostTensor::fromVector(ElementKind::F32, {rows, k}, x)},
                               blob, options);
        ASSERT_TRUE(bool(out)) << llvm::toString(out.takeError());
        std::printf("prefill %s %4lldx%-4lld %-4s %8.1f us %6.1f GMAC/s\n",
                    attr.c_str(), (long long)n, (long long)k, kernel.c_str(),
                    fastest * 1e6, rows * n * k / fastest * 1e-9);
      }
}
} // namespace
