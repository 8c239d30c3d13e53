#!/usr/bin/env python3
"""Runs the ONNX backend node tests of the operators Frugal imports.

Usage: run_node_tests.py LLM_ONNX_TEST [--data DIR] [-j N] [--verbose]

Every test directory `test_<op>*` under DIR (default: Debian's
libonnx-testdata, /usr/share/libonnx-testdata/data/node) whose operator is
in SUPPORTED runs through `llm-onnx-test` (import, CPU lowering, JIT,
comparison with rtol = atol = 1e-4). Prints one row per operator with its
pass / fail / unsupported counts, the totals, and the reason of every
failure. Unsupported variants (double or small integer types, dynamic
shapes, attributes the importer rejects) are reported, not failures.

Exit status: 0 when no test of a supported operator fails, 1 otherwise,
77 (a skip for ctest) when the test data is absent.
"""

import argparse
import concurrent.futures
import os
import subprocess
import sys

DEFAULT_DATA = "/usr/share/libonnx-testdata/data/node"

# Operator -> test name prefixes (after "test_").
SUPPORTED = {
    "Add": ["add"], "Sub": ["sub"], "Mul": ["mul"], "Div": ["div"],
    "Pow": ["pow"], "Sqrt": ["sqrt"], "Reciprocal": ["reciprocal"],
    "Exp": ["exp"], "Neg": ["neg"], "Erf": ["erf"], "Tanh": ["tanh"],
    "Sigmoid": ["sigmoid"], "Relu": ["relu"], "Gelu": ["gelu"],
    "ReduceMean": ["reduce_mean"], "Softmax": ["softmax"],
    "LayerNormalization": ["layer_normalization"],
    "RMSNormalization": ["rms_normalization"],
    "Where": ["where"], "Equal": ["equal"], "Less": ["less"],
    "LessOrEqual": ["less_equal"], "Greater": ["greater"],
    "GreaterOrEqual": ["greater_equal"],
    "Gather": ["gather"], "Reshape": ["reshape"], "Flatten": ["flatten"],
    "Transpose": ["transpose"], "Concat": ["concat"], "Slice": ["slice"],
    "Split": ["split"], "Unsqueeze": ["unsqueeze"], "Squeeze": ["squeeze"],
    "Expand": ["expand"], "Cast": ["cast"], "Shape": ["shape"],
    "Size": ["size"], "Constant": ["constant"],
    "ConstantOfShape": ["constantofshape"], "Range": ["range"],
    "Trilu": ["tril", "triu"], "MatMul": ["matmul"], "Gemm": ["gemm"],
    "Identity": ["identity"], "Dropout": ["dropout"],
}

# Other operators whose test names start like a supported one's.
OTHERS = ["castlike", "constant_pad", "gather_elements", "gathernd",
          "split_to_sequence", "concat_from_sequence", "matmulinteger",
          "softmax_cross_entropy", "reduce_mean_square"]


def op_of(test):
    """The supported operator a test exercises, or None."""
    best, best_len = None, -1
    name = test[len("test_"):]
    candidates = [(p, op) for op, ps in SUPPORTED.items() for p in ps]
    candidates += [(p, None) for p in OTHERS]
    for prefix, op in candidates:
        if (name == prefix or name.startswith(prefix + "_")) and \
                len(prefix) > best_len:
            best, best_len = op, len(prefix)
    return best


def run_one(tool, path):
    try:
        proc = subprocess.run([tool, path], capture_output=True, text=True,
                              timeout=300)
        line = (proc.stdout.strip().splitlines() or [""])[-1]
        if proc.returncode not in (0, 1, 2) or not line:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return "FAIL", f"exit status {proc.returncode}: {tail}"
    except subprocess.TimeoutExpired:
        return "FAIL", "timed out after 300 s"
    verdict, _, why = line.partition(" ")
    return verdict, why


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", help="path of llm-onnx-test")
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--verbose", action="store_true",
                        help="also print the reason of each unsupported test")
    args = parser.parse_args()

    if not os.path.isdir(args.data):
        print(f"SKIP: {args.data} is absent (Debian package libonnx-testdata)")
        return 77

    tests = []
    for test in sorted(os.listdir(args.data)):
        op = op_of(test) if test.startswith("test_") else None
        if op:
            tests.append((op, test))

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(
            lambda t: run_one(args.tool, os.path.join(args.data, t[1])),
            tests))

    counts = {}
    failures, unsupported = [], []
    for (op, test), (verdict, why) in zip(tests, results):
        row = counts.setdefault(op, {"PASS": 0, "FAIL": 0, "UNSUPPORTED": 0})
        row[verdict if verdict in row else "FAIL"] += 1
        if verdict == "UNSUPPORTED":
            unsupported.append((test, why))
        elif verdict != "PASS":
            failures.append((test, why))

    width = max(len(op) for op in counts) if counts else 10
    print(f"{'op':<{width}}  {'pass':>5} {'fail':>5} {'unsupported':>11}")
    totals = {"PASS": 0, "FAIL": 0, "UNSUPPORTED": 0}
    for op in sorted(counts):
        row = counts[op]
        for k in totals:
            totals[k] += row[k]
        print(f"{op:<{width}}  {row['PASS']:>5} {row['FAIL']:>5} "
              f"{row['UNSUPPORTED']:>11}")
    print(f"{'total':<{width}}  {totals['PASS']:>5} {totals['FAIL']:>5} "
          f"{totals['UNSUPPORTED']:>11}   ({len(tests)} tests)")
    if args.verbose:
        for test, why in unsupported:
            print(f"UNSUPPORTED {test}: {why}")
    for test, why in failures:
        print(f"FAIL {test}: {why}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
