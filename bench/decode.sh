#!/usr/bin/env bash
# Decode and prefill speed of SmolLM2-135M-Instruct (f32) compiled by Frugal,
# with the memory-bandwidth roofline measured in the same run.
#
#   bash bench/decode.sh [--tokens N] [--runs R]
#
# Decode reads every weight once per token, so tokens/s <= bandwidth / bytes
# of weights; the ratio to that bound is what to compare across machines.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
TOKENS=128
RUNS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --tokens) TOKENS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "usage: $0 [--tokens N] [--runs R]" >&2; exit 2 ;;
  esac
done

bash "$ROOT/scripts/setup.sh" >/dev/null
BUILD_DIR="$BUILD_DIR" FRUGAL_BUILD_TARGETS=llm-compile bash "$ROOT/scripts/build.sh" >/dev/null
MODEL_DIR="$(bash "$ROOT/scripts/fetch_default_model.sh" | tail -n 1 | sed 's/.*: //')"
WORK="${BENCH_DIR:-$BUILD_DIR/bench}"
mkdir -p "$WORK"

clang-22 -O3 -march=native -fopenmp "$ROOT/bench/membw.c" -o "$WORK/membw" \
  -Wl,-rpath,/usr/lib/llvm-22/lib
"$BUILD_DIR/bin/llm-compile" -q "$MODEL_DIR" -o "$WORK/smollm2-f32"

PROMPT="$(head -c 1200 /usr/share/common-licenses/GPL-3 | tr '\n' ' ')"
best_decode=0; best_prefill=0; prompt_tokens=0; rss=0
for run in $(seq "$RUNS"); do
  out="$("$WORK/smollm2-f32" --prompt "$PROMPT" -n "$TOKENS" --quiet --bench 2>/dev/null)"
  line="$(grep '^bench:' <<<"$out")"
  predicted="$(grep '^memory:' <<<"$out" | sed 's/.*predicted_peak_mb=\([0-9.]*\).*/\1/' || true)"
  decode="$(sed 's/.*decode_tok_s=\([0-9.]*\).*/\1/' <<<"$line")"
  prefill="$(sed 's/.*prefill_tok_s=\([0-9.]*\).*/\1/' <<<"$line")"
  prompt_tokens="$(sed 's/.*prompt_tokens=\([0-9]*\).*/\1/' <<<"$line")"
  rss="$(sed 's/.*peak_rss_mb=\([0-9.]*\).*/\1/' <<<"$line")"
  best_decode="$(python3 -c "print(max($best_decode, $decode))")"
  best_prefill="$(python3 -c "print(max($best_prefill, $prefill))")"
done
# Bandwidth of reading the memory-mapped weights file, as decode does.
bw="$("$WORK/membw" "$WORK/smollm2-f32.fgw" 5 2>/dev/null)"
weights_bytes="$(stat -c %s "$WORK/smollm2-f32.fgw")"
python3 - "$bw" "$weights_bytes" "$best_decode" "$best_prefill" "$prompt_tokens" "$TOKENS" "$rss" "${predicted:-0}" <<'PY'
import sys
bw, wbytes, decode, prefill, ptoks, ntoks, rss, predicted = sys.argv[1:]
bw = float(bw); wbytes = int(wbytes); decode = float(decode); prefill = float(prefill)
roof = bw * 1e9 / wbytes
print("bench/decode.sh: SmolLM2-135M-Instruct f32, Frugal CPU")
print(f"  memory bandwidth (measured now) {bw:8.2f} GB/s")
print(f"  weights read per token          {wbytes/1e6:8.1f} MB")
print(f"  decode roofline                 {roof:8.1f} tok/s")
print(f"  decode ({ntoks} tokens, best)      {decode:8.1f} tok/s   ratio to roofline {decode/roof:5.2f}")
print(f"  prefill ({ptoks} tokens, best)    {prefill:8.1f} tok/s   ratio to decode   {prefill/decode:5.2f}")
print(f"  peak RSS                        {float(rss):8.1f} MB   predicted {float(predicted):.1f} MB")
PY
