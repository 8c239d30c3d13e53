#!/usr/bin/env bash
# Installs every Debian and Python package Frugal needs. Idempotent: a second
# run installs nothing and returns in about a second.
set -euo pipefail

APT_PACKAGES=(
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools clang-22 lld-22
  libomp-22-dev libclang-rt-22-dev ninja-build ccache cmake libgtest-dev
  python3 python3-venv python3-matplotlib
  libonnx-testdata
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "frugal setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# lit is shipped inside llvm-22-tools; FileCheck/not/count as well.
for tool in /usr/lib/llvm-22/bin/lit /usr/lib/llvm-22/bin/FileCheck; do
  [ -x "$tool" ] || { echo "frugal setup: $tool missing after install" >&2; exit 1; }
done
echo "frugal setup: toolchain ready (LLVM/MLIR $(/usr/lib/llvm-22/bin/llvm-config --version))"

# ONNX Runtime (and numpy) for the ONNX end-to-end check against ORT, in a
# small venv of its own (no torch).
ORT_VENV="${FRUGAL_ORT_VENV:-$HOME/.cache/frugal/ort-venv}"
if ! "$ORT_VENV/bin/python" -c "import onnxruntime, numpy" >/dev/null 2>&1; then
  echo "frugal setup: creating $ORT_VENV (onnxruntime, numpy)"
  python3 -m venv "$ORT_VENV"
  "$ORT_VENV/bin/pip" install -q --disable-pip-version-check onnxruntime numpy
fi
