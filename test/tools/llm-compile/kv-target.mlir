// llm-compile's --target is the cost-model target of the paged KV cache's
// block size as well as of --report: the plan names it.

// RUN: llm-compile %S/../../fixtures/tiny-llama --max-batch 2 --emit mlir -o - | FileCheck %s --check-prefix=HOST
// HOST: block_size_source = "cost-model"
// HOST-SAME: block_target = "host-cpu"

// RUN: llm-compile %S/../../fixtures/tiny-llama --max-batch 2 --target sm_90 --emit mlir -o - | FileCheck %s --check-prefix=GPU
// GPU: block_size_source = "cost-model"
// GPU-SAME: block_target = "sm_90"
