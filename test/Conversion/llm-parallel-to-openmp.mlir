// RUN: llm-opt %s -llm-parallel-to-openmp | FileCheck %s
// RUN: llm-opt %s -llm-parallel-to-openmp -convert-scf-to-openmp -canonicalize -convert-scf-to-cf | FileCheck %s --check-prefix=CF

// Each thread runs its own share of the iterations, [N t / T, N (t + 1) / T)
// of N = ceil((ub - lb) / step), as an scf.for; the body's static scratch
// moves to the region's entry, one buffer per thread.
// CHECK-LABEL: func.func @share
// CHECK-SAME: (%[[OUT:.*]]: memref<64xf32>, %[[LB:.*]]: index, %[[UB:.*]]: index)
// CHECK: omp.parallel {
// CHECK-NEXT: %[[BUF:.*]] = memref.alloca() : memref<16xf32>
// CHECK-NEXT: %[[T32:.*]] = func.call @omp_get_thread_num() : () -> i32
// CHECK-NEXT: %[[T:.*]] = arith.index_cast %[[T32]] : i32 to index
// CHECK-NEXT: %[[NT32:.*]] = func.call @omp_get_num_threads() : () -> i32
// CHECK-NEXT: %[[NT:.*]] = arith.index_cast %[[NT32]] : i32 to index
// CHECK-NEXT: %[[MAX:.*]] = arith.maxsi %[[UB]], %[[LB]] : index
// CHECK-NEXT: %[[SPAN:.*]] = arith.subi %[[MAX]], %[[LB]] : index
// CHECK-NEXT: %[[N:.*]] = arith.ceildivui %[[SPAN]], %[[STEP:.*]] : index
// CHECK: %[[NLO:.*]] = arith.muli %[[N]], %[[T]] : index
// CHECK-NEXT: %[[ILO:.*]] = arith.divui %[[NLO]], %[[NT]] : index
// CHECK-NEXT: %[[OLO:.*]] = arith.muli %[[ILO]], %[[STEP]] : index
// CHECK-NEXT: %[[LO:.*]] = arith.addi %[[LB]], %[[OLO]] : index
// CHECK: %[[T1:.*]] = arith.addi %[[T]], %{{.*}} : index
// CHECK-NEXT: %[[NHI:.*]] = arith.muli %[[N]], %[[T1]] : index
// CHECK-NEXT: %[[IHI:.*]] = arith.divui %[[NHI]], %[[NT]] : index
// CHECK-NEXT: %[[OHI:.*]] = arith.muli %[[IHI]], %[[STEP]] : index
// CHECK-NEXT: %[[HI:.*]] = arith.addi %[[LB]], %[[OHI]] : index
// CHECK-NEXT: scf.for %[[I:.*]] = %[[LO]] to %[[HI]] step %[[STEP]] {
// CHECK-NOT: memref.alloca
// CHECK: memref.store {{.*}}, %[[BUF]]
// CHECK: memref.load %[[BUF]]
// CHECK: memref.store {{.*}}, %[[OUT]][%[[I]]]
// CHECK: omp.terminator
// CHECK-NOT: scf.parallel
// CF-LABEL: func.func @share
// CF: omp.parallel
// CF-NOT: omp.wsloop
// CF-NOT: memref.alloca_scope
// CF: cf.cond_br
func.func @share(%out: memref<64xf32>, %lb: index, %ub: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c16 = arith.constant 16 : index
  scf.parallel (%i) = (%lb) to (%ub) step (%c3) {
    %buf = memref.alloca() : memref<16xf32>
    scf.for %j = %c0 to %c16 step %c1 {
      %x = arith.index_cast %j : index to i32
      %f = arith.sitofp %x : i32 to f32
      memref.store %f, %buf[%j] : memref<16xf32>
    }
    %k = arith.remui %i, %c16 : index
    %v = memref.load %buf[%k] : memref<16xf32>
    memref.store %v, %out[%i] : memref<64xf32>
    scf.reduce
  }
  return
}

// Loops with reductions or several dimensions are left to
// convert-scf-to-openmp.
// CHECK-LABEL: func.func @left
// CHECK: scf.parallel (%{{.*}}) = {{.*}} -> f32
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) =
// CF-LABEL: func.func @left
// CF: omp.wsloop
// The thread queries are declared once.
// CHECK-DAG: func.func private @omp_get_thread_num() -> i32
// CHECK-DAG: func.func private @omp_get_num_threads() -> i32
func.func @left(%in: memref<64xf32>, %out: memref<8x8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.parallel (%i) = (%c0) to (%c64) step (%c1) init (%zero) -> f32 {
    %v = memref.load %in[%i] : memref<64xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c8) step (%c1, %c1) {
    memref.store %zero, %out[%i, %j] : memref<8x8xf32>
    scf.reduce
  }
  return %sum : f32
}
