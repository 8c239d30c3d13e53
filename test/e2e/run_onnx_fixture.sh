#!/usr/bin/env bash
# Compiles an ONNX export of a fixture checkpoint with llm-compile and checks
# the binary's logits and greedy tokens against the checkpoint fixture's
# expected outputs (same weights, same logits).
#   run_onnx_fixture.sh LLM_COMPILE MODEL_ONNX FIXTURE_DIR WORK_DIR [LLM_COMPILE_ARGS...]
set -euo pipefail
compile="$1"; model="$2"; fixture="$3"; work="$4"; shift 4
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$work"
name="$(basename "$(dirname "$model")")"
"$compile" -q "$@" "$model" -o "$work/$name"
python3 "$here/check_logits.py" --model-bin "$work/$name" --fixture "$fixture"
