#!/usr/bin/env bash
# Installs what the benchmarks need when missing: Node.js and npm (Debian),
# python3-onnx and python3-numpy (Debian, to write benchmark models), and
# onnxruntime-node (npm, --ignore-scripts: its install script only fetches
# GPU binaries; the CPU build ships in the package).
set -euo pipefail
cd "$(dirname "$0")"
need=()
for p in python3-onnx python3-numpy; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
command -v node >/dev/null && command -v npm >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [ ! -d node_modules/onnxruntime-node ]; then
  npm install --ignore-scripts --no-audit --no-fund >/dev/null
fi
