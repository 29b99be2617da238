#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine (as root
# or with sudo): the toolchain from Debian, the dev dependencies from npm.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(build-essential cmake clang libclang-rt-14-dev emscripten libstb-dev libxnnpack-dev libpthreadpool-dev
      libsimde-dev python3-scipy python3-pil python3-numpy libonnx-testdata python3-onnx
      chromium firefox-esr webkit2gtk-driver xvfb)   # the browser tests' three engines (WebKitGTK runs under Xvfb)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
# Node.js 20 and npm: use what the machine has; Debian's packages only when absent
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
