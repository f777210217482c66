#!/usr/bin/env bash
# Whole-model timing: onnorm against ONNX Runtime (onnxruntime-node, CPU) on
# the PyTorch-exported models in testdata/torch, same inputs, same thread
# counts, in one run. Times include each runtime's per-call overhead.
#   bench/models.sh [ITERS] [MODEL_DIR...]
set -euo pipefail
cd "$(dirname "$0")/.."
ITERS=${1:-200}
shift || true
DIRS=("$@")
[ ${#DIRS[@]} -eq 0 ] && DIRS=(testdata/torch/resnet_opset13 testdata/torch/mobile_opset13
                              testdata/torch/transformer_opset17 testdata/torch/unet_groupnorm_opset17)
scripts/setup.sh >/dev/null
bench/ensure_ort.sh
echo "| model | threads | onnorm median ms | ORT median ms | ORT / onnorm |"
echo "|---|---|---|---|---|"
for d in "${DIRS[@]}"; do
  # The input shape, for ORT: from the test folder's input_0.pb via onnorm info.
  shape=$(build/onnorm info "$d/model.onnx" | sed -n 's/^  inputs: \([^:]*\):float32\[\(.*\)\]$/\1:\2/p' | tr ',' 'x')
  for t in 1 2; do
    on=$(build/onnorm bench "$d/model.onnx" --threads "$t" --iters "$ITERS" | sed 's/.*"median_ms": \([0-9.]*\).*/\1/')
    ort=$(node bench/ort_run.js "$d/model.onnx" --input "$shape" --threads "$t" --repeat "$ITERS" |
          sed 's/.*"median_ms":\([0-9.]*\).*/\1/')
    ratio=$(awk -v a="$ort" -v b="$on" 'BEGIN { printf "%.2f", a / b }')
    echo "| $(basename "$d") | $t | $on | $ort | ${ratio}x |"
  done
done
