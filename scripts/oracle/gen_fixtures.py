#!/usr/bin/env python3
"""Generates Frugal's tiny safetensors fixtures and their expected outputs.

    scripts/oracle/run.sh gen_fixtures.py [--out test/fixtures] [--only NAME ...]

Each fixture folder gets an HF-style checkpoint (config.json, model.safetensors
or shards + model.safetensors.index.json) plus
  expected.json          prompts, greedy ids, layout of the logits file
  expected_logits.f32    raw little-endian f32, [prompt][row][vocab]
computed by HF transformers (PyTorch, f32, eager attention).

Rows follow the `--dump-logits` contract of a Frugal model binary run with
`-n 32`: row 0 is the logits of the prefill's last position, row i (i >= 1)
the logits of decode step i; row i produced generated token i. So 32 rows per
prompt, from 1 prefill + 31 decode forwards.

Weights are random but scaled (unit-variance activations, logits with a std of
a few units) so that greedy choices have clear margins; each fixture's seed is
the first one at or after its base seed for which no prompt generates the EOS
token, every prompt generates at least MIN_DISTINCT distinct tokens and every
row's top-1/top-2 logit gap is at least MIN_MARGIN. Everything is
deterministic.
"""

import argparse
import inspect
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import transformers
from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM,
                          MistralConfig, MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM)

N_NEW = 32
TOLERANCE = 1e-3
MIN_MARGIN = 0.02
MIN_DISTINCT = 8  # distinct generated tokens per prompt
RESIDUAL_GAIN = 4.0
PROMPT_LENGTHS = (1, 5, 11)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def llama_config():
    return LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=160,
                       num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                       rope_theta=10000.0, rms_norm_eps=1e-5, max_position_embeddings=128,
                       tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
                       attn_implementation="eager")


def qwen2_config():
    return Qwen2Config(vocab_size=256, hidden_size=64, intermediate_size=160,
                       num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                       rope_theta=1000000.0, rms_norm_eps=1e-6, max_position_embeddings=128,
                       tie_word_embeddings=True, use_sliding_window=False,
                       bos_token_id=1, eos_token_id=2, attn_implementation="eager")


def mistral_config():
    # A window of 8 positions: every prompt plus its 32 generated tokens
    # crosses it (the 11-token prompt already during prefill).
    return MistralConfig(vocab_size=256, hidden_size=64, intermediate_size=160,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         rope_theta=10000.0, rms_norm_eps=1e-5, max_position_embeddings=128,
                         sliding_window=8, tie_word_embeddings=False,
                         bos_token_id=1, eos_token_id=2, attn_implementation="eager")


def gpt2_config():
    return GPT2Config(vocab_size=256, n_embd=64, n_layer=2, n_head=4, n_positions=128,
                      bos_token_id=255, eos_token_id=255, attn_implementation="eager")


# name -> (model class, config factory, base seed, save dtype, shard size)
FIXTURES = {
    "tiny-llama": (LlamaForCausalLM, llama_config, 1000, torch.float32, None),
    "tiny-llama-bf16": (LlamaForCausalLM, llama_config, 2000, torch.bfloat16, None),
    "tiny-qwen2": (Qwen2ForCausalLM, qwen2_config, 3000, torch.float32, None),
    # Same weights (same seed search) as tiny-llama, saved in 3 shards.
    "tiny-llama-sharded": (LlamaForCausalLM, llama_config, 1000, torch.float32, "200KB"),
    "tiny-gpt2": (GPT2LMHeadModel, gpt2_config, 4000, torch.float32, None),
    "tiny-mistral-swa": (MistralForCausalLM, mistral_config, 5000, torch.float32, None),
}

# Sliding-window fixtures: the window must change the reference (so that a
# compiled model that ignores it fails) by at least this much max abs logit.
MIN_WINDOW_EFFECT = 0.5


def init_weights(model, seed):
    """Deterministic scaled random init of every parameter."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            leaf = name.split(".")[-2] if "." in name else name
            if "norm" in name or leaf.startswith("ln_"):
                if name.endswith("weight"):
                    v = 1.0 + 0.1 * torch.randn(p.shape, generator=g)
                else:
                    v = 0.1 * torch.randn(p.shape, generator=g)
            elif name.endswith("bias"):
                v = 0.1 * torch.randn(p.shape, generator=g)
            elif "embed_tokens" in name or name.endswith("wte.weight"):
                # Also the (tied) output projection: logits std ~ 0.5 * sqrt(hidden).
                v = 0.5 * torch.randn(p.shape, generator=g)
            elif name.endswith("wpe.weight"):
                # Strong positions keep random GPT-2s from locking onto one token.
                v = 1.0 * torch.randn(p.shape, generator=g)
            elif "lm_head" in name:
                v = 0.5 * torch.randn(p.shape, generator=g)
            else:
                # Linear (out, in) or GPT-2 Conv1D (in, out): scale by fan-in.
                # Projections back into the residual stream get a larger gain so
                # that, with tied embeddings, the current token's own embedding
                # does not dominate the logits (which makes greedy decoding
                # repeat one token forever).
                fan_in = p.shape[0] if leaf.startswith("c_") else p.shape[1]
                gain = RESIDUAL_GAIN if leaf in ("o_proj", "down_proj") or \
                    name.endswith("c_proj.weight") else 1.0
                v = gain * torch.randn(p.shape, generator=g) / math.sqrt(fan_in)
            p.copy_(v.to(p.dtype))


def make_prompts(seed, vocab, special):
    rng = np.random.default_rng(seed)
    prompts = []
    for n in PROMPT_LENGTHS:
        ids = []
        while len(ids) < n:
            t = int(rng.integers(0, vocab))
            if t not in special:
                ids.append(t)
        prompts.append(ids)
    return prompts


def greedy(model, ids):
    """HF greedy generation; returns (generated ids, [N_NEW, vocab] f32 logits)."""
    inp = torch.tensor([ids], dtype=torch.long)
    out = model.generate(inp, attention_mask=torch.ones_like(inp), max_new_tokens=N_NEW,
                         min_new_tokens=N_NEW, do_sample=False, use_cache=True,
                         output_logits=True, return_dict_in_generate=True,
                         pad_token_id=model.config.eos_token_id,
                         eos_token_id=model.config.eos_token_id)
    gen = out.sequences[0, len(ids):].tolist()
    logits = torch.stack([l[0] for l in out.logits]).float().numpy()
    assert logits.shape == (N_NEW, model.config.vocab_size), logits.shape
    assert len(gen) == N_NEW
    return gen, logits


def check_manual(model, ids, gen, logits):
    """Cross-check generate() against an explicit prefill + decode loop."""
    # transformers >= 5.x names the KV cache argument `cache`; 4.x `past_key_values`.
    kw = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    with torch.no_grad():
        out = model(torch.tensor([ids]), use_cache=True)
        past = out[kw]
        rows = [out.logits[0, -1]]
        for t in gen[:-1]:
            out = model(torch.tensor([[t]]), use_cache=True, **{kw: past})
            past = out[kw]
            rows.append(out.logits[0, -1])
        manual = torch.stack(rows).float().numpy()
    err = float(np.abs(manual - logits).max())
    assert err < 1e-4, f"generate() and manual loop differ by {err}"


def check_window_applied(cls, path, results):
    """The same weights without the sliding window must give other logits:
    transformers really applied the window."""
    full = cls.from_pretrained(path, dtype=torch.float32, attn_implementation="eager",
                               sliding_window=None).eval()
    assert full.config.sliding_window is None
    effect = 0.0
    for ids, gen, logits in results:
        # Teacher-force the windowed run's tokens so the rows line up.
        with torch.no_grad():
            out = full(torch.tensor([ids + gen[:-1]]))
        rows = out.logits[0, len(ids) - 1:].float().numpy()
        effect = max(effect, float(np.abs(rows - logits).max()))
    assert effect >= MIN_WINDOW_EFFECT, f"sliding window changes logits by only {effect}"
    print(f"sliding window: max abs logit change vs. full attention {effect:.3f}")


def margins(logits):
    s = np.sort(logits, axis=1)
    return s[:, -1] - s[:, -2]


def patch_config(path, dtype_name):
    """Add the transformers-4.x keys (torch_dtype, rope_theta) next to the 5.x
    ones so loaders written against either layout find them."""
    with open(path) as f:
        cfg = json.load(f)
    cfg["torch_dtype"] = dtype_name
    cfg["dtype"] = dtype_name
    rp = cfg.get("rope_parameters")
    if isinstance(rp, dict) and "rope_theta" in rp:
        cfg["rope_theta"] = rp["rope_theta"]
        if rp.get("rope_type", "default") == "default":
            cfg.setdefault("rope_scaling", None)
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")


def build(name, out_root):
    cls, cfg_fn, base_seed, save_dtype, shard = FIXTURES[name]
    dtype_name = {torch.float32: "float32", torch.bfloat16: "bfloat16"}[save_dtype]
    tmp_dir = os.path.join(out_root, f".{name}.tmp")
    out_dir = os.path.join(out_root, name)
    shutil.rmtree(tmp_dir, ignore_errors=True)

    for seed in range(base_seed, base_seed + 100):
        torch.manual_seed(seed)
        cfg = cfg_fn()
        model = cls(cfg).eval()
        init_weights(model, seed)
        if save_dtype != torch.float32:
            model = model.to(save_dtype)
        kwargs = {"max_shard_size": shard} if shard else {}
        shutil.rmtree(tmp_dir, ignore_errors=True)
        model.save_pretrained(tmp_dir, **kwargs)
        # Reload what is on disk; compute in f32 (bf16 weights upcast exactly).
        model = cls.from_pretrained(tmp_dir, dtype=torch.float32,
                                    attn_implementation="eager").eval()
        special = {cfg.bos_token_id, cfg.eos_token_id}
        prompts = make_prompts(seed, cfg.vocab_size, special)
        results = []
        ok = True
        for ids in prompts:
            gen, logits = greedy(model, ids)
            if not np.array_equal(np.argmax(logits, axis=1), np.array(gen)):
                ok = False  # EOS suppression by min_new_tokens changed a choice
            if cfg.eos_token_id in gen or margins(logits).min() < MIN_MARGIN \
                    or len(set(gen)) < MIN_DISTINCT:
                ok = False
            results.append((ids, gen, logits))
        if ok:
            break
        print(f"{name}: seed {seed} rejected (EOS generated, margin < {MIN_MARGIN} "
              f"or < {MIN_DISTINCT} distinct tokens)")
    else:
        raise SystemExit(f"{name}: no acceptable seed")

    for ids, gen, logits in results:
        check_manual(model, ids, gen, logits)
    if getattr(cfg, "sliding_window", None):
        check_window_applied(cls, tmp_dir, results)

    patch_config(os.path.join(tmp_dir, "config.json"), dtype_name)
    gc_path = os.path.join(tmp_dir, "generation_config.json")
    if os.path.exists(gc_path):
        os.remove(gc_path)

    logits_all = np.concatenate([r[2] for r in results]).astype("<f4")
    logits_all.tofile(os.path.join(tmp_dir, "expected_logits.f32"))
    expected = {
        "format": 1,
        "fixture": name,
        "architecture": cfg.architectures[0] if cfg.architectures else cls.__name__,
        "weights_dtype": dtype_name,
        "vocab": cfg.vocab_size,
        "n_new": N_NEW,
        "rows_per_prompt": N_NEW,
        "logits_file": "expected_logits.f32",
        "logits_dtype": "float32",
        "logits_byte_order": "little",
        "logits_layout": "[prompt][row][vocab]; row 0 = prefill last position, "
                         "row i = decode step i; row i produced generated[i]",
        "tolerance": TOLERANCE,
        "seed": seed,
        "bos_token_id": cfg.bos_token_id,
        "eos_token_id": cfg.eos_token_id,
        "generator": "scripts/oracle/gen_fixtures.py",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "numpy": np.__version__},
        "prompts": [
            {"ids": ids, "generated": gen, "row_offset": i * N_NEW,
             "min_top2_margin": round(float(margins(logits).min()), 6)}
            for i, (ids, gen, logits) in enumerate(results)
        ],
    }
    with open(os.path.join(tmp_dir, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    shutil.rmtree(out_dir, ignore_errors=True)
    os.rename(tmp_dir, out_dir)
    size = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    print(f"{name}: seed {seed}, {size / 1024:.0f} KiB, files {sorted(os.listdir(out_dir))}")
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(REPO, "test", "fixtures"))
    ap.add_argument("--only", nargs="*", default=None, choices=sorted(FIXTURES))
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    built = {}
    for name in args.only or FIXTURES:
        built[name] = build(name, args.out)
    if "tiny-llama" in built and "tiny-llama-sharded" in built:
        for a, b in zip(built["tiny-llama"], built["tiny-llama-sharded"]):
            assert a[0] == b[0] and a[1] == b[1] and np.array_equal(a[2], b[2]), \
                "sharded fixture differs from tiny-llama"
    return 0


if __name__ == "__main__":
    sys.exit(main())
