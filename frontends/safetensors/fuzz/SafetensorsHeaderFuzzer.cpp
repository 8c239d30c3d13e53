//===- SafetensorsHeaderFuzzer.cpp - fuzz the safetensors parser ----------===//
//
// Part of Frugal. Feeds raw bytes to SafetensorsFile::parse as if they were
// a whole file; every accepted tensor is converted to f32 so that the views
// it hands out are read end to end under AddressSanitizer.
//
//===----------------------------------------------------------------------===//

#include "frontends/safetensors/Convert.h"
#include "frontends/safetensors/SafetensorsFile.h"

#include <cstddef>
#include <cstdint>
#include <vector>

using namespace frugal::safetensors;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // libFuzzer hands over an exactly sized heap copy, so wrapping it without
  // a null terminator lets AddressSanitizer catch any read past the end.
  std::unique_ptr<llvm::MemoryBuffer> buffer = llvm::MemoryBuffer::getMemBuffer(
      llvm::StringRef(reinterpret_cast<const char *>(data), size),
      "fuzz.safetensors", /*RequiresNullTerminator=*/false);
  llvm::Expected<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::parse(std::move(buffer));
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  std::vector<float> out;
  for (const TensorInfo &t : (*file)->tensors()) {
    (void)(*file)->lookup(t.name);
    if (!isConvertibleToF32(t.dtype))
      continue;
    out.assign(size_t(t.numElements()), 0.0f);
    llvm::cantFail(readAsF32(t, out));
  }
  return 0;
}
