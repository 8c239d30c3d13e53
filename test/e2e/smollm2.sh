#!/usr/bin/env bash
# SmolLM2-135M-Instruct end to end: compile the default model, check the
# runtime tokenizer against HF tokenizers' ids, and ask it a question whose
# greedy answer is known.
#   smollm2.sh BUILD_BIN_DIR WORK_DIR
# Exits 77 (skipped) when the model has not been fetched.
set -euo pipefail
bin="$1"; work="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
model="${FRUGAL_MODELS_DIR:-$HOME/.cache/frugal/models}/SmolLM2-135M-Instruct"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_unless_files "run scripts/fetch_default_model.sh; scripts/test.sh does" \
  "$model/model.safetensors"
mkdir -p "$work"
"$bin/llm-compile" -q "$model" -o "$work/smollm2"
python3 "$here/check_tokenizer.py" --tokenize "$bin/llmrt-tokenize" \
  --model "$work/smollm2.fgw" --cases "$here/../fixtures/smollm2-tokenizer-ids.json"
answer="$("$work/smollm2" --chat --prompt "What is the capital of France?" -n 24 2>/dev/null)"
echo "answer: $answer"
case "$answer" in
  *Paris*) echo "smollm2: PASS: the answer names Paris" ;;
  *) echo "smollm2: FAIL: expected the answer to name Paris" >&2; exit 1 ;;
esac

# Weights quantized to int4 (group 32, symmetric) keep the answer.
"$bin/llm-compile" -q "$model" -o "$work/smollm2-int4" --quantize=int4
answer="$("$work/smollm2-int4" --chat --prompt "What is the capital of France?" -n 24 2>/dev/null)"
echo "int4 answer: $answer"
case "$answer" in
  *Paris*) echo "smollm2: PASS: the int4 answer names Paris" ;;
  *) echo "smollm2: FAIL: expected the int4 answer to name Paris" >&2; exit 1 ;;
esac
