#!/usr/bin/env python3
"""Quantizes a GGUF file with llama.cpp's own quantizer (llama-cpp-python's
llama_model_quantize), e.g. SmolLM2's Q8_0 file to Q4_K_M, so bench/quant.sh
can compare Frugal and llama.cpp on a K-quant file. llama.cpp falls back
from Q4_K/Q6_K to Q5_0/Q8_0 for tensors whose rows are not multiples of 256
(SmolLM2's hidden size is 576, so only the down projections are K-quants).

    python gguf_kquant.py IN.gguf OUT.gguf [--ftype Q4_K_M]

Run it with the python of bench/setup_llamacpp.sh.
"""
import argparse
import ctypes
import sys

import llama_cpp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--ftype", default="Q4_K_M")
    args = ap.parse_args()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, "LLAMA_FTYPE_MOSTLY_" + args.ftype)
    params.allow_requantize = True
    rc = llama_cpp.llama_model_quantize(args.input.encode(), args.output.encode(),
                                        ctypes.byref(params))
    if rc != 0:
        sys.exit(f"gguf_kquant: llama_model_quantize failed ({rc})")


if __name__ == "__main__":
    main()
