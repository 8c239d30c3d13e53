// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_checkpoint.py bad truncated %t/truncated.safetensors
// RUN: not llm-import %t/truncated.safetensors 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// RUN: %python %S/Inputs/make_checkpoint.py bad header-past-eof %t/header-past-eof.safetensors
// RUN: not llm-import %t/header-past-eof.safetensors 2>&1 | FileCheck %s --check-prefix=HEADER_PAST_EOF
// RUN: %python %S/Inputs/make_checkpoint.py bad bad-json %t/bad-json.safetensors
// RUN: not llm-import %t/bad-json.safetensors 2>&1 | FileCheck %s --check-prefix=BAD_JSON
// RUN: %python %S/Inputs/make_checkpoint.py bad not-object %t/not-object.safetensors
// RUN: not llm-import %t/not-object.safetensors 2>&1 | FileCheck %s --check-prefix=NOT_OBJECT
// RUN: %python %S/Inputs/make_checkpoint.py bad deep-nesting %t/deep-nesting.safetensors
// RUN: not llm-import %t/deep-nesting.safetensors 2>&1 | FileCheck %s --check-prefix=DEEP_NESTING
// RUN: %python %S/Inputs/make_checkpoint.py bad entry-not-object %t/entry-not-object.safetensors
// RUN: not llm-import %t/entry-not-object.safetensors 2>&1 | FileCheck %s --check-prefix=ENTRY_NOT_OBJECT
// RUN: %python %S/Inputs/make_checkpoint.py bad missing-dtype %t/missing-dtype.safetensors
// RUN: not llm-import %t/missing-dtype.safetensors 2>&1 | FileCheck %s --check-prefix=MISSING_DTYPE
// RUN: %python %S/Inputs/make_checkpoint.py bad missing-shape %t/missing-shape.safetensors
// RUN: not llm-import %t/missing-shape.safetensors 2>&1 | FileCheck %s --check-prefix=MISSING_SHAPE
// RUN: %python %S/Inputs/make_checkpoint.py bad missing-offsets %t/missing-offsets.safetensors
// RUN: not llm-import %t/missing-offsets.safetensors 2>&1 | FileCheck %s --check-prefix=MISSING_OFFSETS
// RUN: %python %S/Inputs/make_checkpoint.py bad dtype-not-string %t/dtype-not-string.safetensors
// RUN: not llm-import %t/dtype-not-string.safetensors 2>&1 | FileCheck %s --check-prefix=DTYPE_NOT_STRING
// RUN: %python %S/Inputs/make_checkpoint.py bad shape-wrong-type %t/shape-wrong-type.safetensors
// RUN: not llm-import %t/shape-wrong-type.safetensors 2>&1 | FileCheck %s --check-prefix=SHAPE_WRONG_TYPE
// RUN: %python %S/Inputs/make_checkpoint.py bad offsets-wrong-type %t/offsets-wrong-type.safetensors
// RUN: not llm-import %t/offsets-wrong-type.safetensors 2>&1 | FileCheck %s --check-prefix=OFFSETS_WRONG_TYPE
// RUN: %python %S/Inputs/make_checkpoint.py bad unsupported-dtype %t/unsupported-dtype.safetensors
// RUN: not llm-import %t/unsupported-dtype.safetensors 2>&1 | FileCheck %s --check-prefix=UNSUPPORTED_DTYPE
// RUN: %python %S/Inputs/make_checkpoint.py bad offsets-out-of-range %t/offsets-out-of-range.safetensors
// RUN: not llm-import %t/offsets-out-of-range.safetensors 2>&1 | FileCheck %s --check-prefix=OFFSETS_OUT_OF_RANGE
// RUN: %python %S/Inputs/make_checkpoint.py bad offsets-reversed %t/offsets-reversed.safetensors
// RUN: not llm-import %t/offsets-reversed.safetensors 2>&1 | FileCheck %s --check-prefix=OFFSETS_REVERSED
// RUN: %python %S/Inputs/make_checkpoint.py bad overlap %t/overlap.safetensors
// RUN: not llm-import %t/overlap.safetensors 2>&1 | FileCheck %s --check-prefix=OVERLAP
// RUN: %python %S/Inputs/make_checkpoint.py bad size-mismatch %t/size-mismatch.safetensors
// RUN: not llm-import %t/size-mismatch.safetensors 2>&1 | FileCheck %s --check-prefix=SIZE_MISMATCH
// RUN: %python %S/Inputs/make_checkpoint.py bad metadata-not-object %t/metadata-not-object.safetensors
// RUN: not llm-import %t/metadata-not-object.safetensors 2>&1 | FileCheck %s --check-prefix=METADATA_NOT_OBJECT

// Every malformed-file error names the file and, where one is involved,
// the tensor, with what was expected and what was found.

// TRUNCATED: error: {{.*}}truncated.safetensors: file is truncated: 3 bytes, expected at least 8 (the header length)
// HEADER_PAST_EOF: error: {{.*}}header-past-eof.safetensors: header length 1000 extends past the end of the file (2 bytes follow the length field)
// BAD_JSON: error: {{.*}}bad-json.safetensors: header is not valid JSON: [1:22, byte=22]: Expected object key
// NOT_OBJECT: error: {{.*}}not-object.safetensors: header is not a JSON object
// DEEP_NESTING: error: {{.*}}deep-nesting.safetensors: header is not valid JSON: nesting deeper than 64 levels
// ENTRY_NOT_OBJECT: error: {{.*}}entry-not-object.safetensors: tensor 'w': entry is not a JSON object
// MISSING_DTYPE: error: {{.*}}missing-dtype.safetensors: tensor 'w': missing 'dtype'
// MISSING_SHAPE: error: {{.*}}missing-shape.safetensors: tensor 'w': missing 'shape'
// MISSING_OFFSETS: error: {{.*}}missing-offsets.safetensors: tensor 'w': missing 'data_offsets'
// DTYPE_NOT_STRING: error: {{.*}}dtype-not-string.safetensors: tensor 'w': 'dtype' is not a string
// SHAPE_WRONG_TYPE: error: {{.*}}shape-wrong-type.safetensors: tensor 'w': 'shape' is not an array of non-negative integers
// OFFSETS_WRONG_TYPE: error: {{.*}}offsets-wrong-type.safetensors: tensor 'w': 'data_offsets' is not an array of two non-negative integers [begin, end]
// UNSUPPORTED_DTYPE: error: {{.*}}unsupported-dtype.safetensors: tensor 'w': unsupported dtype 'Q4_K' (supported: F64, F32, F16, BF16, {{.*}})
// OFFSETS_OUT_OF_RANGE: error: {{.*}}offsets-out-of-range.safetensors: tensor 'w': data_offsets [8, 32] out of range of the data section (24 bytes)
// OFFSETS_REVERSED: error: {{.*}}offsets-reversed.safetensors: tensor 'w': data_offsets [24, 0]: begin is past end
// OVERLAP: error: {{.*}}overlap.safetensors: tensors 'a' [0, 16) and 'b' [8, 16) overlap
// SIZE_MISMATCH: error: {{.*}}size-mismatch.safetensors: tensor 'w': dtype/shape mismatch: shape [2, 3] of F16 needs 12 bytes, but data_offsets [0, 24] hold 24
// METADATA_NOT_OBJECT: error: {{.*}}metadata-not-object.safetensors: '__metadata__' is not a JSON object
