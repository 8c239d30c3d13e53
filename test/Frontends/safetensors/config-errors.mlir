// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_checkpoint.py model %t/type --set 'model_type="phi3"'
// RUN: not llm-import %t/type 2>&1 | FileCheck %s --check-prefix=TYPE
// RUN: %python %S/Inputs/make_checkpoint.py model %t/arch --set 'architectures=["LlamaForSequenceClassification"]'
// RUN: not llm-import %t/arch 2>&1 | FileCheck %s --check-prefix=ARCH
// RUN: %python %S/Inputs/make_checkpoint.py model %t/none --unset model_type --unset architectures
// RUN: not llm-import %t/none 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: %python %S/Inputs/make_checkpoint.py model %t/archonly --unset model_type
// RUN: llm-import %t/archonly | FileCheck %s --check-prefix=ARCHONLY
// RUN: %python %S/Inputs/make_checkpoint.py model %t/rope --set 'rope_scaling={"rope_type": "llama3", "factor": 8.0}'
// RUN: not llm-import %t/rope 2>&1 | FileCheck %s --check-prefix=ROPE
// RUN: %python %S/Inputs/make_checkpoint.py model %t/ropenull --set 'rope_scaling=null'
// RUN: llm-import %t/ropenull | FileCheck %s --check-prefix=ARCHONLY
// RUN: %python %S/Inputs/make_checkpoint.py model %t/field --unset hidden_size
// RUN: not llm-import %t/field 2>&1 | FileCheck %s --check-prefix=FIELD
// RUN: %python %S/Inputs/make_checkpoint.py model %t/fieldtype --set 'num_hidden_layers="2"'
// RUN: not llm-import %t/fieldtype 2>&1 | FileCheck %s --check-prefix=FIELDTYPE
// RUN: %python %S/Inputs/make_checkpoint.py model %t/heads --set 'num_key_value_heads=3'
// RUN: not llm-import %t/heads 2>&1 | FileCheck %s --check-prefix=HEADS
// RUN: %python %S/Inputs/make_checkpoint.py model %t/act --set 'hidden_act="gelu"'
// RUN: not llm-import %t/act 2>&1 | FileCheck %s --check-prefix=ACT
// RUN: %python %S/Inputs/make_checkpoint.py model %t/gelu --arch gpt2 --set 'activation_function="relu"'
// RUN: not llm-import %t/gelu 2>&1 | FileCheck %s --check-prefix=GELU
// RUN: %python %S/Inputs/make_checkpoint.py model %t/json
// RUN: %python -c "open(r'%t/json/config.json', 'w').write('{\"model_type\": ')"
// RUN: not llm-import %t/json 2>&1 | FileCheck %s --check-prefix=BADJSON
// RUN: %python -c "open(r'%t/json/config.json', 'w').write('[' * 100000)"
// RUN: not llm-import %t/json 2>&1 | FileCheck %s --check-prefix=DEEP
// RUN: rm %t/json/config.json
// RUN: not llm-import %t/json 2>&1 | FileCheck %s --check-prefix=NOCONFIG

// config.json problems name the file and the offending field.

// TYPE: error: {{.*}}config.json: unsupported model_type 'phi3' (supported: llama, mistral, qwen2, gpt2)
// ARCH: error: {{.*}}config.json: unsupported architecture 'LlamaForSequenceClassification' (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, GPT2LMHeadModel)
// NONE: error: {{.*}}config.json: no 'model_type' or 'architectures' names the model (supported model_type: llama, mistral, qwen2, gpt2)
// ARCHONLY: llm.arch = "llama"
// ROPE: error: {{.*}}config.json: rope_scaling type llama3 not supported yet
// FIELD: error: {{.*}}config.json: missing required field 'hidden_size'
// FIELDTYPE: error: {{.*}}config.json: 'num_hidden_layers' must be a positive integer
// HEADS: error: {{.*}}config.json: num_attention_heads (4) is not a multiple of num_key_value_heads (3)
// ACT: error: {{.*}}config.json: hidden_act 'gelu' not supported (expected silu)
// GELU: error: {{.*}}config.json: activation_function 'relu' not supported (expected gelu_new, gelu_pytorch_tanh or gelu)
// BADJSON: error: {{.*}}config.json: not valid JSON: {{.*}}
// DEEP: error: {{.*}}config.json: not valid JSON: nesting deeper than 64 levels
// NOCONFIG: error: {{.*}}config.json: cannot open: {{.*}}
