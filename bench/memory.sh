#!/usr/bin/env bash
# Memory of SmolLM2-135M-Instruct (f32 weights) compiled by Frugal with an f16
# and an int8 KV cache: the peak memory the compiler predicts (weights +
# activation arena + KV cache + runtime) against the peak RSS measured, KV
# bytes per token, prefill and decode speed at contexts 256, 1k, 4k and 8k,
# the perplexity cost of the int8 cache, and aggregate decode throughput at
# batch 1, 4 and 16 where the runtime has batched generation.
#
#   bash bench/memory.sh [--quick] [--tokens N] [--ppl-tokens T]
#
# Each configuration is its own build (llm-compile --max-context C
# --kv-dtype D), so the prediction covers exactly the cache that is planned.
# Its prompt is GPL-3 (/usr/share/common-licenses/GPL-3, repeated where a
# context needs more) cut to about C - N tokens, so that prompt plus N
# decoded tokens fill the cache and every KV page is touched before the peak
# RSS is read. Decode reads the weights and the cache up to the current
# position once per token; the roofline column divides the memory bandwidth
# (bench/membw.c, measured in the same run) by those bytes.
# Perplexity is scored token by token on the first T tokens of GPL-3
# (default 2048; 512 with --quick) in windows of 1024 with the context-1k
# builds. --quick measures contexts 256 and 1k only.
# Time on 2 cores: 2 to 4 minutes with --quick; a full run 15 to 25
# minutes, most of it the 8k prefills and the two perplexity runs.
#
# Targets (printed as met / not met): predicted peak within 5% of the peak
# RSS for every configuration; the int8 cache about half the f16 one
# (ratio <= 0.52: int8 keeps one f16 scale per token, head and K/V) with a
# perplexity increase < 0.3%; at 8k the peak RSS <= the prediction; batch-16
# aggregate decode >= 6x batch 1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
TOKENS=64
QUICK=0
PPL_TOKENS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; shift ;;
    --tokens) TOKENS="$2"; shift 2 ;;
    --ppl-tokens) PPL_TOKENS="$2"; shift 2 ;;
    *) echo "usage: $0 [--quick] [--tokens N] [--ppl-tokens T]" >&2; exit 2 ;;
  esac
done
CONTEXTS=(256 1024 4096 8192)
[ "$QUICK" = 1 ] && CONTEXTS=(256 1024)
[ -n "$PPL_TOKENS" ] || { [ "$QUICK" = 1 ] && PPL_TOKENS=512 || PPL_TOKENS=2048; }
DTYPES=(f16 int8)
BATCHES=(1 4 16)
PPL_CTX=1024
THREADS="$(nproc)"
if [ "$TOKENS" -lt 1 ] || [ "$TOKENS" -ge 256 ]; then
  echo "bench/memory.sh: --tokens must be in [1, 255]" >&2; exit 2
fi

bash "$ROOT/scripts/setup.sh" >/dev/null
BUILD_DIR="$BUILD_DIR" FRUGAL_BUILD_TARGETS=llm-compile bash "$ROOT/scripts/build.sh" >/dev/null
MODEL_DIR="$(bash "$ROOT/scripts/fetch_default_model.sh" | tail -n 1 | sed 's/.*: //')"
WORK="${BENCH_DIR:-$BUILD_DIR/bench}/memory"
mkdir -p "$WORK"
LC="$BUILD_DIR/bin/llm-compile"
clang-22 -O3 -march=native -fopenmp "$ROOT/bench/membw.c" -o "$WORK/membw" \
  -Wl,-rpath,/usr/lib/llvm-22/lib

field() { sed -n "s/.*[ :]$1=\([0-9.e+-]*\).*/\1/p" <<<"$2" | head -n 1; }
# A key=value of the metadata header of a compiled model's weights file.
meta() { head -c 65536 "$1" | strings -n 3 | sed -n "s/^$2=//p" | head -n 1; }

# The prompt source: GPL-3 with newlines as spaces, twice over (about 16k
# tokens, under the kernel's 128 KiB limit on one argument).
TEXT=/usr/share/common-licenses/GPL-3
SOURCE="$WORK/source.txt"
{ tr '\n' ' ' <"$TEXT"; tr '\n' ' ' <"$TEXT"; } >"$SOURCE"
SOURCE_CHARS="$(wc -c <"$SOURCE")"

# Tokens of the first $2 characters of the source, by the model's own
# tokenizer: a run with --max-context 1 reports the prompt's length.
count_tokens() {
  local msg
  msg="$("$1" --prompt "$(head -c "$2" "$SOURCE")" -n 0 --max-context 1 2>&1 >/dev/null || true)"
  sed -n 's/.*the prompt has \([0-9]*\) tokens.*/\1/p' <<<"$msg"
}
# Characters of the source that make a prompt of P - 16 .. P tokens.
PROBE_BIN=""
SOURCE_TOKENS=0
prompt_chars() {
  local want="$1" chars got i
  chars=$(( want * SOURCE_CHARS / SOURCE_TOKENS ))
  for i in 1 2 3 4 5 6; do
    [ "$chars" -gt "$SOURCE_CHARS" ] && chars="$SOURCE_CHARS"
    got="$(count_tokens "$PROBE_BIN" "$chars")"
    if [ "$got" -le "$want" ] && [ "$got" -ge $((want - 16)) ]; then break; fi
    chars=$(( chars + (want - 8 - got) * SOURCE_CHARS / SOURCE_TOKENS ))
  done
  echo "$chars"
}

RESULTS="$WORK/results.txt"
PPL_RESULTS="$WORK/ppl.txt"
BATCH_RESULTS="$WORK/batch.txt"
: >"$RESULTS"; : >"$PPL_RESULTS"; : >"$BATCH_RESULTS"
bandwidth=""
HAVE_BATCH=0
declare -A PROMPT_CHARS
for ctx in "${CONTEXTS[@]}"; do
  for dt in "${DTYPES[@]}"; do
    echo "bench/memory.sh: kv $dt, context $ctx" >&2
    bin="$WORK/smollm2-kv$dt-$ctx"
    "$LC" -q "$MODEL_DIR" -o "$bin" --max-context "$ctx" --kv-dtype "$dt"
    if [ -z "$bandwidth" ]; then
      # Bandwidth of reading a weights file the way decode does.
      bandwidth="$("$WORK/membw" "$bin.fgw" 5 2>/dev/null)"
      PROBE_BIN="$bin"
      help="$("$bin" --help 2>/dev/null || true)"
      if grep -q -- '--batch' <<<"$help"; then HAVE_BATCH=1; fi
      SOURCE_TOKENS="$(count_tokens "$bin" "$SOURCE_CHARS")"
      [ -n "$SOURCE_TOKENS" ] || { echo "bench/memory.sh: cannot count prompt tokens" >&2; exit 1; }
      for c in "${CONTEXTS[@]}"; do PROMPT_CHARS[$c]="$(prompt_chars $((c - TOKENS)))"; done
    fi
    chars="${PROMPT_CHARS[$ctx]}"
    out="$("$bin" --prompt "$(head -c "$chars" "$SOURCE")" -n "$TOKENS" --quiet --bench 2>/dev/null)"
    bline="$(grep '^bench:' <<<"$out")"
    mline="$(grep '^memory:' <<<"$out")"
    echo "$dt $ctx $(meta "$bin.fgw" kv_bytes_per_token) $(meta "$bin.fgw" kv_cache_bytes)" \
      "$(meta "$bin.fgw" predicted_peak_bytes) $(meta "$bin.fgw" weights_bytes)" \
      "$(field peak_rss_mb "$mline") $(field prompt_tokens "$bline")" \
      "$(field decode_tokens "$bline") $(field prefill_tok_s "$bline")" \
      "$(field decode_tok_s "$bline") $(field arena_mb "$mline")" >>"$RESULTS"
    if [ "$ctx" = "$PPL_CTX" ]; then
      echo "bench/memory.sh: perplexity, kv $dt" >&2
      pline="$("$bin" --perplexity "$TEXT" --ctx "$PPL_CTX" --max-tokens "$PPL_TOKENS" | grep '^perplexity:')"
      echo "$dt $(field ppl "$pline") $(field tokens "$pline")" >>"$PPL_RESULTS"
    fi
    rm -f "$bin" "$bin.fgw"
  done
done

# Aggregate decode throughput of B sequences decoded together (`--prompts
# FILE --batch B`, continuous batching over the paged KV cache): one build
# for 16 sequences, the same 16 prompts at every batch size.
bin="$WORK/smollm2-batch"
if [ "$HAVE_BATCH" = 1 ]; then
  maxb=1
  for b in "${BATCHES[@]}"; do [ "$b" -gt "$maxb" ] && maxb="$b"; done
  echo "bench/memory.sh: batched build, --max-batch $maxb" >&2
  "$LC" -q "$MODEL_DIR" -o "$bin" --max-context 256 --kv-dtype f16 --max-batch "$maxb"
  prompts="$WORK/prompts.txt"
  : >"$prompts"
  for i in $(seq "$maxb"); do
    # Different prompts of similar length: 400 characters (about 90
    # tokens) from offsets of GPL-3.
    head -c $(((i - 1) * 997 + 400)) "$SOURCE" | tail -c 400 >>"$prompts"
    echo >>"$prompts"
  done
  for b in "${BATCHES[@]}"; do
    echo "bench/memory.sh: batch $b" >&2
    out="$("$bin" --prompts "$prompts" --batch "$b" -n "$TOKENS" --quiet --bench 2>/dev/null)"
    line="$(grep '^batch:' <<<"$out")"
    echo "$b $(field decode_tok_s "$line") $(field peak_rss_mb "$line") $(field mean_rows "$line")" >>"$BATCH_RESULTS"
  done
fi
rm -f "$bin" "$bin.fgw"

python3 - "$RESULTS" "$PPL_RESULTS" "$BATCH_RESULTS" "$bandwidth" "$TOKENS" \
  "$THREADS" "$PPL_CTX" "${BATCHES[*]}" "$SECONDS" <<'PY'
import sys
res, pplf, batchf, bw, ntok, threads, pplctx, batches, wall = sys.argv[1:]
bw = float(bw)
MB = 1024.0 * 1024.0
rows = []
for l in open(res):
    if not l.strip():
        continue
    (dt, ctx, bpt, kvb, pred, wb, rss, ptok, dtok, pre, dec, arena) = l.split()
    rows.append(dict(dt=dt, ctx=int(ctx), bpt=int(bpt), kv=int(kvb),
                     pred=int(pred) / MB, wb=int(wb), rss=float(rss),
                     ptok=int(ptok), dtok=int(dtok), pre=float(pre),
                     dec=float(dec), arena=float(arena)))
ppl = {l.split()[0]: (float(l.split()[1]), int(l.split()[2]))
       for l in open(pplf) if l.strip()}
batch = [l.split() for l in open(batchf) if l.strip()]

print(f"bench/memory.sh: SmolLM2-135M-Instruct f32 weights, Frugal CPU "
      f"({threads} threads), decode {ntok} tokens after a prompt of about "
      f"context - {ntok} tokens")
print(f"memory bandwidth (measured now) {bw:.2f} GB/s; roof = bandwidth / "
      "(weights + KV read per decoded token); MB = MiB")
print(f"{'config':12} {'KV B/tok':>8} {'KV MB':>7} {'arena':>6} {'pred MB':>8} "
      f"{'RSS MB':>8} {'err %':>6} {'prompt':>6} {'gen':>4} {'prefill':>8} {'decode':>7} "
      f"{'roof':>6} {'ratio':>6}")
for r in rows:
    err = 100.0 * (r["pred"] - r["rss"]) / r["rss"]
    r["err"] = err
    avg_ctx = r["ptok"] + r["dtok"] / 2.0
    roof = bw * 1e9 / (r["wb"] + r["bpt"] * avg_ctx)
    cfg = f"{r['dt']} {r['ctx'] // 1024}k" if r["ctx"] >= 1024 else f"{r['dt']} {r['ctx']}"
    print(f"{cfg:12} {r['bpt']:8d} {r['kv'] / MB:7.1f} {r['arena']:6.1f} "
          f"{r['pred']:8.1f} {r['rss']:8.1f} {err:+6.1f} {r['ptok']:6d} {r['dtok']:4d} "
          f"{r['pre']:8.1f} {r['dec']:7.1f} {roof:6.1f} {r['dec'] / roof:6.2f}")

print()
print("int8 vs f16 KV cache")
by = {(r["dt"], r["ctx"]): r for r in rows}
ratios = []
for ctx in sorted({r["ctx"] for r in rows}):
    a, b = by.get(("f16", ctx)), by.get(("int8", ctx))
    if not (a and b):
        continue
    ratio = b["kv"] / a["kv"]
    ratios.append(ratio)
    print(f"  context {ctx:5d}: KV {a['kv'] / MB:7.1f} MB -> {b['kv'] / MB:7.1f} MB "
          f"(ratio {ratio:.3f}), peak RSS {a['rss']:7.1f} -> {b['rss']:7.1f} MB, "
          f"decode {a['dec']:.1f} -> {b['dec']:.1f} tok/s")
dppl = None
if "f16" in ppl and "int8" in ppl:
    p16, n16 = ppl["f16"]
    p8, _ = ppl["int8"]
    dppl = 100.0 * (p8 - p16) / p16
    print(f"  perplexity (first {n16} tokens of GPL-3, windows of {pplctx}): "
          f"f16 {p16:.4f}, int8 {p8:.4f}, delta {dppl:+.3f}%")

print()
print(f"aggregate decode throughput (kv f16, context 256, {ntok} tokens each)")
b1 = None
if not batch:
    for b in batches.split():
        print(f"  batch {int(b):2d}: not available (batched generation not implemented)")
else:
    for b, dec, rss, mean_rows in batch:
        dec = float(dec)
        if b == "1":
            b1 = dec
        rel = f"  {dec / b1:5.2f}x batch 1" if b1 else ""
        print(f"  batch {int(b):2d}: {dec:8.1f} tok/s  mean rows {float(mean_rows):5.2f}"
              f"  peak RSS {float(rss):7.1f} MB{rel}")

def verdict(ok):
    return "met" if ok else "NOT met"
print()
print("targets")
worst = max(rows, key=lambda r: abs(r["err"]))
print(f"  prediction within 5% of peak RSS, every config: "
      f"{verdict(abs(worst['err']) <= 5.0)} (worst {worst['err']:+.1f}%, "
      f"{worst['dt']} {worst['ctx']})")
if ratios:
    print(f"  int8 KV about half of f16 (<= 0.52): {verdict(max(ratios) <= 0.52)} "
          f"(ratio {max(ratios):.3f})")
if dppl is not None:
    print(f"  int8 KV perplexity increase < 0.3%: {verdict(dppl < 0.3)} ({dppl:+.3f}%)")
big = [r for r in rows if r["ctx"] == 8192]
if big:
    ok = all(r["rss"] <= r["pred"] for r in big)
    print(f"  8k context peak RSS <= prediction: {verdict(ok)} (" +
          ", ".join(f"{r['dt']} RSS {r['rss']:.1f} vs predicted {r['pred']:.1f} MB" for r in big) + ")")
else:
    print("  8k context peak RSS <= prediction: not measured (--quick)")
if batch and b1:
    b16 = [float(d) for b, d, _, _ in batch if b == "16"]
    if b16:
        print(f"  batch-16 aggregate decode >= 6x batch 1: {verdict(b16[0] >= 6 * b1)} "
              f"({b16[0] / b1:.2f}x)")
else:
    print("  batch-16 aggregate decode >= 6x batch 1: not measured (no batched generation)")
print(f"wall time {int(wall)} s")
PY
