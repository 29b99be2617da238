#!/usr/bin/env bash
# Runs every test: native (ctest, Release and ASan+UBSan), wasm in Node
# (node --test), the browser tests when Chromium is installed, and a bounded
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

echo "== browser tests (headless Chromium + playwright-core, web/server.js)"
if [ -x /usr/bin/chromium ]; then
  node tests/browser/run.mjs
else
  echo "skipped: /usr/bin/chromium is missing (apt-get install -y chromium)"
fi
