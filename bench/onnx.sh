#!/usr/bin/env bash
# Decode speed of Frugal against ONNX Runtime on the same ONNX models.
#
#   [PRECISIONS="fp32 int4"] bench/onnx.sh [--tokens N] [--runs R]
#
# Exports SmolLM2-135M-Instruct (scripts/fetch_default_model.sh) with the
# onnxruntime-genai model builder in fp32 and int4 (cached in $WORK),
# compiles both with llm-compile, and times greedy decoding of N new tokens
# (default 128) after the same prompt: our binaries (--bench) and
# onnxruntime-genai's generation loop. Prints decode tok/s, the ratio
# ours / ORT, and how many llm.attention / llm.rope / llm.rms_norm /
# llm.silu the llm-fuse-* passes raise in each imported model (report=true
# remarks). Needs the oracle venv (${FRUGAL_ORACLE_VENV:-~/.cache/frugal/
# oracle-venv}) with onnxruntime-genai.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
VENV="${FRUGAL_ORACLE_VENV:-$HOME/.cache/frugal/oracle-venv}"
TOKENS=128
RUNS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --tokens) TOKENS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "usage: $0 [--tokens N] [--runs R]" >&2; exit 2 ;;
  esac
done

BUILD_DIR="$BUILD_DIR" FRUGAL_BUILD_TARGETS="llm-compile llm-import llm-opt" \
  bash "$ROOT/scripts/build.sh" >/dev/null
MODEL_DIR="$(bash "$ROOT/scripts/fetch_default_model.sh" | tail -n 1 | sed 's/.*: //')"
WORK="${BENCH_DIR:-$BUILD_DIR/bench}/onnx"
mkdir -p "$WORK"
PROMPT="$(head -c 1200 /usr/share/common-licenses/GPL-3 | tr '\n' ' ')"

export_model() { # PRECISION OUT
  [ -f "$2/model.onnx" ] && return 0
  local tmp; tmp="$(mktemp -d)"
  cp "$MODEL_DIR"/*.json "$MODEL_DIR"/*.safetensors "$tmp"/
  mkdir -p "$2"
  "$VENV/bin/python" -m onnxruntime_genai.models.builder -i "$tmp" -o "$2" \
    -p "$1" -e cpu -c "$tmp/cache" >"$WORK/export-$1.log" 2>&1 \
    || { cat "$WORK/export-$1.log" >&2; rm -rf "$tmp"; exit 1; }
  # The builder writes tokenizer files; keep the checkpoint's as well.
  for f in "$MODEL_DIR"/tokenizer*.json; do
    [ -e "$2/$(basename "$f")" ] || cp "$f" "$2"/
  done
  rm -rf "$tmp"
}

fusions() { # MODEL.onnx -> "attention rope rms_norm silu"
  local log
  log="$("$BUILD_DIR/bin/llm-import" "$1" | "$BUILD_DIR/bin/llm-opt" \
    --llm-fuse-attention=report=true --llm-fuse-rope=report=true \
    --llm-fuse-rms-norm=report=true --llm-fuse-swiglu=report=true \
    -o /dev/null 2>&1 || true)"
  local a r n s
  a="$(sed -n 's/.*remark: llm-fuse-attention: \([0-9]*\) fused.*/\1/p' <<<"$log" | head -n 1)"
  r="$(sed -n 's/.*remark: llm-fuse-rope: \([0-9]*\) fused.*/\1/p' <<<"$log" | head -n 1)"
  n="$(sed -n 's/.*remark: llm-fuse-rms-norm: \([0-9]*\) fused.*/\1/p' <<<"$log" | head -n 1)"
  s="$(sed -n 's/.*remark: llm-fuse-swiglu: \([0-9]*\) fused.*/\1/p' <<<"$log" | head -n 1)"
  local ia ir in_
  ia="$("$BUILD_DIR/bin/llm-import" "$1" | grep -c 'llm.attention' || true)"
  ir="$("$BUILD_DIR/bin/llm-import" "$1" | grep -c 'llm.rope' || true)"
  in_="$("$BUILD_DIR/bin/llm-import" "$1" | grep -c 'llm.rms_norm' || true)"
  echo "$a $r $n $s $ia $ir $in_"
}

results=()
for prec in ${PRECISIONS:-fp32 int4}; do
  dir="$WORK/smollm2-$prec"
  export_model "$prec" "$dir"
  "$BUILD_DIR/bin/llm-compile" -q "$dir/model.onnx" -o "$WORK/smollm2-onnx-$prec"
  best=0
  for run in $(seq "$RUNS"); do
    line="$("$WORK/smollm2-onnx-$prec" --prompt "$PROMPT" -n "$TOKENS" --quiet --bench 2>/dev/null | grep '^bench:')"
    tok="$(sed 's/.*decode_tok_s=\([0-9.]*\).*/\1/' <<<"$line")"
    best="$(python3 -c "print(max($best, $tok))")"
  done
  ort="$("$VENV/bin/python" - "$dir" "$PROMPT" "$TOKENS" "$RUNS" <<'PY'
import sys, time
import onnxruntime_genai as og
path, prompt, n, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
model = og.Model(path)
tok = og.Tokenizer(model)
ids = tok.encode(prompt)
best = 0.0
for _ in range(runs):
    params = og.GeneratorParams(model)
    params.set_search_options(do_sample=False, max_length=len(ids) + n,
                              min_length=len(ids) + n)
    gen = og.Generator(model, params)
    gen.append_tokens(ids)          # prefill
    gen.generate_next_token()       # first new token (from the prefill)
    t0 = time.perf_counter()
    steps = 0
    while not gen.is_done() and steps < n - 1:
        gen.generate_next_token()
        steps += 1
    best = max(best, steps / (time.perf_counter() - t0))
print(f"{best:.2f}")
PY
)"
  read -r fa fr fn fs ia ir in_ <<<"$(fusions "$dir/model.onnx")"
  results+=("$prec $best $ort $fa $fr $fn $fs $ia $ir $in_")
done

python3 - "$TOKENS" "${results[@]}" <<'PY'
import sys
n = sys.argv[1]
print(f"bench/onnx.sh: SmolLM2-135M-Instruct, onnxruntime-genai exports, "
      f"greedy decode of {n} tokens (best of runs)")
print(f"{'model':8} {'Frugal tok/s':>12} {'ORT tok/s':>10} {'ours/ORT':>9}   "
      f"imported (attn rope rms)   fused by llm-fuse-* (attn rope rms silu)")
for row in sys.argv[2:]:
    p, ours, ort, fa, fr, fn, fs, ia, ir, in_ = row.split()
    ours, ort = float(ours), float(ort)
    print(f"{p:8} {ours:12.1f} {ort:10.1f} {ours / ort:9.2f}   "
          f"{ia:>6} {ir:>4} {in_:>4}             {fa:>6} {fr:>4} {fn:>4} {fs:>4}")
PY
