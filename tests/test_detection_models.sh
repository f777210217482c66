#!/usr/bin/env bash
# Detection models against PyTorch: SSDlite and Faster R-CNN (MobileNetV3-
# Large backbones, 11 classes, 160x160 images) at opsets 11 and 17, exported by
# bench/gen_detection.py with random weights into the build directory (reused
# while the generator is unchanged), then run by onnorm and paired with
# PyTorch's boxes, scores and labels by bench/compare_detection.py (equal
# scores may come in another order; only ties at the cut-off may differ).
#   tests/test_detection_models.sh ONNORM_BIN SOURCE_DIR MODEL_DIR
set -euo pipefail
ONNORM=$1
SRC=$2
OUT=$3
MODELS=ssdlite_small,fasterrcnn_small
PY=/usr/bin/python3 # Debian's python3-torch / python3-torchvision

if ! "$PY" -c "import torch, torchvision, onnx" 2>/dev/null; then
  echo "FAIL: $PY cannot import torch, torchvision and onnx;" \
       "scripts/setup.sh installs python3-torchvision (which brings python3-torch) and python3-onnx"
  exit 1
fi
if ! "$PY" "$SRC/bench/gen_detection.py" --out "$OUT" --models "$MODELS" --skip-existing; then
  echo "FAIL: bench/gen_detection.py could not export the models (see above)"
  exit 1
fi
mapfile -t dirs < <("$PY" "$SRC/bench/gen_detection.py" --out "$OUT" --models "$MODELS" --list | tr ' ' '\n' | sed "s|^|$OUT/|")
if ! "$PY" "$SRC/bench/compare_detection.py" --onnorm "$ONNORM" "${dirs[@]}"; then
  echo "FAIL: onnorm does not reproduce PyTorch's detections on the models above"
  exit 1
fi
