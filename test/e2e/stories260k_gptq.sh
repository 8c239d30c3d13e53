#!/usr/bin/env bash
# Activation-aware quantization end to end on stories260K (a real trained
# tiny Llama, F32): int4 symmetric group-32 weights chosen by GPTQ
# (calibrated on the first 512 tokens of GPL-3) must score a lower
# perplexity than round-to-nearest on another text (Apache-2.0), and the
# GPTQ build must still tell its story. Equalization (--quant-equalize)
# rescales weights by per-channel factors folded into the RMSNorm and up
# projection weights: at 8 bits, where rounding barely matters, the
# equalized build must score within 2% of the plain one (a wrong fold would
# not), and with GPTQ at 4 bits it must still tell its story. So must a
# GPTQ build calibrated sequentially (--calibration-stages).
#   stories260k_gptq.sh LLM_COMPILE MODEL_GGUF WORK_DIR
# Exits 77 (skipped) when the model file is absent.
set -euo pipefail
compile="$1"; model="$2"; work="$3"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_unless_files "$SHARED_MODELS_HINT" "$model"
mkdir -p "$work"
calibration=/usr/share/common-licenses/GPL-3
text=/usr/share/common-licenses/Apache-2.0
out="$("$compile" "$model" -o "$work/stories260k-gptq" --quantize int4 \
  --quant-group 32 --quant-method gptq --calibration "$calibration" \
  --calibration-tokens 512 2>&1)"
grep -q "calibrating on 512 tokens of $calibration" <<<"$out" || {
  echo "FAIL: no calibration progress line in:"; echo "$out"; exit 1; } >&2
"$compile" -q "$model" -o "$work/stories260k-rtn" --quantize int4 --quant-group 32
ppl() { "$1" --perplexity "$text" --max-tokens 1000 | sed -n 's/.*ppl=\([0-9.]*\).*/\1/p'; }
rtn="$(ppl "$work/stories260k-rtn")"
gptq="$(ppl "$work/stories260k-gptq")"
echo "perplexity on $text: rtn $rtn, gptq $gptq"
python3 -c "import sys; sys.exit(0 if 0 < float('$gptq') < float('$rtn') else 1)" || {
  echo "FAIL: GPTQ's perplexity is not below RTN's" >&2; exit 1; }
"$compile" -q "$model" -o "$work/stories260k-int8" --quantize int8 --quant-group 32
"$compile" -q "$model" -o "$work/stories260k-int8-eq" --quantize int8 --quant-group 32 \
  --quant-equalize --calibration "$calibration" --calibration-tokens 512
"$compile" -q "$model" -o "$work/stories260k-awq" --quantize int4 --quant-group 32 \
  --quant-method gptq --quant-equalize --calibration "$calibration" --calibration-tokens 512
int8="$(ppl "$work/stories260k-int8")"
int8eq="$(ppl "$work/stories260k-int8-eq")"
echo "perplexity on $text: int8 $int8, int8 equalized $int8eq"
python3 -c "import sys; sys.exit(0 if abs(float('$int8eq') / float('$int8') - 1) < 0.02 else 1)" || {
  echo "FAIL: equalization changed the int8 model's perplexity by 2% or more" >&2; exit 1; }
# Sequential calibration: three stages, each calibrated with the stages
# before it rounded. It must say so, and its build must tell the story.
out="$("$compile" "$model" -o "$work/stories260k-seq" --quantize int4 \
  --quant-group 32 --quant-method gptq --calibration "$calibration" \
  --calibration-tokens 512 --calibration-stages 3 2>&1)"
grep -q "calibrating on 512 tokens of $calibration, 3 sequential stages" <<<"$out" || {
  echo "FAIL: no sequential calibration progress line in:"; echo "$out"; exit 1; } >&2
seq="$(ppl "$work/stories260k-seq")"
echo "perplexity on $text: gptq in 3 sequential stages $seq"
python3 -c "import sys; sys.exit(0 if 0 < float('$seq') < float('$rtn') else 1)" || {
  echo "FAIL: sequential GPTQ's perplexity is not below RTN's" >&2; exit 1; }
if err="$("$compile" "$model" -o "$work/stories260k-bad" --quantize int4 --quant-method gptq \
    --quant-equalize --calibration "$calibration" --calibration-tokens 64 \
    --calibration-stages 2 2>&1)"; then
  echo "FAIL: sequential calibration with equalization was accepted" >&2; exit 1
fi
grep -q "does not combine with equalization" <<<"$err" || {
  echo "FAIL: unexpected error: $err" >&2; exit 1; }
for variant in gptq awq seq; do
  story="$("$work/stories260k-$variant" -n 40 2>/dev/null)"
  echo "$variant output: $story"
  case "$story" in
    "Once upon a time"*) ;;
    *) echo "FAIL: the $variant build does not begin its story" >&2; exit 1 ;;
  esac
done
echo "stories260k-gptq: PASS"
