#!/usr/bin/env bash
# Installs what onnorm needs from Debian's archive (only what is missing),
# then configures and builds into build/.
#   scripts/setup.sh [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# Why each package is here:
#   gcc, make, cmake, pkg-config  the toolchain (gcc brings libgomp, OpenMP)
#   libprotobuf-c-dev, protobuf-c-compiler
#                                 ONNX files are protobuf; protoc-c generates C
#                                 bindings from the ONNX schema at build time
#   libonnx-dev                   that schema: /usr/include/onnx/onnx.proto
#   libcmocka-dev                 the unit-test framework
#   libonnx-testdata              official ONNX 1.12 backend test folders used
#                                 by the conformance tests
#   libopenblas-openmp-dev        sgemm for Conv, ConvTranspose, Gemm, MatMul;
#                                 the OpenMP build shares our libgomp threads
#   python3-onnx, python3-numpy   onnx.checker validates the files that
#                                 `onnorm optimize` writes; the test-data
#                                 generators in testdata/ use them too
#   python3-torch, python3-torchvision
#                                 the torchvision_models test exports
#                                 ResNet-18, MobileNetV2 and EfficientNet-B0
#                                 with bench/gen_cnn.py and checks onnorm
#                                 against PyTorch's outputs (torchvision
#                                 brings python3-pil and the libav* libraries)
PACKAGES=(gcc make cmake pkg-config libprotobuf-c-dev protobuf-c-compiler
          libonnx-dev libcmocka-dev libonnx-testdata libopenblas-openmp-dev
          python3-onnx python3-numpy python3-torch python3-torchvision)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "onnorm setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$(nproc)"
