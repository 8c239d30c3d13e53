//===- Transcode.cpp - ggml quantized blocks to Frugal's packed layout ----===//
//
// Part of Frugal. Three ggml block types are group-wise quantizations that
// #llm.quant expresses exactly, so their weights are kept quantized and
// rearranged at pack time without touching a value:
//
//   Q8_0 → <bits = 8, group = 32, scheme = symmetric>: the block's f16 d is
//          the group scale, its int8 qs are the codes in order.
//   Q4_0 → <bits = 4, group = 32, scheme = symmetric>: ggml stores q + 8 as
//          Frugal does, but element j of a block sits in the low nibble of
//          qs[j] and element j + 16 in its high nibble; Frugal puts element
//          2j low and 2j + 1 high, so the nibbles are reordered.
//   Q4_1 → <bits = 4, group = 32, scheme = asymmetric>: d and m are the
//          scale and min (w = d*q + m in both), nibbles reordered as Q4_0.
//
// Q4_K and Q6_K (super-blocks with 6-bit sub-scales) have no exact
// counterpart and stay on the dequantize-to-f32 path.
//
//===----------------------------------------------------------------------===//

#include "frontends/gguf/GGUFModel.h"

#include "dialects/LLM/IR/LLMQuant.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>

using llvm::StringRef;
using namespace mlir;

namespace frugal::gguf {

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Uses of `weight` as the rhs of a matmul with transpose_b.
SmallVector<OpOperand *> matmulUses(llm::WeightOp weight) {
  SmallVector<OpOperand *> uses;
  for (OpOperand &use : weight.getResult().getUses()) {
    auto matmul = dyn_cast<llm::MatmulOp>(use.getOwner());
    if (matmul && use.getOperandNumber() == 1 && matmul.getTransposeB())
      uses.push_back(&use);
  }
  return uses;
}

} // namespace

llm::QuantAttr quantAttrForGGMLType(MLIRContext *context, uint32_t type) {
  switch (type) {
  case kGGMLQ8_0:
    return llm::QuantAttr::get(context, 8, 32, llm::QuantScheme::symmetric);
  case kGGMLQ4_0:
    return llm::QuantAttr::get(context, 4, 32, llm::QuantScheme::symmetric);
  case kGGMLQ4_1:
    return llm::QuantAttr::get(context, 4, 32, llm::QuantScheme::asymmetric);
  default:
    return {};
  }
}

llvm::Error transcodeGGMLToQuant(uint32_t type, const uint8_t *data,
                                 int64_t rows, int64_t cols,
                                 llm::QuantAttr quant,
                                 llvm::MutableArrayRef<uint8_t> out) {
  llm::QuantAttr expected = quantAttrForGGMLType(quant.getContext(), type);
  if (!expected || expected != quant) {
    std::string wanted;
    llvm::raw_string_ostream os(wanted);
    os << quant;
    return makeError(llvm::Twine("ggml type ") +
                     (ggmlTypeTraits(type) ? ggmlTypeTraits(type)->name : "?") +
                     " is not stored as " + wanted);
  }
  if (rows <= 0 || cols <= 0 || cols % 32 != 0)
    return makeError(llvm::formatv("a [{0}, {1}] weight is not whole blocks "
                                   "of 32 per row",
                                   rows, cols)
                         .str());
  llm::QuantLayout layout = llm::getQuantLayout(quant, rows, cols);
  if (static_cast<int64_t>(out.size()) != layout.totalBytes)
    return makeError(llvm::formatv("packed buffer of {0} bytes, expected {1}",
                                   out.size(), layout.totalBytes)
                         .str());
  const uint32_t blockBytes = ggmlTypeTraits(type)->blockBytes;
  const int64_t blocks = rows * (cols / 32);
  uint8_t *codes = out.data();
  uint8_t *scales = out.data() + layout.codesBytes;
  uint8_t *mins = out.data() + layout.minsOffset;
  for (int64_t b = 0; b < blocks; ++b) {
    // Blocks run along a row, and rows follow each other: block b holds
    // elements [32b, 32b + 32) of the row-major weight, scale slot b.
    const uint8_t *block = data + b * blockBytes;
    std::memcpy(scales + 2 * b, block, 2);
    if (type == kGGMLQ8_0) {
      std::memcpy(codes + 32 * b, block + 2, 32);
      continue;
    }
    const uint8_t *qs = block + 2;
    if (type == kGGMLQ4_1) {
      std::memcpy(mins + 2 * b, block + 2, 2);
      qs = block + 4;
    }
    auto nibble = [&](int e) {
      return e < 16 ? qs[e] & 0x0F : qs[e - 16] >> 4;
    };
    uint8_t *dst = codes + 16 * b;
    for (int j = 0; j < 16; ++j)
      dst[j] = uint8_t(nibble(2 * j) | (nibble(2 * j + 1) << 4));
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
    SmallVector<OpOperand *> uses = matmulUses(weight);
    if (uses.empty())
      continue;
    bool shared = uses.size() !=
                  static_cast<size_t>(std::distance(
                      weight.getResult().use_begin(),
                      weight.getResult().use_end()));
    if (!shared) {
      weight.setQuantAttr(quant);
    } else {
      // A tied embedding: the lookup reads f32 rows (dequantized at pack
      // time), the matmuls read the packed copy.
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
