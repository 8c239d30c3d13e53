//===- CalibrationTest.cpp - Activation statistics of a model on text ------===//
//
// Part of Frugal. The calibration library's statistics against values
// computed independently in C++: a small hand-written model (shared inputs,
// a sliced logits matmul, X^T X), and the tiny-llama fixture (the first
// layer's input from its checkpoint; chunking through the KV cache must not
// change anything).
//
//===----------------------------------------------------------------------===//

#include "passes/Calibration/Calibration.h"
#include "tools/llm-compile/Calibrate.h"
#include "tools/llm-compile/WeightPacker.h"

#include "dialects/LLM/IR/LLMDialect.h"
#include "dialects/LLM/IR/LLMQuant.h"
#include "frontends/safetensors/Checkpoint.h"
#include "frontends/safetensors/Importer.h"
#include "frontends/safetensors/ModelConfig.h"
#include "passes/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <random>

using namespace mlir;
using namespace mlir::llm;

namespace {

class CalibrationTest : public ::testing::Test {
protected:
  CalibrationTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    registerAllExtensions(registry);
    registry.insert<LLMDialect>();
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }
  MLIRContext context;

  /// tiny-llama imported and optimized with int4 GPTQ weights of `group`.
  std::unique_ptr<frugal::safetensors::Checkpoint> checkpoint;
  std::optional<frugal::safetensors::ModelConfig> config;
  OwningOpRef<ModuleOp> module;
  void importTinyLlamaGPTQ(unsigned group) {
    std::string dir = FRUGAL_FIXTURES_DIR "/tiny-llama";
    auto opened = frugal::safetensors::Checkpoint::open(dir);
    ASSERT_TRUE(static_cast<bool>(opened))
        << llvm::toString(opened.takeError());
    checkpoint = std::move(*opened);
    auto loaded = frugal::safetensors::loadModelConfig(dir);
    ASSERT_TRUE(static_cast<bool>(loaded))
        << llvm::toString(loaded.takeError());
    config = *loaded;
    auto imported =
        frugal::safetensors::importModel(context, *checkpoint, *config);
    ASSERT_TRUE(static_cast<bool>(imported))
        << llvm::toString(imported.takeError());
    module = std::move(*imported);
    PassManager pm(&context);
    LLMOptimizationOptions optimization;
    optimization.quantBits = 4;
    optimization.quantGroup = group;
    optimization.quantMethod = "gptq";
    buildLLMOptimizationPipeline(pm, optimization);
    ASSERT_TRUE(succeeded(pm.run(*module)));
  }

  /// The first layer's q/k/v input for `token`: rms_norm(embed[token]) from
  /// the checkpoint.
  std::vector<float> embed, gamma;
  void readLayer0Norm() {
    int64_t hidden = config->hiddenSize;
    embed.resize(config->vocabSize * hidden);
    gamma.resize(hidden);
    ASSERT_FALSE(static_cast<bool>(
        checkpoint->readAsF32("model.embed_tokens.weight", embed)));
    ASSERT_FALSE(static_cast<bool>(checkpoint->readAsF32(
        "model.layers.0.input_layernorm.weight", gamma)));
  }
  std::vector<float> layer0Input(int64_t token) const {
    int64_t hidden = config->hiddenSize;
    const float *e = &embed[token * hidden];
    double ss = 0;
    for (int64_t i = 0; i < hidden; ++i)
      ss += double(e[i]) * e[i];
    double inv = 1.0 / std::sqrt(ss / hidden + config->normEps);
    std::vector<float> row(hidden);
    for (int64_t i = 0; i < hidden; ++i)
      row[i] = static_cast<float>(e[i] * inv * gamma[i]);
    return row;
  }
};

/// Accumulated statistics of rows of `width` values.
struct Expected {
  int64_t width, count = 0;
  std::vector<double> sumAbs, sumSquares, gram;
  std::vector<float> maxAbs;
  explicit Expected(int64_t width)
      : width(width), sumAbs(width), sumSquares(width), gram(width * width),
        maxAbs(width) {}
  /// `gramWeight`: how many times the row counts in X^T X.
  void add(const float *row, double gramWeight = 1.0) {
    ++count;
    for (int64_t i = 0; i < width; ++i) {
      sumAbs[i] += std::fabs(row[i]);
      sumSquares[i] += double(row[i]) * row[i];
      maxAbs[i] = std::max(maxAbs[i], std::fabs(row[i]));
      for (int64_t j = 0; j < width; ++j)
        gram[i * width + j] += gramWeight * double(row[i]) * row[j];
    }
  }
  void check(const ChannelStats *s, bool withGram, double tol,
             const char *what) const {
    ASSERT_TRUE(s) << what;
    ASSERT_EQ(s->channels, width) << what;
    EXPECT_EQ(s->count, count) << what;
    for (int64_t i = 0; i < width; ++i) {
      EXPECT_NEAR(s->sumAbs[i], sumAbs[i], tol * (1 + sumAbs[i])) << what << i;
      EXPECT_NEAR(s->sumSquares[i], sumSquares[i], tol * (1 + sumSquares[i]))
          << what << i;
      EXPECT_NEAR(s->maxAbs[i], maxAbs[i], tol * (1 + maxAbs[i])) << what << i;
    }
    if (!withGram) {
      EXPECT_TRUE(s->gram.empty()) << what;
      return;
    }
    ASSERT_EQ(s->gram.size(), gram.size()) << what;
    for (size_t i = 0; i < gram.size(); ++i)
      EXPECT_NEAR(s->gram[i], gram[i], tol * (1 + std::fabs(gram[i])))
          << what << i;
  }
};

/// embed -> (a, b share their input) -> silu(a) * b -> c -> last position ->
/// head, with random f32 weights in `blob` (`w`: embed, a, b, c, head) and a
/// KV cache of 32 positions (unused: no attention).
struct HandWrittenModel {
  static constexpr int64_t vocab = 16, dim = 8, hidden = 12;
  std::vector<uint8_t> blob;
  std::vector<std::vector<float>> w;
  OwningOpRef<ModuleOp> module;

  explicit HandWrittenModel(MLIRContext &context) {
    // Offsets: embed, a, b, c, head (f32, 64-byte aligned).
    const int64_t sizes[] = {vocab * dim, hidden * dim, hidden * dim,
                             dim * hidden, vocab * dim};
    int64_t offsets[5], total = 0;
    for (int i = 0; i < 5; ++i) {
      offsets[i] = total;
      total = (total + sizes[i] * 4 + 63) / 64 * 64;
    }
    blob.resize(total);
    w.resize(5);
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    for (int i = 0; i < 5; ++i) {
      w[i].resize(sizes[i]);
      for (float &v : w[i])
        v = normal(rng);
      std::memcpy(&blob[offsets[i]], w[i].data(), sizes[i] * 4);
    }
    std::string source = R"mlir(
func.func @forward(%tokens: tensor<1x?xi64>, %pos: index, %kv: !llm.kv_cache<1 x 1 x 32 x 4, f32>) -> tensor<1x1x16xf32> {
  %e = llm.weight "embed" at OFF0 : tensor<16x8xf32>
  %x = llm.embed %e, %tokens : tensor<16x8xf32>, tensor<1x?xi64> -> tensor<1x?x8xf32>
  %a = llm.weight "a" at OFF1 : tensor<12x8xf32>
  %h = llm.matmul %x, %a transpose_b : tensor<1x?x8xf32>, tensor<12x8xf32> -> tensor<1x?x12xf32>
  %b = llm.weight "b" at OFF2 : tensor<12x8xf32>
  %g = llm.matmul %x, %b transpose_b : tensor<1x?x8xf32>, tensor<12x8xf32> -> tensor<1x?x12xf32>
  %s = llm.silu %h : tensor<1x?x12xf32>
  %m = llm.mul %s, %g : tensor<1x?x12xf32>, tensor<1x?x12xf32> -> tensor<1x?x12xf32>
  %c = llm.weight "c" at OFF3 : tensor<8x12xf32>
  %y = llm.matmul %m, %c transpose_b : tensor<1x?x12xf32>, tensor<8x12xf32> -> tensor<1x?x8xf32>
  %last = llm.slice %y {axis = 1 : i64, start = -1 : i64} : tensor<1x?x8xf32> -> tensor<1x1x8xf32>
  %head = llm.weight "head" at OFF4 : tensor<16x8xf32>
  %l = llm.matmul %last, %head transpose_b : tensor<1x1x8xf32>, tensor<16x8xf32> -> tensor<1x1x16xf32>
  return %l : tensor<1x1x16xf32>
}
)mlir";
    for (int i = 0; i < 5; ++i) {
      std::string key = "OFF" + std::to_string(i);
      source.replace(source.find(key), key.size(), std::to_string(offsets[i]));
    }
    module = parseSourceString<ModuleOp>(source, &context);
  }
};

// Statistics of every input of the hand-written model, X^T X of c's, over
// chunks of 3 tokens.
TEST_F(CalibrationTest, HandWrittenModel) {
  HandWrittenModel model(context);
  ASSERT_TRUE(model.module);
  const int64_t dim = model.dim, hidden = model.hidden;
  const std::vector<std::vector<float>> &w = model.w;

  std::vector<int64_t> tokens = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};
  CalibrationOptions options;
  options.chunkTokens = 3;
  options.openmp = false;
  options.collectGram = [](llvm::StringRef name) { return name == "c"; };
  auto stats =
      collectCalibrationStats(*model.module, model.blob, tokens, options);
  ASSERT_TRUE(static_cast<bool>(stats)) << llvm::toString(stats.takeError());

  Expected x(dim), m(hidden), y(dim);
  for (int64_t t : tokens) {
    const float *xr = &w[0][t * dim];
    x.add(xr);
    std::vector<float> mr(hidden), yr(dim);
    for (int64_t j = 0; j < hidden; ++j) {
      double h = 0, g = 0;
      for (int64_t k = 0; k < dim; ++k) {
        h += double(xr[k]) * w[1][j * dim + k];
        g += double(xr[k]) * w[2][j * dim + k];
      }
      mr[j] = static_cast<float>(h / (1 + std::exp(-h)) * g);
    }
    m.add(mr.data());
    for (int64_t j = 0; j < dim; ++j) {
      double v = 0;
      for (int64_t k = 0; k < hidden; ++k)
        v += double(mr[k]) * w[3][j * hidden + k];
      yr[j] = static_cast<float>(v);
    }
    y.add(yr.data());
  }
  EXPECT_EQ(stats->tokens, 10);
  EXPECT_EQ(stats->inputs.size(), 3u) << "a and b share one input";
  EXPECT_EQ(stats->lookup("a"), stats->lookup("b"));
  EXPECT_EQ(stats->lookup("embed"), nullptr) << "not a matmul weight";
  x.check(stats->lookup("a"), false, 1e-5, "a ");
  m.check(stats->lookup("c"), true, 1e-4, "c ");
  // The head sees every position, not just the last of each chunk.
  y.check(stats->lookup("head"), false, 1e-4, "head ");
}

// The first position's weight applies to the inputs of key and value
// projections only: the hand-written model has no attention, so its X^T X
// counts every position once whatever the weight.
TEST_F(CalibrationTest, FirstPositionWeightNeedsAttention) {
  HandWrittenModel model(context);
  ASSERT_TRUE(model.module);
  std::vector<int64_t> tokens;
  for (int i = 0; i < 40; ++i)
    tokens.push_back((i * 7 + 3) % model.vocab);
  CalibrationOptions options;
  options.chunkTokens = 5;
  options.openmp = false;
  options.firstPositionWeight = 6.0;
  options.collectGram = [](llvm::StringRef name) { return name == "a"; };
  auto stats =
      collectCalibrationStats(*model.module, model.blob, tokens, options);
  ASSERT_TRUE(static_cast<bool>(stats)) << llvm::toString(stats.takeError());
  Expected x(model.dim);
  for (int64_t t : tokens)
    x.add(&model.w[0][t * model.dim]);
  x.check(stats->lookup("a"), true, 1e-5, "a ");

  options.firstPositionWeight = 0.0;
  auto refused =
      collectCalibrationStats(*model.module, model.blob, tokens, options);
  ASSERT_FALSE(static_cast<bool>(refused));
  EXPECT_NE(llvm::toString(refused.takeError()).find("positive"),
            std::string::npos);
}

// tiny-llama: the first layer's q/k/v input is rms_norm(embed) from the
// checkpoint; one token per call and whole-text calls give the same
// statistics everywhere (the KV cache carries the context).
TEST_F(CalibrationTest, TinyLlamaFixture) {
  ASSERT_NO_FATAL_FAILURE(importTinyLlamaGPTQ(32));
  ASSERT_TRUE(frugal::needsCalibration(*module));

  std::vector<int64_t> tokens;
  for (int i = 0; i < 40; ++i)
    tokens.push_back((i * 37 + 11) % config->vocabSize);
  CalibrationOptions whole, single;
  whole.chunkTokens = 64;
  single.chunkTokens = 1;
  auto a = frugal::calibrateModel(*module, *checkpoint, tokens, whole);
  ASSERT_TRUE(static_cast<bool>(a)) << llvm::toString(a.takeError());
  auto b = frugal::calibrateModel(*module, *checkpoint, tokens, single);
  ASSERT_TRUE(static_cast<bool>(b)) << llvm::toString(b.takeError());

  // Every quantized (gptq) weight has X^T X; 7 matmul inputs per layer
  // collapse to 4 (q/k/v and gate/up share theirs), plus the logits.
  const ChannelStats *q = a->lookup("model.layers.0.self_attn.q_proj.weight");
  ASSERT_TRUE(q);
  EXPECT_EQ(q, a->lookup("model.layers.0.self_attn.v_proj.weight"));
  EXPECT_EQ(a->inputs.size(),
            static_cast<size_t>(4 * config->numLayers + 1));
  for (const auto &entry : a->byWeight)
    EXPECT_FALSE(a->inputs[entry.getValue()].gram.empty())
        << entry.getKey().str();

  ASSERT_NO_FATAL_FAILURE(readLayer0Norm());
  Expected x(config->hiddenSize);
  for (int64_t t : tokens)
    x.add(layer0Input(t).data());
  x.check(q, true, 1e-4, "layer 0 input ");

  ASSERT_EQ(a->inputs.size(), b->inputs.size());
  for (const auto &entry : a->byWeight) {
    const ChannelStats &sa = a->inputs[entry.getValue()];
    const ChannelStats *sb = b->lookup(entry.getKey());
    ASSERT_TRUE(sb);
    EXPECT_EQ(sa.count, static_cast<int64_t>(tokens.size()));
    EXPECT_EQ(sb->count, sa.count);
    for (int64_t c = 0; c < sa.channels; ++c)
      EXPECT_NEAR(sb->sumSquares[c], sa.sumSquares[c],
                  1e-3 * (1 + sa.sumSquares[c]))
          << entry.getKey().str() << " channel " << c;
  }
}

// tiny-llama, whose cache holds 128 positions: 140 tokens in calls of 64
// make windows at text positions 0 and 128, the second inside a call. The
// q/k/v input (the first layer's: rms_norm(embed), computed here) counts
// each window's first position 6 times in X^T X; the MLP inputs, which feed
// no attention, are as without the weight, and so are all the sums.
TEST_F(CalibrationTest, FirstPositionOfEachWindowWeighsKeyValueInputs) {
  ASSERT_NO_FATAL_FAILURE(importTinyLlamaGPTQ(32));
  std::vector<int64_t> tokens;
  for (int i = 0; i < 140; ++i)
    tokens.push_back((i * 37 + 11) % config->vocabSize);
  CalibrationOptions plain, weighted;
  weighted.firstPositionWeight = 6.0;
  auto a = frugal::calibrateModel(*module, *checkpoint, tokens, plain);
  ASSERT_TRUE(static_cast<bool>(a)) << llvm::toString(a.takeError());
  auto b = frugal::calibrateModel(*module, *checkpoint, tokens, weighted);
  ASSERT_TRUE(static_cast<bool>(b)) << llvm::toString(b.takeError());

  ASSERT_NO_FATAL_FAILURE(readLayer0Norm());
  Expected x(config->hiddenSize);
  for (size_t i = 0; i < tokens.size(); ++i)
    x.add(layer0Input(tokens[i]).data(), i % 128 == 0 ? 6.0 : 1.0);
  x.check(b->lookup("model.layers.0.self_attn.k_proj.weight"), true, 1e-4,
          "layer 0 q/k/v input ");

  for (const char *name : {"model.layers.0.mlp.gate_proj.weight",
                           "model.layers.0.mlp.down_proj.weight",
                           "model.layers.1.mlp.up_proj.weight"}) {
    const ChannelStats *sa = a->lookup(name), *sb = b->lookup(name);
    ASSERT_TRUE(sa && sb) << name;
    ASSERT_FALSE(sa->gram.empty()) << name;
    EXPECT_EQ(sa->gram, sb->gram) << name;
  }
  const ChannelStats *va = a->lookup("model.layers.1.self_attn.v_proj.weight");
  const ChannelStats *vb = b->lookup("model.layers.1.self_attn.v_proj.weight");
  ASSERT_TRUE(va && vb);
  EXPECT_NE(va->gram, vb->gram) << "layer 1's q/k/v input is weighted too";
  for (const auto &entry : a->byWeight)
    EXPECT_EQ(a->inputs[entry.getValue()].sumSquares,
              b->lookup(entry.getKey())->sumSquares)
        << entry.getKey().str();
}

/// A tensor source that hands out replaced values for some tensors.
class OverlaySource : public frugal::TensorSource {
public:
  explicit OverlaySource(const frugal::TensorSource &base) : base(base) {}
  std::map<std::string, std::vector<float>> replaced;

  std::optional<Info> lookupTensor(llvm::StringRef name) const override {
    return base.lookupTensor(name);
  }
  llvm::Error readAsF32(llvm::StringRef name,
                        llvm::MutableArrayRef<float> out) const override {
    auto it = replaced.find(name.str());
    if (it == replaced.end())
      return base.readAsF32(name, out);
    std::copy(it->second.begin(), it->second.end(), out.begin());
    return llvm::Error::success();
  }
  std::string sourcePath() const override { return base.sourcePath(); }

private:
  const frugal::TensorSource &base;
};

// Sequential calibration: with one stage per input, layer 0's q/k/v input
// is the f32 model's, and its o_proj input is the one the model computes
// once q/k/v are GPTQ-rounded on those f32 statistics. The latter is
// checked against a plain calibration of a source whose q/k/v tensors were
// replaced by their rounded values, independently of the blob rewriting.
TEST_F(CalibrationTest, SequentialStagesSeeRoundedWeights) {
  ASSERT_NO_FATAL_FAILURE(importTinyLlamaGPTQ(32));

  std::vector<int64_t> tokens;
  for (int i = 0; i < 48; ++i)
    tokens.push_back((i * 53 + 5) % config->vocabSize);
  CalibrationOptions options;
  auto f32 = frugal::calibrateModel(*module, *checkpoint, tokens, options);
  ASSERT_TRUE(static_cast<bool>(f32)) << llvm::toString(f32.takeError());
  const int64_t stages = static_cast<int64_t>(f32->inputs.size());
  auto seq = frugal::calibrateModel(*module, *checkpoint, tokens, options,
                                    stages);
  ASSERT_TRUE(static_cast<bool>(seq)) << llvm::toString(seq.takeError());
  ASSERT_EQ(seq->inputs.size(), f32->inputs.size());

  const std::string q = "model.layers.0.self_attn.q_proj.weight";
  const std::string o = "model.layers.0.self_attn.o_proj.weight";
  const std::string down = "model.layers.1.mlp.down_proj.weight";
  auto near = [](const ChannelStats &a, const ChannelStats &b, double tol) {
    if (a.channels != b.channels || a.count != b.count ||
        a.gram.size() != b.gram.size())
      return false;
    for (int64_t c = 0; c < a.channels; ++c)
      if (std::fabs(a.sumSquares[c] - b.sumSquares[c]) >
          tol * (1 + std::fabs(b.sumSquares[c])))
        return false;
    for (size_t i = 0; i < a.gram.size(); ++i)
      if (std::fabs(a.gram[i] - b.gram[i]) > tol * (1 + std::fabs(b.gram[i])))
        return false;
    return true;
  };
  EXPECT_TRUE(near(*seq->lookup(q), *f32->lookup(q), 1e-6))
      << "nothing is rounded before layer 0's q/k/v";
  EXPECT_FALSE(near(*seq->lookup(o), *f32->lookup(o), 1e-3))
      << "o_proj's input follows the rounded q/k/v";
  EXPECT_FALSE(near(*seq->lookup(down), *f32->lookup(down), 1e-3));

  // Round q/k/v of layer 0 on the f32 statistics, as the first stage does.
  OwningOpRef<ModuleOp> clone = module->clone();
  frugal::WeightLayout layout = frugal::assignWeightOffsets(*clone);
  OverlaySource overlay(*checkpoint);
  frugal::GPTQFactorCache cache;
  int rounded = 0;
  for (const frugal::PackedTensor &t : layout.tensors) {
    if (!t.quant || f32->lookup(t.name) != f32->lookup(q))
      continue;
    std::vector<float> values(t.numElements), logical(t.numElements);
    ASSERT_FALSE(static_cast<bool>(checkpoint->readAsF32(t.name, values)));
    int64_t n = t.logicalRows, k = t.logicalCols;
    // The source is [K, N] when the packer transposes it.
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c)
        logical[r * k + c] = t.transposed ? values[c * n + r] : values[r * k + c];
    std::vector<uint8_t> packed;
    ASSERT_FALSE(static_cast<bool>(frugal::quantizeWeight(
        t, logical, &*f32, nullptr, cache, packed)));
    dequantize(t.quant, getQuantLayout(t.quant, n, k), packed.data(),
               logical.data());
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c)
        (t.transposed ? values[c * n + r] : values[r * k + c]) =
            logical[r * k + c];
    overlay.replaced[t.name] = values;
    ++rounded;
  }
  EXPECT_EQ(rounded, 3) << "q, k and v read layer 0's first input";
  auto expected = frugal::calibrateModel(*module, overlay, tokens, options);
  ASSERT_TRUE(static_cast<bool>(expected))
      << llvm::toString(expected.takeError());
  EXPECT_TRUE(near(*seq->lookup(o), *expected->lookup(o), 1e-5));
}

} // namespace
