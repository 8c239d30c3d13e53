#!/usr/bin/env python3
"""Convert a Llama-architecture GGUF file into an HF-style f32 checkpoint.

Usage: gguf_to_hf.py MODEL.gguf OUT_DIR

Writes OUT_DIR/{model.safetensors, config.json, tokenizer.json,
tokenizer_config.json, generation_config.json}. Needs only the PyPI packages
`gguf`, `numpy` and `safetensors` (no torch).

Quantized tensors (Q4_0, Q4_1, Q8_0, F16, ...) are dequantized to f32 with
`gguf.quants.dequantize`. The GGUF writer permutes the rows of the q/k
projections into its interleaved-pair rope layout; they are permuted back so
the checkpoint uses the HF (rotate-half) layout that Frugal's safetensors
frontend and HF transformers expect.
"""

import json
import os
import sys

import numpy as np
import gguf
from safetensors.numpy import save_file


def field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


def unpermute_rope(w, n_head):
    """Inverse of the GGUF writer's q/k row permutation.

    The writer did w.reshape(n_head, 2, rows // n_head // 2, cols)
    .swapaxes(1, 2).reshape(rows, cols).
    """
    rows, cols = w.shape
    return (w.reshape(n_head, rows // n_head // 2, 2, cols)
            .swapaxes(1, 2)
            .reshape(rows, cols))


def tensor_f32(t):
    """Dequantize one GGUF tensor to an f32 numpy array in numpy (row-major)
    shape order, i.e. reversed GGUF `ne`."""
    shape = tuple(int(d) for d in reversed(list(t.shape)))
    if t.tensor_type == gguf.GGMLQuantizationType.F32:
        a = np.asarray(t.data, dtype=np.float32)
    else:
        a = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
    return np.ascontiguousarray(a.reshape(shape))


GGUF_TO_HF_LAYER = {
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "attn_q.bias": "self_attn.q_proj.bias",
    "attn_k.bias": "self_attn.k_proj.bias",
    "attn_v.bias": "self_attn.v_proj.bias",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
    "attn_norm.weight": "input_layernorm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
}


def convert_weights(reader, cfg):
    n_head = cfg["num_attention_heads"]
    n_kv = cfg["num_key_value_heads"]
    hidden = cfg["hidden_size"]
    inter = cfg["intermediate_size"]
    head_dim = hidden // n_head
    vocab = cfg["vocab_size"]

    expected = {
        "self_attn.q_proj.weight": (n_head * head_dim, hidden),
        "self_attn.k_proj.weight": (n_kv * head_dim, hidden),
        "self_attn.v_proj.weight": (n_kv * head_dim, hidden),
        "self_attn.o_proj.weight": (hidden, n_head * head_dim),
        "mlp.gate_proj.weight": (inter, hidden),
        "mlp.up_proj.weight": (inter, hidden),
        "mlp.down_proj.weight": (hidden, inter),
        "input_layernorm.weight": (hidden,),
        "post_attention_layernorm.weight": (hidden,),
    }

    out = {}
    for t in reader.tensors:
        name = t.name
        a = tensor_f32(t)
        if name == "token_embd.weight":
            hf, want = "model.embed_tokens.weight", (vocab, hidden)
        elif name == "output_norm.weight":
            hf, want = "model.norm.weight", (hidden,)
        elif name == "output.weight":
            hf, want = "lm_head.weight", (vocab, hidden)
        elif name == "rope_freqs.weight":
            raise SystemExit("gguf_to_hf: rope_freqs (scaled rope) is not supported")
        elif name.startswith("blk."):
            _, idx, rest = name.split(".", 2)
            if rest not in GGUF_TO_HF_LAYER:
                raise SystemExit(f"gguf_to_hf: unexpected tensor {name}")
            sub = GGUF_TO_HF_LAYER[rest]
            hf = f"model.layers.{int(idx)}.{sub}"
            want = expected.get(sub)
            if sub == "self_attn.q_proj.weight":
                a = unpermute_rope(a, n_head)
            elif sub == "self_attn.k_proj.weight":
                a = unpermute_rope(a, n_kv)
            elif sub == "self_attn.q_proj.bias":
                a = unpermute_rope(a.reshape(-1, 1), n_head).reshape(-1)
            elif sub == "self_attn.k_proj.bias":
                a = unpermute_rope(a.reshape(-1, 1), n_kv).reshape(-1)
        else:
            raise SystemExit(f"gguf_to_hf: unexpected tensor {name}")
        if want is not None and a.shape != want:
            raise SystemExit(f"gguf_to_hf: {name}: shape {a.shape}, expected {want}")
        out[hf] = np.ascontiguousarray(a, dtype=np.float32)

    n_layers = cfg["num_hidden_layers"]
    for i in range(n_layers):
        for sub in expected:
            k = f"model.layers.{i}.{sub}"
            if k not in out:
                raise SystemExit(f"gguf_to_hf: missing {k}")
    if "lm_head.weight" in out:
        cfg["tie_word_embeddings"] = False
    return out


def make_config(reader):
    arch = field(reader, "general.architecture")
    if arch != "llama":
        raise SystemExit(f"gguf_to_hf: architecture {arch!r} is not supported (llama only)")
    a = arch
    hidden = int(field(reader, f"{a}.embedding_length"))
    n_head = int(field(reader, f"{a}.attention.head_count"))
    n_kv = int(field(reader, f"{a}.attention.head_count_kv", n_head))
    head_dim = hidden // n_head
    rope_dim = int(field(reader, f"{a}.rope.dimension_count", head_dim))
    if rope_dim != head_dim:
        raise SystemExit(f"gguf_to_hf: partial rope ({rope_dim} of {head_dim}) is not supported")
    tokens = field(reader, "tokenizer.ggml.tokens")
    vocab = int(field(reader, f"{a}.vocab_size", len(tokens)))
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": hidden,
        "intermediate_size": int(field(reader, f"{a}.feed_forward_length")),
        "num_hidden_layers": int(field(reader, f"{a}.block_count")),
        "num_attention_heads": n_head,
        "num_key_value_heads": n_kv,
        "head_dim": head_dim,
        "hidden_act": "silu",
        "rms_norm_eps": float(np.float32(field(reader, f"{a}.attention.layer_norm_rms_epsilon"))),
        "rope_theta": float(field(reader, f"{a}.rope.freq_base", 10000.0)),
        "rope_scaling": None,
        "max_position_embeddings": int(field(reader, f"{a}.context_length")),
        "vocab_size": vocab,
        "tie_word_embeddings": True,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "initializer_range": 0.02,
        "pretraining_tp": 1,
        "use_cache": True,
        "torch_dtype": "float32",
    }
    for key, hfkey in (("bos_token_id", "bos_token_id"), ("eos_token_id", "eos_token_id"),
                       ("padding_token_id", "pad_token_id")):
        v = field(reader, f"tokenizer.ggml.{key}")
        if v is not None:
            cfg[hfkey] = int(v)
    # rms_norm_eps is stored as f32 in GGUF; round 9.99999974e-06 back to 1e-05.
    cfg["rms_norm_eps"] = float(f"{cfg['rms_norm_eps']:.6g}")
    return cfg


def make_tokenizer(reader):
    model = field(reader, "tokenizer.ggml.model")
    if model != "gpt2":
        raise SystemExit(f"gguf_to_hf: tokenizer model {model!r} is not supported (gpt2 BPE only)")
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = field(reader, "tokenizer.ggml.merges")
    unk = field(reader, "tokenizer.ggml.unknown_token_id")
    vocab = {tok: i for i, tok in enumerate(tokens)}
    if len(vocab) != len(tokens):
        raise SystemExit("gguf_to_hf: duplicate tokens in vocabulary")
    added = []
    for i, (tok, ty) in enumerate(zip(tokens, types)):
        if int(ty) == 3:  # CONTROL
            added.append({"id": i, "content": tok, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True})
    tok_json = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Digits", "individual_digits": True},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                 "use_regex": True},
            ],
        },
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": tokens[int(unk)] if unk is not None else None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": list(merges),
        },
    }
    return tok_json, added


def make_tokenizer_config(reader, cfg, added):
    tokens = field(reader, "tokenizer.ggml.tokens")

    def tok(key):
        v = cfg.get(key)
        return tokens[v] if v is not None else None

    unk = field(reader, "tokenizer.ggml.unknown_token_id")
    tc = {
        "tokenizer_class": "GPT2Tokenizer",
        "add_prefix_space": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": cfg["max_position_embeddings"],
        "bos_token": tok("bos_token_id"),
        "eos_token": tok("eos_token_id"),
        "pad_token": tok("pad_token_id"),
        "unk_token": tokens[int(unk)] if unk is not None else None,
        "additional_special_tokens": [a["content"] for a in added
                                      if a["content"] not in (tok("bos_token_id"), tok("eos_token_id"))],
        "added_tokens_decoder": {str(a["id"]): {k: v for k, v in a.items() if k != "id"}
                                 for a in added},
    }
    tmpl = field(reader, "tokenizer.chat_template")
    if tmpl is not None:
        tc["chat_template"] = tmpl
    return tc


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    src, out_dir = argv[1], argv[2]
    reader = gguf.GGUFReader(src, "r")
    cfg = make_config(reader)
    weights = convert_weights(reader, cfg)
    tok_json, added = make_tokenizer(reader)
    tok_cfg = make_tokenizer_config(reader, cfg, added)
    gen_cfg = {"bos_token_id": cfg.get("bos_token_id"), "eos_token_id": cfg.get("eos_token_id"),
               "pad_token_id": cfg.get("pad_token_id")}

    os.makedirs(out_dir, exist_ok=True)
    st_path = os.path.join(out_dir, "model.safetensors")
    save_file(weights, st_path, metadata={"format": "pt"})
    os.chmod(st_path, 0o644)
    for name, obj in (("config.json", cfg), ("tokenizer.json", tok_json),
                      ("tokenizer_config.json", tok_cfg), ("generation_config.json", gen_cfg)):
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, ensure_ascii=False)
            f.write("\n")
    n_params = sum(w.size for w in weights.values())
    print(f"gguf_to_hf: wrote {len(weights)} tensors ({n_params / 1e6:.1f}M params, f32) to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
