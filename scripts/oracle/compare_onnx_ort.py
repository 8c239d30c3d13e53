#!/usr/bin/env python3
"""Compares a Frugal binary compiled from an ONNX decoder with ONNX Runtime.

    scripts/oracle/run.sh compare_onnx_ort.py --model-bin B --onnx M \
        [--ids 1,2,3 ...] [-n 32] [--tol 1e-3]

ONNX Runtime runs the onnxruntime-genai export M greedily on each prompt
(token ids), feeding back present.N.key/value as past_key_values.N.*; the
binary B (llm-compile M -o B) runs the same prompt with --temp 0. Per
prompt it prints the largest |difference| of the last-position logits over
the prefill and every decode step, and whether the n greedy tokens agree.
Exit status 0 when every row is within the tolerance and every token
agrees, 1 otherwise. Needs numpy and onnxruntime (the oracle venv).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort


def parse_ids(stdout):
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("ids:"):
            return [int(t) for t in line[4:].replace(",", " ").split()]
    return None


def kv_layout(session, model_dir):
    """(past input names, head_size) from the graph and genai_config.json."""
    past = [i for i in session.get_inputs() if i.name.startswith("past_key_values.")]
    head = None
    cfg = os.path.join(model_dir, "genai_config.json")
    if os.path.exists(cfg):
        with open(cfg) as f:
            head = json.load(f)["model"]["decoder"].get("head_size")
    if head is None:
        head = next(d for d in past[0].shape[::-1] if isinstance(d, int))
    return past, head


def ort_greedy(session, ids, n_new):
    """Last-position logits of the prefill and each decode step, and the
    greedy tokens."""
    model_dir = os.path.dirname(os.path.abspath(session._model_path))
    past_inputs, head = kv_layout(session, model_dir)
    names = {i.name for i in session.get_inputs()}
    feeds = {p.name: np.zeros((1, p.shape[1], 0, head), np.float32) for p in past_inputs}
    step_ids = list(ids)
    total = 0
    rows, tokens = [], []
    for _ in range(n_new):
        total += len(step_ids)
        feeds["input_ids"] = np.array([step_ids], np.int64)
        if "attention_mask" in names:
            feeds["attention_mask"] = np.ones((1, total), np.int64)
        if "position_ids" in names:
            feeds["position_ids"] = np.arange(total - len(step_ids), total,
                                              dtype=np.int64)[None, :]
        outputs = session.run(None, feeds)
        result = dict(zip([o.name for o in session.get_outputs()], outputs))
        last = result["logits"][0, -1].astype(np.float32)
        rows.append(last)
        tok = int(np.argmax(last))
        tokens.append(tok)
        for p in past_inputs:
            feeds[p.name] = result[p.name.replace("past_key_values.", "present.")]
        step_ids = [tok]
    return np.stack(rows), tokens


def run_binary(model_bin, ids, n_new, vocab, tmp):
    dump = os.path.join(tmp, f"logits{len(os.listdir(tmp))}.f32")
    cmd = [model_bin, "--ids", ",".join(map(str, ids)), "-n", str(n_new),
           "--temp", "0", "--quiet", "--print-ids", "--dump-logits", dump]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"{model_bin} failed ({proc.returncode}): {proc.stderr[-500:]}")
    got = np.fromfile(dump, dtype="<f4")
    return got.reshape(-1, vocab), parse_ids(proc.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-bin", required=True)
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--ids", action="append",
                        help="prompt token ids, comma-separated (repeatable)")
    parser.add_argument("-n", type=int, default=32, help="greedy tokens")
    parser.add_argument("--tol", type=float, default=1e-3)
    args = parser.parse_args()

    options = ort.SessionOptions()
    session = ort.InferenceSession(args.onnx, options, providers=["CPUExecutionProvider"])
    session._model_path = args.onnx
    vocab = session.get_outputs()[0].shape[-1]
    prompts = [[int(t) for t in p.split(",")] for p in (args.ids or [])]
    if not prompts:
        rng = np.random.default_rng(7)
        prompts = [[1], [1] + rng.integers(3, vocab, 6).tolist(),
                   rng.integers(3, vocab, 17).tolist()]

    print(f"{args.onnx}: vocab {vocab}, {len(prompts)} prompts, {args.n} greedy tokens, "
          f"tol {args.tol:g}")
    print(f"{'prompt':>6} {'len':>4} {'max_abs_err':>12} {'worst_step':>10} {'tokens':>8}  status")
    ok = True
    with tempfile.TemporaryDirectory(prefix="frugal-ort-") as tmp:
        for pi, ids in enumerate(prompts):
            want, want_ids = ort_greedy(session, ids, args.n)
            got, got_ids = run_binary(args.model_bin, ids, args.n, vocab, tmp)
            n = min(len(got), len(want))
            errs = [float(np.max(np.abs(got[r] - want[r]))) for r in range(n)]
            worst = int(np.argmax(errs)) if errs else -1
            same = sum(a == b for a, b in zip(got_ids or [], want_ids))
            good = n == args.n and max(errs) <= args.tol and got_ids == want_ids
            ok &= good
            print(f"{pi:>6} {len(ids):>4} {max(errs):>12.3e} {worst:>10} "
                  f"{same:>4}/{len(want_ids):<3}  {'ok' if good else 'MISMATCH'}")
    print("compare_onnx_ort:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
