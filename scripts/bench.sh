#!/usr/bin/env bash
# Prints benchmark figures (not tests): kernels natively and in wasm beside
# TensorFlow.js's wasm backend, gradient steps, end-to-end dream time.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for b in build/bench_*; do [ -x "$b" ] && "$b"; done
for b in tests/bench/*.mjs; do [ -f "$b" ] && node "$b"; done
