#!/usr/bin/env bash
# llm-compile --report --measure --reference: an int8 build of stories260K
# scored against its f32 build on GPL-3 (the fixtures have no tokenizer to
# read text with). Exits 77 (skipped) when the model file is absent.
#   report_fidelity.sh LLM_COMPILE STORIES260K_GGUF WORK_DIR SCHEMA
set -euo pipefail
compile="$1"; gguf="$2"; work="$3"; schema="$4"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
text=/usr/share/common-licenses/GPL-3
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_unless_files "$SHARED_MODELS_HINT" "$gguf" "$text"
mkdir -p "$work"
"$compile" -q "$gguf" -o "$work/fidelity-f32"
"$compile" -q "$gguf" -o "$work/fidelity-int8" --quantize int8 \
  --report "$work/fidelity.json" --measure --report-prompt-tokens 16 \
  --report-decode-tokens 16 --reference "$work/fidelity-f32" \
  --fidelity-text "$text" --fidelity-tokens 128 > "$work/fidelity.table"
grep -q "^  fidelity vs reference .*top-1" "$work/fidelity.table"
python3 "$here/check_report.py" "$schema" "$work/fidelity.json" --measured
python3 - "$work/fidelity.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["fidelity"]
assert f is not None and f["tokens"] == 128, f
# int8 weights move the logits a little, not the ranking of most tokens.
assert 0 <= f["mean_kl"] < 0.05 and f["top1_agreement"] > 0.8, f
assert abs(f["perplexity_delta"] - (f["perplexity"] - f["reference_perplexity"])) < 1e-9, f
# The interval brackets the measured increase.
lo, hi = f["perplexity_increase_pct_95"]
pct = 100 * (f["perplexity"] / f["reference_perplexity"] - 1)
assert lo - 0.01 <= pct <= hi + 0.01 and lo < hi, f
PY
echo "fidelity report checks passed"
