#!/usr/bin/env bash
# --perplexity through the every-position step (llm-score-positions) scores
# what one decode step per token scores: stories260K, f32 and int4, each
# built with calls of 5 tokens (windows of 100 take 20 calls) and without
# the step, scored on GPL-3 against each other.
# Exits 77 (skipped) when the model file is absent.
#   score_positions.sh LLM_COMPILE STORIES260K_GGUF WORK_DIR
set -euo pipefail
compile="$1"; gguf="$2"; work="$3"
text=/usr/share/common-licenses/GPL-3
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_unless_files "$SHARED_MODELS_HINT" "$gguf" "$text"
mkdir -p "$work"
for variant in f32 int4; do
  flags=()
  [ "$variant" = int4 ] && flags=(--quantize int4 --quant-group 32)
  one="$work/score-$variant-one"; all="$work/score-$variant-all"
  "$compile" -q "$gguf" -o "$one" --score-rows 0 "${flags[@]}"
  "$compile" -q "$gguf" -o "$all" --score-rows 5 "${flags[@]}"
  grep -aq "score_rows=0" "$one.fgw"
  grep -aq "score_rows=5" "$all.fgw"
  "$one" --perplexity "$text" --ctx 100 --max-tokens 400 \
    --save-logits "$work/score-$variant.logits" >/dev/null
  line="$("$all" --perplexity "$text" --ctx 100 --max-tokens 400 \
    --reference-logits "$work/score-$variant.logits" | grep '^fidelity:')"
  echo "$variant: $line"
  python3 - "$line" <<'PY'
import sys
f = dict(kv.split("=") for kv in sys.argv[1].split()[1:])
# Same positions and targets (checked by the reader), same distributions:
# only the order of floating-point sums differs between the two steps.
assert int(f["tokens"]) == 400, f
assert float(f["mean_kl"]) < 1e-5, f
assert float(f["top1_agreement"]) >= 0.995, f
assert abs(float(f["ppl_delta_pct"])) < 0.05, f
PY
done
echo "score positions: PASS"
