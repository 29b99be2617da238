#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: install, build, and dream on a
# picture with the default model. Usage: bash scripts/quickstart.sh [INPUT] [OUTPUT]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh >/dev/null
IN=${1:-}
OUT=${2:-dream.jpg}
if [ -z "$IN" ]; then
  IN=sample.png
  node --input-type=module -e "
    import { samplePicture } from './models/make-default-model.mjs';
    import { encodeImage } from './wasm/js/index.js';
    import { writeFileSync } from 'node:fs';
    writeFileSync('sample.png', await encodeImage(samplePicture()));"
fi
echo "dreaming on $IN with the default model (models/default-model.pb) ..."
node wasm/js/cli.js "$IN" "$OUT" --layer curves
echo "done: $OUT (for the real Inception 5h: node wasm/js/cli.js --model inception5h --layer mixed4c IN.jpg OUT.jpg)"
