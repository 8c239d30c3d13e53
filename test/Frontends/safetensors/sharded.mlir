// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_checkpoint.py model %t/sharded --arch llama --shards 3
// RUN: llm-import %t/sharded | FileCheck %s
// RUN: llm-import %t/sharded/model.safetensors.index.json | FileCheck %s
// RUN: %python %S/Inputs/make_checkpoint.py model %t/missing --arch llama --shards 2 --missing-shard
// RUN: not llm-import %t/missing 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: mkdir -p %t/empty
// RUN: not llm-import %t/empty 2>&1 | FileCheck %s --check-prefix=EMPTY
// RUN: not llm-import %t/nonexistent 2>&1 | FileCheck %s --check-prefix=NOPATH

// A checkpoint split across shards by model.safetensors.index.json imports
// like a single file; a shard the index names must exist.

// CHECK: llm.weight "model.embed_tokens.weight" : tensor<32x16xf32>
// CHECK: llm.weight "model.layers.1.mlp.down_proj.weight" : tensor<16x32xf32>
// CHECK: llm.weight "model.norm.weight" : tensor<16xf32>
// CHECK: llm.weight "lm_head.weight" : tensor<32x16xf32>

// MISSING: error: {{.*}}missing{{/|\\}}model.safetensors.index.json: shard 'model-99999-of-99999.safetensors' (holding 'model.norm.weight') not found: {{.*}}model-99999-of-99999.safetensors

// EMPTY: error: {{.*}}empty: no model.safetensors or model.safetensors.index.json in the directory

// NOPATH: error: {{.*}}nonexistent: no such file or directory
