#!/usr/bin/env bash
# The test command: installs what is missing, configures, builds and runs
# every test (lit + GoogleTest + doc freshness) with ctest; with
# FRUGAL_SANITIZERS=1, then all of them again under ASan+UBSan.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"

start=$(date +%s)
bash "$ROOT/scripts/setup.sh"
BUILD_DIR="$BUILD_DIR" bash "$ROOT/scripts/build.sh"
# The default model backs the SmolLM2 end-to-end test (tokenizer ids, chat).
bash "$ROOT/scripts/fetch_default_model.sh"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)"
echo "frugal test: all tests passed in $(( $(date +%s) - start )) s"
# FRUGAL_SANITIZERS=1 (.ci/run sets it) reruns the whole suite under
# ASan+UBSan in build-asan/.
if [ "${FRUGAL_SANITIZERS:-0}" = 1 ]; then
  bash "$ROOT/scripts/test-sanitizers.sh"
  echo "frugal test: all tests and sanitizer tests passed in" \
    "$(( $(date +%s) - start )) s"
fi
