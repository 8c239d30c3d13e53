#!/usr/bin/env python3
"""Writes expected outputs of an ONNX decoder fixture from ONNX Runtime.

    scripts/oracle/run.sh gen_onnx_fixture.py --onnx-dir EXPORT \
        --prompts test/fixtures/tiny-llama --out test/fixtures/tiny-llama-onnx-int4 \
        --tolerance 2e-3

EXPORT is an onnxruntime-genai export (scripts/oracle/export_genai.sh).
Copies its model.onnx, model.onnx.data and genai_config.json into OUT, runs
ONNX Runtime greedily (compare_onnx_ort.py's loop: prefill, then one token
per step with the KV cache fed back) on the prompts of the fixture
PROMPTS/expected.json for the same number of new tokens, and writes
OUT/expected.json and OUT/expected_logits.f32 in the format of the other
fixtures (test/fixtures/README.md), which test/e2e/check_logits.py reads.
Needs numpy and onnxruntime (the oracle venv).
"""

import argparse
import json
import os
import shutil
import sys

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_onnx_ort import ort_greedy  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--onnx-dir", required=True)
    ap.add_argument("--prompts", required=True,
                    help="fixture folder whose expected.json gives the prompts")
    ap.add_argument("--out", required=True)
    ap.add_argument("--tolerance", type=float, required=True,
                    help="max abs logits error recorded in expected.json")
    args = ap.parse_args()

    with open(os.path.join(args.prompts, "expected.json")) as f:
        src = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    for name in ("model.onnx", "model.onnx.data", "genai_config.json"):
        path = os.path.join(args.onnx_dir, name)
        if os.path.exists(path):
            shutil.copyfile(path, os.path.join(args.out, name))

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(os.path.join(args.out, "model.onnx"), opts,
                                   providers=["CPUExecutionProvider"])
    n_new = int(src["n_new"])
    prompts, all_rows = [], []
    for p in src["prompts"]:
        rows, tokens = ort_greedy(session, p["ids"], n_new)
        s = np.sort(rows, axis=1)
        prompts.append({
            "ids": p["ids"],
            "generated": tokens,
            "row_offset": len(all_rows) * n_new,
            "min_top2_margin": round(float((s[:, -1] - s[:, -2]).min()), 6),
        })
        all_rows.append(rows.astype("<f4"))
    np.concatenate(all_rows).tofile(os.path.join(args.out, "expected_logits.f32"))

    exp = {
        "format": 1,
        "fixture": os.path.basename(os.path.normpath(args.out)),
        "architecture": src.get("architecture"),
        "weights_dtype": "int4 (MatMulNBits)",
        "vocab": int(src["vocab"]),
        "n_new": n_new,
        "rows_per_prompt": n_new,
        "logits_file": "expected_logits.f32",
        "logits_dtype": "float32",
        "logits_byte_order": "little",
        "logits_layout": src["logits_layout"],
        "tolerance": args.tolerance,
        "bos_token_id": src.get("bos_token_id"),
        "eos_token_id": src.get("eos_token_id"),
        "generator": "scripts/oracle/gen_onnx_fixture.py (ONNX Runtime)",
        "versions": {"onnxruntime": ort.__version__, "numpy": np.__version__},
        "prompts": prompts,
    }
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1)
        f.write("\n")
    print(f"wrote {args.out}: {len(prompts)} prompts x {n_new} rows")


if __name__ == "__main__":
    main()
