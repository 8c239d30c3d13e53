//===- GGUFFuzzer.cpp - fuzz the GGUF reader ------------------------------===//
//
// Part of Frugal. Feeds raw bytes to GGUFFile::parse as if they were a whole
// file; every accepted tensor of a convertible type is dequantized so that
// the views the reader hands out are read end to end under
// AddressSanitizer, and every metadata value is visited.
//
//===----------------------------------------------------------------------===//

#include "frontends/gguf/GGUFFile.h"

#include <cstddef>
#include <cstdint>
#include <vector>

using namespace frugal::gguf;

static size_t visit(const Value &v) {
  size_t n = v.str.size() + (v.asInt() ? 1 : 0) + (v.asReal() ? 1 : 0);
  for (const Value &e : v.array)
    n += visit(e);
  return n;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // libFuzzer hands over an exactly sized heap copy, so wrapping it without
  // a null terminator lets AddressSanitizer catch any read past the end.
  std::unique_ptr<llvm::MemoryBuffer> buffer = llvm::MemoryBuffer::getMemBuffer(
      llvm::StringRef(reinterpret_cast<const char *>(data), size),
      "fuzz.gguf", /*RequiresNullTerminator=*/false);
  llvm::Expected<std::unique_ptr<GGUFFile>> file =
      GGUFFile::parse(std::move(buffer));
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  size_t seen = 0;
  for (const auto &[key, value] : (*file)->metadata())
    seen += key.size() + visit(value);
  (void)seen;
  std::vector<float> out;
  for (const TensorInfo &t : (*file)->tensors()) {
    (void)(*file)->tensor(t.name);
    if (!t.traits().toF32 || t.numElements > (1u << 20))
      continue;
    out.assign(size_t(t.numElements), 0.0f);
    llvm::cantFail(dequantizeToF32(t.type, t.data, t.numElements, out.data()));
  }
  return 0;
}
