#!/usr/bin/env python3
"""Compares a compiled SmolLM2-135M-Instruct binary with HF transformers (f32).

    scripts/oracle/run.sh compare_smollm2.py --model-bin PATH \\
        [--checkpoint DIR] [-n 32] [--tol 5e-3] [--model-arg ARG ...] \\
        [--hf-only] [--save-fixture DIR]

DIR defaults to ${FRUGAL_MODELS_DIR:-~/.cache/frugal/models}/SmolLM2-135M-Instruct
(made by scripts/fetch_default_model.sh). Each prompt is tokenized with the
checkpoint's HF tokenizer (chat prompts through its chat template), then

  * HF: LlamaForCausalLM in float32, greedy, one prefill + n-1 cached decode
    forwards, never stopping at EOS; the raw logits of every forward are kept;
  * ours: PATH [ARG ...] --ids <ids> -n N --temp 0 --quiet --print-ids
    --dump-logits FILE (stdout line `ids: ...`; FILE holds one f32 row of vocab
    logits per produced token, prefill last position first).

Reports, per prompt, the max abs logits error and whether the N greedy tokens
are identical. A binary that stops right after generating EOS is accepted if
everything up to there matches. When the first differing token is a near tie
in HF's logits (top-2 gap below twice the observed error) it is reported as
such. Exit status 0 when every prompt passes.

--hf-only runs just the HF half and prints its tokens and text.
--save-fixture DIR writes the HF results in the test/fixtures format
(expected.json + expected_logits.f32, ~6 MB per prompt) so that
test/e2e/check_logits.py can check a binary without torch.
"""

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import transformers
from transformers import AutoTokenizer, LlamaForCausalLM

DEFAULT_CKPT = os.path.join(
    os.environ.get("FRUGAL_MODELS_DIR",
                   os.path.join(os.path.expanduser("~"), ".cache", "frugal", "models")),
    "SmolLM2-135M-Instruct")

# (kind, text): "chat" goes through the chat template with a generation prompt,
# "raw" is tokenized as is.
PROMPTS = [
    ("chat", "What is the capital of France?"),
    ("chat", "Write a haiku about the ocean."),
    ("chat", "List three prime numbers greater than 10."),
    ("raw", "The quick brown fox"),
    ("raw", "def fibonacci(n):"),
    ("raw", "Once upon a time, in a small village by the sea, there lived"),
]


def encode(tok, kind, text):
    if kind == "chat":
        text = tok.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                       add_generation_prompt=True)
    return tok(text, add_special_tokens=False)["input_ids"]


def hf_greedy(model, ids, n):
    """Greedy decode with the KV cache; returns (ids [n], logits [n, vocab] f32)."""
    kw = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    rows, gen = [], []
    with torch.no_grad():
        out = model(torch.tensor([ids]), use_cache=True)
        for i in range(n):
            lg = out.logits[0, -1].float()
            rows.append(lg.numpy().copy())
            t = int(torch.argmax(lg))
            gen.append(t)
            if i + 1 < n:
                out = model(torch.tensor([[t]]), use_cache=True, **{kw: out[kw]})
    return gen, np.stack(rows)


def run_binary(args, ids, n, dump):
    cmd = [args.model_bin, *args.model_arg, "--ids", ",".join(map(str, ids)), "-n", str(n),
           "--temp", "0", "--quiet", "--print-ids", "--dump-logits", dump]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=args.timeout)
    got_ids = None
    for line in proc.stdout.splitlines():
        if line.strip().startswith("ids:"):
            got_ids = [int(t) for t in line.strip()[4:].replace(",", " ").split()]
            break
    logits = np.fromfile(dump, dtype="<f4") if os.path.exists(dump) else None
    return cmd, proc, got_ids, logits


def judge(hf_ids, hf_logits, got_ids, got_logits, vocab, eos, tol):
    """Returns (ok, max_err, summary words, problems)."""
    problems = []
    n = len(hf_ids)
    if got_ids is None:
        return False, float("nan"), "-", ["no 'ids:' line on stdout"]
    if got_logits is None:
        return False, float("nan"), "-", ["no logits dump written"]
    if got_logits.size % vocab:
        return False, float("nan"), "-", [f"dump size {got_logits.size} is not a multiple of {vocab}"]
    got_logits = got_logits.reshape(-1, vocab)
    k = min(len(got_ids), n, got_logits.shape[0])
    stopped_at_eos = (len(got_ids) < n and len(got_ids) >= 1 and got_ids[-1] == eos
                      and got_ids == hf_ids[:len(got_ids)])
    if len(got_ids) != n and not stopped_at_eos:
        problems.append(f"{len(got_ids)} ids, expected {n}")
    if got_logits.shape[0] != len(got_ids):
        problems.append(f"{got_logits.shape[0]} logits rows for {len(got_ids)} ids")
    with np.errstate(invalid="ignore"):
        err_rows = np.abs(got_logits[:k].astype(np.float64) - hf_logits[:k]).max(axis=1) \
            if k else np.zeros(0)
    err_rows = np.where(np.isfinite(err_rows), err_rows, np.inf)
    first_diff = next((i for i in range(k) if got_ids[i] != hf_ids[i]), None)
    # Rows after a token divergence see different inputs: compare up to it.
    upto = first_diff + 1 if first_diff is not None else k
    max_err = float(err_rows[:upto].max()) if upto else float("nan")
    if first_diff is not None:
        s = np.sort(hf_logits[first_diff])
        gap = float(s[-1] - s[-2])
        tie = gap < 2 * max(max_err, 1e-12)
        problems.append(f"tokens differ from step {first_diff}: got {got_ids[first_diff]}, "
                        f"HF {hf_ids[first_diff]} (HF top-2 gap {gap:.3g}"
                        + (", a near tie)" if tie else ")"))
    if not max_err <= tol:
        bad = int(np.argmax(err_rows[:upto] > tol))
        problems.append(f"logits error {max_err:.3g} > tol {tol:g} (first at row {bad})")
    same = sum(1 for a, b in zip(got_ids, hf_ids) if a == b)
    words = f"{same}/{n}" + (" eos" if stopped_at_eos else "")
    return not problems, max_err, words, problems


def main():
    ap = argparse.ArgumentParser(description="Compare a Frugal SmolLM2 binary with HF transformers.")
    ap.add_argument("--model-bin", help="compiled model binary (not needed with --hf-only)")
    ap.add_argument("--checkpoint", default=DEFAULT_CKPT)
    ap.add_argument("-n", type=int, default=32, help="tokens to generate per prompt")
    ap.add_argument("--tol", type=float, default=5e-3, help="max abs logits error (default 5e-3)")
    ap.add_argument("--model-arg", action="append", default=[],
                    help="extra argument passed to the binary first (repeatable)")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--hf-only", action="store_true", help="run only the HF half")
    ap.add_argument("--save-fixture", metavar="DIR",
                    help="write HF results as expected.json + expected_logits.f32")
    args = ap.parse_args()
    if not args.hf_only and not args.model_bin:
        ap.error("--model-bin is required unless --hf-only")
    if not os.path.exists(os.path.join(args.checkpoint, "model.safetensors")):
        print(f"compare_smollm2: no checkpoint at {args.checkpoint}; "
              "run scripts/fetch_default_model.sh", file=sys.stderr)
        return 2

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(args.checkpoint)
    model = LlamaForCausalLM.from_pretrained(args.checkpoint, dtype=torch.float32,
                                             attn_implementation="eager").eval()
    vocab = model.config.vocab_size
    eos = model.config.eos_token_id

    hf = []
    for kind, text in PROMPTS:
        ids = encode(tok, kind, text)
        gen, logits = hf_greedy(model, ids, args.n)
        hf.append((kind, text, ids, gen, logits))

    if args.save_fixture:
        os.makedirs(args.save_fixture, exist_ok=True)
        np.concatenate([h[4] for h in hf]).astype("<f4").tofile(
            os.path.join(args.save_fixture, "expected_logits.f32"))
        exp = {
            "format": 1, "fixture": "SmolLM2-135M-Instruct", "architecture": "LlamaForCausalLM",
            "checkpoint": os.path.abspath(args.checkpoint), "weights_dtype": "float32",
            "vocab": vocab, "n_new": args.n, "rows_per_prompt": args.n,
            "logits_file": "expected_logits.f32", "logits_dtype": "float32",
            "logits_byte_order": "little", "tolerance": args.tol, "eos_token_id": eos,
            "generator": "scripts/oracle/compare_smollm2.py --save-fixture",
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
            "prompts": [{"text": text, "kind": kind, "ids": ids, "generated": gen,
                         "row_offset": i * args.n}
                        for i, (kind, text, ids, gen, _) in enumerate(hf)],
        }
        with open(os.path.join(args.save_fixture, "expected.json"), "w") as f:
            json.dump(exp, f, indent=1)
            f.write("\n")
        print(f"compare_smollm2: wrote fixture to {args.save_fixture}")

    if args.hf_only:
        for i, (kind, text, ids, gen, logits) in enumerate(hf):
            print(f"[{i}] {kind} {text!r}: {len(ids)} prompt tokens")
            print(f"    HF ids: {gen}")
            print(f"    HF text: {tok.decode(gen)!r}")
        return 0

    print(f"SmolLM2 vs HF transformers {transformers.__version__} (torch {torch.__version__}, f32), "
          f"{len(hf)} prompts x {args.n} tokens, tol {args.tol:g}")
    print(f"{'prompt':>6} {'len':>4} {'max_abs_err':>12} {'tokens':>10}  status")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="frugal-smollm2-") as tmp:
        for i, (kind, text, ids, gen, logits) in enumerate(hf):
            dump = os.path.join(tmp, f"logits{i}.f32")
            try:
                cmd, proc, got_ids, got_logits = run_binary(args, ids, args.n, dump)
            except (OSError, subprocess.TimeoutExpired) as e:
                print(f"{i:>6} {len(ids):>4} {'':>12} {'-':>10}  FAIL\n         - {e}")
                failed += 1
                continue
            ok, err, words, problems = judge(gen, logits, got_ids, got_logits, vocab, eos,
                                             args.tol)
            if proc.returncode != 0:
                ok = False
                tail = proc.stderr.strip().splitlines()[-5:]
                problems.insert(0, f"exit status {proc.returncode}: " + " | ".join(tail))
            print(f"{i:>6} {len(ids):>4} {err:>12.3e} {words:>10}  {'ok' if ok else 'FAIL'}"
                  f"   {kind}: {text[:40]!r}")
            for p in problems:
                print(f"         - {p}")
            if not ok:
                failed += 1
                print(f"         HF  : {tok.decode(gen)!r}")
                if got_ids is not None:
                    print(f"         ours: {tok.decode(got_ids)!r}")
                print("         cmd : " + " ".join(cmd))
    if failed:
        print(f"compare_smollm2: FAIL: {failed} of {len(hf)} prompts")
        return 1
    print(f"compare_smollm2: PASS: {len(hf)} prompts, logits within {args.tol:g}, greedy ids identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
