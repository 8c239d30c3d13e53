#!/usr/bin/env bash
# Compiles a fixture checkpoint with llm-compile and checks the binary's
# logits and greedy tokens against HF transformers' (expected_logits.f32).
#   run_fixture.sh LLM_COMPILE FIXTURE_DIR WORK_DIR [LLM_COMPILE_FLAG ...]
# E2E_TOL, when set, overrides the fixture's logits tolerance.
set -euo pipefail
compile="$1"; fixture="$2"; work="$3"; shift 3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$work"
name="$(basename "$fixture")"
"$compile" -q "$fixture" -o "$work/$name" "$@"
python3 "$here/check_logits.py" --model-bin "$work/$name" --fixture "$fixture" \
  ${E2E_TOL:+--tol "$E2E_TOL"}
