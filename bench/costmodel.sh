#!/usr/bin/env bash
# Cost-model validation: predicted vs measured decode latency and peak memory
# of SmolLM2-135M-Instruct compiled by Frugal, over weight storages (f32,
# int8, int4), KV-cache capacities (512, 2048, 8192) and KV dtypes (f32, f16,
# int8), with the error of each and their mean absolute error.
#
#   bash bench/costmodel.sh [--quick] [--runs R] [--tokens N]
#                           [--calibrate-once | --no-calibrate]
#
# The host is calibrated in the same run (llm-calibrate writes
# ~/.cache/frugal/targets/host-cpu.json, which `llm-compile --report` reads):
# on a shared VM bandwidth and thread scheduling move from minute to minute
# (other work), so by default a quick calibration runs right before each
# configuration is compiled and measured; --calibrate-once calibrates once
# (full) at the start, --no-calibrate uses the target file as it is.
# Each configuration is compiled with `--report` (the prediction at the
# workload's mean decode context) and its executable run R times with the
# same prompt ids and decode length as the report's workload (`--bench`);
# the measured decode time is the median of the runs, peak memory the median
# peak RSS. The prompt grows with the KV capacity (a quarter of it, at most
# 1024 tokens) so that attention's share of decode varies across
# configurations. Error = (predicted - measured) / measured.
# Targets (issue 9): mean absolute error < 15% for decode latency, < 5% for
# peak memory.
#
# --quick: two configurations (f32 and int4 at context 512), 2 runs: a smoke
# test of the script (under a minute).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
QUICK=0
RUNS=3
TOKENS=32
CALIBRATE=each
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; shift ;;
    --runs) RUNS="$2"; shift 2 ;;
    --tokens) TOKENS="$2"; shift 2 ;;
    --calibrate-once) CALIBRATE=once; shift ;;
    --no-calibrate) CALIBRATE=no; shift ;;
    *) echo "usage: $0 [--quick] [--runs R] [--tokens N] [--calibrate-once | --no-calibrate]" >&2; exit 2 ;;
  esac
done
[ "$QUICK" = 1 ] && [ "$RUNS" = 3 ] && RUNS=2
THREADS="$(nproc)"

bash "$ROOT/scripts/setup.sh" >/dev/null
BUILD_DIR="$BUILD_DIR" FRUGAL_BUILD_TARGETS="llm-compile llm-calibrate" \
  bash "$ROOT/scripts/build.sh" >/dev/null
MODEL_DIR="$(bash "$ROOT/scripts/fetch_default_model.sh" | tail -n 1 | sed 's/.*: //')"
WORK="${BENCH_DIR:-$BUILD_DIR/bench}/costmodel"
mkdir -p "$WORK"
LC="$BUILD_DIR/bin/llm-compile"
clang-22 -O3 -march=native -fopenmp "$ROOT/bench/membw.c" -o "$WORK/membw" \
  -Wl,-rpath,/usr/lib/llvm-22/lib

LOAD_START="$(cut -d' ' -f1 /proc/loadavg)"
START="$(date +%s)"
calibrate() {
  "$BUILD_DIR/bin/llm-calibrate" "$@" >"$WORK/calibrate.log" 2>&1 ||
    { cat "$WORK/calibrate.log" >&2; exit 1; }
}
if [ "$CALIBRATE" = once ]; then
  echo "bench/costmodel.sh: llm-calibrate" >&2
  calibrate
fi

# Configurations: name quantize context kv-dtype.
CONFIGS=()
if [ "$QUICK" = 1 ]; then
  CONFIGS=("f32 512 f32" "int4 512 f32")
else
  for q in f32 int8 int4; do
    for c in 512 2048 8192; do CONFIGS+=("$q $c f32"); done
  done
  # KV dtypes, where this llm-compile has them.
  if [[ "$("$LC" --help 2>&1 || true)" == *--kv-dtype* ]]; then
    for kv in f16 int8; do
      CONFIGS+=("int4 8192 $kv" "int8 2048 $kv")
    done
  else
    echo "bench/costmodel.sh: llm-compile has no --kv-dtype; KV dtypes skipped" >&2
  fi
fi

VOCAB="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['vocab_size'])" "$MODEL_DIR/config.json")"
# The report's prompt (tools/llm-compile/Report.cpp, promptIds): ids spread
# over the second quarter of the vocabulary.
prompt_ids() {
  python3 -c "
import sys
v, n = int(sys.argv[1]), int(sys.argv[2])
base, span = v // 4, max(1, v // 4)
print(','.join(str(base + (i * 7919) % span) for i in range(n)))" "$VOCAB" "$1"
}
field() { sed -n "s/.*[ :]$1=\([0-9.e+-]*\).*/\1/p" <<<"$2"; }

RESULTS="$WORK/results.txt"
: >"$RESULTS"
for cfg in "${CONFIGS[@]}"; do
  read -r q ctx kv <<<"$cfg"
  name="$q-c$ctx-kv$kv"
  prompt=$((ctx / 4)); [ "$prompt" -gt 1024 ] && prompt=1024
  echo "bench/costmodel.sh: $name (prompt $prompt, decode $TOKENS)" >&2
  [ "$CALIBRATE" = each ] && calibrate --quick
  args=(-q "$MODEL_DIR" -o "$WORK/$name" --max-context "$ctx"
        --report "$WORK/$name.json" --report-prompt-tokens "$prompt"
        --report-decode-tokens "$TOKENS")
  [ "$q" != f32 ] && args+=(--quantize "$q" --quant-group 32)
  [ "$kv" != f32 ] && args+=(--kv-dtype "$kv")
  "$LC" "${args[@]}" >/dev/null
  ids="$(prompt_ids "$prompt")"
  decodes=(); rss=()
  for run in $(seq "$RUNS"); do
    line="$("$WORK/$name" --ids "$ids" -n "$TOKENS" --bench --quiet 2>/dev/null | grep '^bench:')"
    decodes+=("$(field decode_tok_s "$line")")
    rss+=("$(field peak_rss_mb "$line")")
  done
  load="$(cut -d' ' -f1 /proc/loadavg)"
  echo "$name $WORK/$name.json ${decodes[*]} | ${rss[*]} | $load" >>"$RESULTS"
done
bw="$("$WORK/membw" "$WORK/$name.fgw" 5 2>/dev/null || echo nan)"
LOAD_END="$(cut -d' ' -f1 /proc/loadavg)"
ELAPSED=$(( $(date +%s) - START ))

python3 - "$RESULTS" "$TOKENS" "$THREADS" "$RUNS" "$bw" "$LOAD_START" "$LOAD_END" \
  "$ELAPSED" "$CALIBRATE" <<'PY'
import json, statistics, sys
res, tokens, threads, runs, bw, load0, load1, elapsed, calibrate = sys.argv[1:]
rows = []
for line in open(res):
    head, rss, load = (p.strip() for p in line.split("|"))
    name, path, *decodes = head.split()
    rep = json.load(open(path))
    pred = rep["predicted"]
    ms = sorted(1e3 / float(d) for d in decodes if float(d) > 0)
    meas_ms = statistics.median(ms)
    meas_mb = statistics.median(float(r) for r in rss.split())
    rows.append(dict(
        name=name, ctx=rep["workload"]["decode_context"],
        gbs=rep["target"]["memory_bandwidth"] / 1e9,
        pms=pred["decode_seconds_per_token"] * 1e3, mms=meas_ms,
        spread=100 * (ms[-1] - ms[0]) / meas_ms,
        pmb=pred["peak_memory_bytes"] / 2**20, mmb=meas_mb,
        load=load.split()[0]))
how = {"each": "quick llm-calibrate before each configuration",
       "once": "llm-calibrate once at the start",
       "no": "target file as found"}[calibrate]
print(f"bench/costmodel.sh: SmolLM2-135M-Instruct, Frugal CPU ({threads} threads), "
      f"{tokens} decode tokens after a prompt of context/4 (<= 1024), "
      f"median of {runs} runs; {how}")
print(f"membw {float(bw):.1f} GB/s at the end; load average {load0} at start, "
      f"{load1} at end; {elapsed} s. 'at': decode context predicted; 'cal': "
      f"calibrated GB/s; 'spread': (slowest - fastest run) / median")
print(f"{'config':18} {'at':>5} {'cal':>5} {'pred ms/t':>9} {'meas ms/t':>9} "
      f"{'err %':>7} {'spread':>6} {'pred MB':>8} {'meas MB':>8} {'err %':>7} "
      f"{'load':>5}")
lat_err, mem_err = [], []
for r in rows:
    le = 100 * (r["pms"] - r["mms"]) / r["mms"]
    me = 100 * (r["pmb"] - r["mmb"]) / r["mmb"]
    lat_err.append(abs(le)); mem_err.append(abs(me))
    print(f"{r['name']:18} {r['ctx']:5d} {r['gbs']:5.1f} {r['pms']:9.2f} "
          f"{r['mms']:9.2f} {le:+7.1f} {r['spread']:5.0f}% {r['pmb']:8.1f} "
          f"{r['mmb']:8.1f} {me:+7.1f} {r['load']:>5}")
lmae, mmae = statistics.mean(lat_err), statistics.mean(mem_err)
print(f"{'MAE':18} {'':5} {'':5} {'':9} {'':9} {lmae:7.1f} {'':6} {'':8} "
      f"{'':8} {mmae:7.1f}")
print(f"target: MAE < 15% decode latency ({'met' if lmae < 15 else 'NOT met'}), "
      f"< 5% peak memory ({'met' if mmae < 5 else 'NOT met'}) over "
      f"{len(rows)} configurations")
PY
