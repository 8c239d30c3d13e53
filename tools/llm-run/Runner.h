//===- Runner.h - JIT-run a function of llm IR on host tensors --*- C++ -*-===//
//
// Part of Frugal. Lowers a module with the CPU pipeline, JIT-compiles it and
// calls one function with host buffers. Used by the kernel numerics tests
// and the ONNX conformance runner.
//
//===----------------------------------------------------------------------===//

#ifndef FRUGAL_TOOLS_LLM_RUN_RUNNER_H
#define FRUGAL_TOOLS_LLM_RUN_RUNNER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <cstring>
#include <vector>

namespace frugal {

enum class ElementKind { F32, F16, I64, I32, I1 };

/// A dense, row-major host tensor (I1 stored one byte per element).
struct HostTensor {
  ElementKind kind = ElementKind::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  static size_t elementSize(ElementKind kind);
  int64_t numElements() const;
  template <typename T>
  static HostTensor fromVector(ElementKind kind, std::vector<int64_t> shape,
                               const std::vector<T> &values) {
    HostTensor t{kind, std::move(shape), {}};
    t.data.resize(values.size() * sizeof(T));
    std::memcpy(t.data.data(), values.data(), t.data.size());
    return t;
  }
  template <typename T> std::vector<T> toVector() const {
    std::vector<T> values(data.size() / sizeof(T));
    std::memcpy(values.data(), data.data(), data.size());
    return values;
  }
};

struct RunOptions {
  int64_t vectorWidth = 16;
  bool openmp = true;
  /// Kernel of 8- and 4-bit quantized matmuls (every row count) (vnni or fma).
  std::string quantKernel = "vnni";
  /// Unpack 4-bit codes with GFNI where the host has it (false: the shift
  /// and mask every AVX-512 host has).
  bool gfni = true;
  /// Optimize the LLVM IR at -O3 before JIT code generation, as llm-compile
  /// does for the executable (benchmarks; tests skip it to compile faster).
  bool optimizeLLVM = false;
  /// Benchmarks: when `fastestCallSeconds` is set, the first call is a
  /// warm-up, then the function runs `timedCalls` more times on the same
  /// buffers and the fastest call's seconds are stored there.
  int64_t timedCalls = 1;
  double *fastestCallSeconds = nullptr;
  /// With `fastestCallSeconds`: the mean seconds of the timed calls (the
  /// expected cost of a call, scheduling delays included).
  double *meanCallSeconds = nullptr;
};

/// Lowers `module` in place, JIT-compiles it and runs `entry` on `inputs`.
/// Each tensor argument takes the next input (its shape fills the dynamic
/// dimensions), each `index` argument the next input's single i64 value.
/// Results must have static shapes. A function using weights gets `weights`
/// (the packed blob) as its leading argument. A KV-cache argument takes an
/// f32 input of shape [2, L, H, C, D], which the function updates in place.
llvm::Expected<std::vector<HostTensor>>
runFunction(mlir::ModuleOp module, llvm::StringRef entry,
            const std::vector<HostTensor> &inputs,
            const std::vector<uint8_t> &weights = {},
            const RunOptions &options = {});

} // namespace frugal

#endif // FRUGAL_TOOLS_LLM_RUN_RUNNER_H
