// RUN: llm-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(llm-plan-memory{max-tokens=8}))' | FileCheck %s
// RUN: llm-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(llm-plan-memory{max-tokens=8 report}))' -verify-diagnostics -o /dev/null
// RUN: llm-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(llm-plan-memory{max-tokens=8 in-place=false}))' | FileCheck %s --check-prefix=SEPARATE

// A chain of static buffers: each lives from its op to its user. Each silu
// is the last user of its operand, so it overwrites it in place and the
// chain needs one slot; without in-place updates two slots alternate. The
// returned value is written into the caller's buffer and stays out of the
// arena.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: llm.arena_bytes = 1024 : i64, llm.arena_max_tokens = 8 : i64
// CHECK: llm.silu %{{.*}} {llm.arena_bytes = 1024 : i64, llm.arena_live = array<i64: 0, 1>, llm.arena_offset = 0 : i64}
// CHECK: llm.silu %{{.*}} {llm.arena_bytes = 1024 : i64, llm.arena_live = array<i64: 1, 2>, llm.arena_offset = 0 : i64}
// CHECK: llm.silu %{{.*}} {llm.arena_bytes = 1024 : i64, llm.arena_live = array<i64: 2, 3>, llm.arena_offset = 0 : i64}
// CHECK: %[[D:.*]] = llm.silu %{{.*}} : tensor<1x4x64xf32>
// CHECK: return %[[D]]
// SEPARATE-LABEL: func.func @chain
// SEPARATE-SAME: llm.arena_bytes = 2048 : i64
// SEPARATE: llm.silu %{{.*}} {llm.arena_bytes = 1024 : i64, llm.arena_live = array<i64: 0, 1>, llm.arena_offset = 0 : i64}
// SEPARATE: llm.silu %{{.*}} {llm.arena_bytes = 1024 : i64, llm.arena_live = array<i64: 1, 2>, llm.arena_offset = 1024 : i64}
// SEPARATE: llm.silu %{{.*}} {llm.arena_bytes = 1024 : i64, llm.arena_live = array<i64: 2, 3>, llm.arena_offset = 0 : i64}
// expected-remark @below {{llm-plan-memory: 3 buffers (3072 bytes if separate, 2 in place) in an arena of 1024 bytes for up to 8 tokens per call; 1 values kept out}}
func.func @chain(%x: tensor<1x4x64xf32>) -> tensor<1x4x64xf32> {
  %a = llm.silu %x : tensor<1x4x64xf32>
  %b = llm.silu %a : tensor<1x4x64xf32>
  %c = llm.silu %b : tensor<1x4x64xf32>
  %d = llm.silu %c : tensor<1x4x64xf32>
  return %d : tensor<1x4x64xf32>
}

// -----

// Two layers on a dynamic token count: extents are bounded by max-tokens
// (1x8x64xf32 = 2048 bytes, 1x8x160xf32 = 5120 bytes). The second layer's
// buffers reuse the first layer's offsets (12288 is the only new one), each
// mul overwrites its first operand and each residual add the matmul result
// (then the residual): 12 buffers of 43008 bytes fit in 14336 (17408
// without in-place updates).
// CHECK-LABEL: func.func @layers
// CHECK-SAME: llm.arena_bytes = 14336 : i64, llm.arena_max_tokens = 8 : i64
// CHECK: llm.rms_norm {{.*}} {llm.arena_bytes = 2048 : i64, llm.arena_live = array<i64: 0, 2>, llm.arena_offset = 10240 : i64}
// CHECK: llm.matmul {{.*}} {llm.arena_bytes = 5120 : i64, llm.arena_live = array<i64: 1, 3>, llm.arena_offset = 0 : i64}
// CHECK: llm.matmul {{.*}} {llm.arena_bytes = 5120 : i64, llm.arena_live = array<i64: 2, 3>, llm.arena_offset = 5120 : i64}
// CHECK: llm.mul {{.*}} {llm.arena_bytes = 5120 : i64, llm.arena_live = array<i64: 3, 4>, llm.arena_offset = 0 : i64}
// CHECK: llm.matmul {{.*}} {llm.arena_bytes = 2048 : i64, llm.arena_live = array<i64: 4, 5>, llm.arena_offset = 10240 : i64}
// CHECK: llm.add {{.*}} {llm.arena_bytes = 2048 : i64, llm.arena_live = array<i64: 5, 11>, llm.arena_offset = 10240 : i64}
// CHECK: llm.rms_norm {{.*}} {llm.arena_bytes = 2048 : i64, llm.arena_live = array<i64: 6, 8>, llm.arena_offset = 12288 : i64}
// CHECK: llm.matmul {{.*}} {llm.arena_bytes = 5120 : i64, llm.arena_live = array<i64: 7, 9>, llm.arena_offset = 0 : i64}
// CHECK: llm.matmul {{.*}} {llm.arena_bytes = 5120 : i64, llm.arena_live = array<i64: 8, 9>, llm.arena_offset = 5120 : i64}
// CHECK: llm.mul {{.*}} {llm.arena_bytes = 5120 : i64, llm.arena_live = array<i64: 9, 10>, llm.arena_offset = 0 : i64}
// CHECK: llm.matmul {{.*}} {llm.arena_bytes = 2048 : i64, llm.arena_live = array<i64: 10, 11>, llm.arena_offset = 5120 : i64}
// CHECK: llm.add {{.*}} {llm.arena_bytes = 2048 : i64, llm.arena_live = array<i64: 11, 12>, llm.arena_offset = 10240 : i64}
// CHECK: llm.slice {{.*}} {axis = 1 : i64, start = -1 : i64} :
// SEPARATE-LABEL: func.func @layers
// SEPARATE-SAME: llm.arena_bytes = 17408 : i64
// expected-remark @below {{llm-plan-memory: 12 buffers (43008 bytes if separate, 4 in place) in an arena of 14336 bytes for up to 8 tokens per call; 1 values kept out}}
func.func @layers(%x: tensor<1x?x64xf32>, %n: tensor<64xf32>, %wg: tensor<160x64xf32>, %wd: tensor<64x160xf32>) -> tensor<1x1x64xf32> {
  %0 = llm.rms_norm %x, %n eps = 1.0e-05 : tensor<1x?x64xf32>, tensor<64xf32>
  %1 = llm.matmul %0, %wg transpose_b : tensor<1x?x64xf32>, tensor<160x64xf32> -> tensor<1x?x160xf32>
  %2 = llm.matmul %0, %wg transpose_b : tensor<1x?x64xf32>, tensor<160x64xf32> -> tensor<1x?x160xf32>
  %3 = llm.mul %1, %2 : tensor<1x?x160xf32>, tensor<1x?x160xf32> -> tensor<1x?x160xf32>
  %4 = llm.matmul %3, %wd transpose_b : tensor<1x?x160xf32>, tensor<64x160xf32> -> tensor<1x?x64xf32>
  %5 = llm.add %x, %4 : tensor<1x?x64xf32>, tensor<1x?x64xf32> -> tensor<1x?x64xf32>
  %6 = llm.rms_norm %5, %n eps = 1.0e-05 : tensor<1x?x64xf32>, tensor<64xf32>
  %7 = llm.matmul %6, %wg transpose_b : tensor<1x?x64xf32>, tensor<160x64xf32> -> tensor<1x?x160xf32>
  %8 = llm.matmul %6, %wg transpose_b : tensor<1x?x64xf32>, tensor<160x64xf32> -> tensor<1x?x160xf32>
  %9 = llm.mul %7, %8 : tensor<1x?x160xf32>, tensor<1x?x160xf32> -> tensor<1x?x160xf32>
  %10 = llm.matmul %9, %wd transpose_b : tensor<1x?x160xf32>, tensor<64x160xf32> -> tensor<1x?x64xf32>
  %11 = llm.add %5, %10 : tensor<1x?x64xf32>, tensor<1x?x64xf32> -> tensor<1x?x64xf32>
  %12 = llm.slice %11 {axis = 1 : i64, start = -1 : i64} : tensor<1x?x64xf32> -> tensor<1x1x64xf32>
  return %12 : tensor<1x1x64xf32>
}

// -----

// A call never processes more tokens than the KV cache holds: the bound is
// min(max-tokens, max_seq) = 4, so a 1x?x64xf32 value takes 1024 bytes and
// the 1x?xi64 positions 32 (rounded up to 64). Shape rules carry the bound:
// embed appends the hidden size, reshape keeps the element count, transpose
// permutes. Weights are views of the weights file, not buffers.
// CHECK-LABEL: func.func @kv_bound
// CHECK-SAME: llm.arena_bytes = 3072 : i64, llm.arena_max_tokens = 4 : i64
// CHECK: llm.weight "embed" at 0 : tensor<32x64xf32>
// CHECK: llm.embed {{.*}} {llm.arena_bytes = 1024 : i64, llm.arena_live = array<i64: 1, 4>, llm.arena_offset = 0 : i64}
// CHECK: llm.position_ids {{.*}} {llm.arena_bytes = 64 : i64, llm.arena_live = array<i64: 2, 3>, llm.arena_offset = 2048 : i64}
// CHECK: llm.rope {{.*}} {llm.arena_bytes = 1024 : i64, llm.arena_live = array<i64: 3, 4>, llm.arena_offset = 1024 : i64,
// CHECK: llm.attention {{.*}} {causal, layer = 0 : i64, llm.arena_bytes = 1024 : i64, llm.arena_live = array<i64: 4, 5>, llm.arena_offset = 2048 : i64,
// CHECK: llm.reshape {{.*}} {llm.arena_bytes = 1024 : i64, llm.arena_live = array<i64: 5, 6>, llm.arena_offset = 0 : i64}
// CHECK: llm.transpose {{.*}} {llm.arena_bytes = 1024 : i64, llm.arena_live = array<i64: 6, 7>, llm.arena_offset = 1024 : i64}
// CHECK: llm.silu %{{.*}} : tensor<1x16x?x4xf32>
// expected-remark @below {{llm-plan-memory: 6 buffers (5184 bytes if separate, 0 in place) in an arena of 3072 bytes for up to 4 tokens per call; 1 values kept out}}
func.func @kv_bound(%tokens: tensor<1x?xi64>, %pos: index, %kv: !llm.kv_cache<1 x 4 x 4 x 16, f32>, %table: tensor<32x64xf32>) -> tensor<1x16x?x4xf32> {
  %table_copy = llm.weight "embed" at 0 : tensor<32x64xf32>
  %h = llm.embed %table_copy, %tokens : tensor<32x64xf32>, tensor<1x?xi64> -> tensor<1x?x64xf32>
  %p = llm.position_ids %tokens, [%pos] : tensor<1x?xi64> -> tensor<1x?xi64>
  %q = llm.rope %h, %p {num_heads = 4 : i64, theta = 1.000000e+04 : f64} : tensor<1x?x64xf32>, tensor<1x?xi64>
  %o = llm.attention %q, %h, %h cache %kv[%pos] : !llm.kv_cache<1 x 4 x 4 x 16, f32> {causal, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64} : tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<1x?x64xf32> -> tensor<1x?x64xf32>
  %r = llm.reshape %o : tensor<1x?x64xf32> -> tensor<1x?x16x4xf32>
  %t = llm.transpose %r [0, 2, 1, 3] : tensor<1x?x16x4xf32> -> tensor<1x16x?x4xf32>
  %u = llm.silu %t : tensor<1x16x?x4xf32>
  return %u : tensor<1x16x?x4xf32>
}

// -----

// A result whose extent comes from outside the llm dialect cannot be
// bounded, and one read by another dialect's op may be aliased: both keep
// their own allocation.
// CHECK-LABEL: func.func @kept_out
// CHECK-SAME: llm.arena_bytes = 0 : i64
// CHECK-NOT: llm.arena_offset
// CHECK: return
// expected-remark @below {{llm-plan-memory: 0 buffers (0 bytes if separate, 0 in place) in an arena of 0 bytes for up to 8 tokens per call; 2 values kept out}}
func.func @kept_out(%n: index, %x: tensor<1x?x64xf32>) -> index {
  %e = tensor.empty(%n) : tensor<1x?x64xf32>
  // expected-remark @below {{llm-plan-memory: result size is not bounded; it keeps its own allocation}}
  %a = llm.silu %e : tensor<1x?x64xf32>
  %b = llm.silu %x : tensor<1x?x64xf32>
  %c1 = arith.constant 1 : index
  %d = tensor.dim %b, %c1 : tensor<1x?x64xf32>
  return %d : index
}
