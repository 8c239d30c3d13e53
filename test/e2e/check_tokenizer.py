#!/usr/bin/env python3
"""Checks the runtime tokenizer against HF tokenizers' ids.

    check_tokenizer.py --tokenize PATH/llmrt-tokenize --model MODEL.fgw \
                       --cases test/fixtures/smollm2-tokenizer-ids.json

For every case, the ids must be identical and decoding them must give the
text back. Standard library only.
"""
import argparse
import json
import subprocess
import sys


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"check_tokenizer: {' '.join(cmd)} failed: {proc.stderr.strip()}")
    return proc.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenize", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--cases", required=True)
    args = ap.parse_args()
    cases = json.load(open(args.cases, encoding="utf-8"))["cases"]
    failures = 0
    for case in cases:
        text, want = case["text"], case["ids"]
        got = [int(t) for t in run([args.tokenize, args.model, "--no-bos", text]).split()]
        back = run([args.tokenize, args.model, "--decode",
                    ",".join(map(str, got))]) if got else ""
        ok = got == want and back.rstrip("\n") == text.rstrip("\n")
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {len(want):3d} ids  {text!r}")
        if got != want:
            print(f"     expected {want}\n     got      {got}")
        elif back.rstrip("\n") != text.rstrip("\n"):
            print(f"     decode gave {back!r}")
    if failures:
        sys.exit(f"check_tokenizer: FAIL: {failures} of {len(cases)} cases differ")
    print(f"check_tokenizer: PASS: {len(cases)} cases identical to HF tokenizers")


if __name__ == "__main__":
    main()
