#!/usr/bin/env bash
# Batched generation end to end: stories260K compiled with --max-batch 4
# decodes a file of prompts with continuous batching (`--prompts FILE
# --batch N`); every sequence's greedy ids must equal those of running its
# prompt alone, at every batch size and for each extra llm-compile variant.
#   batch.sh LLM_COMPILE MODEL_GGUF WORK_DIR [VARIANT ...]
# A VARIANT is a quoted list of extra llm-compile flags ("" = none).
# Exits 77 (skipped) when the model file is absent.
set -euo pipefail
compile="$1"; model="$2"; work="$3"; shift 3
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_unless_files "$SHARED_MODELS_HINT" "$model"
[ $# -gt 0 ] || set -- ""
mkdir -p "$work"
prompts="$work/batch-prompts.txt"
# Seven prompts of different lengths: more than the 4 rows, so sequences
# join as others finish (some stop early at EOS within 48 tokens).
cat > "$prompts" <<'PROMPTS'
Once upon a time
The dog
Lily and Tom went to the park to play with a ball

A cat sat
The sun was shining and the birds were singing in the tall green trees
He said
One day, a little boy named Tim found a shiny red box
PROMPTS

fail() { echo "batch: FAIL: $*" >&2; exit 1; }

for variant in "$@"; do
  exe="$work/stories-batch"
  # shellcheck disable=SC2086
  "$compile" -q "$model" -o "$exe" --max-batch 4 --max-context 96 $variant
  single="$work/batch-single.txt"
  : > "$single"
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    "$exe" --prompt "$line" -n 48 --print-ids --quiet 2>/dev/null | grep '^ids:' >> "$single"
  done < "$prompts"
  [ "$(wc -l < "$single")" -eq 7 ] || fail "expected 7 single runs"
  for b in 1 2 4; do
    out="$work/batch-$b.txt"
    "$exe" --prompts "$prompts" --batch "$b" -n 48 --print-ids --bench > "$out" 2> "$work/batch-$b.err"
    grep '^ids:' "$out" > "$out.ids"
    diff "$single" "$out.ids" > /dev/null ||
      { diff "$single" "$out.ids" >&2 || true; fail "variant '$variant' batch $b differs from single runs"; }
    line="$(grep '^batch:' "$out")"
    echo "variant '$variant' batch $b: $line"
    case "$line" in *"sequences=7 max_rows=$b "*) ;; *) fail "batch $b: unexpected '$line'" ;; esac
    [ "$(grep -c '^--- sequence' "$out")" -eq 7 ] || fail "batch $b: expected 7 sequence headers"
  done
done

# Clear errors: more rows than compiled for, and a single-sequence model.
if "$exe" --prompts "$prompts" --batch 5 -n 4 > /dev/null 2> "$work/batch-err.txt"; then
  fail "--batch 5 on a --max-batch 4 model succeeded"
fi
grep -q -- "--batch 5 must be between 1 and the 4 sequences" "$work/batch-err.txt" ||
  fail "unexpected error: $(cat "$work/batch-err.txt")"
"$compile" -q "$model" -o "$work/stories-single" --max-context 96
if "$work/stories-single" --prompts "$prompts" --batch 2 -n 4 > /dev/null 2> "$work/batch-err.txt"; then
  fail "--batch 2 on a single-sequence model succeeded"
fi
grep -q "needs a model compiled with --max-batch N" "$work/batch-err.txt" ||
  fail "unexpected error: $(cat "$work/batch-err.txt")"
echo "batch: PASS"
