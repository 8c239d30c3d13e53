#!/usr/bin/env python3
"""Writes tiny ONNX files, valid or deliberately broken, for the decoder
tests, with a protobuf encoder written here. Standard library only.

  make_onnx.py KIND FILE
"""
import os
import struct
import sys


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(field, wire):
    return varint((field << 3) | wire)


def vfield(field, n):
    return tag(field, 0) + varint(n)


def bfield(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return tag(field, 2) + varint(len(payload)) + payload


def value_info(name, elem, dims):
    shape = b"".join(bfield(1, vfield(1, d) if isinstance(d, int)
                            else bfield(2, d)) for d in dims)
    tensor_type = vfield(1, elem) + bfield(2, shape)
    return bfield(1, name) + bfield(2, bfield(1, tensor_type))


def tensor(name, dims, data_type=1, raw=None, extra=b""):
    out = b"".join(vfield(1, d) for d in dims) + vfield(2, data_type)
    out += bfield(8, name)
    if raw is not None:
        out += bfield(9, raw)
    return out + extra


def external(location, offset=None, length=None):
    out = bfield(13, bfield(1, "location") + bfield(2, location))
    if offset is not None:
        out += bfield(13, bfield(1, "offset") + bfield(2, str(offset)))
    if length is not None:
        out += bfield(13, bfield(1, "length") + bfield(2, str(length)))
    return out + vfield(14, 1)


def node(op, inputs, outputs, name=""):
    out = b"".join(bfield(1, i) for i in inputs)
    out += b"".join(bfield(2, o) for o in outputs)
    if name:
        out += bfield(3, name)
    return out + bfield(4, op)


def model(graph, opset=17):
    return (vfield(1, 8) + bfield(8, bfield(1, "") + vfield(2, opset)) +
            bfield(7, graph))


def matmul_graph(init):
    """y = x · w with w a [4, 32] initializer (128 f32 values: a weight)."""
    return (bfield(1, node("MatMul", ["x", "w"], ["y"], "mm")) +
            bfield(2, "g") + bfield(5, init) +
            bfield(11, value_info("x", 1, [1, 4])) +
            bfield(12, value_info("y", 1, [1, 32])))


W_RAW = struct.pack("<128f", *[float(i) for i in range(128)])


def build(kind, path):
    directory = os.path.dirname(path) or "."
    if kind == "valid":
        return model(matmul_graph(tensor("w", [4, 32], raw=W_RAW)))
    if kind == "truncated-varint":
        # ir_version whose varint never ends.
        return tag(1, 0) + b"\x80\x80"
    if kind == "length-past-end":
        return model(matmul_graph(tensor("w", [4, 32], raw=W_RAW)))[:-7]
    if kind == "wrong-wire-type":
        # GraphProto.node (1) encoded as a varint.
        return model(vfield(1, 3) + bfield(2, "g"))
    if kind == "bad-tensor":
        return model(matmul_graph(tensor("w", [4, 32], raw=W_RAW[:-4])))
    if kind == "unsupported-dtype":
        return model(matmul_graph(tensor("w", [4, 32], data_type=8,
                                         raw=b"")))
    if kind == "missing-external":
        return model(matmul_graph(tensor("w", [4, 32],
                                         extra=external("missing.bin"))))
    if kind == "external-out-of-range":
        with open(os.path.join(directory, "small.bin"), "wb") as f:
            f.write(W_RAW)
        return model(matmul_graph(tensor("w", [4, 32], extra=external(
            "small.bin", offset=64, length=512))))
    if kind == "external-escape":
        return model(matmul_graph(tensor("w", [4, 32], extra=external(
            "../outside.bin"))))
    if kind == "external-huge":
        # A sparse 5 GiB file; the weight sits past 4 GiB. Importing it must
        # not read (or even touch) the data.
        big = os.path.join(directory, "huge.bin")
        with open(big, "wb") as f:
            f.truncate(5 << 30)
        return model(matmul_graph(tensor("w", [4, 32], extra=external(
            "huge.bin", offset=(4 << 30) + 4096, length=512))))
    if kind == "no-graph":
        return vfield(1, 8)
    if kind == "deep-groups":
        # An unknown field opening 40 nested groups.
        return tag(99, 3) * 40 + tag(99, 4) * 40
    if kind == "float-data":
        # The same weight as float_data: packed, then unpacked.
        packed = bfield(4, W_RAW)
        return model(matmul_graph(tensor("w", [4, 32], extra=packed)))
    raise SystemExit("unknown kind " + kind)


def main():
    kind, path = sys.argv[1], sys.argv[2]
    data = build(kind, path)
    with open(path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
