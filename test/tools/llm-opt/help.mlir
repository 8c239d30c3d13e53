// RUN: llm-opt --help | FileCheck %s

// llm-opt exposes Frugal's passes and their options next to the upstream
// passes.
// CHECK: --convert-scf-to-openmp
// CHECK: --llm-cost-summary
// CHECK-NEXT: --past-tokens=
// CHECK-NEXT: --per-op
// CHECK-NEXT: --tokens=
