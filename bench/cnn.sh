#!/usr/bin/env bash
# torchvision CNNs: onnorm's outputs against PyTorch's, and onnorm's time
# against ONNX Runtime's (onnxruntime-node, CPU), at 1 and 2 threads.
#   bench/cnn.sh [ITERS] [MODEL_DIR...]
# ITERS: timed runs per round (default 10). ROUNDS=R in the environment sets
# the number of alternating rounds (default 3), THREADS=1,2 the thread counts.
# The folders default to bench/models/*, written by bench/gen_cnn.py (run
# here when bench/models holds none; about 1.5 min and 1.3 GB). Prints one
# Markdown table on stdout, progress on stderr, every measurement in
# build/cnn-raw.jsonl; exits 1 when a model fails to run or to match.
# The 30 folders took 10-17 minutes on 2 shared cores at ITERS=5; up to twice
# that at the default ITERS=10.
set -euo pipefail
cd "$(dirname "$0")/.."
ITERS=${1:-10}
shift || true
scripts/setup.sh >/dev/null
bench/ensure_ort.sh
if [ $# -eq 0 ] && ! compgen -G "bench/models/*/model.onnx" >/dev/null; then
  echo "bench/models is empty: generating the models (bench/gen_cnn.py)" >&2
  /usr/bin/python3 bench/gen_cnn.py >&2
fi
exec /usr/bin/python3 bench/cnn_bench.py --iters "$ITERS" --rounds "${ROUNDS:-3}" \
  --threads "${THREADS:-1,2}" "$@"
