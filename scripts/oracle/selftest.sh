#!/usr/bin/env bash
# Self-test of the oracle tooling, no compiled model needed: runs
# test/e2e/check_logits.py on every fixture with scripts/oracle/ref_model.py
# (plain numpy, independent of torch) standing in for a Frugal model binary,
# and checks that a wrong model is rejected.
#
#   scripts/oracle/selftest.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
FIX="$ROOT/test/fixtures"
VENV="${FRUGAL_ORACLE_VENV:-$HOME/.cache/frugal/oracle-venv}"
"$HERE/run.sh" --ensure

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
wrapper() {  # wrapper NAME CHECKPOINT
  cat > "$TMP/$1" <<EOF
#!/bin/sh
exec "$VENV/bin/python" "$HERE/ref_model.py" --checkpoint "$2" "\$@"
EOF
  chmod +x "$TMP/$1"
}

status=0
for d in "$FIX"/*/; do
  name="$(basename "$d")"
  [ -f "$d/expected.json" ] || continue
  wrapper "$name" "$d"
  python3 "$ROOT/test/e2e/check_logits.py" --model-bin "$TMP/$name" --fixture "$d" || status=1
done

# A different model must fail.
wrapper wrong "$FIX/tiny-llama-bf16"
if python3 "$ROOT/test/e2e/check_logits.py" --model-bin "$TMP/wrong" --fixture "$FIX/tiny-llama" \
    >/dev/null; then
  echo "selftest: FAIL: check_logits.py accepted the wrong model" >&2
  status=1
else
  echo "selftest: wrong model rejected as expected"
fi
[ "$status" = 0 ] && echo "selftest: PASS" || echo "selftest: FAIL"
exit "$status"
