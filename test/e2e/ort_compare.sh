#!/usr/bin/env bash
# Compiles the committed onnxruntime-genai export of the tiny llama and
# compares the binary with ONNX Runtime itself (per-step logits and 32
# greedy tokens on three prompts).
#   ort_compare.sh LLM_COMPILE WORK_DIR
# Exits 77 (skipped) when the ONNX Runtime venv of scripts/setup.sh is absent.
set -euo pipefail
compile="$1"; work="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${FRUGAL_ORT_VENV:-$HOME/.cache/frugal/ort-venv}"
if ! "$venv/bin/python" -c "import onnxruntime, numpy" >/dev/null 2>&1; then
  echo "SKIP: no ONNX Runtime venv at $venv (scripts/setup.sh creates it)"
  exit 77
fi
fixture="$here/../fixtures/tiny-llama-onnx"
mkdir -p "$work"
"$compile" -q "$fixture/model.onnx" -o "$work/tiny-llama-onnx-ort"
"$venv/bin/python" "$here/../../scripts/oracle/compare_onnx_ort.py" \
  --model-bin "$work/tiny-llama-onnx-ort" --onnx "$fixture/model.onnx" \
  --ids 1 --ids 3,17,42,8,99 --ids 5,9,11,200,31,7,64,2,128,33,250 -n 32
