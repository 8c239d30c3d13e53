//===- SafetensorsFile.h - memory-mapped safetensors file -------*- C++ -*-===//
//
// Part of Frugal. Reads one .safetensors file: an 8-byte little-endian
// header length N, N bytes of JSON describing every tensor, then the raw
// data. The file is memory-mapped and tensors are views into the mapping;
// nothing is copied.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_SAFETENSORS_SAFETENSORSFILE_H
#define FRUGAL_FRONTENDS_SAFETENSORS_SAFETENSORSFILE_H

#include "frontends/safetensors/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>
#include <vector>

namespace frugal::safetensors {

/// One tensor of a safetensors file.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  llvm::SmallVector<int64_t, 4> shape;
  /// The tensor's bytes: a view into the file mapping (little-endian).
  llvm::ArrayRef<uint8_t> data;
  /// Path of the file holding the tensor.
  std::string file;

  int64_t numElements() const;
};

/// Formats a shape as "[2, 3]".
std::string formatShape(llvm::ArrayRef<int64_t> shape);

class SafetensorsFile {
public:
  /// Maps and validates the file at `path`.
  static llvm::Expected<std::unique_ptr<SafetensorsFile>>
  open(llvm::StringRef path);

  /// Validates the bytes of `buffer`, which the result keeps alive. Errors
  /// name `buffer`'s identifier as the file.
  static llvm::Expected<std::unique_ptr<SafetensorsFile>>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer);

  /// The tensor called `name`, or null.
  const TensorInfo *lookup(llvm::StringRef name) const;

  /// Every tensor, in order of data offset.
  llvm::ArrayRef<TensorInfo> tensors() const { return tensorList; }

  /// The string entries of `__metadata__`.
  const llvm::StringMap<std::string> &metadata() const { return meta; }

  llvm::StringRef path() const { return filePath; }

private:
  SafetensorsFile() = default;
  llvm::Error parseHeader();

  std::unique_ptr<llvm::MemoryBuffer> buffer;
  std::string filePath;
  std::vector<TensorInfo> tensorList;
  llvm::StringMap<size_t> index;
  llvm::StringMap<std::string> meta;
};

} // namespace frugal::safetensors

#endif // FRUGAL_FRONTENDS_SAFETENSORS_SAFETENSORSFILE_H
