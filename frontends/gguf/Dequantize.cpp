//===- Dequantize.cpp - ggml tensor types to f32 --------------------------===//
//
// Part of Frugal. Scalar reference conversions written from ggml's block
// layouts (all little-endian; `d`, `m`, `dmin` are f16):
//
//   Q8_0  (32 elems, 34 B): d, i8 qs[32]            x = d*q
//   Q4_0  (32 elems, 18 B): d, u8 qs[16]            x[j] = d*((qs[j]&15)-8),
//                                                   x[j+16] = d*((qs[j]>>4)-8)
//   Q4_1  (32 elems, 20 B): d, m, u8 qs[16]         x[j] = d*(qs[j]&15)+m,
//                                                   x[j+16] = d*(qs[j]>>4)+m
//   Q5_0  (32 elems, 22 B): d, u32 qh, u8 qs[16]    five-bit q: the nibble
//        of qs as in Q4_0 plus bit j of qh as bit 4 of element j;
//        x = d*(q-16)
//   Q5_1  (32 elems, 24 B): d, m, u32 qh, u8 qs[16] x = d*q + m, q as Q5_0
//   Q4_K (256 elems, 144 B): d, dmin, u8 scales[12], u8 qs[128]; eight
//        sub-blocks of 32 with 6-bit scale sc and min mn packed in `scales`:
//        x = d*sc*q - dmin*mn. Each 64 elements use 32 bytes of qs: low
//        nibbles for the first 32, high nibbles for the next 32.
//   Q6_K (256 elems, 210 B): u8 ql[128], u8 qh[64], i8 scales[16], d; six-bit
//        q = (4 bits of ql | 2 bits of qh << 4) - 32, x = d*scales[i]*q with
//        one scale per 16 elements.
//
//===----------------------------------------------------------------------===//

#include "frontends/gguf/GGUFFile.h"

#include "frontends/safetensors/Convert.h"

#include <cstring>

namespace frugal::gguf {

void q4KScaleMin(int j, const uint8_t *q, uint8_t &sc, uint8_t &mn) {
  if (j < 4) {
    sc = q[j] & 63;
    mn = q[j + 4] & 63;
  } else {
    sc = uint8_t((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
    mn = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

void q5Codes(const uint8_t *qh, const uint8_t *qs, uint8_t *q) {
  uint32_t high = uint32_t(qh[0]) | uint32_t(qh[1]) << 8 |
                  uint32_t(qh[2]) << 16 | uint32_t(qh[3]) << 24;
  for (int j = 0; j < 16; ++j) {
    q[j] = uint8_t((qs[j] & 0x0F) | (((high >> j) & 1) << 4));
    q[j + 16] = uint8_t((qs[j] >> 4) | (((high >> (j + 16)) & 1) << 4));
  }
}

namespace {

using safetensors::bfloat16ToFloat;
using safetensors::halfToFloat;

uint16_t loadU16(const uint8_t *p) { return uint16_t(p[0] | (p[1] << 8)); }
float loadHalf(const uint8_t *p) { return halfToFloat(loadU16(p)); }

void dequantQ8_0(const uint8_t *b, float *y) {
  float d = loadHalf(b);
  for (int j = 0; j < 32; ++j)
    y[j] = d * float(int8_t(b[2 + j]));
}

void dequantQ4_0(const uint8_t *b, float *y) {
  float d = loadHalf(b);
  const uint8_t *qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * float(int(qs[j] & 0x0F) - 8);
    y[j + 16] = d * float(int(qs[j] >> 4) - 8);
  }
}

void dequantQ4_1(const uint8_t *b, float *y) {
  float d = loadHalf(b), m = loadHalf(b + 2);
  const uint8_t *qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * float(qs[j] & 0x0F) + m;
    y[j + 16] = d * float(qs[j] >> 4) + m;
  }
}

void dequantQ5(const uint8_t *b, float *y, bool withMin) {
  float d = loadHalf(b), m = withMin ? loadHalf(b + 2) : 0.0f;
  const uint8_t *qh = b + (withMin ? 4 : 2);
  uint8_t q[32];
  q5Codes(qh, qh + 4, q);
  for (int j = 0; j < 32; ++j)
    y[j] = withMin ? d * float(q[j]) + m : d * float(int(q[j]) - 16);
}

void dequantQ4_K(const uint8_t *b, float *y) {
  float d = loadHalf(b), dmin = loadHalf(b + 2);
  const uint8_t *scales = b + 4;
  const uint8_t *q = b + 16;
  for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
    uint8_t sc, mn;
    q4KScaleMin(is, scales, sc, mn);
    float d1 = d * sc, m1 = dmin * mn;
    q4KScaleMin(is + 1, scales, sc, mn);
    float d2 = d * sc, m2 = dmin * mn;
    for (int l = 0; l < 32; ++l)
      y[j + l] = d1 * float(q[l] & 0x0F) - m1;
    for (int l = 0; l < 32; ++l)
      y[j + 32 + l] = d2 * float(q[l] >> 4) - m2;
  }
}

void dequantQ6_K(const uint8_t *b, float *y) {
  const uint8_t *ql = b;
  const uint8_t *qh = b + 128;
  const int8_t *sc = reinterpret_cast<const int8_t *>(b + 192);
  float d = loadHalf(b + 208);
  for (int n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      int is = l / 16;
      int q1 = int((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
      int q2 = int((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
      int q3 = int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      int q4 = int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[n + l] = d * float(sc[is + 0]) * float(q1);
      y[n + l + 32] = d * float(sc[is + 2]) * float(q2);
      y[n + l + 64] = d * float(sc[is + 4]) * float(q3);
      y[n + l + 96] = d * float(sc[is + 6]) * float(q4);
    }
  }
}

} // namespace

llvm::Error dequantizeToF32(uint32_t type, const uint8_t *data,
                            uint64_t numElements, float *out) {
  const GGMLTypeTraits *traits = ggmlTypeTraits(type);
  if (!traits || !traits->toF32)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "cannot convert ggml type " +
            (traits ? std::string(traits->name) : std::to_string(type)) +
            " to f32 (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, "
            "Q5_1, Q4_K, Q6_K)");
  if (numElements % traits->blockSize != 0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "%llu elements are not whole blocks of %u (%s)",
        static_cast<unsigned long long>(numElements), traits->blockSize,
        traits->name);
  const uint64_t blocks = numElements / traits->blockSize;
  const uint32_t bs = traits->blockBytes, be = traits->blockSize;
  switch (type) {
  case kGGMLF32:
    std::memcpy(out, data, numElements * 4);
    break;
  case kGGMLF16:
    for (uint64_t i = 0; i < numElements; ++i)
      out[i] = loadHalf(data + 2 * i);
    break;
  case kGGMLBF16:
    for (uint64_t i = 0; i < numElements; ++i)
      out[i] = bfloat16ToFloat(loadU16(data + 2 * i));
    break;
  case kGGMLQ8_0:
    for (uint64_t i = 0; i < blocks; ++i)
      dequantQ8_0(data + i * bs, out + i * be);
    break;
  case kGGMLQ4_0:
    for (uint64_t i = 0; i < blocks; ++i)
      dequantQ4_0(data + i * bs, out + i * be);
    break;
  case kGGMLQ4_1:
    for (uint64_t i = 0; i < blocks; ++i)
      dequantQ4_1(data + i * bs, out + i * be);
    break;
  case kGGMLQ5_0:
  case kGGMLQ5_1:
    for (uint64_t i = 0; i < blocks; ++i)
      dequantQ5(data + i * bs, out + i * be, type == kGGMLQ5_1);
    break;
  case kGGMLQ4_K:
    for (uint64_t i = 0; i < blocks; ++i)
      dequantQ4_K(data + i * bs, out + i * be);
    break;
  case kGGMLQ6_K:
    for (uint64_t i = 0; i < blocks; ++i)
      dequantQ6_K(data + i * bs, out + i * be);
    break;
  }
  return llvm::Error::success();
}

} // namespace frugal::gguf
