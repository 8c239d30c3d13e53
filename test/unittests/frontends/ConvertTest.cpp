//===- ConvertTest.cpp - f16/bf16/f32 conversion --------------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/Convert.h"

#include "llvm/ADT/bit.h"
#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <vector>

using namespace frugal::safetensors;

namespace {

uint32_t bitsOf(float f) { return llvm::bit_cast<uint32_t>(f); }

/// binary16 decoded arithmetically, independent of halfToFloat.
double referenceHalf(uint16_t h) {
  int sign = (h & 0x8000) ? -1 : 1;
  int exponent = (h >> 10) & 0x1f;
  int mantissa = h & 0x3ff;
  if (exponent == 0)
    return sign * std::ldexp(double(mantissa), -24);
  if (exponent == 31)
    return mantissa ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
  return sign * std::ldexp(double(1024 + mantissa), exponent - 25);
}

TEST(HalfToFloat, SpecialValues) {
  EXPECT_EQ(bitsOf(halfToFloat(0x0000)), 0x00000000u); // +0
  EXPECT_EQ(bitsOf(halfToFloat(0x8000)), 0x80000000u); // -0 keeps its sign
  EXPECT_EQ(halfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(halfToFloat(0xc000), -2.0f);
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);              // largest normal
  EXPECT_EQ(halfToFloat(0x0400), std::ldexp(1.0f, -14)); // smallest normal
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24)); // smallest subnormal
  EXPECT_EQ(halfToFloat(0x03ff), std::ldexp(1023.0f, -24)); // largest subnormal
  EXPECT_EQ(halfToFloat(0x8001), -std::ldexp(1.0f, -24));
  EXPECT_EQ(halfToFloat(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(halfToFloat(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(halfToFloat(0x7e00)));
  EXPECT_TRUE(std::isnan(halfToFloat(0xfe00)));
  EXPECT_TRUE(std::signbit(halfToFloat(0xfe00)));
  // A signalling NaN keeps its payload (and stays a NaN, not infinity).
  EXPECT_TRUE(std::isnan(halfToFloat(0x7c01)));
  EXPECT_EQ(bitsOf(halfToFloat(0x7c01)), 0x7f802000u);
}

TEST(HalfToFloat, MatchesReferenceForEveryBitPattern) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    double ref = referenceHalf(uint16_t(h));
    float got = halfToFloat(uint16_t(h));
    if (std::isnan(ref)) {
      EXPECT_TRUE(std::isnan(got)) << "bits 0x" << std::hex << h;
      continue;
    }
    EXPECT_EQ(double(got), ref) << "bits 0x" << std::hex << h;
    EXPECT_EQ(std::signbit(got), bool(h & 0x8000))
        << "bits 0x" << std::hex << h;
  }
}

TEST(BFloat16ToFloat, UpperHalfOfF32) {
  EXPECT_EQ(bfloat16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(bfloat16ToFloat(0xc040), -3.0f);
  EXPECT_EQ(bitsOf(bfloat16ToFloat(0x8000)), 0x80000000u);
  EXPECT_EQ(bfloat16ToFloat(0x7f80), std::numeric_limits<float>::infinity());
  EXPECT_EQ(bfloat16ToFloat(0xff80), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(bfloat16ToFloat(0x7fc0)));
  EXPECT_EQ(bitsOf(bfloat16ToFloat(0x0001)), 0x00010000u); // f32 subnormal
  for (uint32_t b = 0; b <= 0xffff; ++b)
    EXPECT_EQ(bitsOf(bfloat16ToFloat(uint16_t(b))), b << 16);
}

TensorInfo makeTensor(DType dtype, std::vector<uint8_t> &bytes,
                      size_t skew = 0) {
  TensorInfo t;
  t.name = "w";
  t.file = "test.safetensors";
  t.dtype = dtype;
  t.shape = {int64_t((bytes.size() - skew) / dtypeSize(dtype))};
  t.data = llvm::ArrayRef<uint8_t>(bytes).drop_front(skew);
  return t;
}

TEST(ReadAsF32, ConvertsEachDtypeFromUnalignedData) {
  // One byte of skew makes every element unaligned.
  std::vector<uint8_t> f32 = {0,    0x00, 0x00, 0x80, 0x3f,
                              0x00, 0x00, 0x00, 0xc0};
  std::vector<uint8_t> f16 = {0, 0x00, 0x3c, 0x01, 0x00, 0x00, 0x7c};
  std::vector<uint8_t> bf16 = {0, 0x80, 0x3f, 0x00, 0x80};
  std::vector<float> out(2);
  ASSERT_FALSE(bool(readAsF32(makeTensor(DType::F32, f32, 1), out)));
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  std::vector<float> out3(3);
  ASSERT_FALSE(bool(readAsF32(makeTensor(DType::F16, f16, 1), out3)));
  EXPECT_EQ(out3[0], 1.0f);
  EXPECT_EQ(out3[1], std::ldexp(1.0f, -24));
  EXPECT_EQ(out3[2], std::numeric_limits<float>::infinity());
  ASSERT_FALSE(bool(readAsF32(makeTensor(DType::BF16, bf16, 1), out)));
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(bitsOf(out[1]), 0x80000000u);
}

TEST(ReadAsF32, RejectsOtherDtypesAndWrongSizes) {
  std::vector<uint8_t> bytes(8);
  std::vector<float> out(8);
  llvm::Error err = readAsF32(makeTensor(DType::I8, bytes), out);
  EXPECT_EQ(llvm::toString(std::move(err)),
            "test.safetensors: tensor 'w': dtype I8 cannot be converted to "
            "f32 (expected F32, F16 or BF16)");
  std::vector<float> small(3);
  err = readAsF32(makeTensor(DType::F32, bytes), small);
  EXPECT_EQ(llvm::toString(std::move(err)),
            "test.safetensors: tensor 'w': output holds 3 floats, the tensor "
            "has 2 elements");
}

} // namespace
