#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, and runs the whole
# suite (cmocka unit tests, CLI checks, ONNX conformance folders) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh -DONNORM_WERROR=ON -DONNORM_TESTS=ON
cd build
ctest --output-on-failure --timeout 600
