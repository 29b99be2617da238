#!/bin/sh
# run_fuzz.sh — builds tests/fuzz/fuzz_graphdef with clang (libFuzzer + ASan +
# UBSan, the whole library instrumented) in its own build directory and runs it
# for a bounded time. Exit status is non-zero when the fuzzer finds a crash.
#
#   tests/fuzz/run_fuzz.sh [seconds=60]
#
# Environment: DD_FUZZ_BUILD_DIR (default <repo>/build-fuzz), DD_FUZZ_JOBS
# (build parallelism, default 2). Seeds come from tests/fuzz/corpus/graphdef;
# new inputs go to $DD_FUZZ_BUILD_DIR/corpus-graphdef, crashes to
# $DD_FUZZ_BUILD_DIR/artifacts/.
set -eu
SECONDS_TO_RUN=${1:-60}
case "$SECONDS_TO_RUN" in
  ''|*[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;;
esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${DD_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

CC=clang cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDD_FUZZ=ON -DDD_BUILD_TESTS=OFF -DDD_WITH_XNNPACK=OFF -DDD_SANITIZE=OFF \
  -DCMAKE_C_COMPILER=clang -DCMAKE_C_FLAGS="$SAN" >/dev/null
cmake --build "$BUILD" -j"${DD_FUZZ_JOBS:-2}" --target fuzz_graphdef

mkdir -p "$BUILD/corpus-graphdef" "$BUILD/artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
exec "$BUILD/fuzz_graphdef" \
  -max_total_time="$SECONDS_TO_RUN" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -dict="$ROOT/tests/fuzz/graphdef.dict" -artifact_prefix="$BUILD/artifacts/" \
  -print_final_stats=1 \
  "$BUILD/corpus-graphdef" "$ROOT/tests/fuzz/corpus/graphdef"
