//===- MatMulNBits.cpp - com.microsoft MatMulNBits weights -----------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/MatMulNBits.h"

#include "dialects/LLM/IR/LLMQuant.h"

#include "llvm/Support/FormatVariadic.h"

#include "llvm/ADT/STLExtras.h"

#include <cstring>

using llvm::Error;
using llvm::StringRef;

namespace frugal::onnx {

static Error nbitsError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static int64_t nodeAttrInt(const ONNXNode &node, StringRef name, int64_t def) {
  const ONNXAttribute *a = node.attr(name);
  return a && a->type == AttrType::Int ? a->i : def;
}

static float loadF16(const uint8_t *p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return mlir::llm::halfToFloat(h);
}

llvm::Expected<NBitsWeight> describeNBits(const ONNXModel &model,
                                          const ONNXNode &node) {
  NBitsWeight w;
  w.k = nodeAttrInt(node, "K", 0);
  w.n = nodeAttrInt(node, "N", 0);
  w.bits = nodeAttrInt(node, "bits", 4);
  w.blockSize = nodeAttrInt(node, "block_size", 0);
  if (w.k <= 0 || w.n <= 0 || w.blockSize < 16 ||
      (w.blockSize & (w.blockSize - 1)))
    return nbitsError(llvm::formatv(
        "attributes K = {0}, N = {1}, block_size = {2} are invalid (K and N "
        "positive, block_size a power of 2 >= 16)",
        w.k, w.n, w.blockSize));
  if (w.bits != 4 && w.bits != 8)
    return nbitsError("bits = " + llvm::Twine(w.bits) +
                      " is not supported (only 4 and 8)");
  w.blocks = (w.k + w.blockSize - 1) / w.blockSize;
  w.blobBytes = w.blockSize * w.bits / 8;
  auto init = [&](size_t i) -> const ONNXTensor * {
    return i < node.inputs.size() && !node.inputs[i].empty()
               ? model.initializer(node.inputs[i])
               : nullptr;
  };
  w.b = init(1);
  w.scales = init(2);
  if (!w.b || !w.scales)
    return nbitsError("B and scales must be initializers");
  if (w.b->dataType != DataType::UInt8 ||
      w.b->numElements() != w.n * w.blocks * w.blobBytes)
    return nbitsError(llvm::formatv(
        "B must be uint8 [N, ceil(K / block_size), block_size * bits / 8] = "
        "[{0}, {1}, {2}]",
        w.n, w.blocks, w.blobBytes));
  if ((w.scales->dataType != DataType::Float &&
       w.scales->dataType != DataType::Float16) ||
      w.scales->numElements() != w.n * w.blocks)
    return nbitsError(llvm::formatv("scales must be FLOAT or FLOAT16 with N * "
                                    "ceil(K / block_size) = {0} elements",
                                    w.n * w.blocks));
  if (node.inputs.size() > 3 && !node.inputs[3].empty()) {
    w.zeroPoints = init(3);
    if (!w.zeroPoints)
      return nbitsError("zero_points must be an initializer");
    int64_t perRow = (w.blocks * w.bits + 7) / 8;
    if (w.zeroPoints->dataType != DataType::UInt8)
      return nbitsError("zero_points of type " +
                        dataTypeName(int32_t(w.zeroPoints->dataType)) +
                        " are not supported (only packed uint8)");
    if (w.zeroPoints->numElements() != w.n * perRow)
      return nbitsError(llvm::formatv(
          "zero_points must have N * ceil(blocks * bits / 8) = {0} elements",
          w.n * perRow));
  }
  if (node.inputs.size() > 4 && !node.inputs[4].empty())
    return nbitsError("g_idx (act-order) is not supported");
  return w;
}

const ONNXNode *findNBitsConsumer(const ONNXModel &model, StringRef name) {
  for (const ONNXNode &node : model.graph().nodes)
    if (node.opType == "MatMulNBits" && node.domain == "com.microsoft" &&
        node.inputs.size() > 1 && node.inputs[1] == name)
      return &node;
  return nullptr;
}

std::string gatherBlockQuantizedTable(const ONNXModel &model,
                                      const ONNXNode &node) {
  if (node.inputs.empty() || node.inputs[0].empty())
    return {};
  StringRef data = node.inputs[0];
  if (model.initializer(data))
    return data.str();
  for (const ONNXNode &n : model.graph().nodes)
    if (llvm::is_contained(n.outputs, data))
      return n.opType == "Reshape" && n.domain.empty() && !n.inputs.empty() &&
                     model.initializer(n.inputs[0])
                 ? n.inputs[0]
                 : std::string();
  return {};
}

llvm::Expected<NBitsWeight> describeGatherBlockQuantized(const ONNXModel &model,
                                                         const ONNXNode &node,
                                                         std::string &table) {
  int64_t gatherAxis = nodeAttrInt(node, "gather_axis", 0);
  int64_t quantizeAxis = nodeAttrInt(node, "quantize_axis", 1);
  if (gatherAxis != 0 || (quantizeAxis != 1 && quantizeAxis != -1))
    return nbitsError(llvm::formatv(
        "gather_axis = {0}, quantize_axis = {1} are not supported (only "
        "rows of a table quantized along its last axis: 0 and 1)",
        gatherAxis, quantizeAxis));
  table = gatherBlockQuantizedTable(model, node);
  const ONNXNode *nbits =
      table.empty() ? nullptr : findNBitsConsumer(model, table);
  if (!nbits)
    return nbitsError("data must be the B weight of a MatMulNBits node, "
                      "directly or through a Reshape (a tied embedding)");
  llvm::Expected<NBitsWeight> w = describeNBits(model, *nbits);
  if (!w)
    return nbitsError("the MatMulNBits weight it shares: " +
                      llvm::toString(w.takeError()));
  auto input = [](const ONNXNode &n, size_t i) {
    return i < n.inputs.size() ? StringRef(n.inputs[i]) : StringRef();
  };
  if (nodeAttrInt(node, "bits", 4) != w->bits ||
      nodeAttrInt(node, "block_size", 128) != w->blockSize ||
      input(node, 2) != input(*nbits, 2) || input(node, 3) != input(*nbits, 3))
    return nbitsError("bits, block_size, scales and zero_points must be "
                      "those of the MatMulNBits node sharing its data");
  return w;
}

int NBitsWeight::zeroPoint(int64_t row, int64_t blk) const {
  if (!zeroPoints)
    return 1 << (bits - 1);
  int64_t perRow = (blocks * bits + 7) / 8;
  const uint8_t *p = zeroPoints->data.data() + row * perRow;
  if (bits == 8)
    return p[blk];
  uint8_t byte = p[blk / 2];
  return blk % 2 == 0 ? (byte & 0x0F) : (byte >> 4);
}

bool NBitsWeight::symmetric() const {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < blocks; ++j)
      if (zeroPoint(r, j) != (1 << (bits - 1)))
        return false;
  return true;
}

float NBitsWeight::scale(int64_t row, int64_t blk) const {
  int64_t i = row * blocks + blk;
  if (scales->dataType == DataType::Float16)
    return loadF16(scales->data.data() + 2 * i);
  float f;
  std::memcpy(&f, scales->data.data() + 4 * i, 4);
  return f;
}

int NBitsWeight::code(int64_t row, int64_t col) const {
  const uint8_t *blob =
      b->data.data() + (row * blocks + col / blockSize) * blobBytes;
  int64_t e = col % blockSize;
  if (bits == 8)
    return blob[e];
  uint8_t byte = blob[e / 2];
  return e % 2 == 0 ? (byte & 0x0F) : (byte >> 4);
}

void dequantizeNBits(const NBitsWeight &w, llvm::MutableArrayRef<float> out) {
  for (int64_t r = 0; r < w.n; ++r)
    for (int64_t c = 0; c < w.k; ++c) {
      int64_t blk = c / w.blockSize;
      out[r * w.k + c] =
          float(w.code(r, c) - w.zeroPoint(r, blk)) * w.scale(r, blk);
    }
}

bool transcodeNBits(const NBitsWeight &w, unsigned bits, unsigned group,
                    bool asymmetric, llvm::MutableArrayRef<uint8_t> out) {
  if (int64_t(bits) != w.bits || int64_t(group) != w.blockSize ||
      w.k % w.blockSize != 0 || (!asymmetric && !w.symmetric()))
    return false;
  int64_t codesBytes = w.n * w.k * w.bits / 8;
  int64_t groups = w.n * w.blocks;
  if (int64_t(out.size()) != codesBytes + groups * 2 * (asymmetric ? 2 : 1))
    return false;
  // Codes: with K a multiple of block_size, B's rows are exactly ours.
  // Symmetric 8-bit codes are signed in Frugal: q - 128 is q ^ 0x80.
  std::memcpy(out.data(), w.b->data.data(), codesBytes);
  if (w.bits == 8 && !asymmetric)
    for (int64_t i = 0; i < codesBytes; ++i)
      out[i] ^= 0x80;
  uint8_t *scalesOut = out.data() + codesBytes;
  uint8_t *minsOut = scalesOut + groups * 2;
  for (int64_t r = 0; r < w.n; ++r)
    for (int64_t j = 0; j < w.blocks; ++j) {
      int64_t i = r * w.blocks + j;
      // FLOAT16 scales are copied bit for bit; FLOAT ones round to f16
      // (Frugal stores f16 scales), the only inexact step of the
      // transcoding.
      uint16_t s;
      if (w.scales->dataType == DataType::Float16)
        std::memcpy(&s, w.scales->data.data() + 2 * i, 2);
      else
        s = mlir::llm::floatToHalf(w.scale(r, j));
      std::memcpy(scalesOut + 2 * i, &s, 2);
      if (!asymmetric)
        continue;
      // w = (q - zp) * scale = scale * q + min with min = -zp * scale,
      // taken from the stored f16 scale so that q == zp dequantizes to
      // (nearly) 0. -zp * scale needs up to bits more mantissa bits than
      // the scale: when f16 cannot hold it, rounding it costs at most
      // 2^-12 * zp * scale per element. That is far below what
      // dequantizing and requantizing from scratch (new codes, up to
      // scale / 2 each) would lose, so the codes are kept either way.
      float sh = mlir::llm::halfToFloat(s);
      uint16_t m = mlir::llm::floatToHalf(-float(w.zeroPoint(r, j)) * sh);
      std::memcpy(minsOut + 2 * i, &m, 2);
    }
  return true;
}

} // namespace frugal::onnx
