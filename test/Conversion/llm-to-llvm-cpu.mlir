// RUN: llm-opt %s -llm-to-llvm-cpu | FileCheck %s
// RUN: llm-opt %s -llm-to-llvm-cpu="openmp=false" | FileCheck %s --check-prefix=SERIAL

// The whole CPU pipeline ends in the LLVM dialect: kernels become LLVM
// functions, parallel loops OpenMP regions, vector exp a polynomial (no
// math ops left), and the entry point gets a C interface.

// CHECK-LABEL: llvm.func @forward(
// CHECK: llvm.call @__llm_matmul_tb_
// CHECK: llvm.func @_mlir_ciface_forward(
// CHECK: llvm.func{{.*}}@__llm_matmul_tb_
// CHECK: omp.parallel
// CHECK: llvm.intr.fmuladd{{.*}}vector<16xf32>
// CHECK-NOT: math.
// SERIAL-NOT: omp.parallel
func.func @forward(%x: tensor<1x?x64xf32>) -> tensor<1x?x32xf32> {
  %w = llm.weight "w" at 0 : tensor<32x64xf32>
  %0 = llm.matmul %x, %w transpose_b : tensor<1x?x64xf32>, tensor<32x64xf32> -> tensor<1x?x32xf32>
  %1 = llm.silu %0 : tensor<1x?x32xf32>
  return %1 : tensor<1x?x32xf32>
}
