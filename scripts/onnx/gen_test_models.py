#!/usr/bin/env python3
"""Writes the small ONNX models of test/Frontends/onnx/Inputs/ with the PyPI
`onnx` package, and checks each against ONNX Runtime when it is installed.
The outputs are committed, so CI needs neither package.

  python3 -m venv /tmp/onnx-venv && /tmp/onnx-venv/bin/pip install onnx onnxruntime
  /tmp/onnx-venv/bin/python scripts/onnx/gen_test_models.py [OUT_DIR]
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "test", "Frontends", "onnx",
                           "Inputs")
RNG = np.random.default_rng(0)


def weight(name, *shape):
    return numpy_helper.from_array(
        RNG.standard_normal(shape).astype(np.float32), name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def model(nodes, inputs, outputs, inits=(), opset=17, name="g"):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="frugal-tests")
    m.ir_version = 8 if opset <= 18 else 10
    return m


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def i64(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.INT64, shape)


def mlp():
    """Gemm (transB) + Relu + MatMul + bias: weights and small constants."""
    n = helper.make_node
    nodes = [
        n("Gemm", ["x", "w1", "b1"], ["h"], name="fc1", transB=1),
        n("Relu", ["h"], ["r"], name="relu"),
        n("MatMul", ["r", "w2"], ["m"], name="fc2"),
        n("Add", ["m", "b2"], ["y"], name="bias2"),
    ]
    inits = [weight("w1", 16, 8), weight("b1", 16), weight("w2", 16, 4),
             weight("b2", 4)]
    return model(nodes, [f32("x", [2, 8])], [f32("y", [2, 4])], inits)


def elementwise():
    """Every unary and binary elementwise op, Where/Equal, Cast, Softmax,
    LayerNormalization, Gelu (opset 20), ReduceMean (axes as input)."""
    n = helper.make_node
    nodes = [
        n("Sub", ["x", "y"], ["sub"]),
        n("Div", ["sub", "y"], ["div"]),
        n("Pow", ["div", "two"], ["pow"]),
        n("Sqrt", ["pow"], ["sqrt"]),
        n("Reciprocal", ["sqrt"], ["rec"]),
        n("Tanh", ["rec"], ["tanh"]),
        n("Erf", ["tanh"], ["erf"]),
        n("Sigmoid", ["erf"], ["sig"]),
        n("Exp", ["sig"], ["exp"]),
        n("Neg", ["exp"], ["neg"]),
        n("Equal", ["x", "y"], ["eq"]),
        n("Where", ["eq", "neg", "x"], ["wh"]),
        n("Softmax", ["wh"], ["sm"], axis=-1),
        n("LayerNormalization", ["sm", "gamma", "beta"], ["ln"], axis=-1,
          epsilon=1e-5),
        n("Gelu", ["ln"], ["gelu"], approximate="tanh"),
        n("ReduceMean", ["gelu", "axes"], ["mean"], keepdims=1),
        n("Cast", ["eq"], ["eqf"], to=TensorProto.FLOAT),
        n("Mul", ["mean", "eqf"], ["out"]),
    ]
    inits = [numpy_helper.from_array(np.array(2.0, np.float32), "two"),
             weight("gamma", 8), weight("beta", 8), ints("axes", [1])]
    return model(nodes, [f32("x", [2, 3, 8]), f32("y", [8])],
                 [f32("out", [2, 3, 8])], inits, opset=20)


def shape_ops():
    """Reshape/Transpose/Slice/Split/Concat/Expand/Trilu/Unsqueeze/Squeeze/
    Flatten/Gather/Identity on runtime tensors."""
    n = helper.make_node
    nodes = [
        n("Reshape", ["x", "shape"], ["r"]),                 # [2,3,4] -> [6,4]
        n("Transpose", ["r"], ["t"], perm=[1, 0]),           # [4,6]
        n("Slice", ["t", "starts", "ends", "axes"], ["s"]),  # [4,2..5) -> [4,3]
        n("Split", ["t", "split"], ["p0", "p1"], axis=1),    # [4,2], [4,4]
        n("Concat", ["p1", "p0"], ["c"], axis=1),            # [4,6]
        n("Unsqueeze", ["c", "uaxes"], ["u"]),               # [1,4,6]
        n("Expand", ["u", "eshape"], ["e"]),                 # [3,4,6]
        n("Trilu", ["e"], ["tri"], upper=0),
        n("Squeeze", ["s3", "saxes"], ["sq"]),               # [4,3]
        n("Unsqueeze", ["s", "uaxes"], ["s3"]),              # [1,4,3]
        n("Flatten", ["tri"], ["f"], axis=2),                # [12,6]
        n("Gather", ["f", "idx"], ["g"], axis=0),            # [2,6]
        n("Identity", ["g"], ["out0"]),
        n("Add", ["sq", "sq"], ["out1"]),
    ]
    # Nodes must be in topological order.
    nodes = nodes[:8] + [nodes[9], nodes[8]] + nodes[10:]
    inits = [ints("shape", [6, 4]), ints("starts", [2]), ints("ends", [5]),
             ints("axes", [1]), ints("split", [2, 4]), ints("uaxes", [0]),
             ints("eshape", [3, 1, 1]), ints("saxes", [0]),
             ints("idx", [0, 11])]
    return model(nodes, [f32("x", [2, 3, 4])],
                 [f32("out0", [2, 6]), f32("out1", [4, 3])], inits, opset=17)


def shape_folding():
    """Shape arithmetic of exported graphs, folded at import time:
    Shape → Gather → Unsqueeze → Concat → Reshape, ConstantOfShape, Range,
    Size, Cast, Sub, Equal/Where on known integers, Trilu mask."""
    n = helper.make_node
    nodes = [
        n("Shape", ["x"], ["shp"]),
        n("Gather", ["shp", "zero"], ["b"], axis=0),
        n("Gather", ["shp", "one"], ["s"], axis=0),
        n("Unsqueeze", ["b", "axes0"], ["b1"]),
        n("Unsqueeze", ["s", "axes0"], ["s1"]),
        n("Concat", ["b1", "s1", "minus1"], ["newshape"], axis=0),
        n("Reshape", ["x", "newshape"], ["xr"]),            # [2,4,8] -> [2,4,8]
        n("Concat", ["s1", "s1"], ["maskshape"], axis=0),
        n("ConstantOfShape", ["maskshape"], ["ones"],
          value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])),
        n("Trilu", ["ones"], ["tri"], upper=0),
        n("Range", ["zero_s", "s", "one_s"], ["pos"]),
        n("Cast", ["pos"], ["posf"], to=TensorProto.FLOAT),
        n("Size", ["x"], ["size"]),
        n("Sub", ["size", "s"], ["diff"]),
        n("Equal", ["diff", "sixty"], ["iseq"]),
        n("Where", ["iseq", "s", "one_s"], ["four"]),
        n("Constant", [], ["half"], value_float=0.5),
        n("Mul", ["tri", "half"], ["mask"]),                 # [4,4]
        n("Add", ["xr", "posf_col"], ["xp"]),
        n("Unsqueeze", ["posf", "axes1"], ["posf_col"]),     # [4,1]
        n("Unsqueeze", ["mask", "axes0"], ["mask1"]),        # [1,4,4]
        n("Concat", ["b1", "s1", "s1"], ["bshape"], axis=0),
        n("Expand", ["mask1", "bshape"], ["maskb"]),         # [2,4,4]
        n("MatMul", ["maskb", "xp"], ["out"]),               # [2,4,8]
        n("Expand", ["four", "four_shape"], ["fours"]),
    ]
    nodes = nodes[:18] + [nodes[19], nodes[18]] + nodes[20:]
    inits = [ints("zero", 0), ints("one", 1), ints("axes0", [0]),
             ints("axes1", [1]), ints("minus1", [-1]),
             ints("zero_s", 0), ints("one_s", 1), ints("sixty", 60),
             ints("four_shape", [2])]
    for t in inits:
        if t.name in ("zero", "one", "zero_s", "one_s", "sixty"):
            del t.dims[:]
    return model(nodes, [f32("x", [2, 4, 8])],
                 [f32("out", [2, 4, 8]), i64("fours", [2])], inits, opset=17)


def rms_norm():
    """RMSNormalization (opset 23) and a Gather embedding of int64 ids."""
    n = helper.make_node
    nodes = [
        n("Gather", ["embed", "ids"], ["h"], axis=0),
        n("RMSNormalization", ["h", "scale"], ["out"], axis=-1, epsilon=1e-6),
    ]
    inits = [weight("embed", 32, 8), weight("scale", 8)]
    return model(nodes, [i64("ids", [1, 5])], [f32("out", [1, 5, 8])], inits,
                 opset=23)


def external():
    """A MatMul weight stored in an external data file."""
    n = helper.make_node
    w = weight("proj.weight", 8, 16)
    m = model([n("MatMul", ["x", "proj.weight"], ["y"], name="proj")],
              [f32("x", [1, 8])], [f32("y", [1, 16])], [w])
    return m


def unsupported():
    n = helper.make_node
    return model([n("Relu", ["x"], ["r"]),
                  n("HardSwish", ["r"], ["y"], name="act")],
                 [f32("x", [2, 8])], [f32("y", [2, 8])])


def custom_domain():
    n = helper.make_node
    g = helper.make_graph(
        [n("FastGelu", ["x"], ["y"], domain="com.microsoft", name="fg")],
        "g", [f32("x", [2, 8])], [f32("y", [2, 8])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid(
                                                "com.microsoft", 1)])
    m.ir_version = 8
    return m


def dynamic():
    n = helper.make_node
    return model([n("Shape", ["x"], ["s"], name="shape0"),
                  n("Reshape", ["x", "s"], ["y"])],
                 [f32("x", ["batch", 8])], [f32("y", ["batch", 8])])


def old_opset():
    n = helper.make_node
    return model([n("Identity", ["x"], ["y"])], [f32("x", [2])],
                 [f32("y", [2])], opset=11)


def attention_3d():
    """Opset-23 Attention on [batch, seq, heads * head_size] inputs:
    grouped-query (4 query heads, 2 KV heads), causal."""
    n = helper.make_node
    return model([n("Attention", ["q", "k", "v"], ["y"], name="attn",
                    is_causal=1, q_num_heads=4, kv_num_heads=2)],
                 [f32("q", [1, 5, 32]), f32("k", [1, 5, 16]),
                  f32("v", [1, 5, 16])], [f32("y", [1, 5, 32])], opset=23)


def attention_4d():
    """Opset-23 Attention on [batch, heads, seq, head_size] inputs with an
    explicit scale, not causal, and present_key/present_value outputs."""
    n = helper.make_node
    return model([n("Attention", ["q", "k", "v"], ["y", "pk", "pv"],
                    name="attn", scale=0.3)],
                 [f32("q", [2, 2, 3, 8]), f32("k", [2, 2, 4, 8]),
                  f32("v", [2, 2, 4, 8])],
                 [f32("y", [2, 2, 3, 8]), f32("pk", [2, 2, 4, 8]),
                  f32("pv", [2, 2, 4, 8])], opset=23)


def rope_tables(max_pos, half):
    inv = 1.0 / (10000 ** (np.arange(half) / half))
    ang = np.arange(max_pos)[:, None] * inv[None, :]
    return (numpy_helper.from_array(np.cos(ang).astype(np.float32), "cos"),
            numpy_helper.from_array(np.sin(ang).astype(np.float32), "sin"))


def rope_3d():
    """Opset-23 RotaryEmbedding, [batch, seq, hidden] with num_heads, the
    rotate-half pairing, partial rotation (rotary_embedding_dim 4 of 8)."""
    n = helper.make_node
    cos, sin = rope_tables(16, 2)
    return model([n("RotaryEmbedding", ["x", "cos", "sin", "pos"], ["y"],
                    name="rope", num_heads=2, rotary_embedding_dim=4)],
                 [f32("x", [1, 3, 16]), i64("pos", [1, 3])],
                 [f32("y", [1, 3, 16])], [cos, sin], opset=23)


def rope_4d():
    """Opset-23 RotaryEmbedding, [batch, heads, seq, head_size],
    interleaved pairs, full rotation."""
    n = helper.make_node
    cos, sin = rope_tables(16, 4)
    return model([n("RotaryEmbedding", ["x", "cos", "sin", "pos"], ["y"],
                    name="rope", interleaved=1)],
                 [f32("x", [1, 2, 3, 8]), i64("pos", [1, 3])],
                 [f32("y", [1, 2, 3, 8])], [cos, sin], opset=23)


def nbits_weight(n_out, k, block, asymmetric, f16_scales):
    """B, scales (and zero points) of a MatMulNBits weight, 4 bits."""
    blocks = k // block
    codes = RNG.integers(0, 16, size=(n_out, blocks, block)).astype(np.uint8)
    packed = (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)
    # Powers of two times small integers: exact in f16 either way.
    scales = (RNG.integers(1, 16, size=(n_out, blocks)) / 64.0).astype(
        np.float16 if f16_scales else np.float32)
    inits = [numpy_helper.from_array(packed, "B"),
             numpy_helper.from_array(scales, "scales")]
    if asymmetric:
        zp = RNG.integers(0, 16, size=(n_out, blocks)).astype(np.uint8)
        if blocks % 2:
            zp = np.concatenate([zp, np.zeros((n_out, 1), np.uint8)], axis=1)
        inits.append(numpy_helper.from_array(
            (zp[:, 0::2] | (zp[:, 1::2] << 4)).astype(np.uint8), "zp"))
    return inits


def matmul_nbits(asymmetric):
    """com.microsoft MatMulNBits, 4 bits, block 32: symmetric (no zero
    points, FLOAT scales) or asymmetric (uint8 zero points), plus bias."""
    n = helper.make_node
    inputs = ["a", "B", "scales"] + (["zp"] if asymmetric else [""])
    inputs += ["", "bias"]
    inits = nbits_weight(24, 64, 32, asymmetric, f16_scales=False)
    inits.append(numpy_helper.from_array(
        RNG.standard_normal(24).astype(np.float32), "bias"))
    node = n("MatMulNBits", inputs, ["y"], domain="com.microsoft", name="mm",
             K=64, N=24, bits=4, block_size=32)
    g = helper.make_graph([node], "g", [f32("a", [1, 3, 64])],
                          [f32("y", [1, 3, 24])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21),
                                            helper.make_opsetid(
                                                "com.microsoft", 1)],
                          producer_name="frugal-tests")
    m.ir_version = 10
    return m


def write_node_test(out, name, m):
    """A backend-test directory (model.onnx, test_data_set_0/*.pb) whose
    expected outputs come from ONNX Runtime, for tools/llm-onnx-test."""
    import onnxruntime as ort
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    path = os.path.join(d, "model.onnx")
    onnx.save(m, path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {}
    for idx, i in enumerate(sess.get_inputs()):
        if i.type == "tensor(int64)":
            v = np.array([[3, 7, 11]][:1], dtype=np.int64)
        else:
            v = RNG.standard_normal(i.shape).astype(np.float32)
        feeds[i.name] = v
        onnx.save_tensor(numpy_helper.from_array(v, i.name), os.path.join(
            d, "test_data_set_0", "input_%d.pb" % idx))
    outs = sess.run(None, feeds)
    for idx, (o, v) in enumerate(zip(sess.get_outputs(), outs)):
        onnx.save_tensor(numpy_helper.from_array(v, o.name), os.path.join(
            d, "test_data_set_0", "output_%d.pb" % idx))


def check_with_ort(path, m):
    try:
        import onnxruntime as ort
    except ImportError:
        return
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {}
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        if i.type == "tensor(int64)":
            feeds[i.name] = np.arange(np.prod(shape), dtype=np.int64).reshape(
                shape) % 7
        else:
            feeds[i.name] = RNG.standard_normal(shape).astype(np.float32)
    sess.run(None, feeds)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out, exist_ok=True)
    valid = {"mlp": mlp, "elementwise": elementwise, "shape-ops": shape_ops,
             "shape-folding": shape_folding, "rms-norm": rms_norm}
    for name, fn in valid.items():
        m = fn()
        onnx.checker.check_model(m, full_check=True)
        path = os.path.join(out, name + ".onnx")
        onnx.save(m, path)
        check_with_ort(path, m)
    m = external()
    path = os.path.join(out, "external.onnx")
    onnx.save(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
              location="external.bin", size_threshold=0)
    onnx.checker.check_model(path)
    check_with_ort(path, m)
    try:
        import onnxruntime  # noqa: F401
        nodes = os.path.join(out, "node")
        for name, m in {"attention-3d": attention_3d(),
                        "attention-4d": attention_4d(),
                        "rope-3d": rope_3d(), "rope-4d": rope_4d(),
                        "matmul-nbits-sym": matmul_nbits(False),
                        "matmul-nbits-asym": matmul_nbits(True)}.items():
            onnx.checker.check_model(m, full_check=True)
            write_node_test(nodes, name, m)
    except ImportError:
        print("onnxruntime not installed: node tests not regenerated")
    for name, fn in {"unsupported": unsupported,
                     "custom-domain": custom_domain, "dynamic": dynamic,
                     "old-opset": old_opset}.items():
        onnx.save(fn(), os.path.join(out, name + ".onnx"))


if __name__ == "__main__":
    main()
