//===- MatMulNBits.h - com.microsoft MatMulNBits weights --------*- C++ -*-===//
//
// Part of Frugal. Internal to the ONNX frontend. The B input of an ONNX
// Runtime MatMulNBits node holds a [N, K] weight quantized block-wise:
//
//   B            uint8 [N, ceil(K / block_size), block_size * bits / 8],
//                 4-bit codes two per byte (element 2j in the low nibble),
//   scales       [N, ceil(K / block_size)] (FLOAT or FLOAT16),
//   zero_points  uint8 [N, ceil(ceil(K / block_size) * bits / 8)], packed
//                 like the codes; absent means 2^(bits - 1),
//
// with w = (q - zero_point) * scale. The importer turns the node into a
// matmul against `llm.weight "<B>" quant <bits, group = block_size, ...>`
// and the model, as a TensorSource, serves B under its own name as that
// logical [N, K] weight: readPacked transcodes it into the #llm.quant
// layout (codes copied, scales and mins as f16) and readAsF32 dequantizes.
// A GatherBlockQuantized node reading the same B (the tied embedding of
// int4 exports) imports as an f32 `llm.weight "<B>"`, i.e. readAsF32.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_ONNX_MATMULNBITS_H
#define FRUGAL_FRONTENDS_ONNX_MATMULNBITS_H

#include "frontends/onnx/ONNXModel.h"

#include <string>

namespace frugal::onnx {

struct NBitsWeight {
  int64_t n = 0, k = 0, bits = 0, blockSize = 0;
  /// Blocks per row and bytes per block of B.
  int64_t blocks = 0, blobBytes = 0;
  const ONNXTensor *b = nullptr, *scales = nullptr, *zeroPoints = nullptr;

  /// Whether every zero point is the default 2^(bits - 1) (or absent):
  /// then w = scale * (q - 2^(bits - 1)), Frugal's symmetric scheme.
  bool symmetric() const;
  /// Zero point of block `blk` of row `row`.
  int zeroPoint(int64_t row, int64_t blk) const;
  /// Scale of block `blk` of row `row`, as stored (f16 widened exactly).
  float scale(int64_t row, int64_t blk) const;
  int code(int64_t row, int64_t col) const;
};

/// Describes the weight of MatMulNBits node `node` of `model`; errors
/// (without the node's name) say what is not supported: B, scales and
/// zero_points must be initializers of the documented shapes, bits 4 or 8,
/// zero points uint8.
llvm::Expected<NBitsWeight> describeNBits(const ONNXModel &model,
                                          const ONNXNode &node);

/// The MatMulNBits node whose B input is the initializer `name`, or null.
const ONNXNode *findNBitsConsumer(const ONNXModel &model, llvm::StringRef name);

/// The initializer com.microsoft GatherBlockQuantized node `node` gathers
/// from: its data input, or the input of the Reshape computing it (how
/// onnxruntime-genai ties the embedding to lm_head's MatMulNBits B, viewed
/// as uint8 [N, K * bits / 8]); empty when it is neither.
std::string gatherBlockQuantizedTable(const ONNXModel &model,
                                      const ONNXNode &node);

/// Describes the table of GatherBlockQuantized node `node` (gather_axis 0,
/// quantize_axis 1) as the MatMulNBits weight it shares: the table must be
/// the B of a MatMulNBits node with the same bits, block_size, scales and
/// zero_points. Sets `table` to B's name. Errors omit the node's name.
llvm::Expected<NBitsWeight> describeGatherBlockQuantized(const ONNXModel &model,
                                                         const ONNXNode &node,
                                                         std::string &table);

/// Dequantizes into `out` (n * k floats, row-major [N, K]).
void dequantizeNBits(const NBitsWeight &w, llvm::MutableArrayRef<float> out);

/// Writes the #llm.quant storage of `w` with group = block_size (`bits`
/// equal to w.bits) into `out`. The codes are copied (symmetric 8-bit ones
/// recentred to int8); scales are rounded to f16, exact when the model
/// stores them as FLOAT16; asymmetric mins are -zero_point * scale rounded
/// to f16. Returns false when `group`/`bits`/`asymmetric` do not describe
/// such a transcoding.
bool transcodeNBits(const NBitsWeight &w, unsigned bits, unsigned group,
                    bool asymmetric, llvm::MutableArrayRef<uint8_t> out);

} // namespace frugal::onnx

#endif // FRUGAL_FRONTENDS_ONNX_MATMULNBITS_H
