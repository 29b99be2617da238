#!/bin/sh
# run_fuzz.sh — builds the libFuzzer targets of tests/fuzz with clang
# (libFuzzer + ASan + UBSan, the whole library instrumented) in their own build
# directory and runs each for a share of a bounded time. Exit status is
# non-zero when a fuzzer finds a crash.
#
#   tests/fuzz/run_fuzz.sh [total seconds=60] [target...]
#
# Targets (each with its seeds in tests/fuzz/corpus/<name>):
#   graphdef     dd_graphdef_import
#   onnx         dd_onnx_import, then a small forward and gradient (seeds made
#                here by make_onnx_corpus.py with python3-onnx)
#   model        model load (GraphDef or ONNX) + a small forward and gradient
#   dream_state  dd_dream_restore with the checksum recomputed (reaches validation)
#   image        dd_image_decode (PNG, JPEG)
#   train        what a training checkpoint feeds the C core (topology, weights,
#                Adam slots, iterations, RNG state, optimizer), then a step
# The total is split evenly among the targets run (at least 1 s each).
# Environment: DD_FUZZ_BUILD_DIR (default <repo>/build-fuzz), DD_FUZZ_JOBS
# (build parallelism, default 2). New inputs go to
# $DD_FUZZ_BUILD_DIR/corpus-<target>, crashes to $DD_FUZZ_BUILD_DIR/artifacts/.
set -eu
SECONDS_TO_RUN=${1:-60}
case "$SECONDS_TO_RUN" in
  ''|*[!0-9]*) echo "usage: $0 [seconds] [target...]" >&2; exit 2 ;;
esac
[ $# -gt 0 ] && shift
TARGETS=${*:-graphdef onnx model dream_state image train}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${DD_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

CC=clang cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDD_FUZZ=ON -DDD_BUILD_TESTS=OFF -DDD_WITH_XNNPACK=OFF -DDD_SANITIZE=OFF \
  -DCMAKE_C_COMPILER=clang -DCMAKE_C_FLAGS="$SAN" >/dev/null
n=0
for t in $TARGETS; do n=$((n + 1)); done
EACH=$((SECONDS_TO_RUN / n))
[ "$EACH" -ge 1 ] || EACH=1
for t in $TARGETS; do
  cmake --build "$BUILD" -j"${DD_FUZZ_JOBS:-2}" --target "fuzz_$t"
done

mkdir -p "$BUILD/artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for t in $TARGETS; do
  case "$t" in
    graphdef) extra="-max_len=8192 -dict=$ROOT/tests/fuzz/graphdef.dict" ;;
    onnx) extra="-max_len=8192 -dict=$ROOT/tests/fuzz/onnx.dict" ;;
    model) extra="-max_len=8192 -dict=$ROOT/tests/fuzz/graphdef.dict" ;;
    dream_state) extra="-max_len=16384" ;;
    image) extra="-max_len=4096" ;;
    train) extra="-max_len=1024" ;;
    *) echo "unknown target $t" >&2; exit 2 ;;
  esac
  seeds="$ROOT/tests/fuzz/corpus/$t"
  if [ "$t" = onnx ] || [ "$t" = model ]; then
    # generated seeds, not committed binaries (Debian's python3-onnx; pyenv shims may lack it);
    # the model target loads ONNX too (dd_model_load_graphdef picks the importer)
    py=python3
    [ -x /usr/bin/python3 ] && py=/usr/bin/python3
    [ "$t" = onnx ] && seeds="$BUILD/seeds-onnx" || seeds="$seeds $BUILD/seeds-onnx"
    "$py" "$ROOT/tests/fuzz/make_onnx_corpus.py" "$BUILD/seeds-onnx" ||
      { echo "make_onnx_corpus.py failed (apt-get install python3-onnx)" >&2; status=1; continue; }
  fi
  [ "$t" = model ] && seeds="$seeds $ROOT/tests/fuzz/corpus/graphdef"
  mkdir -p "$BUILD/corpus-$t"
  echo "== fuzz_$t: $EACH s"
  # shellcheck disable=SC2086
  "$BUILD/fuzz_$t" -max_total_time="$EACH" -timeout=10 -rss_limit_mb=2048 $extra \
    -artifact_prefix="$BUILD/artifacts/$t-" -print_final_stats=1 \
    "$BUILD/corpus-$t" $seeds || status=1
done
exit $status
