#!/usr/bin/env bash
# Runs a script from scripts/oracle/ in the oracle venv (torch, transformers,
# safetensors, numpy, gguf), creating the venv on first use.
#
#   scripts/oracle/run.sh gen_fixtures.py [ARGS...]
#   scripts/oracle/run.sh compare_smollm2.py --model-bin build/smollm2 [...]
#   scripts/oracle/run.sh --ensure      # only create/check the venv
#
# The venv lives at ${FRUGAL_ORACLE_VENV:-$HOME/.cache/frugal/oracle-venv}.
# Idempotent: when the venv already imports everything, it is reused as is.
# torch comes from the PyTorch CPU wheel index when that is reachable (small
# download), else from PyPI.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${FRUGAL_ORACLE_VENV:-$HOME/.cache/frugal/oracle-venv}"
PYTHON="${PYTHON:-python3}"

if [ $# -lt 1 ]; then
  echo "usage: $0 SCRIPT.py [ARGS...]" >&2
  exit 2
fi

if ! "$VENV/bin/python" -c "import torch, transformers, safetensors, numpy, gguf, jinja2" >/dev/null 2>&1; then
  echo "oracle: setting up $VENV (torch, transformers, ...)" >&2
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV" || {
      echo "oracle: '$PYTHON -m venv' failed; install python3-venv (scripts/setup.sh does)" >&2
      exit 1
    }
  fi
  PIP=("$VENV/bin/pip" install -q --disable-pip-version-check)
  if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
    "${PIP[@]}" --retries 1 --timeout 15 --index-url https://download.pytorch.org/whl/cpu torch \
      2>/dev/null || "${PIP[@]}" torch
  fi
  "${PIP[@]}" -r "$HERE/requirements.txt"
fi

[ "$1" = "--ensure" ] && exit 0
script="$1"
shift
[ -f "$script" ] || script="$HERE/$script"
exec "$VENV/bin/python" "$script" "$@"
