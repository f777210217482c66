#!/bin/bash
# Makes the README's `onnorm stats` images from the HTML report.
#
#   docs/make_stats_charts.sh [ONNORM]      (default: build/onnorm)
#
# Runs `onnorm stats` on testdata/torch/resnet_opset13 with 64 synthetic
# samples (NumPy, seed 1: unit-normal pixels with a per-sample, per-channel
# scale and offset, which the model's randomized BatchNormalization
# statistics were not fitted to), writes docs/stats_example.html, and
# renders two of its inline SVG charts to PNG with rsvg-convert (Debian
# package librsvg2-bin): docs/stats_drift.png (the standardized mean shift
# per BatchNormalization) and docs/stats_noise.png (the batch mean error
# against the batch size).
set -euo pipefail
cd "$(dirname "$0")/.."
ONNORM=${1:-build/onnorm}
command -v rsvg-convert >/dev/null || { echo "needs rsvg-convert: apt-get install librsvg2-bin" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
/usr/bin/python3 - "$TMP" <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(1)
for i in range(64):
    x = rng.normal(0, 1, (3, 32, 32)) * rng.uniform(0.5, 1.5, (3, 1, 1)) + rng.normal(0, 0.3, (3, 1, 1))
    np.save("%s/s%03d.npy" % (sys.argv[1], i), x.astype(np.float32))
PY
"$ONNORM" stats testdata/torch/resnet_opset13/model.onnx --data "$TMP" --html docs/stats_example.html
/usr/bin/python3 - docs/stats_example.html "$TMP" <<'PY'
import re, sys
svgs = re.findall(r"<svg.*?</svg>", open(sys.argv[1], encoding="utf-8").read(), re.S)
for i, s in enumerate(svgs):
    open("%s/chart%d.svg" % (sys.argv[2], i), "w", encoding="utf-8").write(s)
PY
rsvg-convert "$TMP/chart0.svg" -o docs/stats_drift.png
rsvg-convert "$TMP/chart4.svg" -o docs/stats_noise.png
echo "wrote docs/stats_example.html docs/stats_drift.png docs/stats_noise.png"
