#!/usr/bin/env python3
"""Plain-numpy reference implementation of the Frugal model-binary CLI.

    ref_model.py --checkpoint DIR --ids 1,2,3 -n 32 --temp 0 [--quiet]
                 [--print-ids] [--dump-logits FILE] [--dtype float64|float32]

Reads an HF-style checkpoint (config.json + model.safetensors, or shards with
model.safetensors.index.json; f32/f16/bf16) with its own safetensors parser
and runs LlamaForCausalLM / Qwen2ForCausalLM / GPT2LMHeadModel with a KV
cache, greedy only. It speaks the same command line as a compiled Frugal
model binary (stdout line `ids: ...` with the generated ids; `--dump-logits`
writes one raw little-endian f32 row of vocab logits per produced token:
prefill last position, then each decode step), so that

  * test/e2e/check_logits.py and compare_smollm2.py can be exercised before
    the compiler exists (wrap it: scripts/oracle/selftest.sh), and
  * the fixtures get a second, torch-independent check.

Needs only numpy.
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np

ST_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64,
             "I32": np.int32}


def read_safetensors(path):
    out = {}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        data = np.memmap(path, dtype=np.uint8, mode="r")
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b0, b1 = info["data_offsets"]
        raw = data[base + b0:base + b1]
        shape = tuple(info["shape"])
        dt = info["dtype"]
        if dt == "BF16":
            a = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
        elif dt in ST_DTYPES:
            a = raw.view(np.dtype(ST_DTYPES[dt]).newbyteorder("<"))
        else:
            raise SystemExit(f"ref_model: unsupported dtype {dt} for {name}")
        out[name] = np.asarray(a.reshape(shape), dtype=np.float32)
    return out


def load_checkpoint(d):
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    idx = os.path.join(d, "model.safetensors.index.json")
    w = {}
    if os.path.exists(idx):
        with open(idx) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
        for fn in files:
            w.update(read_safetensors(os.path.join(d, fn)))
    else:
        w = read_safetensors(os.path.join(d, "model.safetensors"))
    return cfg, w


class Llama:
    """LlamaForCausalLM and Qwen2ForCausalLM (optional q/k/v biases)."""

    def __init__(self, cfg, w, dt):
        self.w, self.dt = w, dt
        self.h = cfg["num_attention_heads"]
        self.kvh = cfg.get("num_key_value_heads") or self.h
        self.hidden = cfg["hidden_size"]
        self.hd = cfg.get("head_dim") or self.hidden // self.h
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        theta = cfg.get("rope_theta")
        if theta is None:
            theta = (cfg.get("rope_parameters") or {}).get("rope_theta", 10000.0)
        scaling = cfg.get("rope_scaling") or {}
        rtype = scaling.get("rope_type", scaling.get("type", "default"))
        if rtype not in ("default", None):
            raise SystemExit(f"ref_model: rope scaling {rtype} not supported")
        self.inv_freq = 1.0 / (float(theta) ** (np.arange(0, self.hd, 2, dtype=np.float64) / self.hd))
        self.n_layers = cfg["num_hidden_layers"]
        # Mistral (and qwen2 with use_sliding_window): a query at position t
        # sees keys t - window + 1 .. t.
        windowed = cfg.get("model_type") == "mistral" or cfg.get("use_sliding_window", False)
        self.window = cfg.get("sliding_window") if windowed else None
        self.embed = w["model.embed_tokens.weight"]
        self.lm_head = w.get("lm_head.weight", self.embed)
        self.cache = [([], []) for _ in range(self.n_layers)]
        self.pos = 0

    def lin(self, x, name, bias=True):
        y = x @ self.w[name + ".weight"].astype(self.dt, copy=False).T
        b = self.w.get(name + ".bias") if bias else None
        return y + b.astype(self.dt, copy=False) if b is not None else y

    def rms(self, x, name):
        v = np.mean(x * x, axis=-1, keepdims=True)
        return x / np.sqrt(v + self.eps) * self.w[name].astype(self.dt, copy=False)

    def rope(self, x, pos):  # x: [T, heads, hd]
        f = np.outer(pos, self.inv_freq)
        emb = np.concatenate([f, f], axis=-1)
        cos, sin = np.cos(emb)[:, None, :].astype(self.dt, copy=False), np.sin(emb)[:, None, :].astype(self.dt, copy=False)
        half = self.hd // 2
        rot = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
        return x * cos + rot * sin

    def forward(self, tokens):
        T = len(tokens)
        pos = np.arange(self.pos, self.pos + T)
        x = self.embed[tokens].astype(self.dt, copy=False)
        for i in range(self.n_layers):
            p = f"model.layers.{i}."
            a = self.rms(x, p + "input_layernorm.weight")
            q = self.lin(a, p + "self_attn.q_proj").reshape(T, self.h, self.hd)
            k = self.lin(a, p + "self_attn.k_proj").reshape(T, self.kvh, self.hd)
            v = self.lin(a, p + "self_attn.v_proj").reshape(T, self.kvh, self.hd)
            q, k = self.rope(q, pos), self.rope(k, pos)
            kc, vc = self.cache[i]
            kc.append(k)
            vc.append(v)
            K, V = np.concatenate(kc), np.concatenate(vc)  # [S, kvh, hd]
            o = attention(q, K, V, self.pos, self.h // self.kvh, self.dt, self.window)
            x = x + self.lin(o.reshape(T, self.h * self.hd), p + "self_attn.o_proj")
            m = self.rms(x, p + "post_attention_layernorm.weight")
            g = self.lin(m, p + "mlp.gate_proj")
            u = self.lin(m, p + "mlp.up_proj")
            x = x + self.lin(g / (1.0 + np.exp(-g)) * u, p + "mlp.down_proj")
        x = self.rms(x[-1:], "model.norm.weight")
        self.pos += T
        return (x @ self.lm_head.astype(self.dt, copy=False).T)[0]


class GPT2:
    def __init__(self, cfg, w, dt):
        self.w, self.dt = w, dt
        self.h = cfg["n_head"]
        self.e = cfg["n_embd"]
        self.hd = self.e // self.h
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        act = cfg.get("activation_function", "gelu_new")
        if act not in ("gelu_new", "gelu_pytorch_tanh"):
            raise SystemExit(f"ref_model: activation {act} not supported")
        self.n_layers = cfg["n_layer"]
        pre = "transformer." if "transformer.wte.weight" in w else ""
        self.p = pre
        self.wte = w[pre + "wte.weight"]
        self.wpe = w[pre + "wpe.weight"]
        self.lm_head = w.get("lm_head.weight", self.wte)
        self.cache = [([], []) for _ in range(self.n_layers)]
        self.pos = 0

    def ln(self, x, name):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + self.eps) * self.w[name + ".weight"].astype(self.dt, copy=False) \
            + self.w[name + ".bias"].astype(self.dt, copy=False)

    def conv1d(self, x, name):  # HF Conv1D weight is [in, out]
        return x @ self.w[name + ".weight"].astype(self.dt, copy=False) + self.w[name + ".bias"].astype(self.dt, copy=False)

    def forward(self, tokens):
        T = len(tokens)
        pos = np.arange(self.pos, self.pos + T)
        x = (self.wte[tokens] + self.wpe[pos]).astype(self.dt, copy=False)
        for i in range(self.n_layers):
            p = f"{self.p}h.{i}."
            a = self.ln(x, p + "ln_1")
            qkv = self.conv1d(a, p + "attn.c_attn")
            q, k, v = (t.reshape(T, self.h, self.hd) for t in np.split(qkv, 3, axis=-1))
            kc, vc = self.cache[i]
            kc.append(k)
            vc.append(v)
            o = attention(q, np.concatenate(kc), np.concatenate(vc), self.pos, 1, self.dt)
            x = x + self.conv1d(o.reshape(T, self.e), p + "attn.c_proj")
            m = self.ln(x, p + "ln_2")
            hdn = self.conv1d(m, p + "mlp.c_fc")
            hdn = 0.5 * hdn * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (hdn + 0.044715 * hdn ** 3)))
            x = x + self.conv1d(hdn, p + "mlp.c_proj")
        x = self.ln(x[-1:], self.p + "ln_f")
        self.pos += T
        return (x @ self.lm_head.astype(self.dt, copy=False).T)[0]


def attention(q, K, V, start, rep, dt, window=None):
    """Causal GQA attention. q [T, h, hd], K/V [S, kvh, hd]; query t sits at
    absolute position start + t and sees keys 0..start + t (with a sliding
    window, only the last `window` of them)."""
    T, h, hd = q.shape
    S = K.shape[0]
    if rep > 1:
        K = np.repeat(K, rep, axis=1)
        V = np.repeat(V, rep, axis=1)
    s = np.einsum("thd,shd->hts", q, K) / np.sqrt(dt(hd))
    mask = np.arange(S)[None, :] > (start + np.arange(T))[:, None]
    if window:
        mask |= np.arange(S)[None, :] <= (start + np.arange(T))[:, None] - window
    s = np.where(mask[None], -np.inf, s)
    s = s - s.max(-1, keepdims=True)
    e = np.exp(s)
    pr = e / e.sum(-1, keepdims=True)
    return np.einsum("hts,shd->thd", pr, V)


def make_model(cfg, w, dt):
    arch = (cfg.get("architectures") or [""])[0]
    mt = cfg.get("model_type", "")
    if arch in ("LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM") or \
            mt in ("llama", "qwen2", "mistral"):
        return Llama(cfg, w, dt)
    if arch == "GPT2LMHeadModel" or mt == "gpt2":
        return GPT2(cfg, w, dt)
    raise SystemExit(f"ref_model: architecture {arch or mt!r} not supported")


def main():
    ap = argparse.ArgumentParser(description="numpy reference for the Frugal model CLI")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--ids", required=True, help="comma-separated prompt token ids")
    ap.add_argument("-n", type=int, default=32, help="tokens to generate")
    ap.add_argument("--temp", type=float, default=0.0)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--print-ids", action="store_true")
    ap.add_argument("--dump-logits")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    args = ap.parse_args()
    if args.temp != 0:
        raise SystemExit("ref_model: only greedy decoding (--temp 0) is implemented")
    cfg, w = load_checkpoint(args.checkpoint)
    model = make_model(cfg, w, np.float64 if args.dtype == "float64" else np.float32)
    ids = [int(t) for t in args.ids.split(",") if t.strip()]
    dump = open(args.dump_logits, "wb") if args.dump_logits else None
    gen = []
    step_in = ids
    for i in range(args.n):
        logits = model.forward(np.array(step_in))
        if dump:
            dump.write(logits.astype("<f4").tobytes())
        t = int(np.argmax(logits))
        gen.append(t)
        step_in = [t]
        if not args.quiet:
            print(f"step {i}: {t}", file=sys.stderr)
    if dump:
        dump.close()
    if args.print_ids:
        print("ids: " + " ".join(map(str, gen)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
