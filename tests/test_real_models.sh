#!/usr/bin/env bash
# Real exports of the families of issue 11 against PyTorch: LR-ASPP
# segmentation, a two-stage Swin (training-mode Dropout with ratio 0), a
# two-layer ViT (unmasked attention), a diffusion-style UNet block (nearest Resize), ESPCN
# (PixelShuffle -> DepthToSpace), every F.interpolate form, a GPT-style
# decoder with a causal mask (Trilu), LSTM / GRU / RNN. Exported by
# tests/gen_real_models.py (random weights, PyTorch's outputs as expected
# values) into the build directory, reused while the generator is unchanged;
# compared by bench/compare.py: |err| <= 1e-4 * max|expected| + 1e-3 * |expected|.
#   tests/test_real_models.sh ONNORM_BIN SOURCE_DIR MODEL_DIR
set -euo pipefail
ONNORM=$1
SRC=$2
OUT=$3
PY=/usr/bin/python3 # Debian's python3-torch / python3-torchvision

if ! "$PY" -c "import torch, torchvision, onnx" 2>/dev/null; then
  echo "FAIL: $PY cannot import torch, torchvision and onnx;" \
       "scripts/setup.sh installs python3-torchvision (which brings python3-torch) and python3-onnx"
  exit 1
fi
if ! "$PY" "$SRC/tests/gen_real_models.py" --out "$OUT" --skip-existing; then
  echo "FAIL: tests/gen_real_models.py could not export the models (see above)"
  exit 1
fi
mapfile -t dirs < <("$PY" "$SRC/tests/gen_real_models.py" --out "$OUT" --list | tr ' ' '\n' | sed "s|^|$OUT/|")
if ! "$PY" "$SRC/bench/compare.py" --onnorm "$ONNORM" "${dirs[@]}"; then
  echo "FAIL: onnorm does not reproduce PyTorch's outputs on the models above"
  exit 1
fi
