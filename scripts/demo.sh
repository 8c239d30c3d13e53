#!/usr/bin/env bash
# The main job: install what is missing, build Frugal, fetch and compile the
# default model (SmolLM2-135M-Instruct) and chat with it.
#
#   bash scripts/demo.sh ["your prompt"]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
PROMPT="${1:-Explain in two sentences why the sky is blue.}"

bash "$ROOT/scripts/setup.sh"
BUILD_DIR="$BUILD_DIR" FRUGAL_BUILD_TARGETS=llm-compile bash "$ROOT/scripts/build.sh"
MODEL_DIR="$(bash "$ROOT/scripts/fetch_default_model.sh" | tail -n 1 | sed 's/.*: //')"
mkdir -p "$BUILD_DIR/models"
"$BUILD_DIR/bin/llm-compile" "$MODEL_DIR" -o "$BUILD_DIR/models/smollm2"
echo
echo "\$ $BUILD_DIR/models/smollm2 --chat --prompt \"$PROMPT\" -n 96"
"$BUILD_DIR/models/smollm2" --chat --prompt "$PROMPT" -n 96
