#!/usr/bin/env bash
# llm-compile --pareto: a 3-configuration sweep of stories260K (f32, int8,
# int4), validated by check_pareto.py (schema, recomputed frontiers, kept
# builds run, the others removed, the plot when matplotlib is at hand); a
# sweep whose plotter lacks matplotlib still writes its JSON and says how to
# get the plot; an unknown configuration is refused. Exits 77 (skipped) when
# the model file is absent.
#   pareto.sh LLM_COMPILE STORIES260K_GGUF WORK_DIR SCHEMA
set -euo pipefail
compile="$1"; gguf="$2"; work="$3"; schema="$4"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
text=/usr/share/common-licenses/GPL-3
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_unless_files "$SHARED_MODELS_HINT" "$gguf" "$text"
mkdir -p "$work"
dir="$work/pareto"
rm -rf "$dir" "$dir-noplot" "$work/pareto-broken"
workload=(--report-prompt-tokens 16 --report-decode-tokens 16
          --fidelity-text "$text" --fidelity-tokens 128)

"$compile" "$gguf" --pareto "$dir" --pareto-configs int8-g32,int4-sym-g32 \
  "${workload[@]}" > "$work/pareto.table" 2> "$work/pareto.err"
cat "$work/pareto.table"
for n in "1/3] f32" "2/3] int8-g32" "3/3] int4-sym-g32"; do
  grep -q "^llm-compile: \[$n: compiling ... measuring ... .* done in" \
    "$work/pareto.err" || { echo "no progress line '$n'" >&2; cat "$work/pareto.err" >&2; exit 1; }
done
grep -q "^pareto sweep: stories260K on host-cpu, 3 configurations" "$work/pareto.table"
grep -q "^json: $dir/pareto.json" "$work/pareto.table"
python3 "$here/check_pareto.py" "$schema" "$dir" --configs f32,int8-g32,int4-sym-g32

# The checker itself: a wrong frontier flag fails.
python3 - "$dir/pareto.json" "$work/pareto-broken.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["points"][0]["frontier"]["energy"] = not s["points"][0]["frontier"]["energy"]
json.dump(s, open(sys.argv[2], "w"))
PY
cp -r "$dir" "$work/pareto-broken"
cp "$work/pareto-broken.json" "$work/pareto-broken/pareto.json"
if python3 "$here/check_pareto.py" "$schema" "$work/pareto-broken" \
     --configs f32,int8-g32,int4-sym-g32 2> "$work/pareto-broken.err" > /dev/null; then
  echo "check_pareto.py accepted a wrong frontier flag" >&2
  exit 1
fi
grep -q "f32: frontier .* recomputed energy=" "$work/pareto-broken.err"

# Without matplotlib: the JSON is written, a line says the plot was skipped.
stub="$work/python-without-matplotlib"
printf '#!/bin/sh\nexit 3\n' > "$stub"
chmod +x "$stub"
FRUGAL_PYTHON="$stub" "$compile" -q "$gguf" --pareto "$dir-noplot" \
  --pareto-configs f32 "${workload[@]}" > "$work/pareto-noplot.table"
grep -q "^plot skipped: matplotlib is not installed for $stub (apt-get install python3-matplotlib" \
  "$work/pareto-noplot.table"
python3 "$here/check_pareto.py" "$schema" "$dir-noplot" --configs f32 --no-plot-expected

# An unknown configuration name is refused before anything is built.
if "$compile" "$gguf" --pareto "$work/pareto-bad" --pareto-configs int5-g32 \
     2> "$work/pareto-bad.err"; then
  echo "--pareto-configs int5-g32 was accepted" >&2
  exit 1
fi
grep -q "unknown weight storage 'int5'" "$work/pareto-bad.err"
echo "pareto checks passed"
