#!/usr/bin/env bash
# The Python package as installed: `cmake --install` into a temporary
# prefix, then, from outside the repository and without ONNORM_LIBRARY,
# `import onnorm` from PREFIX/lib/python3/dist-packages loads PREFIX's
# libonnorm.so and runs a model, an operator and the ONNX backend.
#   test_python_install.sh CMAKE BUILD_DIR
set -euo pipefail
CMAKE=$1
BUILD=$(cd "$2" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$CMAKE" --install "$BUILD" --prefix "$TMP/prefix" >"$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log" >&2; echo "FAIL: cmake --install" >&2; exit 1; }
PYDIR=$(find "$TMP/prefix" -type d -name onnorm -path '*dist-packages*' | head -1)
[ -n "$PYDIR" ] || { echo "FAIL: no onnorm package under $TMP/prefix" >&2; exit 1; }
cd "$TMP"
env -u ONNORM_LIBRARY PYTHONPATH="$(dirname "$PYDIR")" /usr/bin/python3 - "$TMP/prefix" <<'PY'
import os, sys
import numpy as np
import onnorm, onnorm.backend
from onnx import TensorProto, helper
prefix = os.path.realpath(sys.argv[1])
assert os.path.realpath(onnorm.__file__).startswith(prefix), onnorm.__file__
assert os.path.realpath(onnorm.library_path).startswith(prefix), onnorm.library_path
x = np.arange(8, dtype=np.float32).reshape(2, 4)
y = onnorm.rms_norm(x, np.ones(4, np.float32))
np.testing.assert_allclose(y, x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5), rtol=1e-5)
node = helper.make_node("Relu", ["x"], ["y"])
(r,) = onnorm.backend.run_node(node, [x - 3])
np.testing.assert_array_equal(r, np.maximum(x - 3, 0))
print("installed package OK:", onnorm.__file__, onnorm.library_path)
PY
