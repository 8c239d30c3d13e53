// Imports the generated models of Inputs/ (scripts/onnx/gen_test_models.py)
// and checks the llm IR: op mapping, result types from static shapes,
// weights versus inline constants, and import-time folding of shape math.

// RUN: llm-import %S/Inputs/mlp.onnx | FileCheck %s --check-prefix=MLP
// RUN: llm-import %S/Inputs/elementwise.onnx | FileCheck %s --check-prefix=ELEM
// RUN: llm-import %S/Inputs/shape-ops.onnx | FileCheck %s --check-prefix=SHAPE
// RUN: llm-import %S/Inputs/shape-folding.onnx | FileCheck %s --check-prefix=FOLD
// RUN: llm-import %S/Inputs/rms-norm.onnx | FileCheck %s --check-prefix=RMS
// The printed IR parses back and verifies.
// RUN: llm-import %S/Inputs/elementwise.onnx | llm-opt | FileCheck %s --check-prefix=ELEM
// RUN: llm-import %S/Inputs/shape-ops.onnx | llm-opt | FileCheck %s --check-prefix=SHAPE

// Gemm with transB is a matmul against [N, K]; Relu is select(x > 0, x, 0).
// Initializers above 64 elements are weights, others (w2 has exactly 64)
// constants.
// MLP-LABEL: func.func @main(%arg0: tensor<2x8xf32>) -> tensor<2x4xf32>
// MLP:         %[[W1:.*]] = llm.weight "w1" : tensor<16x8xf32>
// MLP:         %[[H:.*]] = llm.matmul %arg0, %[[W1]] transpose_b : tensor<2x8xf32>, tensor<16x8xf32> -> tensor<2x16xf32>
// MLP:         %[[B1:.*]] = arith.constant dense<{{.*}}> : tensor<16xf32>
// MLP:         %[[HB:.*]] = llm.add %[[H]], %[[B1]] : tensor<2x16xf32>, tensor<16xf32> -> tensor<2x16xf32>
// MLP:         %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : tensor<1xf32>
// MLP:         %[[POS:.*]] = llm.compare gt, %[[HB]], %[[ZERO]] : tensor<2x16xf32>, tensor<1xf32> -> tensor<2x16xi1>
// MLP:         %[[R:.*]] = llm.select %[[POS]], %[[HB]], %[[ZERO]]
// MLP:         %[[W2:.*]] = arith.constant dense<{{.*}}> : tensor<16x4xf32>
// MLP:         %[[M:.*]] = llm.matmul %[[R]], %[[W2]] : tensor<2x16xf32>, tensor<16x4xf32> -> tensor<2x4xf32>
// MLP:         %[[Y:.*]] = llm.add %[[M]], %{{.*}} : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
// MLP:         return %[[Y]] : tensor<2x4xf32>

// ELEM-LABEL: func.func @main(%arg0: tensor<2x3x8xf32>, %arg1: tensor<8xf32>) -> tensor<2x3x8xf32>
// ELEM:         llm.sub %arg0, %arg1 : tensor<2x3x8xf32>, tensor<8xf32> -> tensor<2x3x8xf32>
// ELEM:         llm.div
// ELEM:         %[[TWO:.*]] = arith.constant dense<2.000000e+00> : tensor<f32>
// ELEM:         llm.pow %{{.*}}, %[[TWO]] : tensor<2x3x8xf32>, tensor<f32> -> tensor<2x3x8xf32>
// ELEM:         llm.sqrt
// ELEM:         llm.reciprocal
// ELEM:         llm.tanh
// ELEM:         llm.erf
// ELEM:         llm.sigmoid
// ELEM:         llm.exp
// ELEM:         %[[NEG:.*]] = llm.neg %{{.*}} : tensor<2x3x8xf32>
// ELEM:         %[[EQ:.*]] = llm.compare eq, %arg0, %arg1 : tensor<2x3x8xf32>, tensor<8xf32> -> tensor<2x3x8xi1>
// ELEM:         %[[WH:.*]] = llm.select %[[EQ]], %[[NEG]], %arg0 : tensor<2x3x8xi1>, tensor<2x3x8xf32>, tensor<2x3x8xf32> -> tensor<2x3x8xf32>
// ELEM:         %[[SM:.*]] = llm.softmax %[[WH]] : tensor<2x3x8xf32>
// ELEM:         %[[LN:.*]] = llm.layer_norm %[[SM]], %{{.*}} bias %{{.*}} eps = 9.99{{.*}}E-6 : tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>
// ELEM:         %[[G:.*]] = llm.gelu %[[LN]] tanh : tensor<2x3x8xf32>
// ELEM:         %[[MEAN:.*]] = llm.reduce_mean %[[G]] {axes = array<i64: 1>, keepdims} : tensor<2x3x8xf32> -> tensor<2x1x8xf32>
// ELEM:         %[[EQF:.*]] = llm.cast %[[EQ]] : tensor<2x3x8xi1> -> tensor<2x3x8xf32>
// ELEM:         llm.mul %[[MEAN]], %[[EQF]] : tensor<2x1x8xf32>, tensor<2x3x8xf32> -> tensor<2x3x8xf32>

// Slice and Split become one llm.slice per sliced axis; Unsqueeze, Squeeze
// and Flatten are reshapes.
// SHAPE-LABEL: func.func @main(%arg0: tensor<2x3x4xf32>) -> (tensor<2x6xf32>, tensor<4x3xf32>)
// SHAPE:         %[[R:.*]] = llm.reshape %arg0 : tensor<2x3x4xf32> -> tensor<6x4xf32>
// SHAPE:         %[[T:.*]] = llm.transpose %[[R]] [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
// SHAPE:         %[[S:.*]] = llm.slice %[[T]] {axis = 1 : i64, start = 2 : i64} : tensor<4x6xf32> -> tensor<4x3xf32>
// SHAPE:         %[[P0:.*]] = llm.slice %[[T]] {axis = 1 : i64, start = 0 : i64} : tensor<4x6xf32> -> tensor<4x2xf32>
// SHAPE:         %[[P1:.*]] = llm.slice %[[T]] {axis = 1 : i64, start = 2 : i64} : tensor<4x6xf32> -> tensor<4x4xf32>
// SHAPE:         %[[C:.*]] = llm.concat %[[P1]], %[[P0]] {axis = 1 : i64} : tensor<4x4xf32>, tensor<4x2xf32> -> tensor<4x6xf32>
// SHAPE:         %[[U:.*]] = llm.reshape %[[C]] : tensor<4x6xf32> -> tensor<1x4x6xf32>
// SHAPE:         %[[E:.*]] = llm.expand %[[U]] : tensor<1x4x6xf32> -> tensor<3x4x6xf32>
// SHAPE:         %[[TRI:.*]] = llm.trilu %[[E]] : tensor<3x4x6xf32>
// SHAPE:         %[[F:.*]] = llm.reshape %[[TRI]] : tensor<3x4x6xf32> -> tensor<12x6xf32>
// SHAPE:         %[[IDX:.*]] = arith.constant dense<[0, 11]> : tensor<2xi64>
// SHAPE:         %[[G:.*]] = llm.gather %[[F]], %[[IDX]] {axis = 0 : i64} : tensor<12x6xf32>, tensor<2xi64> -> tensor<2x6xf32>
// SHAPE:         return %[[G]], %{{.*}} : tensor<2x6xf32>, tensor<4x3xf32>

// Shape → Gather → Concat → Reshape, ConstantOfShape → Trilu, Range, Size
// and integer Sub/Equal/Where fold away: only the runtime ops and the
// constants they use remain.
// FOLD-LABEL: func.func @main(%arg0: tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<2xi64>)
// FOLD-NOT:     llm.reshape
// FOLD:         %[[POS:.*]] = arith.constant dense<{{\[\[}}0.000000e+00], [1.000000e+00], [2.000000e+00], [3.000000e+00]]> : tensor<4x1xf32>
// FOLD:         %[[XP:.*]] = llm.add %arg0, %[[POS]] : tensor<2x4x8xf32>, tensor<4x1xf32> -> tensor<2x4x8xf32>
// FOLD:         %[[MASK:.*]] = arith.constant dense<{{\[\[\[}}5.000000e-01, 0.000000e+00, 0.000000e+00, 0.000000e+00], [5.000000e-01, 5.000000e-01, 0.000000e+00, 0.000000e+00]{{.*}}> : tensor<2x4x4xf32>
// FOLD:         %[[OUT:.*]] = llm.matmul %[[MASK]], %[[XP]] : tensor<2x4x4xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
// FOLD:         %[[FOURS:.*]] = arith.constant dense<4> : tensor<2xi64>
// FOLD:         return %[[OUT]], %[[FOURS]]

// RMS-LABEL: func.func @main(%arg0: tensor<1x5xi64>) -> tensor<1x5x8xf32>
// RMS:         %[[E:.*]] = llm.weight "embed" : tensor<32x8xf32>
// RMS:         %[[H:.*]] = llm.embed %[[E]], %arg0 : tensor<32x8xf32>, tensor<1x5xi64> -> tensor<1x5x8xf32>
// RMS:         llm.rms_norm %[[H]], %{{.*}} eps = 9.99{{.*}}E-7 : tensor<1x5x8xf32>, tensor<8xf32>
