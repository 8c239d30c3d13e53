#!/usr/bin/env python3
"""Writes small GGUF files for the GGUF frontend's lit tests (stdlib only).

    make_gguf.py KIND OUT.gguf

KIND "valid" is a tiny random llama (hidden 32, 4 heads / 2 KV heads, one
layer, a 16-token SentencePiece vocabulary, tied embeddings) whose tensors
use F32, F16, BF16, Q8_0, Q4_0 and Q4_1. Every other kind breaks one thing
of it, as named in KINDS.
"""
import random
import struct
import sys

U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
T_F32, T_F16, T_Q4_0, T_Q4_1, T_Q8_0, T_BF16 = 0, 1, 2, 3, 8, 30
BLOCK = {T_F32: (1, 4), T_F16: (1, 2), T_BF16: (1, 2), T_Q4_0: (32, 18),
         T_Q4_1: (32, 20), T_Q8_0: (32, 34)}
HIDDEN, HEADS, KV_HEADS, FF, VOCAB = 32, 4, 2, 64, 16


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def value(vtype, v):
    if vtype == STRING:
        return string(v)
    if vtype == ARRAY:
        etype, items = v
        out = struct.pack("<IQ", etype, len(items))
        return out + b"".join(value(etype, x) for x in items)
    fmt = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i",
           F32: "f", BOOL: "?", U64: "Q", I64: "q", F64: "d"}[vtype]
    return struct.pack("<" + fmt, v)


def tensor_bytes(ttype, shape, rng):
    n = 1
    for d in shape:
        n *= d
    block, size = BLOCK[ttype]
    if ttype == T_F32:
        return struct.pack("<%df" % n, *[rng.uniform(-0.5, 0.5) for _ in range(n)])
    if ttype in (T_F16, T_BF16):
        if ttype == T_F16:
            return struct.pack("<%de" % n, *[rng.uniform(-0.5, 0.5) for _ in range(n)])
        return b"".join(struct.pack("<f", rng.uniform(-0.5, 0.5))[2:] for _ in range(n))
    out = b""
    for _ in range(n // block):
        if ttype == T_Q8_0:
            out += struct.pack("<e", 0.01) + bytes(rng.randrange(256) for _ in range(32))
        elif ttype == T_Q4_0:
            out += struct.pack("<e", 0.05) + bytes(rng.randrange(256) for _ in range(16))
        else:
            out += struct.pack("<ee", 0.05, -0.3) + bytes(rng.randrange(256) for _ in range(16))
    return out


def base_model():
    tokens = ["<unk>", "<s>", "</s>", "<0x0A>", "\u2581", "a", "b", "c",
              "\u2581a", "\u2581b", "ab", "\u2581ab", "bc", "\u2581c", "ca", "abc"]
    types = [2, 3, 3, 6] + [1] * 12
    scores = [0.0] * 4 + [-float(i) for i in range(12)]
    kvs = [
        ("general.architecture", STRING, "llama"),
        ("general.name", STRING, "tiny"),
        ("llama.context_length", U32, 128),
        ("llama.embedding_length", U32, HIDDEN),
        ("llama.feed_forward_length", U32, FF),
        ("llama.block_count", U32, 1),
        ("llama.attention.head_count", U32, HEADS),
        ("llama.attention.head_count_kv", U32, KV_HEADS),
        ("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
        ("llama.rope.dimension_count", U32, HIDDEN // HEADS),
        ("llama.rope.freq_base", F32, 10000.0),
        ("tokenizer.ggml.model", STRING, "llama"),
        ("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
        ("tokenizer.ggml.scores", ARRAY, (F32, scores)),
        ("tokenizer.ggml.token_type", ARRAY, (I32, types)),
        ("tokenizer.ggml.bos_token_id", U32, 1),
        ("tokenizer.ggml.eos_token_id", U32, 2),
        ("general.extra", ARRAY, (ARRAY, [(U8, [1, 2]), (I64, [-3])])),
    ]
    kvd = HIDDEN // HEADS * KV_HEADS
    tensors = [  # name, ggml type, row-major shape
        ("token_embd.weight", T_F32, [VOCAB, HIDDEN]),
        ("output_norm.weight", T_F32, [HIDDEN]),
        ("blk.0.attn_norm.weight", T_F32, [HIDDEN]),
        ("blk.0.attn_q.weight", T_Q8_0, [HIDDEN, HIDDEN]),
        ("blk.0.attn_k.weight", T_Q4_0, [kvd, HIDDEN]),
        ("blk.0.attn_v.weight", T_Q4_1, [kvd, HIDDEN]),
        ("blk.0.attn_output.weight", T_F16, [HIDDEN, HIDDEN]),
        ("blk.0.ffn_norm.weight", T_F32, [HIDDEN]),
        ("blk.0.ffn_gate.weight", T_BF16, [FF, HIDDEN]),
        ("blk.0.ffn_up.weight", T_F32, [FF, HIDDEN]),
        ("blk.0.ffn_down.weight", T_F32, [HIDDEN, FF]),
    ]
    return {"version": 3, "kvs": kvs, "tensors": tensors, "alignment": 32,
            "offsets": {}, "types": {}, "cut": None, "magic": b"GGUF",
            "ndims": {}, "kv_type": {}}


def build(m):
    rng = random.Random(7)
    align = m["alignment"]
    out = m["magic"] + struct.pack("<IQQ", m["version"], len(m["tensors"]),
                                   len(m["kvs"]))
    for key, vtype, v in m["kvs"]:
        out += string(key) + struct.pack("<I", m["kv_type"].get(key, vtype))
        out += value(vtype, v)
    blobs, offset = [], 0
    for name, ttype, shape in m["tensors"]:
        data = tensor_bytes(ttype, shape, rng) if ttype in BLOCK else b""
        ne = list(reversed(shape))
        ndims = m["ndims"].get(name, len(ne))
        ne = (ne + [1] * 8)[:ndims]
        off = m["offsets"].get(name, offset)
        out += string(name) + struct.pack("<I", ndims)
        out += b"".join(struct.pack("<Q", d) for d in ne)
        out += struct.pack("<IQ", m["types"].get(name, ttype), off)
        blobs.append((off, data))
        offset = (offset + len(data) + align - 1) // align * align
    out += b"\0" * ((-len(out)) % align)
    body = bytearray()
    for off, data in blobs:
        if off + len(data) > len(body):
            body.extend(b"\0" * (off + len(data) - len(body)))
        body[off:off + len(data)] = data
    out += bytes(body)
    if m["cut"] is not None:
        out = out[:m["cut"] if m["cut"] >= 0 else len(out) + m["cut"]]
    return out


def set_kv(m, key, vtype, v):
    m["kvs"] = [kv for kv in m["kvs"] if kv[0] != key]
    if vtype is not None:
        m["kvs"].append((key, vtype, v))


def kind(name, m):
    if name == "valid":
        pass
    elif name == "bad-magic":
        m["magic"] = b"GGML"
    elif name == "version1":
        m["version"] = 1
    elif name == "version2":
        m["version"] = 2
    elif name == "version4":
        m["version"] = 4
    elif name == "truncated-header":
        m["cut"] = 10
    elif name == "truncated-metadata":
        m["cut"] = 200
    elif name == "bad-value-type":
        m["kv_type"]["general.name"] = 13
    elif name == "offset-past-eof":
        m["cut"] = -100
    elif name == "misaligned":
        m["offsets"]["blk.0.ffn_norm.weight"] = 4
    elif name == "overlap":
        m["offsets"]["blk.0.ffn_norm.weight"] = 0
    elif name == "unknown-type":
        m["types"]["blk.0.attn_q.weight"] = 99
    elif name == "partial-block":
        # Q8_0 rows must hold whole 32-element blocks.
        m["tensors"] = [(n, T_Q8_0 if n == "output_norm.weight" else t,
                         [20] if n == "output_norm.weight" else s)
                        for n, t, s in m["tensors"]]
    elif name == "too-many-dims":
        m["ndims"]["output_norm.weight"] = 5
    elif name == "bad-alignment":
        set_kv(m, "general.alignment", U32, 24)
    elif name == "alignment-64":
        set_kv(m, "general.alignment", U32, 64)
        m["alignment"] = 64
    elif name == "shape-mismatch":
        m["tensors"] = [(n, t, [HIDDEN, 2 * HIDDEN] if n == "blk.0.attn_q.weight" else s)
                        for n, t, s in m["tensors"]]
    elif name == "missing-tensor":
        m["tensors"] = [x for x in m["tensors"] if x[0] != "blk.0.ffn_up.weight"]
    elif name == "unsupported-arch":
        set_kv(m, "general.architecture", STRING, "mamba")
    elif name == "missing-key":
        set_kv(m, "llama.block_count", None, None)
    elif name == "wrong-key-type":
        set_kv(m, "llama.block_count", STRING, "one")
    elif name == "duplicate-tensor":
        m["tensors"].append(m["tensors"][1])
    elif name == "bad-array-count":
        # tokenizer.ggml.tokens claims more strings than the file holds.
        m["kvs"] = [(k, t, v) for k, t, v in m["kvs"]]
        m["huge_array"] = True
    elif name == "deep-array":
        v = (U8, [1])
        for _ in range(10):
            v = (ARRAY, [v])
        set_kv(m, "general.deep", ARRAY, v)
    else:
        sys.exit("unknown kind " + name)
    return m


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    m = kind(sys.argv[1], base_model())
    data = build(m)
    if m.get("huge_array"):
        # Rewrite the count of the first array value to 2^40.
        key = string("tokenizer.ggml.tokens") + struct.pack("<I", ARRAY)
        at = data.index(key) + len(key) + 4
        data = data[:at] + struct.pack("<Q", 1 << 40) + data[at + 8:]
    with open(sys.argv[2], "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
