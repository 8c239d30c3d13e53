//===- DType.cpp - safetensors element types ------------------------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/DType.h"

#include "llvm/ADT/StringSwitch.h"

namespace frugal::safetensors {

std::optional<DType> parseDType(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<DType>>(name)
      .Case("F64", DType::F64)
      .Case("F32", DType::F32)
      .Case("F16", DType::F16)
      .Case("BF16", DType::BF16)
      .Case("F8_E4M3", DType::F8_E4M3)
      .Case("F8_E5M2", DType::F8_E5M2)
      .Case("I64", DType::I64)
      .Case("I32", DType::I32)
      .Case("I16", DType::I16)
      .Case("I8", DType::I8)
      .Case("U64", DType::U64)
      .Case("U32", DType::U32)
      .Case("U16", DType::U16)
      .Case("U8", DType::U8)
      .Case("BOOL", DType::BOOL)
      .Default(std::nullopt);
}

llvm::StringRef dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F64:
    return "F64";
  case DType::F32:
    return "F32";
  case DType::F16:
    return "F16";
  case DType::BF16:
    return "BF16";
  case DType::F8_E4M3:
    return "F8_E4M3";
  case DType::F8_E5M2:
    return "F8_E5M2";
  case DType::I64:
    return "I64";
  case DType::I32:
    return "I32";
  case DType::I16:
    return "I16";
  case DType::I8:
    return "I8";
  case DType::U64:
    return "U64";
  case DType::U32:
    return "U32";
  case DType::U16:
    return "U16";
  case DType::U8:
    return "U8";
  case DType::BOOL:
    return "BOOL";
  }
  return "?";
}

unsigned dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::I64:
  case DType::U64:
    return 8;
  case DType::F32:
  case DType::I32:
  case DType::U32:
    return 4;
  case DType::F16:
  case DType::BF16:
  case DType::I16:
  case DType::U16:
    return 2;
  case DType::F8_E4M3:
  case DType::F8_E5M2:
  case DType::I8:
  case DType::U8:
  case DType::BOOL:
    return 1;
  }
  return 1;
}

bool isConvertibleToF32(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16;
}

llvm::StringRef supportedDTypeList() {
  return "F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, I16, I8, U64, "
         "U32, U16, U8, BOOL";
}

} // namespace frugal::safetensors
