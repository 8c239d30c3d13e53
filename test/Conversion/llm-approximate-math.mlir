// RUN: llm-opt %s -llm-approximate-math | FileCheck %s

// Vector exp/tanh/erf become polynomials; sin and cos stay math ops (libm).

// CHECK-LABEL: func.func @approximate
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK: math.cos
// CHECK: math.sin
func.func @approximate(%v: vector<16xf32>, %s: f32) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, f32, f32) {
  %0 = math.exp %v : vector<16xf32>
  %1 = math.tanh %v : vector<16xf32>
  %2 = math.erf %v : vector<16xf32>
  %3 = math.cos %s : f32
  %4 = math.sin %s : f32
  return %0, %1, %2, %3, %4 : vector<16xf32>, vector<16xf32>, vector<16xf32>, f32, f32
}
