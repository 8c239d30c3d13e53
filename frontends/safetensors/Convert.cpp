//===- Convert.cpp - tensor data to f32 -----------------------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/Convert.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"

namespace frugal::safetensors {

float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    // Infinity or NaN: keep the payload in the top mantissa bits.
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    // Normal: rebias the exponent from 15 to 127.
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign; // ±0
  } else {
    // Subnormal: value = mantissa * 2^-24; normalize so the leading one
    // becomes the implicit bit of an f32 normal.
    int shift = 0;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    mantissa &= 0x3ff;
    bits = sign | (uint32_t(113 - shift) << 23) | (mantissa << 13);
  }
  return llvm::bit_cast<float>(bits);
}

float bfloat16ToFloat(uint16_t bits) {
  return llvm::bit_cast<float>(uint32_t(bits) << 16);
}

llvm::Error readAsF32(const TensorInfo &tensor,
                      llvm::MutableArrayRef<float> out) {
  auto fail = [&](const llvm::Twine &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   tensor.file + ": tensor '" + tensor.name +
                                       "': " + msg);
  };
  if (!isConvertibleToF32(tensor.dtype))
    return fail("dtype " + dtypeName(tensor.dtype) +
                " cannot be converted to f32 (expected F32, F16 or BF16)");
  size_t count = tensor.data.size() / dtypeSize(tensor.dtype);
  if (out.size() != count)
    return fail(llvm::formatv("output holds {0} floats, the tensor has {1} "
                              "elements",
                              out.size(), count));
  const uint8_t *src = tensor.data.data();
  namespace endian = llvm::support::endian;
  switch (tensor.dtype) {
  case DType::F32:
    for (size_t i = 0; i < count; ++i)
      out[i] = llvm::bit_cast<float>(endian::read32le(src + 4 * i));
    break;
  case DType::F16:
    for (size_t i = 0; i < count; ++i)
      out[i] = halfToFloat(endian::read16le(src + 2 * i));
    break;
  case DType::BF16:
    for (size_t i = 0; i < count; ++i)
      out[i] = bfloat16ToFloat(endian::read16le(src + 2 * i));
    break;
  default:
    break;
  }
  return llvm::Error::success();
}

} // namespace frugal::safetensors
