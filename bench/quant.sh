#!/usr/bin/env bash
# Weight quantization of SmolLM2-135M-Instruct compiled by Frugal: size,
# speed, roofline ratio and fidelity of each storage, against llama.cpp on
# the same GGUF files, all measured in this run on this machine.
#
#   bash bench/quant.sh [--tokens N] [--runs R] [--ppl-tokens T] [--no-llamacpp]
#                       [--variants v1,v2,...]
#
# Variants: f32 (the HF checkpoint), Frugal's RTN group-32 int8 (symmetric)
# and int4 (symmetric rounded to nearest and chosen by GPTQ, asymmetric),
# symmetric int4 group 128 rounded to nearest, chosen by GPTQ, and by GPTQ
# after activation-aware equalization (AWQ-style scales folded into the
# RMSNorm and up projection weights), each with the tied logits matmul in
# int8 (--quant-int8) and the rest int4 (with SmolLM2's 576 input channels
# only down_proj divides into groups of 128, the others take 64). Activation-
# aware variants calibrate on 8192 tokens of the Apache, MPL, GFDL, Artistic,
# CC0 and BSD licenses (not the scored GPL-3). Then the GGUF files compiled as they
# are: the Q4_1 one the default model comes from (kept packed, transcoded
# losslessly) and a Q8_0 one re-encoded from it by bench/gguf_requant.py,
# and, with llama.cpp at hand, a Q4_K_M one made from the Q8_0 file by
# llama.cpp's quantizer (bench/gguf_kquant.py).
# Note: the f32 checkpoint is the Q4_1 GGUF dequantized, so Q4_1 is the
# original weights and int4/int8 requantize already-4-bit values.
#
# Frugal's int4 variants quantize the tied embedding table too
# (--quant-embeddings: one table, read by the lookup and the logits matmul),
# as the GGUF files store it; int8 keeps llm-compile's default, an f32 table
# for the lookup (only the looked-up rows are read) and an int8 copy for the
# logits matmul (an int8 lookup measured +0.52% perplexity against +0.28%).
# Decode reads every weight once per token, and the KV cache of every
# position so far, so tokens/s <= bandwidth / bytes read per token (the
# packed weights, without int8's f32 lookup table, plus the f32 KV cache at
# the mean decode step: with a 253-token prompt and 128 tokens, 14.6 MB,
# a fifth of int4's weights). 'w ratio' leaves the KV cache out.
# Bandwidth is DRAM bandwidth: membw sums a 1 GB buffer, far larger than the
# last-level cache (260 MB here). Reading the weights file itself instead
# gave 24 to 51 GB/s for the same 82 MB file from pass to pass, as it stayed
# in the shared L3 or not; a ratio above 1 means decode got cache help.
# Other tenants of this machine lower bandwidth and decode speed alike for
# seconds at a time (membw read 14 to 26 GB/s within one run of this
# script), so bandwidth is measured before each decode run and the ratio
# is the best decode over the best bandwidth. Perplexity is on the first T tokens
# of /usr/share/common-licenses/GPL-3 (windows of 512, token by token), KL
# and top-1 agreement against the f32 model's logits at the same positions.
# llama.cpp is PyPI llama-cpp-python built from source for this CPU
# (bench/setup_llamacpp.sh, cached under ~/.cache/frugal/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
CACHE="${FRUGAL_CACHE_DIR:-$HOME/.cache/frugal}"
TOKENS=128
RUNS=3
PPL_TOKENS=4096
LLAMACPP=1
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tokens) TOKENS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --ppl-tokens) PPL_TOKENS="$2"; shift 2 ;;
    --no-llamacpp) LLAMACPP=0; shift ;;
    --variants) ONLY="$2"; shift 2 ;;
    *) echo "usage: $0 [--tokens N] [--runs R] [--ppl-tokens T] [--no-llamacpp] [--variants v1,v2,...]" >&2; exit 2 ;;
  esac
done
THREADS="$(nproc)"

bash "$ROOT/scripts/setup.sh" >/dev/null
BUILD_DIR="$BUILD_DIR" FRUGAL_BUILD_TARGETS=llm-compile bash "$ROOT/scripts/build.sh" >/dev/null
MODEL_DIR="$(bash "$ROOT/scripts/fetch_default_model.sh" | tail -n 1 | sed 's/.*: //')"
GGUF_Q41="$CACHE/downloads/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_Q80="$CACHE/downloads/SmolLM2-135M-Instruct.Q8_0.gguf"
if [ ! -s "$GGUF_Q80" ]; then
  "$CACHE/convert-venv/bin/python" "$ROOT/bench/gguf_requant.py" "$GGUF_Q41" "$GGUF_Q80.tmp" --type Q8_0
  mv "$GGUF_Q80.tmp" "$GGUF_Q80"
fi
LLAMA_PY=""
if [ "$LLAMACPP" = 1 ]; then
  LLAMA_PY="$(bash "$ROOT/bench/setup_llamacpp.sh" | tail -n 1 | sed 's/.*: //')"
fi
GGUF_Q4KM="$CACHE/downloads/SmolLM2-135M-Instruct.Q4_K_M.gguf"
if [ -n "$LLAMA_PY" ] && [ ! -s "$GGUF_Q4KM" ]; then
  "$LLAMA_PY" "$ROOT/bench/gguf_kquant.py" "$GGUF_Q80" "$GGUF_Q4KM.tmp" --ftype Q4_K_M \
    >"$GGUF_Q4KM.log" 2>&1 || { echo "bench/quant.sh: see $GGUF_Q4KM.log" >&2; exit 1; }
  mv "$GGUF_Q4KM.tmp" "$GGUF_Q4KM"
fi
WORK="${BENCH_DIR:-$BUILD_DIR/bench}"
mkdir -p "$WORK"
clang-22 -O3 -march=native -fopenmp "$ROOT/bench/membw.c" -o "$WORK/membw" \
  -Wl,-rpath,/usr/lib/llvm-22/lib

TEXT=/usr/share/common-licenses/GPL-3
PROMPT_FILE="$WORK/prompt.txt"
head -c 1200 "$TEXT" | tr '\n' ' ' >"$PROMPT_FILE"
PROMPT="$(cat "$PROMPT_FILE")"

EMBED_F32_BYTES="$(python3 -c "import json,sys; c=json.load(open(sys.argv[1])); print(c['vocab_size']*c['hidden_size']*4)" "$MODEL_DIR/config.json")"
# Bytes of the (f32) KV cache per position: K and V of every layer.
KV_POS_BYTES="$(python3 -c "
import json, sys
c = json.load(open(sys.argv[1]))
hd = c.get('head_dim') or c['hidden_size'] // c['num_attention_heads']
print(c['num_hidden_layers'] * 2 * c.get('num_key_value_heads', c['num_attention_heads']) * hd * 4)" "$MODEL_DIR/config.json")"
CALIBRATION="$WORK/calibration.txt"
(cd /usr/share/common-licenses && cat Apache-2.0 MPL-2.0 MPL-1.1 GFDL-1.3 Artistic CC0-1.0 BSD) >"$CALIBRATION"
VARIANTS=(f32 int8 int4-sym int4-gptq32 int4-asym int4-g128 int4-gptq int4-awq gguf-q8_0 gguf-q4_1)
[ -s "$GGUF_Q4KM" ] && VARIANTS+=(gguf-q4_k_m)
if [ -n "$ONLY" ]; then
  # f32 is the fidelity reference of every other row.
  IFS=, read -r -a VARIANTS <<<"f32,${ONLY#f32,}"
fi
compile() {
  local v="$1" out="$WORK/smollm2-$1"
  local lc="$BUILD_DIR/bin/llm-compile"
  local calib="--calibration $CALIBRATION --calibration-tokens 8192"
  # The tied embedding table (lookup and logits matmul) in int8.
  local lm_int8="--quant-int8 model.embed_tokens.weight"
  case "$v" in
    f32) "$lc" -q "$MODEL_DIR" -o "$out" ;;
    int8) "$lc" -q "$MODEL_DIR" -o "$out" --quantize int8 --quant-group 32 ;;
    int4-sym) "$lc" -q --quant-embeddings "$MODEL_DIR" -o "$out" --quantize int4 --quant-group 32 ;;
    int4-asym) "$lc" -q --quant-embeddings "$MODEL_DIR" -o "$out" --quantize int4 --quant-group 32 --quant-scheme asymmetric ;;
    int4-gptq32) "$lc" -q --quant-embeddings "$MODEL_DIR" -o "$out" --quantize int4 --quant-group 32 --quant-method gptq $calib ;;
    int4-g128) "$lc" -q --quant-embeddings "$MODEL_DIR" -o "$out" --quantize int4 --quant-group 128 $lm_int8 ;;
    int4-gptq) "$lc" -q --quant-embeddings "$MODEL_DIR" -o "$out" --quantize int4 --quant-group 128 $lm_int8 --quant-method gptq $calib ;;
    int4-awq) "$lc" -q --quant-embeddings "$MODEL_DIR" -o "$out" --quantize int4 --quant-group 128 $lm_int8 --quant-method gptq \
                --quant-equalize $calib ;;
    gguf-q8_0) "$lc" -q "$GGUF_Q80" -o "$out" ;;
    gguf-q4_1) "$lc" -q "$GGUF_Q41" -o "$out" ;;
    gguf-q4_k_m) "$lc" -q "$GGUF_Q4KM" -o "$out" ;;
  esac
}
field() { sed "s/.*$1=\([0-9.e+-]*\).*/\1/" <<<"$2"; }

RESULTS="$WORK/quant-results.txt"
: >"$RESULTS"
REF_LOGITS="$WORK/f32.logits"
for v in "${VARIANTS[@]}"; do
  echo "bench/quant.sh: $v" >&2
  compile "$v"
  bin="$WORK/smollm2-$v"
  best_decode=0; best_prefill=0; ptoks=0
  # Bandwidth is measured before each run: other tenants of the machine
  # lower both for a while, so each is the best of its measurements.
  bws=()
  for run in $(seq "$RUNS"); do
    bws+=("$("$WORK/membw" 1024 5 2>/dev/null)")
    line="$("$bin" --prompt "$PROMPT" -n "$TOKENS" --quiet --bench 2>/dev/null | grep '^bench:')"
    best_decode="$(python3 -c "print(max($best_decode, $(field decode_tok_s "$line")))")"
    best_prefill="$(python3 -c "print(max($best_prefill, $(field prefill_tok_s "$line")))")"
    ptoks="$(field prompt_tokens "$line")"
  done
  if [ "$v" = f32 ]; then
    ppl_out="$("$bin" --perplexity "$TEXT" --ctx 512 --max-tokens "$PPL_TOKENS" --save-logits "$REF_LOGITS")"
  else
    ppl_out="$("$bin" --perplexity "$TEXT" --ctx 512 --max-tokens "$PPL_TOKENS" --reference-logits "$REF_LOGITS")"
  fi
  pline="$(grep '^perplexity:' <<<"$ppl_out")"
  fline="$(grep '^fidelity:' <<<"$ppl_out" || true)"
  ppl="$(field ppl "$pline")"; ptok="$(field tokens "$pline")"
  kl=nan; top1=nan; dlo=nan; dhi=nan
  if [ -n "$fline" ]; then
    kl="$(field mean_kl "$fline")"; top1="$(field top1_agreement "$fline")"
    dlo="$(field ppl_delta_lo_pct "$fline")"; dhi="$(field ppl_delta_hi_pct "$fline")"
  fi
  bw="$(python3 -c "import sys; print(max(float(x) for x in sys.argv[1:]))" "${bws[@]}")"
  fbytes="$(stat -c %s "$bin.fgw")"
  wbytes="$fbytes"
  # int8 reads its int8 logits copy, not the f32 lookup table.
  [ "$v" = int8 ] && wbytes=$((fbytes - EMBED_F32_BYTES))
  # Each decode step also reads the KV cache of every position so far: the
  # steps after the prompt's P tokens see P+1 .. P+TOKENS-1 positions, P +
  # TOKENS/2 on average.
  kvbytes=$(( KV_POS_BYTES * (ptoks + TOKENS / 2) ))
  rbytes=$(( wbytes + kvbytes ))
  ll_pre=nan; ll_dec=nan
  if [ -n "$LLAMA_PY" ] && [[ "$v" == gguf-* ]]; then
    gguf="$GGUF_Q41"; [ "$v" = gguf-q8_0 ] && gguf="$GGUF_Q80"
    [ "$v" = gguf-q4_k_m ] && gguf="$GGUF_Q4KM"
    lline="$("$LLAMA_PY" "$ROOT/bench/llamacpp_speed.py" "$gguf" "$PROMPT_FILE" "$TOKENS" "$RUNS" "$THREADS" 2>/dev/null | grep '^llamacpp:')"
    ll_pre="$(field prefill_tok_s "$lline")"; ll_dec="$(field decode_tok_s "$lline")"
  fi
  echo "$v $fbytes $rbytes $best_prefill $best_decode $bw $ppl $ptok $kl $top1 $ll_pre $ll_dec $ptoks $dlo $dhi $kvbytes" >>"$RESULTS"
done
rm -f "$REF_LOGITS"

python3 - "$RESULTS" "$TOKENS" "$THREADS" "$LLAMACPP" "$RUNS" <<'PY'
import math, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
tokens, threads, llama, runs = sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5]
f32_ppl = float(rows[0][6])
print(f"bench/quant.sh: SmolLM2-135M-Instruct, Frugal CPU ({threads} threads), "
      f"decode {tokens} tokens, prompt {rows[0][12]} tokens, best of {runs} runs")
print(f"perplexity: first {rows[0][7]} tokens of GPL-3, windows of 512; "
      "KL(f32 || variant) in nats; roofline = bandwidth / MB read per token")
print("read MB: weights read per token plus 'KV MB', the f32 KV cache of the "
      "mean decode step; 'w ratio': decode against the weights alone")
print("GB/s: the best of the bandwidths measured before each run; decode "
      "and prefill: the best of the runs")
print("dppl 95%: interval of the perplexity increase from the per-token "
      "differences of -ln p (tokens taken as independent)")
hdr = (f"{'variant':10} {'file MB':>8} {'KV MB':>6} {'read MB':>8} {'GB/s':>6} {'roof t/s':>8} "
       f"{'prefill':>8} {'decode':>8} {'ratio':>6} {'w ratio':>7} {'ppl':>8} {'dppl %':>7} "
       f"{'dppl 95%':>15} {'KL':>8} {'top1':>6}")
if llama:
    hdr += f" {'llama pre':>9} {'llama dec':>9} {'ours/ll pre':>11} {'ours/ll dec':>11}"
print(hdr)
for r in rows:
    v, fb, rb, pre, dec, bw, ppl, ptok, kl, top1, lpre, ldec, _, dlo, dhi, kvb = r
    ci = "-" if v == "f32" else f"{float(dlo):+.1f}..{float(dhi):+.1f}"
    fb, rb, pre, dec, bw, ppl = int(fb), int(rb), float(pre), float(dec), float(bw), float(ppl)
    kvb = int(kvb)
    roof = bw * 1e9 / rb
    wroof = bw * 1e9 / (rb - kvb)
    line = (f"{v:10} {fb/1e6:8.1f} {kvb/1e6:6.1f} {rb/1e6:8.1f} {bw:6.1f} {roof:8.1f} {pre:8.1f} "
            f"{dec:8.1f} {dec/roof:6.2f} {dec/wroof:7.2f} {ppl:8.3f} {100 * (ppl / f32_ppl - 1):+7.2f} "
            f"{ci:>15} {float(kl):8.5f} {float(top1):6.3f}")
    if llama:
        lp, ld = float(lpre), float(ldec)
        if math.isnan(lp):
            line += f" {'-':>9} {'-':>9} {'-':>11} {'-':>11}"
        else:
            line += f" {lp:9.1f} {ld:9.1f} {pre/lp:11.2f} {dec/ld:11.2f}"
    print(line)
PY
