#!/usr/bin/env bash
# Exports an HF checkpoint directory to ONNX with the onnxruntime-genai model
# builder (CPU), the form `llm-compile model.onnx` accepts.
#
#   [PRECISION=int4] [EXTRA_OPTIONS="accuracy_level=0"] \
#   scripts/oracle/export_genai.sh CHECKPOINT_DIR OUT_DIR [TOKENIZER_DIR]
#
# PRECISION (default fp32) is the builder's -p; int4 gives MatMulNBits
# weights (and, for tied embeddings, GatherBlockQuantized). EXTRA_OPTIONS
# are the builder's --extra_options key=value pairs; accuracy_level=0 keeps
# ONNX Runtime's MatMulNBits from rounding activations to int8.
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
  -i "$tmp" -o "$out" -p "${PRECISION:-fp32}" -e cpu -c "$tmp/cache" \
  ${EXTRA_OPTIONS:+--extra_options $EXTRA_OPTIONS} >"$tmp/log" 2>&1 \
  || { cat "$tmp/log" >&2; exit 1; }
echo "exported $src to $out"
