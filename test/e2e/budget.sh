#!/usr/bin/env bash
# llm-compile --budget on stories260K: a feasible memory + perplexity budget
# is met in measurement (report checked against docs/report.schema.json),
# with round to nearest and with GPTQ; a
# tight memory budget under --objective ppl keeps more int4 layers than a
# loose one; an infeasible budget and malformed ones fail with a message
# naming the term. Exits 77 (skipped) when the model file is absent.
#   budget.sh LLM_COMPILE STORIES260K_GGUF WORK_DIR SCHEMA
set -euo pipefail
compile="$1"; gguf="$2"; work="$3"; schema="$4"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
text=/usr/share/common-licenses/GPL-3
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_unless_files "$SHARED_MODELS_HINT" "$gguf" "$text"
mkdir -p "$work"
common=(-q --calibration-tokens 256 --fidelity-tokens 128
        --report-prompt-tokens 16 --report-decode-tokens 16)

# Malformed budgets: the error names the term.
expect_error() {
  local pattern="$1"; shift
  if "$compile" "$gguf" -o "$work/budget-bad" "$@" 2> "$work/budget.err"; then
    echo "llm-compile accepted $*" >&2
    exit 1
  fi
  grep -q -- "$pattern" "$work/budget.err" || {
    echo "expected '$pattern', got:" >&2; cat "$work/budget.err" >&2; exit 1; }
}
expect_error "budget term 'memory<=lots': expected a size" --budget "memory<=lots"
expect_error "budget term 'ppl<=3': expected a relative increase" --budget "ppl<=3"
expect_error "budget term 'speed<=3': unknown metric 'speed'" --budget "speed<=3"
expect_error "budget term 'memory>=1GB': memory takes <=" --budget "memory>=1GB"
expect_error "--objective expects energy, latency, memory or ppl" \
  --budget "memory<=1GB" --objective cheap

# Infeasible: the message names the constraint and what the smallest
# configuration needs.
expect_error "budget memory<=1MB is infeasible: the smallest configuration (every layer int4, int8 KV) needs [0-9.]* MB" \
  "${common[@]}" --budget "memory<=1MB,ppl<=+50%"
smallest=$(sed -n 's/.*needs \([0-9.]*\) MB.*/\1/p' "$work/budget.err")

# Feasible, measured: every constraint met.
"$compile" "${common[@]}" "$gguf" -o "$work/budget-ok" \
  --budget "memory<=64MB,ppl<=+8%" --objective energy \
  --report "$work/budget-ok.json" --measure > "$work/budget-ok.table"
grep -q "^budget memory<=64MB,ppl<=+8% (objective energy): met" "$work/budget-ok.table"
grep -q "^  chosen: " "$work/budget-ok.table"
python3 "$here/check_report.py" "$schema" "$work/budget-ok.json" --measured --budget-met

# The same budget with GPTQ choosing every candidate's codes.
"$compile" "${common[@]}" "$gguf" -o "$work/budget-gptq" \
  --budget "memory<=64MB,ppl<=+8%" --objective energy --quant-method gptq \
  --report "$work/budget-gptq.json" --measure > "$work/budget-gptq.table"
grep -q "^budget memory<=64MB,ppl<=+8% (objective energy): met" "$work/budget-gptq.table"
python3 "$here/check_report.py" "$schema" "$work/budget-gptq.json" --measured --budget-met

# Tight vs loose memory under --objective ppl (predicted only): the tight
# budget, 50 KB above the smallest configuration, keeps more int4 layers.
tight=$(python3 -c "print(round($smallest + 0.05, 2))")
for kind in tight loose; do
  limit=$([ $kind = tight ] && echo "${tight}MB" || echo "1GB")
  "$compile" "${common[@]}" "$gguf" -o "$work/budget-$kind" \
    --budget "memory<=$limit" --objective ppl \
    --report "$work/budget-$kind.json" > /dev/null
  python3 "$here/check_report.py" "$schema" "$work/budget-$kind.json"
done
python3 - "$work/budget-tight.json" "$work/budget-loose.json" <<'PY'
import json, sys
def int4(path):
    b = json.load(open(path))["budget"]
    assert b["met"], b
    return sum(g["storage"] == "int4" for g in b["config"]["groups"]), b
tight, bt = int4(sys.argv[1])
loose, bl = int4(sys.argv[2])
assert tight > loose, (bt["config"]["summary"], bl["config"]["summary"])
print(f"int4 groups: tight {tight} ({bt['config']['summary']}), "
      f"loose {loose} ({bl['config']['summary']})")
PY
echo "budget checks passed"
