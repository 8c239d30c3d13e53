//===- SafetensorsFile.cpp - memory-mapped safetensors file ---------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/SafetensorsFile.h"

#include "frontends/safetensors/BoundedJson.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using llvm::Error;
using llvm::StringRef;

namespace frugal::safetensors {

namespace {
/// The format caps the header at 100 MB.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

Error failAt(StringRef file, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 file + ": " + msg);
}

/// Reads `[d0, d1, ...]` of non-negative integers.
bool readShape(const llvm::json::Value *value,
               llvm::SmallVectorImpl<int64_t> &shape) {
  const llvm::json::Array *array = value ? value->getAsArray() : nullptr;
  if (!array)
    return false;
  for (const llvm::json::Value &dim : *array) {
    std::optional<int64_t> d = dim.getAsInteger();
    if (!d || *d < 0)
      return false;
    shape.push_back(*d);
  }
  return true;
}

/// Reads `[begin, end]` of non-negative integers.
bool readOffsets(const llvm::json::Value *value, uint64_t &begin,
                 uint64_t &end) {
  const llvm::json::Array *array = value ? value->getAsArray() : nullptr;
  if (!array || array->size() != 2)
    return false;
  std::optional<uint64_t> b = (*array)[0].getAsUINT64();
  std::optional<uint64_t> e = (*array)[1].getAsUINT64();
  if (!b || !e)
    return false;
  begin = *b;
  end = *e;
  return true;
}
} // namespace

int64_t TensorInfo::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::interleave(
      shape, [&](int64_t d) { s += std::to_string(d); }, [&] { s += ", "; });
  return s + "]";
}

llvm::Expected<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::open(StringRef path) {
  // Without a null terminator, MemoryBuffer maps every file above a few
  // pages instead of reading it.
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return failAt(path, "cannot open: " + buffer.getError().message());
  return parse(std::move(*buffer));
}

llvm::Expected<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::parse(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->filePath = buffer->getBufferIdentifier().str();
  file->buffer = std::move(buffer);
  if (Error err = file->parseHeader())
    return std::move(err);
  return std::move(file);
}

const TensorInfo *SafetensorsFile::lookup(StringRef name) const {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &tensorList[it->second];
}

Error SafetensorsFile::parseHeader() {
  StringRef bytes = buffer->getBuffer();
  StringRef file = filePath;
  if (bytes.size() < 8)
    return failAt(file, llvm::formatv("file is truncated: {0} bytes, expected "
                                      "at least 8 (the header length)",
                                      bytes.size()));
  uint64_t headerLen = llvm::support::endian::read64le(bytes.data());
  uint64_t available = bytes.size() - 8;
  if (headerLen > available)
    return failAt(file, llvm::formatv("header length {0} extends past the end "
                                      "of the file ({1} bytes follow the "
                                      "length field)",
                                      headerLen, available));
  if (headerLen > kMaxHeaderBytes)
    return failAt(file, llvm::formatv("header length {0} exceeds the 100 MB "
                                      "limit of the format",
                                      headerLen));
  StringRef header = bytes.substr(8, headerLen);
  llvm::ArrayRef<uint8_t> data(reinterpret_cast<const uint8_t *>(bytes.data()) +
                                   8 + headerLen,
                               available - headerLen);

  llvm::Expected<llvm::json::Value> json = parseBoundedJson(header);
  if (!json)
    return failAt(file, "header is not valid JSON: " +
                            llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return failAt(file, "header is not a JSON object");

  for (const auto &entry : *root) {
    StringRef name = entry.first;
    if (name == "__metadata__") {
      const llvm::json::Object *metaObj = entry.second.getAsObject();
      if (!metaObj)
        return failAt(file, "'__metadata__' is not a JSON object");
      for (const auto &kv : *metaObj)
        if (std::optional<StringRef> s = kv.second.getAsString())
          meta[kv.first] = s->str();
      continue;
    }
    auto tensorError = [&](const llvm::Twine &msg) {
      return failAt(file, "tensor '" + name + "': " + msg);
    };
    const llvm::json::Object *desc = entry.second.getAsObject();
    if (!desc)
      return tensorError("entry is not a JSON object");

    const llvm::json::Value *dtypeValue = desc->get("dtype");
    if (!dtypeValue)
      return tensorError("missing 'dtype'");
    std::optional<StringRef> dtypeName = dtypeValue->getAsString();
    if (!dtypeName)
      return tensorError("'dtype' is not a string");
    std::optional<DType> dtype = parseDType(*dtypeName);
    if (!dtype)
      return tensorError("unsupported dtype '" + *dtypeName +
                         "' (supported: " + supportedDTypeList() + ")");

    TensorInfo info;
    info.name = name.str();
    info.dtype = *dtype;
    info.file = filePath;
    if (!desc->get("shape"))
      return tensorError("missing 'shape'");
    if (!readShape(desc->get("shape"), info.shape))
      return tensorError("'shape' is not an array of non-negative integers");
    if (!desc->get("data_offsets"))
      return tensorError("missing 'data_offsets'");
    uint64_t begin = 0, end = 0;
    if (!readOffsets(desc->get("data_offsets"), begin, end))
      return tensorError("'data_offsets' is not an array of two "
                         "non-negative integers [begin, end]");
    if (begin > end)
      return tensorError(llvm::formatv(
          "data_offsets [{0}, {1}]: begin is past end", begin, end));
    if (end > data.size())
      return tensorError(llvm::formatv(
          "data_offsets [{0}, {1}] out of range of the data section ({2} "
          "bytes)",
          begin, end, data.size()));

    // The expected byte size, guarding against overflow on absurd shapes.
    uint64_t expected = dtypeSize(*dtype);
    bool overflow = false;
    for (int64_t d : info.shape) {
      bool stepOverflow = false;
      expected = llvm::SaturatingMultiply<uint64_t>(expected, uint64_t(d),
                                                    &stepOverflow);
      overflow |= stepOverflow;
    }
    std::string shapeText = formatShape(info.shape);
    if (overflow || expected != end - begin)
      return tensorError(llvm::formatv(
          "dtype/shape mismatch: shape {0} of {1} needs {2} bytes, but "
          "data_offsets [{3}, {4}] hold {5}",
          shapeText, *dtypeName,
          overflow ? std::string("more than 2^64") : std::to_string(expected),
          begin, end, end - begin));
    info.data = data.slice(begin, end - begin);
    tensorList.push_back(std::move(info));
  }

  // Deterministic order, and detection of overlapping byte ranges.
  auto offsetOf = [&](const TensorInfo &t) {
    return t.data.empty() ? uint64_t(0) : uint64_t(t.data.data() - data.data());
  };
  llvm::sort(tensorList, [&](const TensorInfo &a, const TensorInfo &b) {
    uint64_t oa = offsetOf(a), ob = offsetOf(b);
    return oa != ob ? oa < ob : a.name < b.name;
  });
  const TensorInfo *prev = nullptr;
  for (const TensorInfo &t : tensorList) {
    if (t.data.empty())
      continue;
    if (prev && offsetOf(t) < offsetOf(*prev) + prev->data.size())
      return failAt(
          file, llvm::formatv("tensors '{0}' [{1}, {2}) and '{3}' [{4}, {5}) "
                              "overlap",
                              prev->name, offsetOf(*prev),
                              offsetOf(*prev) + prev->data.size(), t.name,
                              offsetOf(t), offsetOf(t) + t.data.size()));
    prev = &t;
  }
  for (size_t i = 0; i < tensorList.size(); ++i)
    index[tensorList[i].name] = i;
  return Error::success();
}

} // namespace frugal::safetensors
