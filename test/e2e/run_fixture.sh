#!/usr/bin/env bash
# Compiles a fixture checkpoint with llm-compile and checks the binary's
# logits and greedy tokens against HF transformers' (expected_logits.f32).
#   run_fixture.sh LLM_COMPILE FIXTURE_DIR WORK_DIR
set -euo pipefail
compile="$1"; fixture="$2"; work="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$work"
name="$(basename "$fixture")"
"$compile" -q "$fixture" -o "$work/$name"
python3 "$here/check_logits.py" --model-bin "$work/$name" --fixture "$fixture"
