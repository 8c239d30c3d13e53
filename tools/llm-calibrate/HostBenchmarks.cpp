//===- HostBenchmarks.cpp - Measurements behind llm-calibrate --------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "tools/llm-calibrate/HostBenchmarks.h"

#include "passes/CostModel/CostModel.h"
#include "tools/llm-run/Runner.h"

#include "dialects/LLM/IR/LLMDialect.h"

#include "mlir/Parser/Parser.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

using namespace mlir;
using namespace mlir::llm;
using namespace frugal;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Runs `body(thread)` on `threads` threads and returns the wall time.
template <typename Body> double runThreads(unsigned threads, Body body) {
  std::vector<std::thread> pool;
  auto start = Clock::now();
  for (unsigned t = 1; t < threads; ++t)
    pool.emplace_back(body, t);
  body(0);
  for (std::thread &thread : pool)
    thread.join();
  return secondsSince(start);
}

typedef float v16f __attribute__((vector_size(64)));

#if defined(__x86_64__)
__attribute__((target("avx512f"))) float sumAVX512(const float *a, size_t n) {
  v16f s0 = {}, s1 = {}, s2 = {}, s3 = {};
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    s0 += *(const v16f *)(a + i);
    s1 += *(const v16f *)(a + i + 16);
    s2 += *(const v16f *)(a + i + 32);
    s3 += *(const v16f *)(a + i + 48);
  }
  v16f s = s0 + s1 + s2 + s3;
  float total = 0;
  for (int k = 0; k < 16; ++k)
    total += s[k];
  for (; i < n; ++i)
    total += a[i];
  return total;
}

/// 12 independent FMA chains keep both FMA pipes busy.
__attribute__((target("avx512f,fma"))) float fmaAVX512(int64_t iterations,
                                                       float seed) {
  v16f acc[12];
  for (int j = 0; j < 12; ++j)
    acc[j] = (v16f){} + (seed + 0.5f * j);
  v16f a = (v16f){} + 0.999f, b = (v16f){} + 0.001f;
  for (int64_t i = 0; i < iterations; ++i)
    for (int j = 0; j < 12; ++j)
      acc[j] = __builtin_elementwise_fma(acc[j], a, b);
  float total = 0;
  for (int j = 0; j < 12; ++j)
    for (int k = 0; k < 16; ++k)
      total += acc[j][k];
  return total;
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) int
dotVNNI(int64_t iterations, int seed) {
  __m512i acc[12];
  for (int j = 0; j < 12; ++j)
    acc[j] = _mm512_set1_epi32(seed + j);
  __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (int64_t i = 0; i < iterations; ++i)
    for (int j = 0; j < 12; ++j)
      acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);
  // Lanes wrap around; so does the (unsigned) total.
  unsigned total = 0;
  for (int j = 0; j < 12; ++j)
    total += unsigned(_mm512_reduce_add_epi32(acc[j]));
  return int(total & 0xffff);
}
#endif

float sumGeneric(const float *a, size_t n) {
  float s[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k)
      s[k] += a[i + k];
  float total = 0;
  for (float v : s)
    total += v;
  for (; i < n; ++i)
    total += a[i];
  return total;
}

float fmaGeneric(int64_t iterations, float seed) {
  float acc[32];
  for (int j = 0; j < 32; ++j)
    acc[j] = seed + 0.5f * j;
  for (int64_t i = 0; i < iterations; ++i)
    for (int j = 0; j < 32; ++j)
      acc[j] = acc[j] * 0.999f + 0.001f;
  float total = 0;
  for (float v : acc)
    total += v;
  return total;
}

bool hasAVX512() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool hasVNNI() {
#if defined(__x86_64__)
  return hasAVX512() && __builtin_cpu_supports("avx512vnni") &&
         __builtin_cpu_supports("avx512bw");
#else
  return false;
#endif
}

// The kernels are pure functions: each call reads its seed from (and
// writes its result to) a volatile so that no two calls can be merged.
volatile float floatSink;
volatile int intSink;

} // namespace

double frugal::measureReadBandwidth(unsigned threads, size_t bytes,
                                    int passes) {
  size_t n = bytes / sizeof(float);
  // Freed with the alignment it was allocated with.
  struct AlignedDelete {
    void operator()(float *p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  std::unique_ptr<float[], AlignedDelete> buffer(
      new (std::align_val_t(64)) float[n]);
  float *a = buffer.get();
  size_t chunk = (n / threads + 63) / 64 * 64;
  // First touch by the thread that reads the chunk later.
  runThreads(threads, [&](unsigned t) {
    size_t begin = std::min(n, t * chunk), end = std::min(n, begin + chunk);
    for (size_t i = begin; i < end; ++i)
      a[i] = float(i & 7);
  });
  bool avx512 = hasAVX512();
  double best = 0;
  std::vector<float> partial(threads);
  for (int pass = 0; pass < passes; ++pass) {
    double seconds = runThreads(threads, [&](unsigned t) {
      size_t begin = std::min(n, t * chunk), end = std::min(n, begin + chunk);
      // The buffer must be read again on every pass.
      asm volatile("" ::: "memory");
#if defined(__x86_64__)
      if (avx512) {
        partial[t] = sumAVX512(a + begin, end - begin);
        return;
      }
#endif
      partial[t] = sumGeneric(a + begin, end - begin);
    });
    for (float p : partial)
      floatSink = floatSink + p;
    best = std::max(best, double(n * sizeof(float)) / seconds);
  }
  (void)avx512;
  return best;
}

/// The best rate of many short bursts on `threads` threads over about
/// `seconds`: a peak is what the core does when nothing preempts it, and a
/// burst of about 2 ms usually runs undisturbed even on a busy machine.
template <typename Kernel>
static double measurePeak(unsigned threads, double seconds, double opsPerIter,
                          Kernel kernel) {
  int64_t iterations = 1 << 12;
  for (;;) {
    auto start = Clock::now();
    kernel(iterations);
    if (secondsSince(start) > 2e-3 || iterations > (int64_t(1) << 30))
      break;
    iterations *= 2;
  }
  double best = 0;
  auto start = Clock::now();
  do {
    double t = runThreads(threads, [&](unsigned) { kernel(iterations); });
    best = std::max(best, opsPerIter * double(iterations) * threads / t);
  } while (secondsSince(start) < seconds);
  return best;
}

double frugal::measurePeakF32(unsigned threads, double seconds) {
#if defined(__x86_64__)
  if (hasAVX512())
    return measurePeak(threads, seconds, 12 * 16 * 2, [](int64_t n) {
      floatSink = fmaAVX512(n, floatSink);
    });
#endif
  return measurePeak(threads, seconds, 32 * 2,
                     [](int64_t n) { floatSink = fmaGeneric(n, floatSink); });
}

double frugal::measurePeakInt8(unsigned threads, double seconds) {
#if defined(__x86_64__)
  // One vpdpbusd: 64 byte products accumulated (128 ops).
  if (hasVNNI())
    return measurePeak(threads, seconds, 12 * 128, [](int64_t n) {
      intSink = dotVNNI(n, intSink);
    });
#endif
  (void)threads;
  (void)seconds;
  return 0;
}

namespace {

/// One kernel benchmark: llm IR with a single costed op, its inputs and
/// weights.
struct KernelBench {
  std::string opClass;
  std::string label;
  std::string source;
  std::vector<HostTensor> inputs;
  int64_t context = 0;
  int64_t calls = 10;
  /// The byte every weight is filled with. Weights without an `at` offset
  /// are laid out one after another (64-byte aligned).
  uint8_t weightByte = 0x11;
};

HostTensor filled(ElementKind kind, std::vector<int64_t> shape, uint8_t byte) {
  HostTensor t{kind, std::move(shape), {}};
  t.data.assign(t.numElements() * HostTensor::elementSize(kind), byte);
  return t;
}

/// x[1, rows, k] * w[n, k]^T with w stored as `quant` ("" for f32).
KernelBench matmulBench(std::string opClass, int64_t rows, int64_t n,
                        int64_t k, llvm::StringRef quant, int64_t calls) {
  std::string x = "tensor<1x" + std::to_string(rows) + "x" +
                  std::to_string(k) + "xf32>";
  std::string w = "tensor<" + std::to_string(n) + "x" + std::to_string(k) +
                  "xf32>";
  std::string y = "tensor<1x" + std::to_string(rows) + "x" +
                  std::to_string(n) + "xf32>";
  std::string quantText = quant.empty() ? "" : (" quant " + quant).str();
  KernelBench b;
  b.opClass = std::move(opClass);
  b.label = llvm::formatv("{0}x{1} * ({2}x{3})^T {4}", rows, k, n, k,
                          quant.empty() ? "f32"
                          : quant.contains("bits = 4") ? "int4 g32"
                                                       : "int8 g32")
                .str();
  b.source = "func.func @main(%x: " + x + ") -> " + y + " {\n" +
             "  %w = llm.weight \"w\"" + quantText + " at 0 : " + w + "\n" +
             "  %y = llm.matmul %x, %w transpose_b : " + x + ", " + w +
             " -> " + y + "\n  return %y : " + y + "\n}\n";
  // Bytes of 0x3f: activations of about 0.75.
  b.inputs.push_back(filled(ElementKind::F32, {1, rows, k}, 0x3f));
  b.calls = calls;
  return b;
}

/// Decode-shaped work: `pairs` times x[1,1,576] -> [1536] -> [576] through
/// GEMVs of their own weights stored as `quant` (SmolLM2's MLP shapes), so
/// each op is a parallel region of a decode step's size and the weights,
/// together larger than the last-level cache, stream from DRAM.
KernelBench sequenceBench(std::string opClass, int64_t pairs,
                          llvm::StringRef quant, int64_t calls) {
  const int64_t d = 576, f = 1536;
  auto act = [](int64_t n) { return "tensor<1x1x" + std::to_string(n) + "xf32>"; };
  auto mat = [](int64_t n, int64_t k) {
    return "tensor<" + std::to_string(n) + "x" + std::to_string(k) + "xf32>";
  };
  std::string quantText = quant.empty() ? "" : (" quant " + quant).str();
  KernelBench b;
  b.opClass = std::move(opClass);
  b.label = llvm::formatv("{0} GEMVs 576<->1536 {1}", 2 * pairs,
                          quant.empty() ? "f32"
                          : quant.contains("bits = 4") ? "int4 g32"
                                                       : "int8 g32")
                .str();
  std::string body, x = "%x";
  for (int64_t i = 0; i < 2 * pairs; ++i) {
    int64_t n = i % 2 ? d : f, k = i % 2 ? f : d;
    std::string w = "%w" + std::to_string(i), y = "%y" + std::to_string(i);
    body += "  " + w + " = llm.weight \"w" + std::to_string(i) + "\"" +
            quantText + " : " + mat(n, k) + "\n";
    body += "  " + y + " = llm.matmul " + x + ", " + w + " transpose_b : " +
            act(k) + ", " + mat(n, k) + " -> " + act(n) + "\n";
    x = y;
  }
  b.source = "func.func @main(%x: " + act(d) + ") -> " + act(d) + " {\n" +
             body + "  return " + x + " : " + act(d) + "\n}\n";
  b.inputs.push_back(filled(ElementKind::F32, {1, 1, d}, 0x3f));
  b.calls = calls;
  return b;
}

KernelBench attentionBench(int64_t heads, int64_t kvHeads, int64_t headDim,
                           int64_t capacity, int64_t calls) {
  std::string q = "tensor<1x1x" + std::to_string(heads * headDim) + "xf32>";
  std::string kv = "tensor<1x1x" + std::to_string(kvHeads * headDim) + "xf32>";
  std::string cache = "!llm.kv_cache<1 x " + std::to_string(kvHeads) + " x " +
                      std::to_string(capacity) + " x " +
                      std::to_string(headDim) + ", f32>";
  KernelBench b;
  b.opClass = "attention";
  b.label = llvm::formatv("decode, {0}/{1} heads x {2}, context {3}", heads,
                          kvHeads, headDim, capacity - 1)
                .str();
  b.source = "func.func @main(%q: " + q + ", %k: " + kv + ", %v: " + kv +
             ", %pos: index, %cache: " + cache + ") -> " + q + " {\n" +
             "  %o = llm.attention %q, %k, %v cache %cache[%pos] : " + cache +
             " {causal, layer = 0 : i64, num_heads = " +
             std::to_string(heads) + " : i64, num_kv_heads = " +
             std::to_string(kvHeads) + " : i64} : " + q + ", " + kv + ", " +
             kv + " -> " + q + "\n  return %o : " + q + "\n}\n";
  b.inputs.push_back(filled(ElementKind::F32, {1, 1, heads * headDim}, 0x3c));
  b.inputs.push_back(filled(ElementKind::F32, {1, 1, kvHeads * headDim}, 0x3c));
  b.inputs.push_back(filled(ElementKind::F32, {1, 1, kvHeads * headDim}, 0x3c));
  b.inputs.push_back(
      HostTensor::fromVector(ElementKind::I64, {1}, std::vector<int64_t>{capacity - 1}));
  b.inputs.push_back(
      filled(ElementKind::F32, {2, 1, kvHeads, capacity, headDim}, 0x3c));
  b.context = capacity - 1;
  b.calls = calls;
  return b;
}

/// A unary elementwise op (`op` on [1, rows, cols]).
KernelBench unaryBench(std::string opClass, llvm::StringRef op, int64_t rows,
                       int64_t cols, int64_t calls) {
  std::string t = "tensor<1x" + std::to_string(rows) + "x" +
                  std::to_string(cols) + "xf32>";
  KernelBench b;
  b.opClass = std::move(opClass);
  b.label = (op + " on 1x" + std::to_string(rows) + "x" + std::to_string(cols))
                .str();
  b.source = "func.func @main(%x: " + t + ") -> " + t + " {\n  %y = llm." +
             op.str() + " %x : " + t + "\n  return %y : " + t + "\n}\n";
  b.inputs.push_back(filled(ElementKind::F32, {1, rows, cols}, 0x3c));
  b.calls = calls;
  return b;
}

struct KernelResult {
  std::string opClass, dtype, label;
  OpCost cost;
  /// Mean seconds of the timed calls (what the cost model predicts: the
  /// expected time, scheduling delays on a shared machine included) and
  /// the fastest call.
  double seconds = 0, fastestSeconds = 0;
  /// Each costed op: cost, op class and dtype.
  struct Op {
    OpCost cost;
    std::string opClass, dtype;
  };
  std::vector<Op> ops;
};

llvm::Expected<KernelResult> runBench(MLIRContext &context,
                                      const KernelBench &bench,
                                      unsigned threads) {
  auto module = parseSourceString<ModuleOp>(bench.source, &context);
  if (!module)
    return llvm::createStringError("cannot parse the benchmark IR:\n" +
                                   bench.source);
  KernelResult result;
  result.label = bench.label;
  CostContext ctx{1, bench.context};
  module->walk([&](CostOpInterface op) {
    if (isa<WeightOp>(op.getOperation()))
      return;
    OpCost opCost = op.getCost(ctx);
    auto [opClass, dtype] = cost::classifyOp(op, ctx);
    result.cost += opCost;
    result.dtype = dtype;
    result.ops.push_back({opCost, opClass, dtype});
  });
  result.opClass = bench.opClass;
  // Weight bytes of 0x11: small normal f32 and f16 values, valid codes.
  int64_t weightBytes = 0;
  module->walk([&](WeightOp weight) {
    if (!weight.getOffset()) {
      weight.setOffsetAttr(Builder(&context).getI64IntegerAttr(
          llvm::alignTo(weightBytes, 64)));
    }
    weightBytes = std::max<int64_t>(weightBytes, weight.getOffset().value_or(0) +
                                            weight.getStorageBytes());
  });
  std::vector<uint8_t> weights(weightBytes, bench.weightByte);
  RunOptions options;
  options.optimizeLLVM = true;
  options.openmp = threads > 1;
  options.timedCalls = bench.calls;
  options.fastestCallSeconds = &result.fastestSeconds;
  options.meanCallSeconds = &result.seconds;
  auto outputs =
      runFunction(*module, "main", bench.inputs, weights, options);
  if (!outputs)
    return outputs.takeError();
  return result;
}

std::string cpuName() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  return llvm::sys::getHostCPUName().str();
}

double loadAverage() {
  std::ifstream loadavg("/proc/loadavg");
  double load = 0;
  loadavg >> load;
  return load;
}

std::string utcNow() {
  std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

} // namespace

llvm::Expected<cost::TargetDescription>
frugal::calibrateHost(MLIRContext &context,
                      const cost::TargetDescription &base,
                      const CalibrationOptions &options,
                      llvm::raw_ostream &log) {
  unsigned threads = options.threads ? options.threads
                                     : std::max(1u, std::thread::hardware_concurrency());
  bool quick = options.quick;
  cost::TargetDescription t = base;
  t.path.clear();
  t.name = "host-cpu";
  t.kind = "cpu";
  auto start = Clock::now();
  double load = loadAverage();

  // Memory and peak rates.
  size_t bufferBytes = size_t(quick ? 128 : 512) << 20;
  int passes = quick ? 3 : 5;
  double bw1 = measureReadBandwidth(1, bufferBytes, passes);
  double bwAll = threads > 1 ? measureReadBandwidth(threads, bufferBytes, passes)
                             : bw1;
  log << llvm::format("read bandwidth: %.1f GB/s (1 thread), %.1f GB/s (%u "
                      "threads)\n",
                      bw1 / 1e9, bwAll / 1e9, threads);
  double peakF32 = measurePeakF32(threads, quick ? 0.05 : 0.2);
  double peakInt8 = measurePeakInt8(threads, quick ? 0.05 : 0.2);
  log << llvm::format("peak loops: %.1f GFLOP/s f32, %.1f GOP/s int8%s\n",
                      peakF32 / 1e9, peakInt8 / 1e9,
                      peakInt8 ? "" : " (no AVX-512 VNNI)");
  t.memoryBandwidth = bwAll;
  t.peakFlops.clear();
  t.peakFlops["f32"] = peakF32;
  if (peakInt8 > 0) {
    t.peakFlops["int8"] = peakInt8;
    t.peakFlops["int4"] = peakInt8;
  }
  t.efficiency.clear();

  // Per-op overhead of an op with next to no work (the target's
  // op_overhead_s; GEMV classes and attention get their own below): a
  // 576-element add is all call and parallel-region cost. Its mean over many
  // calls, the expected cost, not the fastest call.
  KernelBench tiny;
  tiny.opClass = "elementwise";
  tiny.label = "add on 1x1x576 (per-op overhead)";
  tiny.source = R"(func.func @main(%a: tensor<1x1x576xf32>, %b: tensor<1x1x576xf32>) -> tensor<1x1x576xf32> {
  %c = llm.add %a, %b : tensor<1x1x576xf32>, tensor<1x1x576xf32> -> tensor<1x1x576xf32>
  return %c : tensor<1x1x576xf32>
})";
  tiny.inputs = {filled(ElementKind::F32, {1, 1, 576}, 0x3c),
                 filled(ElementKind::F32, {1, 1, 576}, 0x3c)};
  tiny.calls = quick ? 1000 : 4000;
  auto overhead = runBench(context, tiny, threads);
  if (!overhead)
    return overhead.takeError();
  t.opOverheadSeconds = overhead->seconds;
  log << llvm::format("per-op overhead: %.2f us (an empty op; %.2f us "
                      "fastest)\n",
                      overhead->seconds * 1e6, overhead->fastestSeconds * 1e6);

  // Weights far larger than the last-level cache, as a model's are.
  int64_t k = 1024, scale = quick ? 2 : 1;
  const char *q8 = "<bits = 8, group = 32, scheme = symmetric>";
  const char *q4 = "<bits = 4, group = 32, scheme = symmetric>";
  int64_t nF32 = 65536 / scale, n8 = 131072 / scale, n4 = 262144 / scale;
  int64_t calls = quick ? 4 : 8;
  std::vector<KernelBench> benches = {
      matmulBench("gemv_f32", 1, nF32, k, "", calls),
      matmulBench("gemm_f32", 128, 1536, 576, "", calls),
      matmulBench("gemv_int8", 1, n8, k, q8, calls),
      matmulBench("gemm_int8", 128, 1536, 576, q8, calls),
      matmulBench("gemv_int4", 1, n4, k, q4, calls),
      matmulBench("gemm_int4", 128, 1536, 576, q4, calls),
      attentionBench(24, 8, 64, quick ? 8192 : 16384, calls),
      unaryBench("elementwise", "silu", quick ? 1024 : 4096, 4096, calls),
  };
  std::vector<KernelResult> results;
  for (const KernelBench &bench : benches) {
    auto result = runBench(context, bench, threads);
    if (!result)
      return llvm::createStringError(
          "benchmark " + bench.opClass + " (" + bench.label +
          ") failed: " + llvm::toString(result.takeError()));
    results.push_back(std::move(*result));
  }
  // Our GEMM may beat the FMA loop when other work shares the machine; the
  // peak is the best rate seen, so that efficiencies stay at most 1.
  for (const KernelResult &r : results)
    if (r.opClass.rfind("gemm_", 0) == 0 && r.seconds > 0) {
      double &peak = t.peakFlops[r.dtype];
      peak = std::max(peak, double(r.cost.flops) / r.seconds);
    }

  llvm::json::Array kernels;
  log << llvm::formatv("{0,-12} {1,-40} {2,10} {3,12} {4,8} {5,8}\n", "class",
                       "shape", "time (us)", "rate", "compute", "memory");
  for (auto [bench, result] : llvm::zip_equal(benches, results)) {
    cost::Efficiency prior = base.getEfficiency(bench.opClass);
    // GEMMs calibrate the compute ceiling, everything else bandwidth.
    bool fitsMemory = bench.opClass.rfind("gemm_", 0) != 0;
    cost::Efficiency fitted = cost::fitEfficiency(
        result.cost, result.dtype, result.seconds, t, prior,
        fitsMemory ? cost::Ceiling::Memory : cost::Ceiling::Compute);
    t.efficiency[bench.opClass] = fitted;
    double rate = fitsMemory
                      ? double(result.cost.bytesMoved()) / result.seconds
                      : double(result.cost.flops) / result.seconds;
    log << llvm::formatv("{0,-12} {1,-40} {2,10} {3,12} {4,8} {5,8}\n",
                         bench.opClass, bench.label,
                         llvm::format("%.1f", result.seconds * 1e6),
                         llvm::format("%.1f %s", rate / 1e9,
                                      fitsMemory ? "GB/s" : "GF/s"),
                         llvm::format("%.3f", fitted.compute),
                         llvm::format("%.3f", fitted.memory));
    kernels.push_back(llvm::json::Object{
        {"class", bench.opClass},
        {"shape", bench.label},
        {"dtype", result.dtype},
        {"flops", result.cost.flops},
        {"bytes", result.cost.bytesMoved()},
        {"seconds", result.seconds},
        {"fastest_seconds", result.fastestSeconds},
        {"fitted", fitsMemory ? "memory" : "compute"}});
  }
  // A GEMM streams its weights like the GEMV of the same dtype; data
  // movement (embedding rows, slices, copies) like the elementwise kernels.
  for (llvm::StringRef dtype : {"f32", "int8", "int4"})
    t.efficiency[("gemm_" + dtype).str()].memory =
        t.efficiency[("gemv_" + dtype).str()].memory;
  t.efficiency["data"] = t.efficiency["elementwise"];

  // Per-op overhead of real work: sequences of decode-sized GEMVs (tens of
  // microseconds each), DRAM-resident as a model's weights are. What their
  // mean time leaves unexplained by the roofline of the efficiencies just
  // fitted is the cost of their parallel regions: fork, join, the barrier
  // where one thread waits for the other to finish its share, and on a
  // shared machine the wait for a descheduled thread, which a back-to-back
  // empty op rarely meets; for quantized weights also the per-row
  // reductions and epilogue that a GEMV over K = 576 does relative to its
  // bytes. It becomes the overhead of its GEMV class (the model charges it
  // once per op); other classes keep the empty op's.
  double emptyOverhead = t.opOverheadSeconds;
  llvm::json::Array sequences;
  for (KernelBench bench :
       {sequenceBench("gemv_f32", quick ? 12 : 24, "", calls),
        sequenceBench("gemv_int8", quick ? 24 : 48, q8, calls),
        sequenceBench("gemv_int4", quick ? 32 : 64, q4, calls)}) {
    auto result = runBench(context, bench, threads);
    if (!result)
      return llvm::createStringError("benchmark " + bench.label +
                                     " failed: " +
                                     llvm::toString(result.takeError()));
    std::vector<cost::Estimate> estimates;
    for (const KernelResult::Op &op : result->ops)
      estimates.push_back(cost::estimateCost(op.cost, op.opClass, op.dtype, t));
    double fitted =
        cost::fitOpOverhead(estimates, result->seconds, emptyOverhead);
    t.efficiency[bench.opClass].overheadSeconds = fitted;
    log << llvm::formatv("{0,-12} {1,-40} {2,10} {3,12}\n", bench.opClass,
                         bench.label,
                         llvm::format("%.1f", result->seconds * 1e6),
                         llvm::format("%.2f us/op", fitted * 1e6));
    sequences.push_back(llvm::json::Object{
        {"class", bench.opClass},
        {"shape", bench.label},
        {"ops", int64_t(estimates.size())},
        {"bytes", result->cost.bytesMoved()},
        {"seconds", result->seconds},
        {"fastest_seconds", result->fastestSeconds},
        {"op_overhead_s", fitted}});
  }
  log << llvm::format("per-op overhead of other classes: %.2f us (an "
                      "empty op)\n",
                      emptyOverhead * 1e6);

  double elapsed = secondsSince(start);
  t.description = "Host CPU: " + cpuName() + ", " + std::to_string(threads) +
                  " threads (calibrated by llm-calibrate)";
  t.calibration = llvm::json::Object{
      {"date", utcNow()},
      {"cpu", cpuName()},
      {"threads", threads},
      {"read_bandwidth_1_thread", bw1},
      {"read_bandwidth_all_threads", bwAll},
      {"peak_f32_flops", peakF32},
      {"peak_int8_ops", peakInt8},
      {"op_overhead_s", t.opOverheadSeconds},
      {"empty_op_fastest_seconds", overhead->fastestSeconds},
      {"sequences", std::move(sequences)},
      {"load_average_before", load},
      {"seconds", elapsed},
      {"quick", quick},
      {"kernels", std::move(kernels)}};
  log << llvm::format("calibrated in %.1f s (load average %.2f before the "
                      "run; other work on the machine lowers the figures)\n",
                      elapsed, load);
  return t;
}
