#!/usr/bin/env bash
# Transformers (BERT-style encoder, GPT-style decoder, ViT, ConvNeXt, Swin):
# onnorm's outputs against PyTorch's, and onnorm's time against ONNX
# Runtime's (onnxruntime-node, CPU), at 1 and 2 threads (issue 12).
#   bench/transformers.sh [ITERS] [MODEL_DIR...]
# ITERS: timed runs per round (default 10). ROUNDS=R in the environment sets
# the number of alternating rounds (default 3), THREADS=1,2 the thread counts.
# The folders default to bench/models-tf/*, written by
# bench/gen_transformers.py (run here when bench/models-tf holds none; a few
# minutes and about 1.3 GB, most of it vit_b_16). The checking and timing is
# bench/cnn_bench.py's (titled "transformers" here); the raw
# measurements go to build/transformers-raw.jsonl. Prints one Markdown table
# on stdout, progress on stderr; exits 1 when a model fails to run or to match.
set -euo pipefail
cd "$(dirname "$0")/.."
ITERS=${1:-10}
shift || true
scripts/setup.sh >/dev/null
bench/ensure_ort.sh
if [ $# -eq 0 ]; then
  if ! compgen -G "bench/models-tf/*/model.onnx" >/dev/null; then
    echo "bench/models-tf is empty: generating the models (bench/gen_transformers.py)" >&2
    /usr/bin/python3 bench/gen_transformers.py >&2 ||
      echo "some models failed to generate (listed above); timing the others" >&2
  fi
  set --
  for d in bench/models-tf/*/; do
    case "$d" in *.partial/) continue ;; esac
    if [ -f "$d/model.onnx" ]; then set -- "$@" "${d%/}"; fi
  done
  if [ $# -eq 0 ]; then
    echo "no model folders in bench/models-tf" >&2
    exit 1
  fi
fi
exec /usr/bin/python3 bench/cnn_bench.py --iters "$ITERS" --rounds "${ROUNDS:-3}" \
  --threads "${THREADS:-1,2}" --raw build/transformers-raw.jsonl --title transformers "$@"
