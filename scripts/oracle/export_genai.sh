#!/usr/bin/env bash
# Exports an HF checkpoint directory to ONNX with the onnxruntime-genai model
# builder (fp32, CPU), the form `llm-compile model.onnx` accepts.
#
#   scripts/oracle/export_genai.sh CHECKPOINT_DIR OUT_DIR [TOKENIZER_DIR]
#
# The builder needs tokenizer files next to the checkpoint; TOKENIZER_DIR
# (default: the checkpoint itself) supplies tokenizer*.json when the
# checkpoint has none (test fixtures). Runs in the oracle venv
# (${FRUGAL_ORACLE_VENV:-~/.cache/frugal/oracle-venv}), which needs the PyPI
# packages onnxruntime-genai, onnx and onnxruntime.
set -euo pipefail
src="$1"; out="$2"; tok="${3:-$1}"
VENV="${FRUGAL_ORACLE_VENV:-$HOME/.cache/frugal/oracle-venv}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$src"/*.json "$src"/*.safetensors "$tmp"/
for f in "$tok"/tokenizer*.json; do
  [ -e "$tmp/$(basename "$f")" ] || cp "$f" "$tmp"/
done
mkdir -p "$out"
"$VENV/bin/python" -m onnxruntime_genai.models.builder \
  -i "$tmp" -o "$out" -p fp32 -e cpu -c "$tmp/cache" >"$tmp/log" 2>&1 \
  || { cat "$tmp/log" >&2; exit 1; }
echo "exported $src to $out"
