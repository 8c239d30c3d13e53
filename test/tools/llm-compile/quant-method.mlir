// llm-compile's activation-aware quantization options: the method reaches
// llm-quantize, and what calibration needs is checked before any work.

// RUN: llm-compile %S/../../fixtures/tiny-llama --quantize int4 --quant-method gptq --quant-rtn 'lm_head.*' --emit mlir -o - | FileCheck %s
// CHECK: llm.weight "model.layers.0.self_attn.q_proj.weight" quant <bits = 4, group = 32, scheme = symmetric> at {{[0-9]+}} {llm.quant_method = "gptq"}
// CHECK: llm.weight "lm_head.weight" quant <bits = 4, group = 32, scheme = symmetric> at {{[0-9]+}} : tensor<256x64xf32>

// RUN: not llm-compile %S/../../fixtures/tiny-llama --quantize int4 --quant-method gptq -o %t 2>&1 | FileCheck %s --check-prefix=NOTOK
// NOTOK: error: --quant-method=gptq runs the model on calibration text, but {{.*}}tiny-llama has no tokenizer

// RUN: not llm-compile %S/../../fixtures/tiny-llama --quantize int4 --quant-method awq -o %t 2>&1 | FileCheck %s --check-prefix=METHOD
// METHOD: error: --quant-method expects rtn or gptq, got 'awq'

// --quant-equalize reaches llm-quantize (the norms absorb the scales of
// q/k/v and gate/up, up_proj those of down_proj) and needs calibration too.
// RUN: llm-compile %S/../../fixtures/tiny-llama --quantize int4 --quant-equalize --emit mlir -o - | FileCheck %s --check-prefix=EQ
// EQ: llm.weight "model.layers.0.input_layernorm.weight" at {{[0-9]+}} {llm.equalized_output}
// EQ: llm.weight "model.layers.0.self_attn.q_proj.weight" quant <bits = 4, group = 32, scheme = symmetric> at {{[0-9]+}} {llm.equalize = "model.layers.0.input_layernorm.weight"}
// EQ: llm.weight "model.layers.0.mlp.up_proj.weight" quant <bits = 4, group = 32, scheme = symmetric> at {{[0-9]+}} {llm.equalize = "model.layers.0.post_attention_layernorm.weight", llm.equalized_output}
// EQ: llm.weight "model.layers.0.mlp.down_proj.weight" quant <bits = 4, group = 32, scheme = symmetric> at {{[0-9]+}} {llm.equalize = "model.layers.0.mlp.up_proj.weight"}
// RUN: not llm-compile %S/../../fixtures/tiny-llama --quantize int4 --quant-equalize -o %t 2>&1 | FileCheck %s --check-prefix=EQNOTOK
// EQNOTOK: error: --quant-equalize runs the model on calibration text, but {{.*}}tiny-llama has no tokenizer

// --calibration-stages: at least 1, and only for GPTQ without equalization.
// RUN: not llm-compile %S/../../fixtures/tiny-llama --quantize int4 --quant-method gptq --calibration-stages 0 -o %t 2>&1 | FileCheck %s --check-prefix=STAGES0
// STAGES0: error: --calibration-stages must be at least 1
// RUN: not llm-compile %S/../../fixtures/tiny-llama --quantize int4 --calibration-stages 2 -o %t 2>&1 | FileCheck %s --check-prefix=STAGESRTN
// STAGESRTN: error: --calibration-stages calibrates GPTQ layer by layer; it needs --quant-method gptq
// RUN: not llm-compile %S/../../fixtures/tiny-llama --quantize int4 --quant-method gptq --quant-equalize --calibration-stages 2 -o %t 2>&1 | FileCheck %s --check-prefix=STAGESEQ
// STAGESEQ: error: --calibration-stages does not combine with equalization (--quant-equalize)

// --calibration-sink-weight: positive and finite.
// RUN: not llm-compile %S/../../fixtures/tiny-llama --quantize int4 --quant-method gptq --calibration-sink-weight 0 -o %t 2>&1 | FileCheck %s --check-prefix=SINK0
// SINK0: error: --calibration-sink-weight must be positive, got 0
// RUN: not llm-compile %S/../../fixtures/tiny-llama --quantize int4 --quant-method gptq --calibration-sink-weight -2 -o %t 2>&1 | FileCheck %s --check-prefix=SINKNEG
// SINKNEG: error: --calibration-sink-weight must be positive, got -2
