#!/usr/bin/env bash
# Builds everything: the native library, CLI, tests and benchmarks (build/),
# and the wasm modules (wasm/dist/deepdream-core-{st,mt}.{mjs,wasm}).
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$JOBS"
emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node;--no-experimental-fetch" >/dev/null
cmake --build build-wasm -j"$JOBS"
ls -l wasm/dist/
