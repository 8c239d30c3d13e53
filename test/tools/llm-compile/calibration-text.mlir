// REQUIRES: stories260k
// Calibration text errors name the file (stories260K has a tokenizer).

// RUN: not llm-compile %shared_models/stories260K/stories260K.gguf --quantize int4 --quant-method gptq --calibration %t.missing -o %t 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: cannot read the calibration text {{.*}}.missing: No such file or directory

// RUN: printf ' \n\n' > %t.empty
// RUN: not llm-compile %shared_models/stories260K/stories260K.gguf --quantize int4 --quant-method gptq --calibration %t.empty -o %t 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: error: the calibration text {{.*}}.empty is empty
