#!/usr/bin/env python3
"""Checks a compiled Frugal model binary against a fixture's expected outputs.

    check_logits.py --model-bin PATH --fixture DIR [--tol 1e-3] [--model-arg ARG ...]

For every prompt in DIR/expected.json it runs

    PATH [ARG ...] --ids 1,2,3 -n N --temp 0 --quiet --print-ids --dump-logits TMP

and compares (a) the generated ids (the stdout line `ids: 5 9 ...`) with the
expected greedy ids and (b) every dumped logits row (raw little-endian f32,
one row of `vocab` floats per produced token: prefill last position, then each
decode step) with DIR/expected_logits.f32, by max absolute error. A binary
that stops right after generating the EOS id (expected.json `eos_token_id`)
passes if everything up to there matches.

Pure Python standard library (CI has no numpy/torch). Exit status: 0 pass,
1 mismatch or binary failure, 2 bad usage or fixture.
"""

import argparse
import array
import json
import math
import os
import subprocess
import sys
import tempfile


def load_f32(path):
    a = array.array("f")
    with open(path, "rb") as f:
        data = f.read()
    if len(data) % 4:
        raise ValueError(f"{path}: size {len(data)} is not a multiple of 4")
    a.frombytes(data)
    if sys.byteorder == "big":
        a.byteswap()
    return a


def parse_ids(stdout):
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("ids:"):
            return [int(t) for t in line[4:].replace(",", " ").split()]
    return None


def compare_rows(got, want, vocab, n_rows):
    """Per-row max abs error of `got` vs `want`; NaN/inf in `got` count as
    infinite error."""
    per_row = []
    for r in range(n_rows):
        base = r * vocab
        m = 0.0
        for i in range(base, base + vocab):
            g = got[i]
            if math.isnan(g) or math.isinf(g):
                m = math.inf
                break
            d = abs(g - want[i])
            if d > m:
                m = d
        per_row.append(m)
    return per_row


def main():
    ap = argparse.ArgumentParser(description="Compare a Frugal model binary with fixture logits.")
    ap.add_argument("--model-bin", required=True, help="compiled model binary")
    ap.add_argument("--fixture", required=True, help="fixture folder with expected.json")
    ap.add_argument("--tol", type=float, default=None,
                    help="max abs logits error (default: expected.json tolerance, else 1e-3)")
    ap.add_argument("--model-arg", action="append", default=[],
                    help="extra argument passed to the binary before the others (repeatable)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per run (default 600)")
    args = ap.parse_args()

    exp_path = os.path.join(args.fixture, "expected.json")
    try:
        with open(exp_path) as f:
            exp = json.load(f)
        vocab = int(exp["vocab"])
        rows = int(exp["rows_per_prompt"])
        n_new = int(exp.get("n_new", rows))
        logits = load_f32(os.path.join(args.fixture, exp["logits_file"]))
    except (OSError, KeyError, ValueError) as e:
        print(f"check_logits: bad fixture {args.fixture}: {e}", file=sys.stderr)
        return 2
    prompts = exp["prompts"]
    need = max(int(p.get("row_offset", i * rows)) + rows for i, p in enumerate(prompts)) * vocab
    if len(logits) < need:
        print(f"check_logits: {exp['logits_file']} has {len(logits)} floats, expected at least "
              f"{need} ({len(prompts)} prompts x {rows} rows x {vocab})", file=sys.stderr)
        return 2
    eos = exp.get("eos_token_id")
    tol = args.tol if args.tol is not None else float(exp.get("tolerance", 1e-3))
    if not (os.path.isfile(args.model_bin) and os.access(args.model_bin, os.X_OK)):
        print(f"check_logits: {args.model_bin} is not an executable file", file=sys.stderr)
        return 2

    name = exp.get("fixture", os.path.basename(os.path.normpath(args.fixture)))
    print(f"fixture {name}: {len(prompts)} prompts, {rows} rows x {vocab} logits, tol {tol:g}")
    print(f"{'prompt':>6} {'len':>4} {'max_abs_err':>12} {'worst_row':>9} {'tokens':>14}  status")
    failures = []
    with tempfile.TemporaryDirectory(prefix="frugal-check-") as tmp:
        for pi, p in enumerate(prompts):
            ids = p["ids"]
            want_ids = p["generated"]
            off = int(p.get("row_offset", pi * rows)) * vocab
            want = logits[off:off + rows * vocab]
            dump = os.path.join(tmp, f"logits{pi}.f32")
            cmd = [args.model_bin, *args.model_arg, "--ids", ",".join(map(str, ids)),
                   "-n", str(n_new), "--temp", "0", "--quiet", "--print-ids",
                   "--dump-logits", dump]
            problems = []
            n_rows = rows
            try:
                proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                problems.append(f"timed out after {args.timeout:g} s")
                proc = None
            except OSError as e:
                problems.append(f"cannot run: {e}")
                proc = None
            got_ids = None
            per_row = []
            if proc is not None:
                if proc.returncode != 0:
                    tail = proc.stderr.strip().splitlines()[-5:]
                    problems.append(f"exit status {proc.returncode}"
                                    + (": " + " | ".join(tail) if tail else ""))
                got_ids = parse_ids(proc.stdout)
                # A binary may stop right after generating EOS: fine if all
                # ids up to there match (the fixtures avoid EOS altogether).
                if got_ids is not None and 0 < len(got_ids) < len(want_ids) \
                        and got_ids[-1] == eos and got_ids == want_ids[:len(got_ids)]:
                    n_rows = len(got_ids)
                if got_ids is None:
                    problems.append("no 'ids:' line on stdout")
                elif got_ids != want_ids[:n_rows]:
                    if got_ids[:len(ids)] == ids and got_ids[len(ids):] == want_ids:
                        problems.append("'ids:' line includes the prompt; it must list only "
                                        "the generated ids")
                    else:
                        k = next((i for i, (a, b) in enumerate(zip(got_ids, want_ids)) if a != b),
                                 min(len(got_ids), len(want_ids)))
                        problems.append(f"generated ids differ from token {k} "
                                        f"(got {len(got_ids)} ids, expected {len(want_ids)}): "
                                        f"got {got_ids[k:k + 4]}, expected {want_ids[k:k + 4]}")
                if os.path.exists(dump):
                    got = load_f32(dump)
                    got_rows = len(got) // vocab
                    if len(got) % vocab or got_rows != n_rows:
                        problems.append(f"dump has {len(got)} floats ({len(got) / vocab:g} rows of "
                                        f"{vocab}), expected {n_rows} rows")
                    per_row = compare_rows(got, want, vocab, min(n_rows, got_rows))
                elif proc.returncode == 0:
                    problems.append("no logits dump written")
            max_err = max(per_row) if per_row else math.nan
            worst = per_row.index(max_err) if per_row else -1
            bad_rows = [r for r, e in enumerate(per_row) if not e <= tol]
            if bad_rows:
                problems.append(f"{len(bad_rows)} rows over tol {tol:g}, first row {bad_rows[0]} "
                                f"(err {per_row[bad_rows[0]]:.3g}), worst row {worst} "
                                f"(err {max_err:.3g})")
            if got_ids is None:
                tok = "-"
            else:
                same = sum(1 for a, b in zip(got_ids, want_ids) if a == b)
                tok = f"{same}/{len(want_ids)}" + (" eos" if n_rows < rows else "") \
                    + (" ok" if got_ids == want_ids[:n_rows] else " BAD")
            status = "ok" if not problems else "FAIL"
            print(f"{pi:>6} {len(ids):>4} {max_err:>12.3e} {worst:>9} {tok:>14}  {status}")
            for msg in problems:
                print(f"{'':>6}   - {msg}")
            if problems:
                failures.append((pi, problems, cmd))

    if failures:
        print(f"check_logits: FAIL: {name}: {len(failures)} of {len(prompts)} prompts failed "
              f"(binary {args.model_bin})")
        pi, _, cmd = failures[0]
        print("  reproduce: " + " ".join(cmd))
        return 1
    print(f"check_logits: PASS: {name}: {len(prompts)} prompts, logits within {tol:g}, "
          f"greedy ids identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
