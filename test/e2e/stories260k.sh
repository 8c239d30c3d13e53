#!/usr/bin/env bash
# stories260K end to end: compile the tiny real Llama from its GGUF file
# (F32, SentencePiece vocabulary, interleaved rotary embeddings) and check
# that greedy decoding from BOS tells the story llama2.c documents.
#   stories260k.sh LLM_COMPILE MODEL_GGUF WORK_DIR
# Exits 77 (skipped) when the model file is absent.
set -euo pipefail
compile="$1"; model="$2"; work="$3"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_unless_files "$SHARED_MODELS_HINT" "$model"
mkdir -p "$work"
"$compile" -q "$model" -o "$work/stories260k"
text="$("$work/stories260k" -n 40 2>/dev/null)"
echo "output: $text"
expected="Once upon a time, there was a little girl named Lily"
case "$text" in
  "$expected"*) echo "stories260k: PASS" ;;
  *) echo "stories260k: FAIL: expected the text to begin \"$expected\"" >&2; exit 1 ;;
esac
