// RUN: llm-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(llm-plan-memory{max-tokens=8}),convert-llm-to-kernels)' | FileCheck %s
// RUN: llm-opt %s -split-input-file -convert-llm-to-kernels -verify-diagnostics -o /dev/null

// With a memory plan, every intermediate is a view of one static arena at
// its planned offset (silu overwrites the gate projection in place): nothing
// is allocated or freed inside the function, and the result is still
// written straight into the caller's out-parameter. A call with more tokens
// than the arena was sized for aborts.
// CHECK: memref.global "private" @__llm_arena_mlp : memref<7168xi8> = uninitialized {alignment = 64 : i64}
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[BLOB:.*]]: memref<?xi8>, %[[X:.*]]: memref<1x?x64xf32>, %[[OUT:.*]]: memref<1x?x64xf32>)
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[N:.*]] = memref.dim %[[X]], %[[C1]] : memref<1x?x64xf32>
// CHECK: %[[OK:.*]] = arith.cmpi ule, %[[N]], %[[C8]] : index
// CHECK: cf.assert %[[OK]], "@mlp: more than 8 tokens in one call overflow the activation arena"
// CHECK-NOT: memref.alloc
// CHECK: %[[A1:.*]] = memref.get_global @__llm_arena_mlp : memref<7168xi8>
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[G:.*]] = memref.view %[[A1]][%[[C0]]][%{{.*}}] : memref<7168xi8> to memref<1x?x160xf32>
// CHECK: call @__llm_matmul_tb_1xDx64xf32_160x64xf32(%[[X]], %{{.*}}, %[[G]])
// CHECK: %[[A2:.*]] = memref.get_global @__llm_arena_mlp
// CHECK: %[[C0B:.*]] = arith.constant 0 : index
// CHECK: %[[S:.*]] = memref.view %[[A2]][%[[C0B]]][%{{.*}}] : memref<7168xi8> to memref<1x?x160xf32>
// CHECK: call @__llm_silu_1xDx160xf32(%[[G]], %[[S]])
// CHECK: %[[A3:.*]] = memref.get_global @__llm_arena_mlp
// CHECK: %[[C5120:.*]] = arith.constant 5120 : index
// CHECK: %[[D:.*]] = memref.view %[[A3]][%[[C5120]]][%{{.*}}] : memref<7168xi8> to memref<1x?x64xf32>
// CHECK: call @__llm_matmul_tb_1xDx160xf32_64x160xf32(%[[S]], %{{.*}}, %[[D]])
// CHECK: call @__llm_add_1xDx64xf32_1xDx64xf32(%[[X]], %[[D]], %[[OUT]])
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @mlp(%x: tensor<1x?x64xf32>) -> tensor<1x?x64xf32> {
  %wg = llm.weight "gate" at 0 : tensor<160x64xf32>
  %wd = llm.weight "down" at 40960 : tensor<64x160xf32>
  %g = llm.matmul %x, %wg transpose_b : tensor<1x?x64xf32>, tensor<160x64xf32> -> tensor<1x?x160xf32>
  %s = llm.silu %g : tensor<1x?x160xf32>
  %d = llm.matmul %s, %wd transpose_b : tensor<1x?x160xf32>, tensor<64x160xf32> -> tensor<1x?x64xf32>
  %r = llm.add %x, %d : tensor<1x?x64xf32>, tensor<1x?x64xf32> -> tensor<1x?x64xf32>
  return %r : tensor<1x?x64xf32>
}

// -----

// A slot outside the arena is rejected rather than lowered (a plan written
// by hand; the second RUN line lowers without planning).
// CHECK-LABEL: func.func @bad_slot
func.func @bad_slot(%x: tensor<1x4x64xf32>) -> tensor<1x4x64xf32> attributes {llm.arena_bytes = 1024 : i64} {
  // expected-error @below {{'llm.silu' op has no valid slot in its function's arena of 1024 bytes; rerun llm-plan-memory}}
  %a = llm.silu %x {llm.arena_offset = 512 : i64, llm.arena_bytes = 1024 : i64} : tensor<1x4x64xf32>
  %b = llm.silu %a : tensor<1x4x64xf32>
  return %b : tensor<1x4x64xf32>
}
