// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_checkpoint.py model %t/drop --arch llama --drop model.layers.1.mlp.up_proj.weight --drop lm_head.weight
// RUN: not llm-import %t/drop 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: %python %S/Inputs/make_checkpoint.py model %t/shape --arch llama --reshape model.layers.0.self_attn.k_proj.weight=16,16
// RUN: not llm-import %t/shape 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: %python %S/Inputs/make_checkpoint.py model %t/gpt2 --arch gpt2 --reshape transformer.h.0.attn.c_attn.weight=48,16
// RUN: not llm-import %t/gpt2 2>&1 | FileCheck %s --check-prefix=CONV1D
// RUN: %python %S/Inputs/make_checkpoint.py model %t/int --arch llama --retype model.norm.weight=I8
// RUN: not llm-import %t/int 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: %python %S/Inputs/make_checkpoint.py model %t/ctx --arch llama
// RUN: not llm-import %t/ctx --max-context 4096 2>&1 | FileCheck %s --check-prefix=CONTEXT
// RUN: not llm-import %t/ctx -o %t/no/such/dir/out.mlir 2>&1 | FileCheck %s --check-prefix=OUTPUT

// The importer checks every tensor against config.json before emitting IR
// and reports all problems, one per line.

// MISSING: error: missing tensor 'model.layers.1.mlp.up_proj.weight' in checkpoint {{.*}}drop
// MISSING-NEXT: missing tensor 'lm_head.weight' in checkpoint {{.*}}drop

// SHAPE: error: tensor 'model.layers.0.self_attn.k_proj.weight': expected shape [8, 16], found [16, 16] (in {{.*}}model.safetensors)

// GPT-2 Conv1D weights are [in, out]; a Linear-style [out, in] is rejected.
// CONV1D: error: tensor 'transformer.h.0.attn.c_attn.weight': expected shape [16, 48], found [48, 16]

// DTYPE: error: tensor 'model.norm.weight': dtype I8 not supported for weights (expected F32, F16 or BF16)

// CONTEXT: error: max context 4096 exceeds the model's max_position_embeddings (128)

// OUTPUT: error: {{.*}}out.mlir: {{.*}}
