#!/usr/bin/env bash
# llm-compile --report: compiles a fixture in f32 with --measure and in int8
# for sm_90, and validates both reports against docs/report.schema.json; a
# report with a missing key and a wrong type must be rejected.
#   report.sh LLM_COMPILE FIXTURE_DIR WORK_DIR SCHEMA
set -euo pipefail
compile="$1"; fixture="$2"; work="$3"; schema="$4"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
check="$here/check_report.py"
mkdir -p "$work"
name="$(basename "$fixture")"

"$compile" -q "$fixture" -o "$work/$name-report" --report "$work/$name.json" \
  --measure --report-prompt-tokens 16 --report-decode-tokens 16 \
  > "$work/$name.table"
grep -q "^efficiency report: $name on host-cpu (16-token prompt, 16 decode tokens)" \
  "$work/$name.table"
python3 "$check" "$schema" "$work/$name.json" --measured

"$compile" -q "$fixture" -o "$work/$name-report-int8" --quantize int8 \
  --report "$work/$name-int8.json" --target sm_90 --target-param price=1 \
  > /dev/null
python3 "$check" "$schema" "$work/$name-int8.json" --min-compression 1.5
python3 - "$work/$name-int8.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["target"]["name"] == "sm_90", r["target"]
assert r["target"]["price_usd_per_hour"] == 1, r["target"]
assert r["measured"] is None
assert "int8 g32 symmetric" in r["model"]["quantization"], r["model"]
PY

# The checker itself: a broken report fails.
python3 - "$work/$name.json" "$work/$name-broken.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
del r["predicted"]["decode_tokens_per_second"]
r["model"]["parameters"] = "many"
json.dump(r, open(sys.argv[2], "w"))
PY
if python3 "$check" "$schema" "$work/$name-broken.json" 2> "$work/broken.err"; then
  echo "check_report.py accepted a broken report" >&2
  exit 1
fi
grep -q "missing required key 'decode_tokens_per_second'" "$work/broken.err"
grep -q "model.parameters: expected integer" "$work/broken.err"
echo "report checks passed"
