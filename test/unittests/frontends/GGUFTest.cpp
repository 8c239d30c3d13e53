//===- GGUFTest.cpp - GGUF reader, dequantization, tokenizer --------------===//
//
// Part of Frugal. Dequantization against blocks computed by hand from the
// ggml layouts; the reader on an in-memory file; the SentencePiece tokenizer
// of stories260K against ids from llama2.c's encoder (when the shared model
// is present).
//
//===----------------------------------------------------------------------===//

#include "frontends/gguf/GGUFModel.h"

#include "dialects/LLM/IR/LLMQuant.h"
#include "llmrt/Tokenizer.h"

#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <map>
#include <random>

using namespace frugal::gguf;

namespace {

void putHalf(uint8_t *p, uint16_t bits) {
  p[0] = uint8_t(bits);
  p[1] = uint8_t(bits >> 8);
}
// f16 bit patterns.
constexpr uint16_t kHalf0_25 = 0x3400, kHalf0_5 = 0x3800, kHalf1 = 0x3C00,
                   kHalf2 = 0x4000, kHalfMinus2 = 0xC000;

std::vector<float> dequant(uint32_t type, const std::vector<uint8_t> &block,
                           uint64_t n) {
  std::vector<float> out(n, -999.0f);
  llvm::Error err = dequantizeToF32(type, block.data(), n, out.data());
  EXPECT_FALSE(err) << llvm::toString(std::move(err));
  return out;
}

TEST(GGUFDequantize, BlockSizes) {
  struct {
    uint32_t id;
    uint32_t block, bytes;
  } expected[] = {{kGGMLF32, 1, 4},     {kGGMLF16, 1, 2},
                  {kGGMLBF16, 1, 2},    {kGGMLQ8_0, 32, 34},
                  {kGGMLQ4_0, 32, 18},  {kGGMLQ4_1, 32, 20},
                  {kGGMLQ5_0, 32, 22},  {kGGMLQ5_1, 32, 24},
                  {kGGMLQ4_K, 256, 144}, {kGGMLQ6_K, 256, 210}};
  for (const auto &e : expected) {
    const GGMLTypeTraits *t = ggmlTypeTraits(e.id);
    ASSERT_TRUE(t) << e.id;
    EXPECT_EQ(t->blockSize, e.block) << t->name;
    EXPECT_EQ(t->blockBytes, e.bytes) << t->name;
    EXPECT_TRUE(t->toF32) << t->name;
  }
  EXPECT_EQ(ggmlTypeTraits(99), nullptr);
  ASSERT_TRUE(ggmlTypeTraits(kGGMLQ5_K));
  EXPECT_FALSE(ggmlTypeTraits(kGGMLQ5_K)->toF32);
}

TEST(GGUFDequantize, Q8_0) {
  std::vector<uint8_t> b(34, 0);
  putHalf(b.data(), kHalf0_5);
  b[2] = 1;
  b[3] = uint8_t(int8_t(-1));
  b[4] = 127;
  b[33] = uint8_t(int8_t(-128));
  std::vector<float> y = dequant(kGGMLQ8_0, b, 32);
  EXPECT_EQ(y[0], 0.5f);
  EXPECT_EQ(y[1], -0.5f);
  EXPECT_EQ(y[2], 63.5f);
  EXPECT_EQ(y[3], 0.0f);
  EXPECT_EQ(y[31], -64.0f);
}

TEST(GGUFDequantize, Q4_0) {
  std::vector<uint8_t> b(18, 0x88); // every nibble 8: zero
  putHalf(b.data(), kHalf2);
  b[2] = 0x9F; // element 0: (15-8)*2, element 16: (9-8)*2
  b[3] = 0x08; // element 1: 0, element 17: (0-8)*2
  std::vector<float> y = dequant(kGGMLQ4_0, b, 32);
  EXPECT_EQ(y[0], 14.0f);
  EXPECT_EQ(y[16], 2.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[17], -16.0f);
  EXPECT_EQ(y[5], 0.0f);
}

TEST(GGUFDequantize, Q4_1) {
  std::vector<uint8_t> b(20, 0);
  putHalf(b.data(), kHalf1);
  putHalf(b.data() + 2, kHalfMinus2);
  b[4] = 0x31;  // element 0: 1*1-2, element 16: 3*1-2
  b[19] = 0xF0; // element 15: -2, element 31: 15-2
  std::vector<float> y = dequant(kGGMLQ4_1, b, 32);
  EXPECT_EQ(y[0], -1.0f);
  EXPECT_EQ(y[16], 1.0f);
  EXPECT_EQ(y[15], -2.0f);
  EXPECT_EQ(y[31], 13.0f);
}

TEST(GGUFDequantize, Q5_0AndQ5_1) {
  std::vector<uint8_t> b(22, 0);
  putHalf(b.data(), kHalf0_5);
  b[2] = 0x01;  // qh bit 0: element 0 gets +16
  b[5] = 0x80;  // qh bit 31: element 31 gets +16
  b[6] = 0x3F;  // element 0: low nibble 15; element 16: high nibble 3
  b[21] = 0xF0; // element 15: 0; element 31: 15
  std::vector<float> y = dequant(kGGMLQ5_0, b, 32);
  EXPECT_EQ(y[0], 0.5f * (31 - 16));
  EXPECT_EQ(y[16], 0.5f * (3 - 16));
  EXPECT_EQ(y[15], 0.5f * -16);
  EXPECT_EQ(y[31], 0.5f * (31 - 16));
  EXPECT_EQ(y[1], 0.5f * -16);

  std::vector<uint8_t> b1(24, 0);
  putHalf(b1.data(), kHalf2);
  putHalf(b1.data() + 2, kHalfMinus2);
  b1[4 + 2] = 0x01; // qh bit 16: element 16 gets +16
  b1[8] = 0x5A;     // element 0: 10; element 16: 5 + 16
  y = dequant(kGGMLQ5_1, b1, 32);
  EXPECT_EQ(y[0], 2.0f * 10 - 2);
  EXPECT_EQ(y[16], 2.0f * 21 - 2);
  EXPECT_EQ(y[1], -2.0f);
}

/// Random ggml blocks (finite f16 scales and mins, arbitrary codes) for a
/// [rows, cols] tensor of `type`. K-quant super-block scales are small, as
/// in real files (the products with the sub-scales stay in f16's range).
std::vector<uint8_t> randomBlocks(uint32_t type, int64_t rows, int64_t cols,
                                  unsigned seed) {
  const GGMLTypeTraits &t = *ggmlTypeTraits(type);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> real(-0.1f, 0.1f);
  std::uniform_real_distribution<float> superScale(1e-4f, 2e-3f);
  std::vector<uint8_t> data(rows * cols / t.blockSize * t.blockBytes);
  for (uint8_t &b : data)
    b = uint8_t(byte(rng));
  for (size_t off = 0; off < data.size(); off += t.blockBytes) {
    switch (type) {
    case kGGMLQ4_K: // d, dmin
      putHalf(&data[off], mlir::llm::floatToHalf(superScale(rng)));
      putHalf(&data[off + 2], mlir::llm::floatToHalf(superScale(rng)));
      break;
    case kGGMLQ6_K: // d last
      putHalf(&data[off + 208], mlir::llm::floatToHalf(superScale(rng)));
      break;
    case kGGMLQ4_1:
    case kGGMLQ5_1: // d, m
      putHalf(&data[off + 2], mlir::llm::floatToHalf(real(rng)));
      [[fallthrough]];
    default:
      putHalf(&data[off], mlir::llm::floatToHalf(real(rng)));
    }
  }
  return data;
}

// Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 are kept packed: Frugal's dequantization
// of the transcoded bytes must reproduce ggml's dequantization bit for bit.
TEST(GGUFTranscode, BitExactAgainstGGMLDequantization) {
  mlir::MLIRContext context;
  context.loadDialect<mlir::llm::LLMDialect>();
  const int64_t rows = 5, cols = 96;
  unsigned seed = 1;
  for (uint32_t type : {kGGMLQ8_0, kGGMLQ4_0, kGGMLQ4_1, kGGMLQ5_0,
                        kGGMLQ5_1}) {
    SCOPED_TRACE(ggmlTypeTraits(type)->name);
    mlir::llm::QuantAttr quant = quantAttrForGGMLType(&context, type);
    ASSERT_TRUE(quant);
    EXPECT_EQ(quant.getGroup(), 32u);
    EXPECT_EQ(quant.getBits(),
              type == kGGMLQ4_0 || type == kGGMLQ4_1 ? 4u : 8u);
    EXPECT_EQ(quant.getScheme() == mlir::llm::QuantScheme::asymmetric,
              type == kGGMLQ4_1 || type == kGGMLQ5_1);
    std::vector<uint8_t> blocks = randomBlocks(type, rows, cols, seed++);
    mlir::llm::QuantLayout layout =
        mlir::llm::getQuantLayout(quant, rows, cols);
    std::vector<uint8_t> packed(layout.totalBytes, 0xAB);
    llvm::Error err =
        transcodeGGMLToQuant(type, blocks.data(), rows, cols, quant, packed);
    ASSERT_FALSE(err) << llvm::toString(std::move(err));
    std::vector<float> ours(rows * cols), reference =
                                              dequant(type, blocks, rows * cols);
    mlir::llm::dequantize(quant, layout, packed.data(), ours.data());
    for (int64_t i = 0; i < rows * cols; ++i)
      ASSERT_EQ(std::memcmp(&ours[i], &reference[i], sizeof(float)), 0)
          << "element " << i << ": " << ours[i] << " vs " << reference[i];
  }
  // Types without a packed counterpart are refused.
  EXPECT_FALSE(quantAttrForGGMLType(&context, kGGMLQ5_K));
  EXPECT_FALSE(quantAttrForGGMLType(&context, kGGMLQ2_K));
  EXPECT_FALSE(quantAttrForGGMLType(&context, kGGMLF16));
  std::vector<uint8_t> blocks = randomBlocks(kGGMLQ4_1, 1, 32, 9);
  mlir::llm::QuantAttr q8 = quantAttrForGGMLType(&context, kGGMLQ8_0);
  std::vector<uint8_t> packed(
      mlir::llm::getQuantLayout(q8, 1, 32).totalBytes);
  llvm::Error err =
      transcodeGGMLToQuant(kGGMLQ4_1, blocks.data(), 1, 32, q8, packed);
  EXPECT_TRUE(static_cast<bool>(err));
  llvm::consumeError(std::move(err));
}

/// The largest |a - b| / |b| over the f16 values of two arrays.
double maxRelativeHalfError(const std::vector<float> &ours,
                            const std::vector<float> &exact) {
  double worst = 0;
  for (size_t i = 0; i < ours.size(); ++i)
    if (exact[i] != 0)
      worst = std::max(worst, std::fabs(double(ours[i]) - exact[i]) /
                                  std::fabs(double(exact[i])));
  return worst;
}

// Q4_K and Q6_K, with SmolLM2-135M's down projection shape ([576, 1536]):
// the codes are exact and each sub-block scale (and Q4_K min) is ggml's
// product rounded to the nearest f16, so every element is within
// 2^-11 * (|scale * q| + |min|) of ggml's value.
TEST(GGUFTranscode, KQuantsRoundSubBlockScalesToHalf) {
  mlir::MLIRContext context;
  context.loadDialect<mlir::llm::LLMDialect>();
  const int64_t rows = 576, cols = 1536;
  for (uint32_t type : {kGGMLQ4_K, kGGMLQ6_K}) {
    SCOPED_TRACE(ggmlTypeTraits(type)->name);
    mlir::llm::QuantAttr quant = quantAttrForGGMLType(&context, type);
    ASSERT_TRUE(quant);
    bool q4k = type == kGGMLQ4_K;
    EXPECT_EQ(quant.getBits(), q4k ? 4u : 8u);
    EXPECT_EQ(quant.getGroup(), q4k ? 32u : 16u);
    EXPECT_EQ(quant.getScheme(), q4k ? mlir::llm::QuantScheme::asymmetric
                                     : mlir::llm::QuantScheme::symmetric);
    std::vector<uint8_t> blocks = randomBlocks(type, rows, cols, 7);
    mlir::llm::QuantLayout layout =
        mlir::llm::getQuantLayout(quant, rows, cols);
    std::vector<uint8_t> packed(layout.totalBytes, 0xAB);
    llvm::Error err =
        transcodeGGMLToQuant(type, blocks.data(), rows, cols, quant, packed);
    ASSERT_FALSE(err) << llvm::toString(std::move(err));

    // The scales (and mins) against ggml's f32 products.
    const int64_t slots = rows * layout.groupsPerRow;
    std::vector<float> scales(slots), mins(slots), exactScales(slots),
        exactMins(slots);
    const uint32_t blockBytes = ggmlTypeTraits(type)->blockBytes;
    const int64_t perBlock = 256 / layout.group;
    for (int64_t slot = 0; slot < slots; ++slot) {
      const uint8_t *b = blocks.data() + slot / perBlock * blockBytes;
      int j = int(slot % perBlock);
      auto half = [](const uint8_t *p) {
        return mlir::llm::halfToFloat(uint16_t(p[0] | (p[1] << 8)));
      };
      if (q4k) {
        uint8_t sc, mn;
        q4KScaleMin(j, b + 4, sc, mn);
        exactScales[slot] = half(b) * float(sc);
        exactMins[slot] = -(half(b + 2) * float(mn));
        mins[slot] = half(packed.data() + layout.minsOffset + 2 * slot);
      } else {
        exactScales[slot] = half(b + 208) * float(int8_t(b[192 + j]));
      }
      scales[slot] = half(packed.data() + layout.codesBytes + 2 * slot);
      ASSERT_EQ(scales[slot], mlir::llm::halfToFloat(
                                  mlir::llm::floatToHalf(exactScales[slot])))
          << "slot " << slot;
    }
    double scaleError = maxRelativeHalfError(scales, exactScales);
    EXPECT_LE(scaleError, 1.0 / 2048);
    EXPECT_GT(scaleError, 0.0); // The rounding is real on random data.
    double minError = q4k ? maxRelativeHalfError(mins, exactMins) : 0.0;
    EXPECT_LE(minError, 1.0 / 2048);
    std::cout << "[ measured ] " << ggmlTypeTraits(type)->name
              << ": max relative error of the f16 scales " << scaleError
              << ", of the mins " << minError << "\n";

    std::vector<float> ours(rows * cols),
        reference = dequant(type, blocks, rows * cols);
    mlir::llm::dequantize(quant, layout, packed.data(), ours.data());
    for (int64_t i = 0; i < rows * cols; ++i) {
      int64_t slot = i / layout.group;
      // |scale * q| is |reference - min|.
      double bound = (std::fabs(double(reference[i]) - exactMins[slot]) +
                      std::fabs(double(exactMins[slot]))) /
                         2048 +
                     1e-6 * std::fabs(double(reference[i])) + 1e-12;
      ASSERT_NEAR(ours[i], reference[i], bound) << "element " << i;
    }
  }
}

// A Q4_K sub-block scale beyond f16's range cannot be stored; the error
// names the block and what overflowed.
TEST(GGUFTranscode, KQuantScaleOverflowIsAnError) {
  mlir::MLIRContext context;
  context.loadDialect<mlir::llm::LLMDialect>();
  std::vector<uint8_t> b(2 * 144, 0);
  putHalf(b.data() + 144, 0x7BFF); // second block: d = 65504
  b[144 + 4] = 63;                 // sub-block 0: scale 63
  mlir::llm::QuantAttr quant = quantAttrForGGMLType(&context, kGGMLQ4_K);
  std::vector<uint8_t> packed(
      mlir::llm::getQuantLayout(quant, 2, 256).totalBytes);
  llvm::Error err =
      transcodeGGMLToQuant(kGGMLQ4_K, b.data(), 2, 256, quant, packed);
  ASSERT_TRUE(bool(err));
  std::string message = llvm::toString(std::move(err));
  EXPECT_NE(message.find("block 1 (row 1)"), std::string::npos) << message;
  EXPECT_NE(message.find("sub-block scale"), std::string::npos) << message;
  EXPECT_NE(message.find("overflows f16"), std::string::npos) << message;
  // Rows that are not whole super-blocks are refused.
  mlir::llm::QuantAttr q6 = quantAttrForGGMLType(&context, kGGMLQ6_K);
  std::vector<uint8_t> small(mlir::llm::getQuantLayout(q6, 1, 128).totalBytes);
  err = transcodeGGMLToQuant(kGGMLQ6_K, b.data(), 1, 128, q6, small);
  ASSERT_TRUE(bool(err));
  EXPECT_NE(llvm::toString(std::move(err))
                .find("is not whole Q6_K blocks of 256 per row"),
            std::string::npos);
}

TEST(GGUFDequantize, Q4_K) {
  std::vector<uint8_t> b(144, 0);
  putHalf(b.data(), kHalf1);       // d
  putHalf(b.data() + 2, kHalf0_5); // dmin
  uint8_t *scales = b.data() + 4, *qs = b.data() + 16;
  scales[0] = 3 | (1 << 6); // sub-block 0: scale 3; top bits feed block 4
  scales[4] = 2;            // sub-block 0: min 2
  scales[1] = 5;            // sub-block 1: scale 5
  scales[5] = 4;            // sub-block 1: min 4
  scales[8] = 0x21;         // sub-block 4: scale 1|(1<<4)=17, min 2
  qs[0] = 0x7A;  // element 0 (sub 0): 3*10-0.5*2; element 32 (sub 1): 5*7-0.5*4
  qs[64] = 0x03; // element 128 (sub 4): 17*3-0.5*2
  std::vector<float> y = dequant(kGGMLQ4_K, b, 256);
  EXPECT_EQ(y[0], 29.0f);
  EXPECT_EQ(y[32], 33.0f);
  EXPECT_EQ(y[1], -1.0f);  // q=0 in sub-block 0: -dmin*min
  EXPECT_EQ(y[128], 50.0f);
  EXPECT_EQ(y[255], 0.0f); // sub-block 7: scale 0, min 0
}

TEST(GGUFDequantize, Q6_K) {
  std::vector<uint8_t> b(210, 0);
  uint8_t *ql = b.data(), *qh = b.data() + 128;
  int8_t *sc = reinterpret_cast<int8_t *>(b.data() + 192);
  putHalf(b.data() + 208, kHalf0_25);
  sc[0] = 2;
  sc[2] = -3;
  sc[4] = 1;
  ql[0] = 0x5A; // element 0: low 0xA; element 64: high 5
  qh[0] = 0x06; // element 0: +2<<4; element 32: +1<<4
  std::vector<float> y = dequant(kGGMLQ6_K, b, 256);
  EXPECT_EQ(y[0], 0.25f * 2 * (42 - 32));
  EXPECT_EQ(y[32], 0.25f * -3 * (16 - 32));
  EXPECT_EQ(y[64], 0.25f * 1 * (5 - 32));
  EXPECT_EQ(y[1], 0.25f * 2 * -32);
  EXPECT_EQ(y[200], 0.0f); // second half: scales 0
}

TEST(GGUFDequantize, HalfAndBFloat) {
  std::vector<uint8_t> b(4);
  putHalf(b.data(), kHalf0_5);
  putHalf(b.data() + 2, kHalfMinus2);
  EXPECT_EQ(dequant(kGGMLF16, b, 2), (std::vector<float>{0.5f, -2.0f}));
  putHalf(b.data(), 0x3F80); // bf16 1.0
  putHalf(b.data() + 2, 0xC040); // bf16 -3.0
  EXPECT_EQ(dequant(kGGMLBF16, b, 2), (std::vector<float>{1.0f, -3.0f}));
}

TEST(GGUFDequantize, RejectsUnsupportedTypes) {
  std::vector<uint8_t> b(176, 0);
  float out[256];
  llvm::Error err = dequantizeToF32(kGGMLQ5_K, b.data(), 256, out);
  ASSERT_TRUE(bool(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("cannot convert ggml type Q5_K"),
            std::string::npos);
}

/// Little-endian GGUF bytes.
struct Writer {
  std::string bytes;
  template <typename T> void put(T v) {
    bytes.append(reinterpret_cast<const char *>(&v), sizeof(T));
  }
  void str(const std::string &s) {
    put<uint64_t>(s.size());
    bytes += s;
  }
};

TEST(GGUFFile, ParsesMetadataAndTensors) {
  Writer w;
  w.bytes = "GGUF";
  w.put<uint32_t>(2); // version 2
  w.put<uint64_t>(1); // tensors
  w.put<uint64_t>(4); // kvs
  w.str("general.alignment");
  w.put<uint32_t>(4);
  w.put<uint32_t>(64);
  w.str("a.i8");
  w.put<uint32_t>(1);
  w.put<int8_t>(-5);
  w.str("a.nested");
  w.put<uint32_t>(9);
  w.put<uint32_t>(9); // array of arrays
  w.put<uint64_t>(2);
  w.put<uint32_t>(8); // [["x"], []]
  w.put<uint64_t>(1);
  w.str("x");
  w.put<uint32_t>(8);
  w.put<uint64_t>(0);
  w.str("a.f64");
  w.put<uint32_t>(12);
  w.put<double>(0.25);
  w.str("blk.2.ffn_up.weight");
  w.put<uint32_t>(2);
  w.put<uint64_t>(32); // ne[0]
  w.put<uint64_t>(3);  // ne[1]
  w.put<uint32_t>(kGGMLQ8_0);
  w.put<uint64_t>(0);
  w.bytes.resize((w.bytes.size() + 63) / 64 * 64, '\0');
  size_t dataStart = w.bytes.size();
  w.bytes.resize(dataStart + 3 * 34, '\0');
  auto file = GGUFFile::parse(llvm::MemoryBuffer::getMemBuffer(
      w.bytes, "mem.gguf", /*RequiresNullTerminator=*/false));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  const GGUFFile &f = **file;
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.dataOffset(), dataStart);
  EXPECT_EQ(f.lookup("a.i8")->asInt(), -5);
  EXPECT_EQ(f.lookup("a.f64")->asReal(), 0.25);
  const Value *nested = f.lookup("a.nested");
  ASSERT_TRUE(nested);
  ASSERT_EQ(nested->array.size(), 2u);
  EXPECT_EQ(nested->array[0].array[0].asString(), "x");
  EXPECT_TRUE(nested->array[1].array.empty());
  const TensorInfo *t = f.tensor("blk.2.ffn_up.weight");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->shape, (llvm::SmallVector<int64_t, 4>{3, 32}));
  EXPECT_EQ(t->numBytes, 3u * 34);

  // Truncating the data section is caught.
  w.bytes.resize(w.bytes.size() - 1);
  auto cut = GGUFFile::parse(llvm::MemoryBuffer::getMemBuffer(
      w.bytes, "cut.gguf", /*RequiresNullTerminator=*/false));
  ASSERT_FALSE(bool(cut));
  EXPECT_NE(llvm::toString(cut.takeError()).find("end past the end of the file"),
            std::string::npos);
}

TEST(GGUFModel, HFNames) {
  EXPECT_EQ(hfTensorName("token_embd.weight"), "model.embed_tokens.weight");
  EXPECT_EQ(hfTensorName("output.weight"), "lm_head.weight");
  EXPECT_EQ(hfTensorName("output_norm.weight"), "model.norm.weight");
  EXPECT_EQ(hfTensorName("blk.12.attn_output.weight"),
            "model.layers.12.self_attn.o_proj.weight");
  EXPECT_EQ(hfTensorName("blk.0.attn_k.bias"),
            "model.layers.0.self_attn.k_proj.bias");
  EXPECT_EQ(hfTensorName("blk.3.ffn_norm.weight"),
            "model.layers.3.post_attention_layernorm.weight");
  EXPECT_EQ(hfTensorName("blk.x.ffn_up.weight"), std::nullopt);
  EXPECT_EQ(hfTensorName("rope_freqs.weight"), std::nullopt);
}

/// The runtime tokenizer built from what the compiler stores.
std::unique_ptr<llmrt::Tokenizer>
runtimeTokenizer(const frugal::safetensors::TokenizerData &data) {
  llmrt::TokenizerData rt;
  for (size_t i = 0; i < data.tokens.size(); ++i)
    rt.tokens.push_back(
        {data.tokens[i], data.kinds[i] == frugal::safetensors::kTokenSpecial
                             ? llmrt::TokenKind::Special
                         : data.kinds[i] == frugal::safetensors::kTokenByte
                             ? llmrt::TokenKind::Byte
                             : llmrt::TokenKind::Normal});
  rt.merges = data.merges;
  llmrt::PreTokenizer pre;
  EXPECT_TRUE(llmrt::parsePreTokenizer(data.preTokenizer, pre));
  std::string error;
  auto tok = llmrt::Tokenizer::create(rt, pre, error, int32_t(data.bos));
  EXPECT_TRUE(tok) << error;
  return tok;
}

TEST(GGUFModel, Stories260KTokenizerMatchesLlama2c) {
  std::string path = FRUGAL_SHARED_MODELS_DIR "/stories260K/stories260K.gguf";
  if (!llvm::sys::fs::exists(path))
    GTEST_SKIP() << path << " not found";
  auto model = openGGUFModel(path);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  EXPECT_TRUE(model->config.ropeInterleaved);
  EXPECT_EQ(model->config.headDim, 8);
  EXPECT_EQ(model->config.numKVHeads, 4);
  ASSERT_TRUE(model->tokenizer);
  const auto &data = *model->tokenizer;
  EXPECT_EQ(data.preTokenizer, "spm");
  EXPECT_TRUE(data.addBos);
  EXPECT_EQ(data.bos, 1);
  EXPECT_EQ(data.eos, (std::vector<int64_t>{2}));
  EXPECT_EQ(data.kinds[3], frugal::safetensors::kTokenByte);
  EXPECT_EQ(data.tokens[13], "\n"); // <0x0A>
  auto tok = runtimeTokenizer(data);
  ASSERT_TRUE(tok);
  // Ids from llama2.c's encode() (score-greedy BPE, byte fallback + 3).
  struct {
    const char *text;
    std::vector<int32_t> ids;
  } cases[] = {
      {"Once upon a time, there was a little girl named Lily.",
       {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395,
        317, 426}},
      {"Hello world!\nNew line: caf\xC3\xA9 \xE2\x82\xAC 42",
       {1, 346, 306, 414, 263, 304, 341, 443, 13, 458, 411, 424, 278, 271,
        411, 467, 280, 412, 431, 485, 410, 503, 410, 484, 479}},
      {"  two  spaces", {1, 410, 410, 259, 424, 414, 410, 262, 427, 412, 331,
                         419}},
  };
  for (const auto &c : cases) {
    std::vector<int32_t> ids;
    std::string error;
    ASSERT_TRUE(tok->encode(c.text, 1, ids, error)) << error;
    EXPECT_EQ(ids, c.ids) << c.text;
    // Special tokens decode as their text; the space after BOS goes.
    EXPECT_EQ(tok->decode(ids), std::string("<s>") + c.text);
  }
}

} // namespace

namespace {
std::string smolLM2Q41Path() {
  const char *home = getenv("HOME");
  return std::string(home ? home : "") +
         "/.cache/frugal/downloads/SmolLM2-135M-Instruct.Q4_1.gguf";
}
} // namespace

// The default model's GGUF: its Q4_1 matmul weights and Q8_0 tied embedding
// import quantized, the embedding lookup reads the same Q8_0 table as the
// logits matmul (no f32 copy), and the packed bytes dequantize to exactly
// the f32 values.
TEST(GGUFModel, SmolLM2Q41KeepsQuantizedWeights) {
  std::string path = smolLM2Q41Path();
  if (!llvm::sys::fs::exists(path))
    GTEST_SKIP() << path << " not found (scripts/fetch_default_model.sh)";
  mlir::MLIRContext context;
  context.loadDialect<mlir::llm::LLMDialect>();
  auto module = importGGUFModelFromPath(context, path);
  ASSERT_TRUE(bool(module)) << llvm::toString(module.takeError());
  int q41 = 0, q8 = 0, f32Embed = 0;
  (*module)->walk([&](mlir::llm::WeightOp op) {
    auto quant = op.getQuantAttr();
    if (op.getName() == "model.embed_tokens.weight") {
      if (!quant)
        ++f32Embed;
      else if (quant.getBits() == 8)
        ++q8;
      return;
    }
    if (quant && quant.getBits() == 4 &&
        quant.getScheme() == mlir::llm::QuantScheme::asymmetric &&
        quant.getGroup() == 32)
      ++q41;
  });
  EXPECT_EQ(q41, 30 * 7);
  EXPECT_EQ(q8, 1);
  EXPECT_EQ(f32Embed, 0);
  int quantizedLookups = 0;
  (*module)->walk([&](mlir::llm::EmbedOp op) {
    auto table = op.getTable().getDefiningOp<mlir::llm::WeightOp>();
    if (table && table.getQuantAttr() && table.getQuantAttr().getBits() == 8)
      ++quantizedLookups;
  });
  EXPECT_EQ(quantizedLookups, 1);

  auto source = GGUFSource::open(path);
  ASSERT_TRUE(bool(source)) << llvm::toString(source.takeError());
  for (const char *name : {"model.layers.3.mlp.down_proj.weight",
                           "model.embed_tokens.weight"}) {
    SCOPED_TRACE(name);
    const TensorInfo *t = (*source)->find(name);
    ASSERT_TRUE(t);
    mlir::llm::QuantAttr quant = quantAttrForGGMLType(&context, t->type);
    ASSERT_TRUE(quant);
    int64_t rows = t->shape[0], cols = t->shape[1];
    mlir::llm::QuantLayout layout =
        mlir::llm::getQuantLayout(quant, rows, cols);
    std::vector<uint8_t> packed(layout.totalBytes);
    llvm::Expected<bool> ok =
        (*source)->readPacked(name, quant, rows, cols, packed);
    ASSERT_TRUE(bool(ok)) << llvm::toString(ok.takeError());
    ASSERT_TRUE(*ok);
    std::vector<float> ours(rows * cols), reference(rows * cols);
    mlir::llm::dequantize(quant, layout, packed.data(), ours.data());
    llvm::Error err = (*source)->readAsF32(name, reference);
    ASSERT_FALSE(err) << llvm::toString(std::move(err));
    EXPECT_EQ(std::memcmp(ours.data(), reference.data(),
                          ours.size() * sizeof(float)),
              0);
    // Another layout is declined, not an error.
    auto other = mlir::llm::QuantAttr::get(
        &context, 4, 64, mlir::llm::QuantScheme::symmetric);
    ok = (*source)->readPacked(name, other, rows, cols, packed);
    ASSERT_TRUE(bool(ok)) << llvm::toString(ok.takeError());
    EXPECT_FALSE(*ok);
  }
}

// A real K-quant file (e.g. one made by llama.cpp's quantizer with
// Q4_K_M), named by FRUGAL_GGUF_KQUANT_FILE: every quantized 2-D tensor
// transcodes, the packed values of the exact types equal ggml's bit for
// bit, and Q4_K/Q6_K elements stay within the f16 rounding of their stored
// scale and min (2^-11 * (|scale * q| + |min|)). Prints the worst error
// relative to the largest magnitude of the row.
TEST(GGUFModel, KQuantFileTranscodes) {
  const char *path = getenv("FRUGAL_GGUF_KQUANT_FILE");
  if (!path)
    GTEST_SKIP() << "FRUGAL_GGUF_KQUANT_FILE is not set";
  mlir::MLIRContext context;
  context.loadDialect<mlir::llm::LLMDialect>();
  auto source = GGUFSource::open(path);
  ASSERT_TRUE(bool(source)) << llvm::toString(source.takeError());
  std::map<std::string, std::pair<int, double>> worst; // type: count, error
  for (const TensorInfo &t : (*source)->file().tensors()) {
    mlir::llm::QuantAttr quant = quantAttrForGGMLType(&context, t.type);
    if (!quant || t.shape.size() != 2)
      continue;
    SCOPED_TRACE(t.name.str());
    int64_t rows = t.shape[0], cols = t.shape[1];
    mlir::llm::QuantLayout layout =
        mlir::llm::getQuantLayout(quant, rows, cols);
    std::vector<uint8_t> packed(layout.totalBytes);
    llvm::Error err =
        transcodeGGMLToQuant(t.type, t.data, rows, cols, quant, packed);
    ASSERT_FALSE(err) << llvm::toString(std::move(err));
    std::vector<float> ours(rows * cols), reference(rows * cols);
    mlir::llm::dequantize(quant, layout, packed.data(), ours.data());
    err = dequantizeToF32(t.type, t.data, t.numElements, reference.data());
    ASSERT_FALSE(err) << llvm::toString(std::move(err));
    bool exact = t.type != kGGMLQ4_K && t.type != kGGMLQ6_K;
    bool asymmetric = quant.getScheme() == mlir::llm::QuantScheme::asymmetric;
    double tensorWorst = 0;
    for (int64_t r = 0; r < rows; ++r) {
      double rowMax = 0;
      for (int64_t c = 0; c < cols; ++c)
        rowMax = std::max(rowMax, std::fabs(double(reference[r * cols + c])));
      for (int64_t c = 0; c < cols; ++c) {
        int64_t i = r * cols + c;
        double e = std::fabs(double(ours[i]) - reference[i]);
        if (exact)
          ASSERT_EQ(e, 0.0) << "row " << r << " column " << c;
        uint16_t h = 0;
        if (asymmetric)
          std::memcpy(&h,
                      packed.data() + layout.minsOffset +
                          2 * (r * layout.groupsPerRow + c / layout.group),
                      2);
        double min = asymmetric ? mlir::llm::halfToFloat(h) : 0.0;
        double bound = 1.001 / 2048 * (std::fabs(ours[i] - min) + std::fabs(min)) +
                       1e-6 * std::fabs(double(reference[i]));
        ASSERT_LE(e, bound) << "row " << r << " column " << c;
        if (rowMax > 0)
          tensorWorst = std::max(tensorWorst, e / rowMax);
      }
    }
    auto &entry = worst[t.traits().name];
    ++entry.first;
    entry.second = std::max(entry.second, tensorWorst);
  }
  EXPECT_FALSE(worst.empty());
  for (const auto &[type, entry] : worst)
    std::cout << "[ measured ] " << type << ": " << entry.first
              << " tensors, max |ours - ggml| / max|row| " << entry.second
              << "\n";
}
