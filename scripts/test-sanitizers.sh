#!/usr/bin/env bash
# Builds Frugal with AddressSanitizer + UndefinedBehaviorSanitizer into
# $SANITIZER_BUILD_DIR (default: build-asan/) and runs the whole ctest suite
# under them: the tools, the unit tests and, through llm-compile, instrumented
# model binaries (e2e-*). The first report fails the run.
# scripts/test.sh calls it after the normal suite when FRUGAL_SANITIZERS=1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${SANITIZER_BUILD_DIR:-$ROOT/build-asan}"

start=$(date +%s)
BUILD_DIR="$BUILD_DIR" BUILD_TYPE=RelWithDebInfo \
  FRUGAL_CMAKE_ARGS="-DFRUGAL_SANITIZE=address,undefined ${FRUGAL_CMAKE_ARGS:-}" \
  bash "$ROOT/scripts/build.sh"
built=$(date +%s)

# LeakSanitizer needs no suppressions: what libLLVM/libMLIR allocate for
# their globals (cl::opt, registries) stays reachable at exit.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-/usr/lib/llvm-22/bin/llvm-symbolizer}"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)"
echo "frugal sanitizers: all tests passed under ASan+UBSan" \
  "(build $(( built - start )) s, tests $(( $(date +%s) - built )) s)"
