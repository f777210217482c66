#!/bin/bash
# External data (TensorProto data_location = EXTERNAL): onnorm reads the
# tensors from files next to the model, refuses paths that leave the model's
# directory, and `onnorm optimize` writes large tensors back to a side file.
#   usage: test_external_data.sh ONNORM_BINARY
# The models are written here by python3-onnx; the expected outputs come
# from NumPy, not from onnorm.
set -euo pipefail
ONNORM=$(realpath "$1")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/onnorm-ext.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

/usr/bin/python3 - "$TMP" <<'EOF'
import os, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

tmp = sys.argv[1]
rng = np.random.default_rng(7)
C, M = 4, 16
x = rng.standard_normal((1, C, 6, 6)).astype(np.float32)
w = rng.standard_normal((M, C, 3, 3)).astype(np.float32)
b = rng.standard_normal(M).astype(np.float32)
scale = rng.uniform(0.5, 1.5, M).astype(np.float32)
shift = rng.standard_normal(M).astype(np.float32)

# The reference: a 3x3 valid convolution, then y * scale + shift per channel.
conv = np.zeros((1, M, 4, 4), np.float64)
for m in range(M):
    for i in range(4):
        for j in range(4):
            conv[0, m, i, j] = np.sum(x[0, :, i:i + 3, j:j + 3].astype(np.float64) * w[m]) + b[m]
ref = (conv * scale[None, :, None, None] + shift[None, :, None, None]).astype(np.float32)


def model(location_of):
    """Conv + Mul + Add; location_of(name) gives each initializer's external
    (location, offset, length) or None to keep it inline."""
    inits = []
    for name, arr in (("W", w), ("B", b), ("S", scale.reshape(1, M, 1, 1)),
                      ("T", shift.reshape(1, M, 1, 1))):
        t = numpy_helper.from_array(arr, name)
        loc = location_of(name, t)
        if loc is not None:
            t.ClearField("raw_data")
            t.data_location = TensorProto.EXTERNAL
            for k, v in zip(("location", "offset", "length"), loc):
                if v is not None:
                    e = t.external_data.add()
                    e.key, e.value = k, str(v)
        inits.append(t)
    g = helper.make_graph(
        [helper.make_node("Conv", ["X", "W", "B"], ["c"]),
         helper.make_node("Mul", ["c", "S"], ["m"]),
         helper.make_node("Add", ["m", "T"], ["Y"])],
        "ext", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, C, 6, 6])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, M, 4, 4])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def folder(name, location_of, files):
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    for fname, content in files.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(content)
    onnx.save(model(location_of), os.path.join(d, "model.onnx"))
    with open(os.path.join(d, "test_data_set_0", "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "X").SerializeToString())
    with open(os.path.join(d, "test_data_set_0", "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(ref, "Y").SerializeToString())


# good: W and S in one file at offsets (with a gap), B in a subfolder with no
# length given, T inline.
blob = bytearray(b"\x55" * 100)
offs = {}
for name, arr in (("W", w), ("S", scale)):
    offs[name] = (len(blob), arr.nbytes)
    blob += arr.tobytes() + b"\xaa" * 13
def good(name, t):
    if name in offs:
        return ("weights.bin", offs[name][0], offs[name][1])
    if name == "B":
        return ("sub/bias.bin", None, None)
    return None
folder("good", good, {"weights.bin": bytes(blob)})
os.makedirs(os.path.join(tmp, "good", "sub"))
with open(os.path.join(tmp, "good", "sub", "bias.bin"), "wb") as f:
    f.write(b.tobytes())

# bad ones: absolute path, "..", a segment past the end, a missing file,
# a length that does not match the tensor, a non-numeric offset.
with open(os.path.join(tmp, "outside.bin"), "wb") as f:
    f.write(w.tobytes())
def only_w(loc):
    return lambda name, t: loc if name == "W" else None
folder("abs", only_w((os.path.join(tmp, "outside.bin"), 0, w.nbytes)), {})
folder("dotdot", only_w(("../outside.bin", 0, w.nbytes)), {})
folder("short", only_w(("w.bin", 8, w.nbytes)), {"w.bin": w.tobytes()})
folder("missing", only_w(("nothere.bin", 0, w.nbytes)), {})
folder("length", only_w(("w.bin", 0, w.nbytes - 4)), {"w.bin": w.tobytes()})
folder("offset", only_w(("w.bin", "12abc", w.nbytes)), {"w.bin": w.tobytes()})
folder("symlink", only_w(("link.bin", 0, w.nbytes)), {})
os.symlink(os.path.join(tmp, "outside.bin"), os.path.join(tmp, "symlink", "link.bin"))
EOF

# The good model: loaded from its file, it matches NumPy (default tolerances).
rc=0
"$ONNORM" test "$TMP/good" >"$TMP/good.out" 2>&1 || rc=$?
if [ $rc -ne 0 ] || ! grep -q "^PASS" "$TMP/good.out"; then
    fail "model with external data"; cat "$TMP/good.out" >&2
else
    pass "model with external data matches NumPy"
fi
# ... also when started from another directory with a relative path.
rc=0
(cd "$TMP/good/sub" && "$ONNORM" test ../../good) >"$TMP/good2.out" 2>&1 || rc=$?
if [ $rc -ne 0 ]; then fail "relative model path"; cat "$TMP/good2.out" >&2; else pass "relative model path"; fi

# Each bad model: exit status 1 (not a crash) and a message naming the problem.
expect() { # folder, text the error must contain
    local rc=0
    "$ONNORM" info "$TMP/$1/model.onnx" >"$TMP/$1.out" 2>&1 || rc=$?
    if [ $rc -ne 1 ]; then
        fail "$1: exit status $rc, expected 1"; cat "$TMP/$1.out" >&2
    elif ! grep -q -- "$2" "$TMP/$1.out"; then
        fail "$1: message lacks '$2'"; cat "$TMP/$1.out" >&2
    elif ! grep -q "'W'" "$TMP/$1.out"; then
        fail "$1: message does not name the tensor"; cat "$TMP/$1.out" >&2
    else
        pass "$1 refused: $(head -c 160 "$TMP/$1.out" | tr '\n' ' ')"
    fi
}
expect abs "must be relative"
expect dotdot "must not contain '..'"
expect short "past the"
expect missing "cannot open external data file"
expect length "raw_data holds"
expect offset "not a byte count"
expect symlink "outside the model's directory"

# optimize: the output names a side file, both load again and match NumPy.
mkdir -p "$TMP/opt"
rc=0
"$ONNORM" optimize "$TMP/good/model.onnx" -o "$TMP/opt/model.onnx" >"$TMP/opt.out" 2>&1 || rc=$?
cp -r "$TMP/good/test_data_set_0" "$TMP/opt/"
if [ $rc -ne 0 ] || [ ! -s "$TMP/opt/model.onnx.data" ]; then
    fail "optimize of an external-data model (rc $rc, side file missing?)"; cat "$TMP/opt.out" >&2
elif ! "$ONNORM" test "$TMP/opt" >"$TMP/opt_test.out" 2>&1; then
    fail "optimized model with its side file"; cat "$TMP/opt_test.out" >&2
elif ! /usr/bin/python3 -c "import onnx,sys; onnx.checker.check_model(sys.argv[1]); \
    m = onnx.load(sys.argv[1], load_external_data=False); \
    assert any(t.data_location == onnx.TensorProto.EXTERNAL for t in m.graph.initializer)" \
    "$TMP/opt/model.onnx"; then
    fail "onnx cannot load the optimized model with its external data"
else
    pass "optimize writes model.onnx.data; onnorm and onnx.checker accept the pair"
fi

if [ $failures -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all external-data checks passed"
