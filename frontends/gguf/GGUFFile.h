//===- GGUFFile.h - A validated, memory-mapped GGUF file --------*- C++ -*-===//
//
// Part of Frugal. Reads the GGUF container of llama.cpp (versions 2 and 3,
// little-endian):
//
//   u32 magic "GGUF", u32 version, u64 tensor_count, u64 kv_count,
//   kv_count × (string key, u32 value_type, value),
//   tensor_count × (string name, u32 n_dims, n_dims × u64 ne,
//                   u32 ggml_type, u64 offset),
//   padding to `general.alignment` (default 32), then the data section.
//
// Strings are u64 length + bytes (no terminator). Arrays are u32 element
// type + u64 count + elements, and may nest. `ne` is innermost-first, so the
// row-major shape is `ne` reversed. Tensor offsets are relative to the data
// section and multiples of the alignment.
//
// Opening validates everything up front: magic, version, every length and
// count against the bytes left, value and tensor types, each tensor's byte
// size (whole blocks of its type), alignment, and that the tensors lie inside
// the file without overlapping. Errors name the file, the key or tensor, and
// what was expected versus found. The file is memory-mapped (small files may
// be read into memory); metadata strings and tensor data point into it.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_FRONTENDS_GGUF_GGUFFILE_H
#define FRUGAL_FRONTENDS_GGUF_GGUFFILE_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace frugal::gguf {

/// GGUF metadata value types (the on-disk ids).
enum class ValueType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};

/// "u32", "string", ... for messages; "type <id>" for an unknown id.
std::string valueTypeName(ValueType type);

/// One metadata value. Scalars keep their type; strings point into the
/// file; arrays hold their elements (all of `elementType`).
struct Value {
  ValueType type = ValueType::U8;
  uint64_t bits = 0; ///< Integers and bool (sign-extended for signed types).
  double real = 0;   ///< F32 and F64.
  llvm::StringRef str;
  ValueType elementType = ValueType::U8;
  std::vector<Value> array;

  bool isInteger() const;
  /// The integer value of an integer or bool; nullopt otherwise (or when a
  /// u64 does not fit in int64).
  std::optional<int64_t> asInt() const;
  /// F32/F64, or an integer converted.
  std::optional<double> asReal() const;
  std::optional<llvm::StringRef> asString() const;
  std::optional<bool> asBool() const;
};

/// ggml tensor element types (the on-disk ids of those Frugal knows).
enum GGMLType : uint32_t {
  kGGMLF32 = 0,
  kGGMLF16 = 1,
  kGGMLQ4_0 = 2,
  kGGMLQ4_1 = 3,
  kGGMLQ5_0 = 6,
  kGGMLQ5_1 = 7,
  kGGMLQ8_0 = 8,
  kGGMLQ8_1 = 9,
  kGGMLQ2_K = 10,
  kGGMLQ3_K = 11,
  kGGMLQ4_K = 12,
  kGGMLQ5_K = 13,
  kGGMLQ6_K = 14,
  kGGMLQ8_K = 15,
  kGGMLI8 = 24,
  kGGMLI16 = 25,
  kGGMLI32 = 26,
  kGGMLI64 = 27,
  kGGMLF64 = 28,
  kGGMLBF16 = 30,
};

/// Storage layout of a ggml type: `blockBytes` bytes hold `blockSize`
/// consecutive elements of a row.
struct GGMLTypeTraits {
  const char *name;
  uint32_t blockSize;
  uint32_t blockBytes;
  /// Whether dequantizeToF32 handles it (F32, F16, BF16, Q8_0, Q4_0, Q4_1,
  /// Q5_0, Q5_1, Q4_K, Q6_K). Other known types open but do not convert.
  bool toF32;
};

/// The traits of type `id`, or null for an id Frugal does not know.
const GGMLTypeTraits *ggmlTypeTraits(uint32_t id);

struct TensorInfo {
  llvm::StringRef name;
  /// Row-major shape (GGUF's ne reversed).
  llvm::SmallVector<int64_t, 4> shape;
  uint32_t type = 0;
  /// Offset relative to the data section.
  uint64_t offset = 0;
  uint64_t numElements = 0;
  uint64_t numBytes = 0;
  /// Start of the tensor's bytes inside the mapping.
  const uint8_t *data = nullptr;

  const GGMLTypeTraits &traits() const { return *ggmlTypeTraits(type); }
};

class GGUFFile {
public:
  /// Maps and validates the file at `path`.
  static llvm::Expected<std::unique_ptr<GGUFFile>> open(llvm::StringRef path);
  /// Validates a file held in `buffer` (its identifier names it in errors).
  static llvm::Expected<std::unique_ptr<GGUFFile>>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer);

  llvm::StringRef path() const { return buffer->getBufferIdentifier(); }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  /// File offset of the data section.
  uint64_t dataOffset() const { return dataOffset_; }

  /// Metadata in file order.
  const std::vector<std::pair<llvm::StringRef, Value>> &metadata() const {
    return kvs;
  }
  /// The value of `key`, or null.
  const Value *lookup(llvm::StringRef key) const;

  /// Tensors in file order.
  const std::vector<TensorInfo> &tensors() const { return tensors_; }
  /// The tensor called `name`, or null.
  const TensorInfo *tensor(llvm::StringRef name) const;

private:
  GGUFFile() = default;
  llvm::Error parseAll();

  std::unique_ptr<llvm::MemoryBuffer> buffer;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t dataOffset_ = 0;
  std::vector<std::pair<llvm::StringRef, Value>> kvs;
  llvm::StringMap<size_t> kvIndex;
  std::vector<TensorInfo> tensors_;
  llvm::StringMap<size_t> tensorIndex;
};

/// Converts `numElements` elements of type `type` stored at `data` (whole
/// blocks, little-endian, `numElements` a multiple of the block size) to
/// f32. Scalar reference code written from ggml's block layouts.
llvm::Error dequantizeToF32(uint32_t type, const uint8_t *data,
                            uint64_t numElements, float *out);

/// Six-bit scale `sc` and min `mn` of sub-block j (0..7) from the 12 packed
/// `scales` bytes of a Q4_K block: j < 4 keeps 6 bits in bytes j and j+4;
/// j >= 4 takes 4 low bits from byte j+4 and 2 high bits from the top of
/// bytes j-4 (scale) and j (min).
void q4KScaleMin(int j, const uint8_t *scales, uint8_t &sc, uint8_t &mn);

/// The 32 five-bit codes (0..31, in element order) of a Q5_0/Q5_1 block
/// from its 4 `qh` bytes (bit j is bit 4 of element j) and 16 `qs` bytes
/// (element j in the low nibble of qs[j], element j+16 in the high one).
void q5Codes(const uint8_t *qh, const uint8_t *qs, uint8_t *q);

} // namespace frugal::gguf

#endif // FRUGAL_FRONTENDS_GGUF_GGUFFILE_H
