#!/usr/bin/env python3
"""Rewrites a GGUF file with its Q4_0/Q4_1 tensors re-encoded as another ggml
type (Q8_0 by default), keeping every metadata key and the other tensors.
bench/quant.sh uses it to make a Q8_0 SmolLM2 from the Q4_1 one (whose
weights are exactly the f32 checkpoint's), for llama.cpp and Frugal alike.

    python gguf_requant.py IN.gguf OUT.gguf [--type Q8_0]

Needs the PyPI `gguf` package (and numpy).
"""
import argparse

import gguf
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--type", default="Q8_0")
    args = ap.parse_args()
    target = gguf.GGMLQuantizationType[args.type]
    reader = gguf.GGUFReader(args.input)
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    writer = gguf.GGUFWriter(args.output, arch=arch)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        val_type = field.types[0]
        sub_type = field.types[-1] if val_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), val_type, sub_type=sub_type)
    requant = {gguf.GGMLQuantizationType.Q4_0, gguf.GGMLQuantizationType.Q4_1}
    for t in reader.tensors:
        if t.tensor_type in requant:
            values = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
            data = gguf.quants.quantize(values, target)
            writer.add_tensor(t.name, data, raw_dtype=target)
        elif t.tensor_type in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            writer.add_tensor(t.name, np.array(t.data))
        else:
            writer.add_tensor(t.name, np.array(t.data), raw_dtype=t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
