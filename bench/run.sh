#!/usr/bin/env bash
# Normalization benchmark: onnorm against ONNX Runtime (onnxruntime-node, CPU)
# and against the copy floor, all measured in this one run.
#   bench/run.sh [ITERS] [K]
# Per case and thread count (1 and 2): time a single-node model and a chain
# of K identical nodes in each runtime and report (t(K) - t(1)) / (K - 1),
# which cancels per-call overhead. onnorm runs with graph passes off.
set -euo pipefail
cd "$(dirname "$0")/.."
ITERS=${1:-20}
K=${2:-5}

scripts/setup.sh >/dev/null
bench/ensure_ort.sh

MODELS=build/bench-models
/usr/bin/python3 bench/gen_models.py "$MODELS" "$K" > "$MODELS.cases"
RAW=build/bench-raw.jsonl
: > "$RAW"
while IFS=$'\t' read -r name op shape; do
  bytes=$(( $(echo "$shape" | tr 'x' '*') * 4 ))
  for t in 1 2; do
    { build/onnorm bench "$MODELS/${name}_k1.onnx" "$MODELS/${name}_k$K.onnx" --threads "$t" \
        --iters "$ITERS" --opt-level 0 || echo "onnorm could not run $name" >&2; } |
      sed "s/^{/{\"runtime\": \"onnorm\", \"case\": \"$name\", /" >> "$RAW"
    { node bench/ort_run.js "$MODELS/${name}_k1.onnx" "$MODELS/${name}_k$K.onnx" \
        --input "x:$shape" --threads "$t" --repeat "$ITERS" || echo "ORT could not run $name" >&2; } |
      sed "s/^{/{\"runtime\": \"ort\", \"case\": \"$name\", /" >> "$RAW"
    build/copy_floor "$bytes" "$t" "$ITERS" |
      sed "s/^{/{\"runtime\": \"floor\", \"case\": \"$name\", /" >> "$RAW"
  done
done < "$MODELS.cases"
/usr/bin/python3 bench/report.py "$RAW" "$K"
