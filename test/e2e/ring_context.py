#!/usr/bin/env python3
"""Checks a sliding-window fixture's ring-buffer KV cache at its limits.

    ring_context.py --model-bin PATH --fixture DIR [--tol 1e-3]
    ring_context.py --llm-compile LLM_COMPILE --work DIR --fixture DIR

PATH is the fixture compiled by llm-compile with its default --max-context
(the config's max_position_embeddings, at most 2048); with --llm-compile the
script compiles it into the --work folder first. Checks:

1. the model file's metadata plans a `ring` cache of the config's
   `sliding_window` positions (kv_layout, kv_window);
2. past the window, before the context limit: the binary reports
   `past the sliding window` on stderr (the fixture's own runs, compared
   with HF by check_logits.py, cover the numerics);
3. at the binary's --max-context N: generation stops at N tokens of context
   with `context full (N tokens)`, every token and logits row produced up to
   there matching the fixture;
4. at the compiled context: the ring wraps many times, generation goes on
   up to max_context and stops there the same way; the first rows match the
   fixture, all logits stay finite;
5. late rows of that run, beyond the fixture's, equal a fresh run on the
   tokens they depend on (layers * (window - 1) + 1 of them: attention is
   windowed and RoPE relative).

Pure Python standard library. Exit status: 0 pass, 1 failure, 2 bad usage.
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_logits import compare_rows, load_f32, parse_ids  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-bin")
    ap.add_argument("--llm-compile")
    ap.add_argument("--work")
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--tol", type=float, default=None)
    args = ap.parse_args()
    if args.llm_compile:
        if not args.work:
            ap.error("--llm-compile needs --work")
        os.makedirs(args.work, exist_ok=True)
        args.model_bin = os.path.join(args.work,
                                      os.path.basename(os.path.normpath(args.fixture)))
        if subprocess.run([args.llm_compile, "-q", args.fixture, "-o", args.model_bin]).returncode:
            print("ring_context: FAIL: llm-compile failed")
            return 1
    elif not args.model_bin:
        ap.error("give --model-bin or --llm-compile")

    with open(os.path.join(args.fixture, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(args.fixture, "expected.json")) as f:
        exp = json.load(f)
    window = int(config["sliding_window"])
    vocab = int(exp["vocab"])
    rows = int(exp["rows_per_prompt"])
    tol = args.tol if args.tol is not None else float(exp.get("tolerance", 1e-3))
    logits = load_f32(os.path.join(args.fixture, exp["logits_file"]))
    failures = []

    def check(cond, msg):
        print(("ok   " if cond else "FAIL ") + msg)
        if not cond:
            failures.append(msg)

    # 1. The plan.
    with open(args.model_bin + ".fgw", "rb") as f:
        data = f.read()
    meta = dict((k.decode(), v.decode()) for k, v in
                re.findall(rb"\n(kv_layout|kv_window|max_context)=([^\n]*)", data))
    max_context = int(meta.get("max_context", "0"))
    check(meta.get("kv_layout") == "ring" and meta.get("kv_window") == str(window),
          f"metadata: kv_layout={meta.get('kv_layout')} kv_window={meta.get('kv_window')} "
          f"(expected ring, {window})")
    check(max_context > 4 * window,
          f"compiled context {max_context} is several windows of {window}")

    def run(prompt, n, extra):
        with tempfile.TemporaryDirectory(prefix="frugal-ring-") as tmp:
            dump = os.path.join(tmp, "logits.f32")
            cmd = [args.model_bin, *extra, "--ids", ",".join(map(str, prompt["ids"])),
                   "-n", str(n), "--temp", "0", "--quiet", "--print-ids",
                   "--dump-logits", dump]
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, timeout=600)
            got = load_f32(dump) if os.path.exists(dump) else None
        ids = parse_ids(proc.stdout) or []
        print(f"     $ {' '.join(cmd[:1] + cmd[1:])}: exit {proc.returncode}, "
              f"{len(ids)} ids")
        return proc, ids, got

    def compare_prefix(prompt, ids, got, n_rows, what):
        want_ids = prompt["generated"][:n_rows]
        check(ids[:n_rows] == want_ids, f"{what}: first {n_rows} greedy ids match the fixture")
        off = int(prompt["row_offset"]) * vocab
        ok = got is not None and len(got) >= n_rows * vocab
        err = max(compare_rows(got, logits[off:off + n_rows * vocab], vocab, n_rows)) \
            if ok else math.inf
        check(err <= tol, f"{what}: first {n_rows} logits rows within {tol:g} (max err {err:.3g})")

    # 2. Past the window, within the context.
    p = exp["prompts"][1]
    proc, ids, got = run(p, rows, [])
    check(proc.returncode == 0 and len(ids) == rows, "past the window: exit 0, all tokens")
    check(f"past the sliding window: attention saw the last {window} positions" in proc.stderr,
          "past the window: stderr says attention saw the last window")

    # 3. The binary's --max-context N: stops at N (prompt + generated - 1).
    p = exp["prompts"][2]
    limit = len(p["ids"]) + 9
    proc, ids, got = run(p, rows, ["--max-context", str(limit)])
    n = limit - len(p["ids"]) + 1
    check(proc.returncode == 0, f"--max-context {limit}: exit 0")
    check(f"context full ({limit} tokens)" in proc.stderr,
          f"--max-context {limit}: stderr says the context is full")
    check(len(ids) == n, f"--max-context {limit}: {len(ids)} tokens generated, expected {n}")
    compare_prefix(p, ids, got, n, f"--max-context {limit}")

    # 4. The compiled context: the ring wraps (max_context / window) times.
    p = exp["prompts"][0]
    proc, ids, got = run(p, max_context + 64, [])
    n = max_context - len(p["ids"]) + 1
    check(proc.returncode == 0, "compiled context: exit 0")
    check(f"context full ({max_context} tokens)" in proc.stderr,
          "compiled context: stderr says the context is full")
    check(len(ids) == n, f"compiled context: {len(ids)} tokens generated, expected {n}")
    check(got is not None and len(got) == n * vocab
          and all(math.isfinite(x) for x in got),
          f"compiled context: {n} finite logits rows")
    compare_prefix(p, ids, got, rows, "compiled context")

    # 5. Far past the fixture's rows: with `layers` layers of window W the
    # logits at position t depend only on tokens t - layers*(W-1) .. t, and
    # RoPE scores depend only on relative positions, so a fresh run on just
    # those tokens must give the same logits as the long run after many
    # wraps of the ring.
    seq = p["ids"] + ids
    span = int(config["num_hidden_layers"]) * (window - 1) + 1
    for t in (max_context // 2 + 3, max_context - 1):
        row = t - (len(p["ids"]) - 1)
        tail = {"ids": seq[t - span + 1:t + 1]}
        sub, _, sub_got = run(tail, 1, [])
        ok = sub.returncode == 0 and sub_got is not None and len(sub_got) == vocab \
            and got is not None and len(got) >= (row + 1) * vocab
        err = max(compare_rows(sub_got, got[row * vocab:(row + 1) * vocab], vocab, 1)) \
            if ok else math.inf
        check(err <= tol, f"position {t}: logits equal a fresh run on its last {span} "
                          f"tokens (max err {err:.3g})")

    name = exp.get("fixture", os.path.basename(os.path.normpath(args.fixture)))
    if failures:
        print(f"ring_context: FAIL: {name}: {len(failures)} checks failed")
        return 1
    print(f"ring_context: PASS: {name}: ring of {window} positions, context {max_context}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
