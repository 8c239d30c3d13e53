//===- Convert.h - tensor data to f32 ---------------------------*- C++ -*-===//
//
// Part of Frugal. Converts checkpoint tensors to f32, the type the compiler
// packs weights in.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_SAFETENSORS_CONVERT_H
#define FRUGAL_FRONTENDS_SAFETENSORS_CONVERT_H

#include "frontends/safetensors/SafetensorsFile.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace frugal::safetensors {

/// IEEE binary16 → f32, exact for every input (subnormals, infinities,
/// NaNs keep their sign and payload bits).
float halfToFloat(uint16_t bits);

/// bfloat16 → f32: the bits are the upper half of an f32.
float bfloat16ToFloat(uint16_t bits);

/// Converts every element of `tensor` (F32, F16 or BF16, little-endian) into
/// `out`, which must hold exactly tensor.numElements() floats. Errors name
/// the tensor and its file.
llvm::Error readAsF32(const TensorInfo &tensor,
                      llvm::MutableArrayRef<float> out);

} // namespace frugal::safetensors

#endif // FRUGAL_FRONTENDS_SAFETENSORS_CONVERT_H
