//===- DType.h - safetensors element types ----------------------*- C++ -*-===//
//
// Part of Frugal. The element types a safetensors header can name, with
// their sizes and spellings.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_SAFETENSORS_DTYPE_H
#define FRUGAL_FRONTENDS_SAFETENSORS_DTYPE_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace frugal::safetensors {

/// The dtypes of the safetensors format. Only F32, F16 and BF16 convert to
/// f32 weights; the others are parsed so that a checkpoint holding integer
/// buffers still opens.
enum class DType : uint8_t {
  F64,
  F32,
  F16,
  BF16,
  F8_E4M3,
  F8_E5M2,
  I64,
  I32,
  I16,
  I8,
  U64,
  U32,
  U16,
  U8,
  BOOL,
};

/// Parses a header dtype string ("F32", "BF16", ...); nullopt if unknown.
std::optional<DType> parseDType(llvm::StringRef name);

/// The header spelling of `dtype`.
llvm::StringRef dtypeName(DType dtype);

/// Bytes per element.
unsigned dtypeSize(DType dtype);

/// Whether readAsF32 converts this dtype (F32, F16, BF16).
bool isConvertibleToF32(DType dtype);

/// "F64, F32, ..." for error messages.
llvm::StringRef supportedDTypeList();

} // namespace frugal::safetensors

#endif // FRUGAL_FRONTENDS_SAFETENSORS_DTYPE_H
