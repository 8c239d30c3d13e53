// llm-compile --score-rows: the step that returns every position's logits
// (llm-score-positions), its calls' bound and its absence.

// RUN: llm-compile %S/../../fixtures/tiny-llama --emit mlir -o - | FileCheck %s --check-prefix=DEFAULT
// DEFAULT: func.func @forward({{.*}}) -> tensor<1x1x256xf32>
// DEFAULT: func.func @forward_all({{.*}}) -> tensor<1x?x256xf32>
// DEFAULT-SAME: llm.arena_max_tokens = 64 : i64
// DEFAULT-SAME: llm.max_rows = 64 : i64

// RUN: llm-compile %S/../../fixtures/tiny-llama --score-rows 8 --emit mlir -o - | FileCheck %s --check-prefix=EIGHT
// EIGHT: func.func @forward_all(
// EIGHT-SAME: llm.arena_max_tokens = 8 : i64

// RUN: llm-compile %S/../../fixtures/tiny-llama --score-rows 0 --emit mlir -o - | FileCheck %s --check-prefix=NONE
// NONE: func.func @forward(
// NONE-NOT: @forward_all

// RUN: not llm-compile %S/../../fixtures/tiny-llama --score-rows -1 -o %t 2>&1 | FileCheck %s --check-prefix=ERR
// ERR: --score-rows must be >= 0, got -1
