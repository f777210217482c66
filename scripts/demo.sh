#!/usr/bin/env bash
# The main job on a fresh machine: install, build, and run the default model
# (testdata/default: BatchNormalization -> InstanceNormalization ->
# LayerNormalization -> BatchNormalization) on its shipped input.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build/onnorm info testdata/default/model.onnx
build/onnorm run testdata/default/model.onnx \
  --input x=testdata/default/test_data_set_0/input_0.pb --repeat 100
