//===- MemRefDescriptor.h - Host buffers as JIT memref arguments -*- C++ -*-===//
//
// Part of Frugal. A lowered function takes each memref argument as the
// expanded fields of its descriptor (allocated and aligned pointers, offset,
// sizes, strides); ExecutionEngine::invokePacked wants a pointer to each.
// Used by the JIT runner and the calibration library.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_LOWERING_MEMREFDESCRIPTOR_H
#define FRUGAL_LOWERING_MEMREFDESCRIPTOR_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace frugal {

/// The expanded fields of the descriptor of a contiguous row-major buffer,
/// kept alive (at a stable address) for the call.
struct MemRefDescriptor {
  void *allocated, *aligned;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;

  MemRefDescriptor(void *data, llvm::ArrayRef<int64_t> shape)
      : allocated(data), aligned(data), sizes(shape.begin(), shape.end()),
        strides(shape.size()) {
    int64_t stride = 1;
    for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
      strides[i] = stride;
      stride *= shape[i];
    }
  }
  /// Appends a pointer to each field, in the lowered calling convention.
  void appendTo(std::vector<void *> &args) {
    args.push_back(&allocated);
    args.push_back(&aligned);
    args.push_back(&offset);
    for (int64_t &s : sizes)
      args.push_back(&s);
    for (int64_t &s : strides)
      args.push_back(&s);
  }
};

} // namespace frugal

#endif // FRUGAL_LOWERING_MEMREFDESCRIPTOR_H
