#!/usr/bin/env bash
# Whole torchvision networks against PyTorch: ResNet-18, MobileNetV2 and
# EfficientNet-B0 at opset 13, exported by bench/gen_cnn.py with random
# weights and BatchNorm statistics into the build directory (kept there and
# reused while the generator is unchanged), then run by onnorm and compared
# with PyTorch's outputs by bench/compare.py: |err| <= 1e-4 * max|expected|
# + 1e-3 * |expected| everywhere.
#   tests/test_torchvision_models.sh ONNORM_BIN SOURCE_DIR MODEL_DIR
set -euo pipefail
ONNORM=$1
SRC=$2
OUT=$3
MODELS=resnet18,mobilenet_v2,efficientnet_b0
PY=/usr/bin/python3 # Debian's python3-torch / python3-torchvision, whatever python3 is first on PATH

if ! "$PY" -c "import torch, torchvision, onnx" 2>/dev/null; then
  echo "FAIL: $PY cannot import torch, torchvision and onnx;" \
       "scripts/setup.sh installs python3-torchvision (which brings python3-torch) and python3-onnx"
  exit 1
fi
if ! "$PY" "$SRC/bench/gen_cnn.py" --out "$OUT" --models "$MODELS" --opsets 13 --skip-existing; then
  echo "FAIL: bench/gen_cnn.py could not export the models (see above)"
  exit 1
fi
dirs=()
for m in ${MODELS//,/ }; do dirs+=("$OUT/${m}_opset13"); done
if ! "$PY" "$SRC/bench/compare.py" --onnorm "$ONNORM" "${dirs[@]}"; then
  echo "FAIL: onnorm does not reproduce PyTorch's outputs on the models above"
  exit 1
fi
