//===- GGUFFile.cpp - A validated, memory-mapped GGUF file ----------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/gguf/GGUFFile.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cstring>

using llvm::StringRef;

namespace frugal::gguf {

namespace {

/// Nested arrays deeper than this are rejected (the format has no limit; no
/// real file nests more than twice).
constexpr unsigned kMaxArrayDepth = 8;
/// ggml tensors have at most four dimensions.
constexpr uint32_t kMaxDims = 4;

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Bounds-checked little-endian reads over the file; every failure says
/// what was being read, where, and how many bytes were left.
class Reader {
public:
  Reader(const uint8_t *data, uint64_t size) : data(data), size(size) {}

  uint64_t offset() const { return pos; }
  uint64_t left() const { return size - pos; }

  llvm::Error need(uint64_t n, const llvm::Twine &what) const {
    if (n <= left())
      return llvm::Error::success();
    return makeError(llvm::formatv("truncated {0}: expected {1} bytes at "
                                   "offset {2}, the file has {3}",
                                   what.str(), n, pos, left())
                         .str());
  }
  template <typename T>
  llvm::Error read(T &out, const llvm::Twine &what) {
    if (llvm::Error err = need(sizeof(T), what))
      return err;
    std::memcpy(&out, data + pos, sizeof(T));
    pos += sizeof(T);
    return llvm::Error::success();
  }
  llvm::Error readString(StringRef &out, const llvm::Twine &what) {
    uint64_t len = 0;
    if (llvm::Error err = read(len, what + " length"))
      return err;
    if (llvm::Error err = need(len, what))
      return err;
    out = StringRef(reinterpret_cast<const char *>(data + pos), len);
    pos += len;
    return llvm::Error::success();
  }

private:
  const uint8_t *data;
  uint64_t size, pos = 0;
};

/// Bytes of a scalar value type; 0 for string and array.
unsigned scalarSize(ValueType type) {
  switch (type) {
  case ValueType::U8:
  case ValueType::I8:
  case ValueType::Bool:
    return 1;
  case ValueType::U16:
  case ValueType::I16:
    return 2;
  case ValueType::U32:
  case ValueType::I32:
  case ValueType::F32:
    return 4;
  case ValueType::U64:
  case ValueType::I64:
  case ValueType::F64:
    return 8;
  case ValueType::String:
  case ValueType::Array:
    return 0;
  }
  return 0;
}

bool isKnownValueType(uint32_t id) { return id <= 12; }

/// The fewest bytes one element of `type` takes (to bound array counts).
uint64_t minElementBytes(ValueType type) {
  if (type == ValueType::String)
    return 8;
  if (type == ValueType::Array)
    return 12;
  return scalarSize(type);
}

llvm::Error readValue(Reader &r, ValueType type, Value &out, unsigned depth,
                      const llvm::Twine &what) {
  out.type = type;
  switch (type) {
  case ValueType::U8: {
    uint8_t v;
    if (auto err = r.read(v, what))
      return err;
    out.bits = v;
    break;
  }
  case ValueType::I8: {
    int8_t v;
    if (auto err = r.read(v, what))
      return err;
    out.bits = uint64_t(int64_t(v));
    break;
  }
  case ValueType::U16: {
    uint16_t v;
    if (auto err = r.read(v, what))
      return err;
    out.bits = v;
    break;
  }
  case ValueType::I16: {
    int16_t v;
    if (auto err = r.read(v, what))
      return err;
    out.bits = uint64_t(int64_t(v));
    break;
  }
  case ValueType::U32: {
    uint32_t v;
    if (auto err = r.read(v, what))
      return err;
    out.bits = v;
    break;
  }
  case ValueType::I32: {
    int32_t v;
    if (auto err = r.read(v, what))
      return err;
    out.bits = uint64_t(int64_t(v));
    break;
  }
  case ValueType::U64:
  case ValueType::I64: {
    uint64_t v;
    if (auto err = r.read(v, what))
      return err;
    out.bits = v;
    break;
  }
  case ValueType::F32: {
    float v;
    if (auto err = r.read(v, what))
      return err;
    out.real = v;
    break;
  }
  case ValueType::F64: {
    double v;
    if (auto err = r.read(v, what))
      return err;
    out.real = v;
    break;
  }
  case ValueType::Bool: {
    uint8_t v;
    if (auto err = r.read(v, what))
      return err;
    if (v > 1)
      return makeError(what + ": bool value " + llvm::Twine(unsigned(v)) +
                       ", expected 0 or 1");
    out.bits = v;
    break;
  }
  case ValueType::String:
    return r.readString(out.str, what);
  case ValueType::Array: {
    if (depth >= kMaxArrayDepth)
      return makeError(what + ": arrays nested deeper than " +
                       llvm::Twine(kMaxArrayDepth));
    uint32_t elem = 0;
    uint64_t count = 0;
    if (auto err = r.read(elem, what + " element type"))
      return err;
    if (!isKnownValueType(elem))
      return makeError(what + ": unknown array element type " +
                       llvm::Twine(elem));
    if (auto err = r.read(count, what + " element count"))
      return err;
    out.elementType = ValueType(elem);
    uint64_t minBytes = minElementBytes(out.elementType);
    if (count > r.left() / minBytes)
      return makeError(llvm::formatv("truncated {0}: {1} elements of type "
                                     "{2} need at least {3} bytes at offset "
                                     "{4}, the file has {5}",
                                     what.str(), count,
                                     valueTypeName(out.elementType),
                                     count > UINT64_MAX / minBytes
                                         ? UINT64_MAX
                                         : count * minBytes,
                                     r.offset(), r.left())
                           .str());
    out.array.resize(count);
    for (uint64_t i = 0; i < count; ++i)
      if (auto err = readValue(r, out.elementType, out.array[i], depth + 1,
                               what + "[" + llvm::Twine(i) + "]"))
        return err;
    break;
  }
  }
  return llvm::Error::success();
}

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

} // namespace

std::string valueTypeName(ValueType type) {
  static const char *const names[] = {"u8",  "i8",   "u16",    "i16", "u32",
                                      "i32", "f32",  "bool",   "string",
                                      "array", "u64", "i64",   "f64"};
  uint32_t id = static_cast<uint32_t>(type);
  if (id < std::size(names))
    return names[id];
  return "type " + std::to_string(id);
}

bool Value::isInteger() const {
  return type != ValueType::F32 && type != ValueType::F64 &&
         type != ValueType::String && type != ValueType::Array &&
         type != ValueType::Bool;
}

std::optional<int64_t> Value::asInt() const {
  if (!isInteger() && type != ValueType::Bool)
    return std::nullopt;
  if (type == ValueType::U64 && bits > uint64_t(INT64_MAX))
    return std::nullopt;
  return int64_t(bits);
}

std::optional<double> Value::asReal() const {
  if (type == ValueType::F32 || type == ValueType::F64)
    return real;
  if (isInteger())
    return type == ValueType::U64 ? double(bits) : double(int64_t(bits));
  return std::nullopt;
}

std::optional<StringRef> Value::asString() const {
  if (type != ValueType::String)
    return std::nullopt;
  return str;
}

std::optional<bool> Value::asBool() const {
  if (type != ValueType::Bool)
    return std::nullopt;
  return bits != 0;
}

const GGMLTypeTraits *ggmlTypeTraits(uint32_t id) {
  // Block layouts from ggml (QK_K = 256).
  static const struct {
    uint32_t id;
    GGMLTypeTraits traits;
  } table[] = {
      {kGGMLF32, {"F32", 1, 4, true}},
      {kGGMLF16, {"F16", 1, 2, true}},
      {kGGMLQ4_0, {"Q4_0", 32, 18, true}},
      {kGGMLQ4_1, {"Q4_1", 32, 20, true}},
      {kGGMLQ5_0, {"Q5_0", 32, 22, true}},
      {kGGMLQ5_1, {"Q5_1", 32, 24, true}},
      {kGGMLQ8_0, {"Q8_0", 32, 34, true}},
      {kGGMLQ8_1, {"Q8_1", 32, 36, false}},
      {kGGMLQ2_K, {"Q2_K", 256, 84, false}},
      {kGGMLQ3_K, {"Q3_K", 256, 110, false}},
      {kGGMLQ4_K, {"Q4_K", 256, 144, true}},
      {kGGMLQ5_K, {"Q5_K", 256, 176, false}},
      {kGGMLQ6_K, {"Q6_K", 256, 210, true}},
      {kGGMLQ8_K, {"Q8_K", 256, 292, false}},
      {kGGMLI8, {"I8", 1, 1, false}},
      {kGGMLI16, {"I16", 1, 2, false}},
      {kGGMLI32, {"I32", 1, 4, false}},
      {kGGMLI64, {"I64", 1, 8, false}},
      {kGGMLF64, {"F64", 1, 8, false}},
      {kGGMLBF16, {"BF16", 1, 2, true}},
  };
  for (const auto &entry : table)
    if (entry.id == id)
      return &entry.traits;
  return nullptr;
}

llvm::Expected<std::unique_ptr<GGUFFile>> GGUFFile::open(StringRef path) {
  // Large files are memory-mapped, not copied.
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path + ": cannot open: " + buffer.getError().message());
  return parse(std::move(*buffer));
}

llvm::Expected<std::unique_ptr<GGUFFile>>
GGUFFile::parse(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  std::unique_ptr<GGUFFile> file(new GGUFFile());
  file->buffer = std::move(buffer);
  if (llvm::Error err = file->parseAll())
    return makeError(file->path() + ": " + llvm::toString(std::move(err)));
  return std::move(file);
}

llvm::Error GGUFFile::parseAll() {
  const auto *base =
      reinterpret_cast<const uint8_t *>(buffer->getBufferStart());
  const uint64_t size = buffer->getBufferSize();
  Reader r(base, size);

  char magic[4];
  if (auto err = r.read(magic, "header (magic)"))
    return err;
  if (std::memcmp(magic, "GGUF", 4) != 0) {
    std::string found;
    for (char c : magic)
      found += (c >= 32 && c < 127) ? std::string(1, c)
                                    : llvm::formatv("\\x{0:x2}",
                                                    unsigned(uint8_t(c)))
                                          .str();
    return makeError("not a GGUF file: expected magic \"GGUF\", found \"" +
                     found + "\"");
  }
  if (auto err = r.read(version_, "header (version)"))
    return err;
  if (version_ != 2 && version_ != 3) {
    std::string hint;
    if (version_ == 1)
      hint = " (GGUF v1 is obsolete; convert the model again)";
    else if (version_ >= 0x01000000)
      hint = " (a big-endian file?)";
    return makeError(llvm::formatv("unsupported GGUF version {0}, expected 2 "
                                   "or 3{1}",
                                   version_, hint)
                         .str());
  }
  uint64_t tensorCount = 0, kvCount = 0;
  if (auto err = r.read(tensorCount, "header (tensor count)"))
    return err;
  if (auto err = r.read(kvCount, "header (metadata count)"))
    return err;
  // Each key-value takes at least 12 bytes, each tensor info at least 24.
  if (kvCount > r.left() / 12)
    return makeError(llvm::formatv("truncated metadata: {0} key-value pairs "
                                   "need at least {1} bytes, the file has {2} "
                                   "after the header",
                                   kvCount,
                                   kvCount > UINT64_MAX / 12 ? UINT64_MAX
                                                             : kvCount * 12,
                                   r.left())
                         .str());

  kvs.reserve(kvCount);
  for (uint64_t i = 0; i < kvCount; ++i) {
    StringRef key;
    if (auto err = r.readString(key, "metadata key " + llvm::Twine(i)))
      return err;
    uint32_t type = 0;
    if (auto err = r.read(type, "metadata '" + key + "' type"))
      return err;
    if (!isKnownValueType(type))
      return makeError("metadata '" + key + "': unknown value type " +
                       llvm::Twine(type));
    Value value;
    if (auto err = readValue(r, ValueType(type), value, 0,
                             "metadata '" + key + "'"))
      return err;
    if (!kvIndex.insert({key, kvs.size()}).second)
      return makeError("metadata key '" + key + "' appears twice");
    kvs.emplace_back(key, std::move(value));
  }

  if (const Value *align = lookup("general.alignment")) {
    std::optional<int64_t> a = align->asInt();
    if (!a || align->type != ValueType::U32)
      return makeError("metadata 'general.alignment': expected a u32, found " +
                       valueTypeName(align->type));
    if (*a == 0 || (*a & (*a - 1)) != 0)
      return makeError("metadata 'general.alignment': expected a power of "
                       "two, found " +
                       llvm::Twine(*a));
    alignment_ = uint64_t(*a);
  }

  if (tensorCount > r.left() / 24)
    return makeError(llvm::formatv("truncated tensor infos: {0} tensors need "
                                   "at least {1} bytes at offset {2}, the file "
                                   "has {3}",
                                   tensorCount,
                                   tensorCount > UINT64_MAX / 24
                                       ? UINT64_MAX
                                       : tensorCount * 24,
                                   r.offset(), r.left())
                         .str());
  tensors_.resize(tensorCount);
  for (uint64_t i = 0; i < tensorCount; ++i) {
    TensorInfo &t = tensors_[i];
    if (auto err = r.readString(t.name, "tensor info " + llvm::Twine(i) +
                                            " (name)"))
      return err;
    const std::string what = "tensor '" + t.name.str() + "'";
    uint32_t nDims = 0;
    if (auto err = r.read(nDims, what + " (n_dims)"))
      return err;
    if (nDims > kMaxDims)
      return makeError(what + ": " + llvm::Twine(nDims) +
                       " dimensions, expected at most " + llvm::Twine(kMaxDims));
    uint64_t ne[kMaxDims] = {};
    for (uint32_t d = 0; d < nDims; ++d)
      if (auto err = r.read(ne[d], what + " (ne)"))
        return err;
    if (auto err = r.read(t.type, what + " (type)"))
      return err;
    if (auto err = r.read(t.offset, what + " (offset)"))
      return err;
    if (!tensorIndex.insert({t.name, i}).second)
      return makeError(what + " appears twice");

    const GGMLTypeTraits *traits = ggmlTypeTraits(t.type);
    if (!traits)
      return makeError(what + ": unknown ggml type id " + llvm::Twine(t.type));
    // Element count, guarding against overflow.
    uint64_t n = 1;
    for (uint32_t d = 0; d < nDims; ++d) {
      if (ne[d] > uint64_t(INT64_MAX) || (ne[d] && n > UINT64_MAX / ne[d]) ||
          (ne[d] && n * ne[d] > (uint64_t(1) << 48)))
        return makeError(what + ": shape is too large");
      n *= ne[d];
      t.shape.insert(t.shape.begin(), int64_t(ne[d]));
    }
    t.numElements = n;
    // A tensor without dimensions is a scalar: one row of one element.
    const uint64_t rowLength = nDims > 0 ? ne[0] : 1;
    if (rowLength % traits->blockSize != 0)
      return makeError(llvm::formatv("{0}: type {1} stores blocks of {2} "
                                     "elements, but the row length (ne[0]) "
                                     "is {3}",
                                     what, traits->name, traits->blockSize,
                                     rowLength)
                           .str());
    t.numBytes = n / traits->blockSize * traits->blockBytes;
    if (t.offset % alignment_ != 0)
      return makeError(llvm::formatv("{0}: offset {1} is not a multiple of the "
                                     "alignment {2}",
                                     what, t.offset, alignment_)
                           .str());
  }

  uint64_t dataStart = r.offset();
  dataStart = (dataStart + alignment_ - 1) / alignment_ * alignment_;
  if (tensorCount > 0 && dataStart > size)
    return makeError(llvm::formatv("truncated file: the data section starts "
                                   "at offset {0}, the file has {1} bytes",
                                   dataStart, size)
                         .str());
  dataOffset_ = dataStart;
  const uint64_t dataSize = size >= dataStart ? size - dataStart : 0;
  for (TensorInfo &t : tensors_) {
    if (t.offset > dataSize || t.numBytes > dataSize - t.offset)
      return makeError(llvm::formatv("tensor '{0}' ({1} {2}): its {3} bytes at "
                                     "data offset {4} end past the end of the "
                                     "file (data section: {5} bytes at file "
                                     "offset {6})",
                                     t.name, t.traits().name,
                                     shapeString(t.shape), t.numBytes,
                                     t.offset, dataSize, dataStart)
                           .str());
    t.data = base + dataStart + t.offset;
  }
  // No two tensors may share bytes.
  std::vector<const TensorInfo *> byOffset;
  for (const TensorInfo &t : tensors_)
    if (t.numBytes)
      byOffset.push_back(&t);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const TensorInfo *a, const TensorInfo *b) {
              return a->offset < b->offset;
            });
  for (size_t i = 1; i < byOffset.size(); ++i) {
    const TensorInfo &prev = *byOffset[i - 1], &cur = *byOffset[i];
    if (prev.offset + prev.numBytes > cur.offset)
      return makeError(llvm::formatv("tensors '{0}' (bytes {1}..{2}) and "
                                     "'{3}' (from {4}) overlap",
                                     prev.name, prev.offset,
                                     prev.offset + prev.numBytes, cur.name,
                                     cur.offset)
                           .str());
  }
  return llvm::Error::success();
}

const Value *GGUFFile::lookup(StringRef key) const {
  auto it = kvIndex.find(key);
  return it == kvIndex.end() ? nullptr : &kvs[it->second].second;
}

const TensorInfo *GGUFFile::tensor(StringRef name) const {
  auto it = tensorIndex.find(name);
  return it == tensorIndex.end() ? nullptr : &tensors_[it->second];
}

} // namespace frugal::gguf
