//===- Transcode.cpp - ggml quantized blocks to Frugal's packed layout ----===//
//
// Part of Frugal. ggml's block types are group-wise quantizations that
// #llm.quant expresses, so their matmul weights stay quantized: the codes
// are rearranged at pack time without changing a value.
//
//   Q8_0 → <bits = 8, group = 32, scheme = symmetric>: the block's f16 d is
//          the group scale, its int8 qs are the codes in order.
//   Q4_0 → <bits = 4, group = 32, scheme = symmetric>: ggml stores q + 8 as
//          Frugal does, but element j of a block sits in the low nibble of
//          qs[j] and element j + 16 in its high nibble; Frugal puts element
//          2j low and 2j + 1 high, so the nibbles are reordered.
//   Q4_1 → <bits = 4, group = 32, scheme = asymmetric>: d and m are the
//          scale and min (w = d*q + m in both), nibbles reordered as Q4_0.
//   Q5_0 → <bits = 8, group = 32, scheme = symmetric>: codes q - 16 in
//          [-16, 15], one byte each (Frugal has no 5-bit codes).
//   Q5_1 → <bits = 8, group = 32, scheme = asymmetric>: codes q in [0, 31].
//   Q4_K → <bits = 4, group = 32, scheme = asymmetric>: each sub-block of 32
//          becomes a group with scale d*sc and min -dmin*mn.
//   Q6_K → <bits = 8, group = 16, scheme = symmetric>: codes q - 32 in
//          [-32, 31], one scale d*sc per 16 elements.
//
// All but the K-quants are bit-exact. A K-quant stores an f16 super-block
// scale times 6- or 8-bit integer sub-scales; the product has up to 19
// significant bits and is rounded to the nearest f16 (relative error at
// most 2^-11 per scale and per min in f16's normal range, above 6.1e-5;
// the codes are exact). Q5_x and Q6_K codes take a byte each.
//
//===----------------------------------------------------------------------===//

#include "frontends/gguf/GGUFModel.h"

#include "dialects/LLM/IR/LLMQuant.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstring>

using llvm::StringRef;
using namespace mlir;

namespace frugal::gguf {

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

uint16_t loadU16(const uint8_t *p) { return uint16_t(p[0] | (p[1] << 8)); }
float loadHalf(const uint8_t *p) { return llm::halfToFloat(loadU16(p)); }

/// One ggml block in Frugal's terms: the codes as #llm.quant stores them,
/// in element order and not yet packed into nibbles, and the f16 bits of
/// each group's scale and min.
struct Block {
  uint8_t codes[256];
  uint16_t scales[16];
  uint16_t mins[16];
};

/// The f16 nearest to a K-quant product `value`; an error if it overflows.
llvm::Error roundScale(float value, const char *what, uint16_t &bits) {
  bits = llm::floatToHalf(value);
  if (std::isfinite(value) && !std::isfinite(llm::halfToFloat(bits)))
    return makeError(llvm::formatv("sub-block {0} {1} overflows f16", what,
                                   value)
                         .str());
  return llvm::Error::success();
}

llvm::Error decodeBlock(uint32_t type, const uint8_t *b, Block &out) {
  switch (type) {
  case kGGMLQ8_0:
    out.scales[0] = loadU16(b);
    std::memcpy(out.codes, b + 2, 32);
    return llvm::Error::success();
  case kGGMLQ4_0:
  case kGGMLQ4_1: {
    out.scales[0] = loadU16(b);
    const uint8_t *qs = b + 2;
    if (type == kGGMLQ4_1) {
      out.mins[0] = loadU16(b + 2);
      qs = b + 4;
    }
    for (int j = 0; j < 16; ++j) {
      out.codes[j] = qs[j] & 0x0F;
      out.codes[j + 16] = qs[j] >> 4;
    }
    return llvm::Error::success();
  }
  case kGGMLQ5_0:
  case kGGMLQ5_1: {
    out.scales[0] = loadU16(b);
    const uint8_t *qh = b + 2;
    if (type == kGGMLQ5_1) {
      out.mins[0] = loadU16(b + 2);
      qh = b + 4;
    }
    q5Codes(qh, qh + 4, out.codes);
    if (type == kGGMLQ5_0)
      for (int j = 0; j < 32; ++j)
        out.codes[j] = uint8_t(int8_t(int(out.codes[j]) - 16));
    return llvm::Error::success();
  }
  case kGGMLQ4_K: {
    float d = loadHalf(b), dmin = loadHalf(b + 2);
    const uint8_t *scales = b + 4, *qs = b + 16;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, mn;
      q4KScaleMin(j, scales, sc, mn);
      // d*sc and dmin*mn are exact in f32 (11 + 6 significant bits).
      if (llvm::Error err = roundScale(d * float(sc), "scale", out.scales[j]))
        return err;
      if (llvm::Error err = roundScale(-(dmin * float(mn)), "min", out.mins[j]))
        return err;
      // Sub-blocks 2i and 2i+1 share 32 bytes: low and high nibbles.
      const uint8_t *q = qs + 32 * (j / 2);
      for (int l = 0; l < 32; ++l)
        out.codes[32 * j + l] = j % 2 == 0 ? q[l] & 0x0F : q[l] >> 4;
    }
    return llvm::Error::success();
  }
  case kGGMLQ6_K: {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = reinterpret_cast<const int8_t *>(b + 192);
    float d = loadHalf(b + 208);
    for (int i = 0; i < 16; ++i)
      if (llvm::Error err = roundScale(d * float(sc[i]), "scale", out.scales[i]))
        return err;
    // Each half of 128 elements: four runs of 32 from the low and high
    // nibbles of 64 ql bytes and the four 2-bit fields of 32 qh bytes.
    for (int n = 0; n < 2; ++n, ql += 64, qh += 32) {
      uint8_t *c = out.codes + 128 * n;
      for (int l = 0; l < 32; ++l) {
        int q[4] = {(ql[l] & 0x0F) | ((qh[l] & 3) << 4),
                    (ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4),
                    (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4),
                    (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)};
        for (int t = 0; t < 4; ++t)
          c[l + 32 * t] = uint8_t(int8_t(q[t] - 32));
      }
    }
    return llvm::Error::success();
  }
  default:
    return makeError("no packed layout");
  }
}

} // namespace

llm::QuantAttr quantAttrForGGMLType(MLIRContext *context, uint32_t type) {
  using llm::QuantScheme;
  switch (type) {
  case kGGMLQ8_0:
  case kGGMLQ5_0:
    return llm::QuantAttr::get(context, 8, 32, QuantScheme::symmetric);
  case kGGMLQ5_1:
    return llm::QuantAttr::get(context, 8, 32, QuantScheme::asymmetric);
  case kGGMLQ4_0:
    return llm::QuantAttr::get(context, 4, 32, QuantScheme::symmetric);
  case kGGMLQ4_1:
  case kGGMLQ4_K:
    return llm::QuantAttr::get(context, 4, 32, QuantScheme::asymmetric);
  case kGGMLQ6_K:
    return llm::QuantAttr::get(context, 8, 16, QuantScheme::symmetric);
  default:
    return {};
  }
}

llvm::Error transcodeGGMLToQuant(uint32_t type, const uint8_t *data,
                                 int64_t rows, int64_t cols,
                                 llm::QuantAttr quant,
                                 llvm::MutableArrayRef<uint8_t> out) {
  llm::QuantAttr expected = quantAttrForGGMLType(quant.getContext(), type);
  const GGMLTypeTraits *traits = ggmlTypeTraits(type);
  if (!expected || expected != quant) {
    std::string wanted;
    llvm::raw_string_ostream os(wanted);
    os << quant;
    return makeError(llvm::Twine("ggml type ") +
                     (traits ? traits->name : "?") + " is not stored as " +
                     wanted);
  }
  const int64_t blockSize = traits->blockSize;
  if (rows <= 0 || cols <= 0 || cols % blockSize != 0)
    return makeError(llvm::formatv("a [{0}, {1}] weight is not whole {2} "
                                   "blocks of {3} per row",
                                   rows, cols, traits->name, blockSize)
                         .str());
  llm::QuantLayout layout = llm::getQuantLayout(quant, rows, cols);
  if (static_cast<int64_t>(out.size()) != layout.totalBytes)
    return makeError(llvm::formatv("packed buffer of {0} bytes, expected {1}",
                                   out.size(), layout.totalBytes)
                         .str());
  const bool fourBit = quant.getBits() == 4;
  const bool asymmetric = quant.getScheme() == llm::QuantScheme::asymmetric;
  const int64_t groups = blockSize / layout.group;
  const int64_t blocks = rows * (cols / blockSize);
  uint8_t *codes = out.data();
  uint8_t *scales = out.data() + layout.codesBytes;
  uint8_t *mins = out.data() + layout.minsOffset;
  Block block;
  for (int64_t b = 0; b < blocks; ++b) {
    // Blocks run along a row, and rows follow each other: block b holds
    // elements [b * blockSize, (b + 1) * blockSize) of the row-major weight
    // and the scale slots from b * groups on.
    if (llvm::Error err = decodeBlock(type, data + b * traits->blockBytes, block))
      return makeError(llvm::formatv("block {0} (row {1}): ", b,
                                     b / (cols / blockSize))
                           .str() +
                       llvm::toString(std::move(err)));
    for (int64_t g = 0; g < groups; ++g) {
      scales[2 * (b * groups + g)] = uint8_t(block.scales[g]);
      scales[2 * (b * groups + g) + 1] = uint8_t(block.scales[g] >> 8);
      if (asymmetric) {
        mins[2 * (b * groups + g)] = uint8_t(block.mins[g]);
        mins[2 * (b * groups + g) + 1] = uint8_t(block.mins[g] >> 8);
      }
    }
    if (!fourBit) {
      std::memcpy(codes + b * blockSize, block.codes, blockSize);
      continue;
    }
    uint8_t *dst = codes + b * blockSize / 2;
    for (int64_t j = 0; j < blockSize / 2; ++j)
      dst[j] = uint8_t(block.codes[2 * j] | (block.codes[2 * j + 1] << 4));
  }
  return llvm::Error::success();
}

llvm::Expected<bool> GGUFSource::readPacked(StringRef name,
                                            llm::QuantAttr quant, int64_t rows,
                                            int64_t cols,
                                            llvm::MutableArrayRef<uint8_t> out) const {
  const TensorInfo *t = find(name);
  if (!t || !quant || quantAttrForGGMLType(quant.getContext(), t->type) != quant)
    return false;
  if (t->shape.size() != 2 || t->shape[0] != rows || t->shape[1] != cols)
    return false;
  if (llvm::Error err = transcodeGGMLToQuant(t->type, t->data, rows, cols,
                                             quant, out))
    return makeError(file_->path() + ": tensor '" + t->name + "' (" + name +
                     "): " + llvm::toString(std::move(err)));
  return true;
}

unsigned keepGGUFQuantization(ModuleOp module, const GGUFSource &source) {
  SmallVector<llm::WeightOp> weights;
  module.walk([&](llm::WeightOp op) { weights.push_back(op); });
  unsigned kept = 0;
  for (llm::WeightOp weight : weights) {
    auto type = weight.getResult().getType();
    if (weight.getQuant() || weight.getTransposed() || type.getRank() != 2)
      continue;
    const TensorInfo *t = source.find(weight.getName());
    if (!t || t->shape.size() != 2 || t->shape[0] != type.getDimSize(0) ||
        t->shape[1] != type.getDimSize(1))
      continue;
    llm::QuantAttr quant = quantAttrForGGMLType(module.getContext(), t->type);
    if (!quant)
      continue;
    // Lookups read the packed table too, so token_embd is never expanded
    // to f32.
    SmallVector<OpOperand *> uses =
        llm::getPackedReaders(weight, /*lookups=*/true);
    if (uses.empty())
      continue;
    bool shared = uses.size() !=
                  static_cast<size_t>(std::distance(
                      weight.getResult().use_begin(),
                      weight.getResult().use_end()));
    if (!shared) {
      weight.setQuantAttr(quant);
    } else {
      // Other readers read f32 values (dequantized at pack time), the
      // matmuls and lookups the packed copy.
      OpBuilder builder(weight);
      auto copy = llm::WeightOp::create(builder, weight.getLoc(), type,
                                        weight.getNameAttr(), quant,
                                        IntegerAttr(),
                                        weight.getTransposedAttr());
      for (OpOperand *use : uses)
        use->set(copy);
    }
    ++kept;
  }
  return kept;
}

} // namespace frugal::gguf
