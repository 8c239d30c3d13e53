// Opset-23 Attention and RotaryEmbedding, and com.microsoft MatMulNBits:
// the imported IR, and the numerics against ONNX Runtime's outputs stored
// in Inputs/node/*/test_data_set_0 (scripts/onnx/gen_test_models.py).

// RUN: llm-onnx-test %S/Inputs/node/attention-3d | FileCheck %s --check-prefix=PASS
// RUN: llm-onnx-test %S/Inputs/node/attention-4d | FileCheck %s --check-prefix=PASS
// RUN: llm-onnx-test %S/Inputs/node/rope-3d | FileCheck %s --check-prefix=PASS
// RUN: llm-onnx-test %S/Inputs/node/rope-4d | FileCheck %s --check-prefix=PASS
// RUN: llm-onnx-test %S/Inputs/node/matmul-nbits-sym | FileCheck %s --check-prefix=PASS
// RUN: llm-onnx-test %S/Inputs/node/matmul-nbits-asym | FileCheck %s --check-prefix=PASS
// PASS: PASS

// RUN: llm-import %S/Inputs/node/attention-3d/model.onnx | FileCheck %s --check-prefix=ATT3
// RUN: llm-import %S/Inputs/node/attention-4d/model.onnx | FileCheck %s --check-prefix=ATT4
// RUN: llm-import %S/Inputs/node/rope-4d/model.onnx | FileCheck %s --check-prefix=ROPE4
// RUN: llm-import %S/Inputs/node/matmul-nbits-sym/model.onnx | FileCheck %s --check-prefix=SYM
// RUN: llm-import %S/Inputs/node/matmul-nbits-asym/model.onnx | llm-opt | FileCheck %s --check-prefix=ASYM

// ATT3: llm.attention %arg0, %arg1, %arg2 {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64} : tensor<1x5x32xf32>, tensor<1x5x16xf32>, tensor<1x5x16xf32> -> tensor<1x5x32xf32>

// [B, H, S, D] inputs go through [B, S, H * D] and back; present_key and
// present_value are K and V.
// ATT4:      %[[QT:.*]] = llm.transpose %arg0 [0, 2, 1, 3] : tensor<2x2x3x8xf32> -> tensor<2x3x2x8xf32>
// ATT4-NEXT: %[[Q:.*]] = llm.reshape %[[QT]] : tensor<2x3x2x8xf32> -> tensor<2x3x16xf32>
// ATT4:      %[[O:.*]] = llm.attention %[[Q]], %{{.*}}, %{{.*}} {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 3.000000e-01 : f32}
// ATT4:      %[[OR:.*]] = llm.reshape %[[O]] : tensor<2x3x16xf32> -> tensor<2x3x2x8xf32>
// ATT4-NEXT: %[[Y:.*]] = llm.transpose %[[OR]] [0, 2, 1, 3] : tensor<2x3x2x8xf32> -> tensor<2x2x3x8xf32>
// ATT4-NEXT: return %[[Y]], %arg1, %arg2

// ROPE4: llm.rope %{{.*}}, %arg1 tables(%{{.*}}, %{{.*}} : tensor<16x4xf32>, tensor<16x4xf32>) {interleaved, num_heads = 2 : i64} : tensor<1x3x16xf32>, tensor<1x3xi64>

// The uint8 B is read packed: group = block_size, symmetric without zero
// points, asymmetric with them.
// SYM:  %[[W:.*]] = llm.weight "B" quant <bits = 4, group = 32, scheme = symmetric> : tensor<24x64xf32>
// SYM:  llm.matmul %arg0, %[[W]] transpose_b : tensor<1x3x64xf32>, tensor<24x64xf32> -> tensor<1x3x24xf32>
// ASYM: llm.weight "B" quant <bits = 4, group = 32, scheme = asymmetric> : tensor<24x64xf32>
