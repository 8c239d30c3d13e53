// Initializers stored in external data files import as llm.weight
// references; the data is mapped, never read. `huge` puts a weight past
// 4 GiB of a sparse 5 GiB file (64-bit offsets, no reads).

// RUN: llm-import %S/Inputs/external.onnx | FileCheck %s --check-prefix=EXTERNAL
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_onnx.py external-huge %t/huge.onnx
// RUN: llm-import %t/huge.onnx | FileCheck %s --check-prefix=HUGE
// RUN: %python %S/Inputs/make_onnx.py float-data %t/float-data.onnx
// RUN: llm-import %t/float-data.onnx | FileCheck %s --check-prefix=HUGE

// EXTERNAL-LABEL: func.func @main(%arg0: tensor<1x8xf32>) -> tensor<1x16xf32>
// EXTERNAL:         %[[W:.*]] = llm.weight "proj.weight" : tensor<8x16xf32>
// EXTERNAL:         llm.matmul %arg0, %[[W]] : tensor<1x8xf32>, tensor<8x16xf32> -> tensor<1x16xf32>

// HUGE-LABEL: func.func @main(%arg0: tensor<1x4xf32>) -> tensor<1x32xf32>
// HUGE:         %[[W:.*]] = llm.weight "w" : tensor<4x32xf32>
// HUGE:         llm.matmul %arg0, %[[W]] : tensor<1x4xf32>, tensor<4x32xf32> -> tensor<1x32xf32>
