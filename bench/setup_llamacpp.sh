#!/usr/bin/env bash
# Builds llama.cpp (through PyPI `llama-cpp-python`, from source, for this
# CPU) into its own venv, the peer that bench/quant.sh measures against.
# Cached: a second run only checks that the package imports.
#
#   bash bench/setup_llamacpp.sh   # prints the venv's python on its last line
set -euo pipefail
CACHE="${FRUGAL_CACHE_DIR:-$HOME/.cache/frugal}"
VENV="${FRUGAL_LLAMACPP_VENV:-$CACHE/llamacpp-venv}"
PYTHON="${PYTHON:-python3}"
VERSION="${LLAMACPP_PY_VERSION:-0.3.16}"

if ! "$VENV/bin/python" -c "import llama_cpp" >/dev/null 2>&1; then
  echo "setup_llamacpp: building llama-cpp-python $VERSION from source into $VENV (slow, once)" >&2
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip >&2
  # Native CPU build (AVX-512/VNNI as the host has them), OpenMP threads,
  # no examples or tests. One compile job at a time, at low priority.
  CMAKE_ARGS="-DGGML_NATIVE=ON -DGGML_OPENMP=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF" \
  CMAKE_BUILD_PARALLEL_LEVEL="${LLAMACPP_BUILD_JOBS:-1}" \
    nice -n 19 "$VENV/bin/pip" install -q --disable-pip-version-check \
      --no-binary llama-cpp-python --no-cache-dir "llama-cpp-python==$VERSION" numpy >&2
fi
echo "setup_llamacpp: $VENV/bin/python"
