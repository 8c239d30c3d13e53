#!/usr/bin/env bash
# The test command: installs what is missing, configures, builds and runs
# every test (lit + GoogleTest + doc freshness) with ctest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"

start=$(date +%s)
bash "$ROOT/scripts/setup.sh"
BUILD_DIR="$BUILD_DIR" bash "$ROOT/scripts/build.sh"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)"
echo "frugal test: all tests passed in $(( $(date +%s) - start )) s"
