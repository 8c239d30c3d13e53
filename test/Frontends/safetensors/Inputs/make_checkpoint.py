#!/usr/bin/env python3
"""Writes tiny Hugging Face checkpoints, valid or deliberately broken, for
the safetensors frontend tests. Standard library only.

  make_checkpoint.py model DIR --arch llama|qwen2|mistral|gpt2 [options]
  make_checkpoint.py bad KIND FILE
"""
import argparse
import json
import os
import struct
import sys

DTYPE_SIZE = {"F32": 4, "F16": 2, "BF16": 2, "I8": 1, "I64": 8}


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def write_raw(path, header, data=b""):
    """Writes the length prefix, the JSON header (any bytes) and the data."""
    if isinstance(header, (dict, list)):
        header = json.dumps(header).encode()
    elif isinstance(header, str):
        header = header.encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + data)


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, dtype, shape); data is a ramp of small ints."""
    header, data = {}, bytearray()
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape in tensors:
        size = numel(shape) * DTYPE_SIZE[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [len(data), len(data) + size]}
        data += bytes((len(data) + i) % 7 for i in range(size))
    write_raw(path, header, bytes(data))


def llama_tensors(c, tie, qkv_bias):
    h, inter = c["hidden_size"], c["intermediate_size"]
    d = h // c["num_attention_heads"]
    q, kv = c["num_attention_heads"] * d, c["num_key_value_heads"] * d
    t = [("model.embed_tokens.weight", [c["vocab_size"], h])]
    for i in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % i
        t += [(p + "input_layernorm.weight", [h]),
              (p + "self_attn.q_proj.weight", [q, h]),
              (p + "self_attn.k_proj.weight", [kv, h]),
              (p + "self_attn.v_proj.weight", [kv, h]),
              (p + "self_attn.o_proj.weight", [h, q]),
              (p + "post_attention_layernorm.weight", [h]),
              (p + "mlp.gate_proj.weight", [inter, h]),
              (p + "mlp.up_proj.weight", [inter, h]),
              (p + "mlp.down_proj.weight", [h, inter])]
        if qkv_bias:
            t += [(p + "self_attn.q_proj.bias", [q]),
                  (p + "self_attn.k_proj.bias", [kv]),
                  (p + "self_attn.v_proj.bias", [kv])]
    t.append(("model.norm.weight", [h]))
    if not tie:
        t.append(("lm_head.weight", [c["vocab_size"], h]))
    return t


def gpt2_tensors(c, prefix):
    h, p_ = c["n_embd"], prefix
    t = [(p_ + "wte.weight", [c["vocab_size"], h]),
         (p_ + "wpe.weight", [c["n_positions"], h])]
    for i in range(c["n_layer"]):
        p = "%sh.%d." % (prefix, i)
        t += [(p + "ln_1.weight", [h]), (p + "ln_1.bias", [h]),
              (p + "attn.c_attn.weight", [h, 3 * h]),
              (p + "attn.c_attn.bias", [3 * h]),
              (p + "attn.c_proj.weight", [h, h]), (p + "attn.c_proj.bias", [h]),
              (p + "ln_2.weight", [h]), (p + "ln_2.bias", [h]),
              (p + "mlp.c_fc.weight", [h, 4 * h]), (p + "mlp.c_fc.bias", [4 * h]),
              (p + "mlp.c_proj.weight", [4 * h, h]),
              (p + "mlp.c_proj.bias", [h])]
    t += [(p_ + "ln_f.weight", [h]), (p_ + "ln_f.bias", [h])]
    return t


def make_model(args):
    os.makedirs(args.dir, exist_ok=True)
    if args.arch == "gpt2":
        config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
                  "vocab_size": 40, "n_embd": 16, "n_layer": 2, "n_head": 4,
                  "n_positions": 64, "layer_norm_epsilon": 1e-5,
                  "bos_token_id": 39, "eos_token_id": 39}
        tensors = gpt2_tensors(config, args.prefix)
    else:
        arch = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM",
                "mistral": "MistralForCausalLM"}[args.arch]
        config = {"architectures": [arch], "model_type": args.arch,
                  "vocab_size": 32, "hidden_size": 16,
                  "intermediate_size": 32, "num_hidden_layers": 2,
                  "num_attention_heads": 4, "num_key_value_heads": 2,
                  "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
                  "max_position_embeddings": 128,
                  "tie_word_embeddings": args.tie, "bos_token_id": 1,
                  "eos_token_id": [2, 3]}
        tensors = llama_tensors(config, args.tie, args.arch == "qwen2")
    for kv in args.set:
        key, value = kv.split("=", 1)
        config[key] = json.loads(value)
    for key in args.unset:
        config.pop(key, None)
    tensors = [(n, args.dtype, s) for n, s in tensors if n not in args.drop]
    for spec in args.reshape:
        name, dims = spec.split("=")
        shape = [int(x) for x in dims.split(",")] if dims else []
        tensors = [(n, d, shape if n == name else s) for n, d, s in tensors]
    for spec in args.retype:
        name, dtype = spec.split("=")
        tensors = [(n, dtype if n == name else d, s) for n, d, s in tensors]
    with open(os.path.join(args.dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    if args.shards <= 1:
        write_safetensors(os.path.join(args.dir, "model.safetensors"), tensors,
                          {"format": "pt"})
        return
    weight_map = {}
    per = (len(tensors) + args.shards - 1) // args.shards
    for s in range(args.shards):
        name = "model-%05d-of-%05d.safetensors" % (s + 1, args.shards)
        part = tensors[s * per:(s + 1) * per]
        write_safetensors(os.path.join(args.dir, name), part, {"format": "pt"})
        weight_map.update({n: name for n, _, _ in part})
    if args.missing_shard:
        weight_map["model.norm.weight"] = "model-99999-of-99999.safetensors"
    with open(os.path.join(args.dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=2)


def entry(dtype="F32", shape=(2, 3), offsets=(0, 24)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def make_bad(kind, path):
    data = bytes(24)
    if kind == "truncated":
        with open(path, "wb") as f:
            f.write(b"\x05\x00\x00")
    elif kind == "header-past-eof":
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", 1000) + b"{}")
    elif kind == "bad-json":
        write_raw(path, '{"w": {"dtype": "F32",', data)
    elif kind == "not-object":
        write_raw(path, "[1, 2]", data)
    elif kind == "deep-nesting":
        write_raw(path, "[" * 100000 + "]" * 100000, data)
    elif kind == "entry-not-object":
        write_raw(path, {"w": 5}, data)
    elif kind == "missing-dtype":
        write_raw(path, {"w": {"shape": [2, 3], "data_offsets": [0, 24]}}, data)
    elif kind == "missing-shape":
        write_raw(path, {"w": {"dtype": "F32", "data_offsets": [0, 24]}}, data)
    elif kind == "missing-offsets":
        write_raw(path, {"w": {"dtype": "F32", "shape": [2, 3]}}, data)
    elif kind == "dtype-not-string":
        write_raw(path, {"w": {"dtype": 7, "shape": [2, 3],
                               "data_offsets": [0, 24]}}, data)
    elif kind == "shape-wrong-type":
        write_raw(path, {"w": entry(shape=(2, -3))}, data)
    elif kind == "offsets-wrong-type":
        write_raw(path, {"w": {"dtype": "F32", "shape": [2, 3],
                               "data_offsets": [0, "24"]}}, data)
    elif kind == "unsupported-dtype":
        write_raw(path, {"w": entry(dtype="Q4_K")}, data)
    elif kind == "offsets-out-of-range":
        write_raw(path, {"w": entry(offsets=(8, 32))}, data)
    elif kind == "offsets-reversed":
        write_raw(path, {"w": entry(offsets=(24, 0))}, data)
    elif kind == "overlap":
        write_raw(path, {"a": entry(shape=(2, 2), offsets=(0, 16)),
                         "b": entry(shape=(2,), offsets=(8, 16))}, data)
    elif kind == "size-mismatch":
        write_raw(path, {"w": entry(dtype="F16", shape=(2, 3))}, data)
    elif kind == "metadata-not-object":
        write_raw(path, {"__metadata__": "pt", "w": entry()}, data)
    else:
        sys.exit("unknown kind " + kind)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("model")
    m.add_argument("dir")
    m.add_argument("--arch", default="llama",
                   choices=["llama", "qwen2", "mistral", "gpt2"])
    m.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    m.add_argument("--tie", action="store_true")
    m.add_argument("--prefix", default="transformer.")
    m.add_argument("--shards", type=int, default=1)
    m.add_argument("--missing-shard", action="store_true")
    m.add_argument("--drop", action="append", default=[])
    m.add_argument("--reshape", action="append", default=[],
                   help="NAME=d0,d1")
    m.add_argument("--retype", action="append", default=[], help="NAME=I8")
    m.add_argument("--set", action="append", default=[], help="key=<json>")
    m.add_argument("--unset", action="append", default=[])
    b = sub.add_parser("bad")
    b.add_argument("kind")
    b.add_argument("file")
    args = parser.parse_args()
    if args.cmd == "model":
        make_model(args)
    else:
        make_bad(args.kind, args.file)


if __name__ == "__main__":
    main()
