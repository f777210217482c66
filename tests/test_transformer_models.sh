#!/usr/bin/env bash
# The small transformers of bench/gen_transformers.py against PyTorch: the
# BERT-style encoder (6 layers, width 384), the GPT-style causal decoder
# (4 layers, width 256) and the 4-layer ViT, each at opset 14 (LayerNorm
# decomposed) and 17 (LayerNormalization), exported with random weights into
# the build directory (kept there and reused while the generator is
# unchanged), run by onnorm and compared with PyTorch's outputs by
# bench/compare.py: |err| <= 1e-4 * max|expected| + 1e-3 * |expected|.
# The larger ones (vit_b_16, convnext_tiny, swin_t, batch 8) are left to
# bench/transformers.sh.
#   tests/test_transformer_models.sh ONNORM_BIN SOURCE_DIR MODEL_DIR
set -euo pipefail
ONNORM=$1
SRC=$2
OUT=$3
MODELS=bert_l6_w384_s128,gpt_l4_w256_s128,vit_small_l4_w256
PY=/usr/bin/python3 # Debian's python3-torch / python3-torchvision

if ! "$PY" -c "import torch, torchvision, onnx" 2>/dev/null; then
  echo "FAIL: $PY cannot import torch, torchvision and onnx;" \
       "scripts/setup.sh installs python3-torchvision (which brings python3-torch) and python3-onnx"
  exit 1
fi
if ! "$PY" "$SRC/bench/gen_transformers.py" --out "$OUT" --models "$MODELS" --opsets 14,17 --skip-existing; then
  echo "FAIL: bench/gen_transformers.py could not export the models (see above)"
  exit 1
fi
dirs=()
for m in ${MODELS//,/ }; do dirs+=("$OUT/${m}_opset14" "$OUT/${m}_opset17"); done
if ! "$PY" "$SRC/bench/compare.py" --onnorm "$ONNORM" "${dirs[@]}"; then
  echo "FAIL: onnorm does not reproduce PyTorch's outputs on the models above"
  exit 1
fi
