#!/usr/bin/env bash
# Runs every test: native (ctest, Release and ASan+UBSan), wasm in Node
# (node --test), the browser tests in each installed engine (Chromium, Firefox, WebKit), and a bounded
# fuzz run of every libFuzzer target, FUZZ_SECONDS in all (default 60; 0 skips).
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
JOBS=${JOBS:-$(nproc)}
bash scripts/build.sh

echo "== native tests (Release)"
ctest --test-dir build --output-on-failure -j"$JOBS"

echo "== native tests (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDD_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$JOBS"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build-asan --output-on-failure -j"$JOBS"

if [ "${FUZZ_SECONDS:-60}" != 0 ] && [ -x tests/fuzz/run_fuzz.sh ]; then
  echo "== fuzz (${FUZZ_SECONDS:-60} s)"
  bash tests/fuzz/run_fuzz.sh "${FUZZ_SECONDS:-60}"
fi

echo "== wasm tests (node --test)"
node --test --test-concurrency=1 tests/js/

echo "== browser tests (Chromium: the full suite; Firefox and WebKit: the key tests; web/server.js)"
# each engine that is installed runs (chromium; firefox-esr; webkit2gtk-driver + xvfb); a missing one is skipped with a note
node tests/browser/run.mjs
