// Errors of the importer name the file and the node: its index, name, op
// type (with the domain when it is not the default one) and opset.

// RUN: not llm-import %S/Inputs/unsupported.onnx 2>&1 | FileCheck %s --check-prefix=UNKNOWN_OP
// RUN: not llm-import %S/Inputs/custom-domain.onnx 2>&1 | FileCheck %s --check-prefix=DOMAIN
// RUN: not llm-import %S/Inputs/dynamic.onnx 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// RUN: llm-import %S/Inputs/dynamic.onnx --dim batch=3 | FileCheck %s --check-prefix=BOUND
// RUN: not llm-import %S/Inputs/dynamic.onnx --dim batch 2>&1 | FileCheck %s --check-prefix=BAD_DIM
// RUN: not llm-import %S/Inputs/old-opset.onnx 2>&1 | FileCheck %s --check-prefix=OPSET

// UNKNOWN_OP: error: {{.*}}unsupported.onnx: node 1 'act' (HardSwish, opset 17): unsupported operator HardSwish in domain 'ai.onnx'
// DOMAIN: error: {{.*}}custom-domain.onnx: node 0 'fg' (com.microsoft::FastGelu, opset 1): unsupported operator FastGelu in domain 'com.microsoft'
// DYNAMIC: error: {{.*}}dynamic.onnx: node 0 'shape0' (Shape, opset 17): dynamic dimension 'batch' not supported yet (dimension 0 of 'x')

// Binding the symbolic dimension makes the graph static; Reshape to its own
// shape folds away.
// BOUND-LABEL: func.func @main(%arg0: tensor<3x8xf32>) -> tensor<3x8xf32>
// BOUND-NEXT:    return %arg0 : tensor<3x8xf32>

// BAD_DIM: error: --dim expects name=size, got 'batch'
// OPSET: error: {{.*}}old-opset.onnx: opset 11 of domain 'ai.onnx' is not supported (expected 13 to 23)
