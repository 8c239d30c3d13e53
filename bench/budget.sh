#!/usr/bin/env bash
# Budgeted builds (llm-compile --budget, docs/Budget.md) of SmolLM2-135M-
# Instruct (f32 checkpoint): per case the budget, the chosen configuration,
# predicted vs measured peak memory, perplexity increase over the f32 build
# and decode latency, and whether every constraint was met as measured.
# Target (issue 9): a budgeted build meets its budget in every case; the
# last case is infeasible on purpose and must be rejected with a message
# naming its tightest constraint.
#
#   bash bench/budget.sh [MODEL_DIR]
#
# Environment: BUILD_DIR (default build/), BENCH_DIR (work files),
# CAL_TOKENS (calibration tokens, default 256), FID_TOKENS (scored tokens,
# default 128), QUANT_KERNEL (--quant-kernel of every build; default the
# compiler's). One f32 reference build is shared by every case.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
MODEL="${1:-$HOME/.cache/frugal/models/SmolLM2-135M-Instruct}"
CAL_TOKENS="${CAL_TOKENS:-256}"
FID_TOKENS="${FID_TOKENS:-128}"
LC="$BUILD_DIR/bin/llm-compile"
WORK="${BENCH_DIR:-$BUILD_DIR/bench}/budget"
mkdir -p "$WORK"
if [ ! -d "$MODEL" ]; then
  echo "bench/budget.sh: $MODEL is missing" >&2
  exit 1
fi
[ -x "$LC" ] || { echo "bench/budget.sh: build llm-compile first ($LC)" >&2; exit 1; }

common=(-q --calibration-tokens "$CAL_TOKENS" --fidelity-tokens "$FID_TOKENS"
        --report-prompt-tokens 32 --report-decode-tokens 32
        ${QUANT_KERNEL:+--quant-kernel "$QUANT_KERNEL"})

echo "bench/budget.sh: f32 reference" >&2
"$LC" -q "$MODEL" -o "$WORK/reference" ${QUANT_KERNEL:+--quant-kernel "$QUANT_KERNEL"}

# name | budget | objective
cases=(
  "memory-bound|memory<=240MB|ppl"
  "ppl-bound|ppl<=+5%|energy"
  "both|memory<=280MB,ppl<=+8%|latency"
  "infeasible|memory<=200MB,ppl<=+5%|energy"
)
printf '%-13s %-28s %-8s %-52s %-22s %-22s %-22s %s\n' case budget objective \
  "chosen" "memory pred/meas MB" "ppl pred/meas %" "decode pred/meas ms" met
for entry in "${cases[@]}"; do
  IFS='|' read -r name budget objective <<< "$entry"
  start=$(date +%s)
  if ! "$LC" "${common[@]}" "$MODEL" -o "$WORK/$name" --budget "$budget" \
      --objective "$objective" --report "$WORK/$name.json" --measure \
      --reference "$WORK/reference" > "$WORK/$name.table" 2> "$WORK/$name.err"; then
    # The infeasible case must fail, naming its tightest constraint.
    verdict=$([ "$name" = infeasible ] && echo "rejected as expected" || echo FAILED)
    printf '%-13s %-28s %-8s %s\n' "$name" "$budget" "$objective" \
      "$verdict: $(tail -1 "$WORK/$name.err")"
    continue
  fi
  seconds=$(( $(date +%s) - start ))
  python3 - "$WORK/$name.json" "$name" "$budget" "$objective" "$seconds" <<'PY'
import json, sys
path, name, budget, objective, seconds = sys.argv[1:]
r = json.load(open(path))
b, pred, meas, fid = r["budget"], r["predicted"], r["measured"], r["fidelity"]
ppl_pred = b["predicted_ppl_increase"]
ppl_meas = fid["perplexity"] / fid["reference_perplexity"] - 1 if fid else None
def pair(p, m, scale, fmt):
    f = lambda v: "-" if v is None else format(v * scale, fmt)
    return f"{f(p)} / {f(m)}"
mem = pair(pred["peak_memory_bytes"], meas["peak_rss_bytes"], 1 / 2**20, ".1f")
ppl = pair(ppl_pred, ppl_meas, 100, "+.2f")
lat = pair(pred["decode_seconds_per_token"], meas["decode_seconds_per_token"], 1e3, ".2f")
chosen = b["config"]["summary"] + "; KV " + b["config"]["kv_dtype"]
met = "yes" if b["met"] else "NO"
retries = len(b["attempts"])
print(f"{name:<13} {budget:<28} {objective:<8} {chosen:<52} {mem:<22} {ppl:<22} {lat:<22} "
      f"{met}{f' (after {retries} rebuild(s))' if retries else ''} [{seconds}s]")
PY
done
