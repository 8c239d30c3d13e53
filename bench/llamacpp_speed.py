#!/usr/bin/env python3
"""Prefill and decode speed of llama.cpp (PyPI llama-cpp-python) on a GGUF,
measured the way bench/quant.sh measures a Frugal binary: one prefill call
on the prompt, then greedy decoding one token per call. Prints
`llamacpp: prompt_tokens=N prefill_tok_s=X decode_tokens=M decode_tok_s=Y`.

    python llamacpp_speed.py MODEL.gguf PROMPT_FILE TOKENS RUNS THREADS
"""
import sys
import time

import numpy as np
from llama_cpp import Llama


def main():
    model, prompt_file, tokens, runs, threads = sys.argv[1:6]
    tokens, runs, threads = int(tokens), int(runs), int(threads)
    prompt = open(prompt_file, encoding="utf-8").read()
    llm = Llama(model_path=model, n_ctx=2048, n_batch=512, n_threads=threads,
                n_threads_batch=threads, verbose=False)
    ids = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=False)
    best_prefill = best_decode = 0.0
    for _ in range(runs):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids)
        t1 = time.perf_counter()
        for _ in range(tokens):
            nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
            llm.eval([nxt])
        t2 = time.perf_counter()
        best_prefill = max(best_prefill, len(ids) / (t1 - t0))
        best_decode = max(best_decode, tokens / (t2 - t1))
    print(f"llamacpp: prompt_tokens={len(ids)} prefill_tok_s={best_prefill:.1f} "
          f"decode_tokens={tokens} decode_tok_s={best_decode:.1f}")


if __name__ == "__main__":
    main()
