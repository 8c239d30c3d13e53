// Every malformed-file error names the file and the message being decoded,
// with what was expected and what was found. The files are written by
// Inputs/make_onnx.py (a protobuf encoder on the standard library).

// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_onnx.py truncated-varint %t/truncated-varint.onnx
// RUN: not llm-import %t/truncated-varint.onnx 2>&1 | FileCheck %s --check-prefix=TRUNCATED_VARINT
// RUN: %python %S/Inputs/make_onnx.py length-past-end %t/length-past-end.onnx
// RUN: not llm-import %t/length-past-end.onnx 2>&1 | FileCheck %s --check-prefix=LENGTH_PAST_END
// RUN: %python %S/Inputs/make_onnx.py wrong-wire-type %t/wrong-wire-type.onnx
// RUN: not llm-import %t/wrong-wire-type.onnx 2>&1 | FileCheck %s --check-prefix=WRONG_WIRE_TYPE
// RUN: %python %S/Inputs/make_onnx.py bad-tensor %t/bad-tensor.onnx
// RUN: not llm-import %t/bad-tensor.onnx 2>&1 | FileCheck %s --check-prefix=BAD_TENSOR
// RUN: %python %S/Inputs/make_onnx.py unsupported-dtype %t/unsupported-dtype.onnx
// RUN: not llm-import %t/unsupported-dtype.onnx 2>&1 | FileCheck %s --check-prefix=UNSUPPORTED_DTYPE
// RUN: %python %S/Inputs/make_onnx.py missing-external %t/missing-external.onnx
// RUN: not llm-import %t/missing-external.onnx 2>&1 | FileCheck %s --check-prefix=MISSING_EXTERNAL
// RUN: %python %S/Inputs/make_onnx.py external-out-of-range %t/external-out-of-range.onnx
// RUN: not llm-import %t/external-out-of-range.onnx 2>&1 | FileCheck %s --check-prefix=EXTERNAL_RANGE
// RUN: %python %S/Inputs/make_onnx.py external-escape %t/external-escape.onnx
// RUN: not llm-import %t/external-escape.onnx 2>&1 | FileCheck %s --check-prefix=EXTERNAL_ESCAPE
// RUN: %python %S/Inputs/make_onnx.py no-graph %t/no-graph.onnx
// RUN: not llm-import %t/no-graph.onnx 2>&1 | FileCheck %s --check-prefix=NO_GRAPH
// RUN: %python %S/Inputs/make_onnx.py deep-groups %t/deep-groups.onnx
// RUN: not llm-import %t/deep-groups.onnx 2>&1 | FileCheck %s --check-prefix=DEEP_GROUPS
// RUN: not llm-import %t/does-not-exist.onnx 2>&1 | FileCheck %s --check-prefix=NO_FILE

// TRUNCATED_VARINT: error: {{.*}}truncated-varint.onnx: ModelProto: truncated varint at byte 1: the buffer ends after 2 continuation byte(s)
// LENGTH_PAST_END: error: {{.*}}length-past-end.onnx: ModelProto: length {{[0-9]+}} of field 7 at byte 8 extends past the end of its message ({{[0-9]+}} bytes left)
// WRONG_WIRE_TYPE: error: {{.*}}wrong-wire-type.onnx: graph: field 'node' (1) of GraphProto at byte {{[0-9]+}} has wire type varint, expected length-delimited
// BAD_TENSOR: error: {{.*}}bad-tensor.onnx: graph.initializer[0] 'w': dims [4, 32] of FLOAT need 512 bytes, but raw_data holds 508
// UNSUPPORTED_DTYPE: error: {{.*}}unsupported-dtype.onnx: graph.initializer[0] 'w': unsupported data_type 8 (STRING); supported: FLOAT, UINT8, {{.*}}
// MISSING_EXTERNAL: error: {{.*}}missing-external.onnx: graph.initializer[0] 'w': external data file 'missing.bin' not found: {{.*}}missing.bin
// EXTERNAL_RANGE: error: {{.*}}external-out-of-range.onnx: graph.initializer[0] 'w': external data offset 64 + length 512 is out of range of 'small.bin' (512 bytes)
// EXTERNAL_ESCAPE: error: {{.*}}external-escape.onnx: graph.initializer[0] 'w': external data location '../outside.bin' must be a relative path inside the model's directory
// NO_GRAPH: error: {{.*}}no-graph.onnx: ModelProto: the model has no graph (field 7)
// DEEP_GROUPS: error: {{.*}}deep-groups.onnx: ModelProto: groups nested deeper than 32 levels at byte {{[0-9]+}}
// NO_FILE: error: {{.*}}does-not-exist.onnx: cannot open: {{.*}}
