// RUN: llm-opt %s -convert-scf-to-openmp -llm-hoist-parallel-allocas -canonicalize | FileCheck %s
// RUN: llm-opt %s -convert-scf-to-openmp -llm-hoist-parallel-allocas -canonicalize -convert-scf-to-cf | FileCheck %s --check-prefix=CF

// A parallel body's static stack scratch moves to the omp.parallel
// region's entry (one buffer per thread, reused by its iterations); the
// alloca scope convert-scf-to-openmp wrapped around the body is left empty
// and folds away, so the body's loops can become branches.
// CHECK-LABEL: func.func @scratch
// CHECK: omp.parallel {
// CHECK-NEXT: %[[BUF:.*]] = memref.alloca() : memref<16xf32>
// CHECK-NEXT: omp.wsloop {
// CHECK-NEXT: omp.loop_nest
// CHECK-NOT: memref.alloca_scope
// CHECK-NOT: memref.alloca(
// CHECK: scf.for
// CHECK: memref.store {{.*}}, %[[BUF]]
// CHECK: memref.load %[[BUF]]
// CF-LABEL: func.func @scratch
// CF-NOT: memref.alloca_scope
// CF: cf.cond_br
func.func @scratch(%out: memref<64xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %buf = memref.alloca() : memref<16xf32>
    scf.for %j = %c0 to %c16 step %c1 {
      %x = arith.index_cast %j : index to i32
      %f = arith.sitofp %x : i32 to f32
      memref.store %f, %buf[%j] : memref<16xf32>
    }
    %v = memref.load %buf[%i] : memref<16xf32>
    memref.store %v, %out[%i] : memref<64xf32>
    scf.reduce
  }
  return
}

// A dynamically shaped alloca stays in its scope: its size may be computed
// in the body.
// CHECK-LABEL: func.func @dynamic
// CHECK: omp.loop_nest
// CHECK: memref.alloca_scope
// CHECK: memref.alloca(%{{.*}}) : memref<?xf32>
func.func @dynamic(%out: memref<64xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %m = arith.addi %i, %c1 : index
    %buf = memref.alloca(%m) : memref<?xf32>
    %f = arith.constant 1.0 : f32
    memref.store %f, %buf[%i] : memref<?xf32>
    %v = memref.load %buf[%i] : memref<?xf32>
    memref.store %v, %out[%i] : memref<64xf32>
    scf.reduce
  }
  return
}
