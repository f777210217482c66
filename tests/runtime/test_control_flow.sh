#!/bin/bash
# If, Loop and Scan beyond the official folders: outer-scope values read by
# nested subgraphs, Loop stopped by M, by the condition or not entered,
# scan outputs, Scan's axes and directions; `onnorm optimize` writing the
# subgraphs back; and clean errors on malformed ones.
#   usage: test_control_flow.sh ONNORM_BINARY
# The models are built here with python3-onnx; expected outputs are computed
# with NumPy, independently of onnorm.
set -euo pipefail
ONNORM=$(realpath "$1")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/onnorm-cf.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

/usr/bin/python3 - "$TMP" <<'EOF'
import os, sys
import numpy as np
import onnx
from onnx import helper as h, numpy_helper, TensorProto as TP

tmp = sys.argv[1]
rng = np.random.default_rng(3)
F, I64, B = TP.FLOAT, TP.INT64, TP.BOOL


def vi(name, t, shape=None):
    return h.make_tensor_value_info(name, t, shape)


def folder(name, nodes, inputs, outputs, feeds, expected, inits=(), opset=17):
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    g = h.make_graph(nodes, name, inputs, outputs, list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(d, "model.onnx"))
    for i, (n, a) in enumerate(feeds):
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a, n).SerializeToString())
    for i, (n, a) in enumerate(expected):
        with open(os.path.join(d, "test_data_set_0", f"output_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a, n).SerializeToString())


x = rng.standard_normal((2, 3)).astype(np.float32)
w = rng.standard_normal((2, 3)).astype(np.float32)

# 1. If whose branches read outer values (x, and the initializer w), one
#    branch nesting another If that reads x too.
inner_then = h.make_graph([h.make_node("Mul", ["x", "w"], ["it"])], "inner_then", [], [vi("it", F, [2, 3])])
inner_else = h.make_graph([h.make_node("Sub", ["x", "w"], ["ie"])], "inner_else", [], [vi("ie", F, [2, 3])])
then_g = h.make_graph([h.make_node("If", ["c2"], ["t_out"], then_branch=inner_then,
                                   else_branch=inner_else)], "then", [], [vi("t_out", F, [2, 3])])
else_g = h.make_graph([h.make_node("Add", ["x", "w"], ["e_out"])], "else", [], [vi("e_out", F, [2, 3])])
for c1, c2 in ((True, True), (True, False), (False, True)):
    exp = (x * w if c2 else x - w) if c1 else x + w
    folder(f"if_nested_{int(c1)}{int(c2)}",
           [h.make_node("If", ["c1"], ["y"], then_branch=then_g, else_branch=else_g)],
           [vi("c1", B, []), vi("c2", B, []), vi("x", F, [2, 3])], [vi("y", F, [2, 3])],
           [("c1", np.array(c1)), ("c2", np.array(c2)), ("x", x)], [("y", exp)],
           [numpy_helper.from_array(w, "w")])

# 2. Loop: a carried sum and a scan output; the body reads the outer x.
#    Stopped by M, by the condition (s > limit), or never entered (M = 0).
body = h.make_graph(
    [h.make_node("Add", ["s_in", "x"], ["s_out"]),
     h.make_node("ReduceSum", ["s_out"], ["tot"], keepdims=0),
     h.make_node("Sub", ["limit", "tot"], ["room"]),  # cond: tot < limit
     h.make_node("Relu", ["room"], ["room_pos"]),
     h.make_node("Cast", ["room_pos"], ["c_out"], to=B),
     h.make_node("Cast", ["i"], ["i_f"], to=F),
     h.make_node("Mul", ["s_out", "i_f"], ["scan"])],
    "body", [vi("i", I64, []), vi("c_in", B, []), vi("s_in", F, [2, 3])],
    [vi("c_out", B, []), vi("s_out", F, [2, 3]), vi("scan", F, [2, 3])])
xp = np.abs(x) + 0.5
def loop_ref(M, limit):
    s, scans, i, cond = np.zeros_like(xp), [], 0, True
    while i < M and cond:
        s = s + xp
        cond = bool(s.sum() < limit)
        scans.append(s * np.float32(i))
        i += 1
    return s, (np.stack(scans) if scans else np.zeros((0,), np.float32))
for tag, M, limit in (("m", 4, 1e9), ("cond", 100, 3 * xp.sum() - 1e-3), ("zero", 0, 1e9)):
    s, sc = loop_ref(M, limit)
    folder(f"loop_{tag}",
           [h.make_node("Loop", ["M", "c0", "s0"], ["s_final", "scans"], body=body)],
           [vi("M", I64, []), vi("c0", B, []), vi("s0", F, [2, 3]), vi("x", F, [2, 3]),
            vi("limit", F, [])],
           [vi("s_final", F, [2, 3]), vi("scans", F, ["n", 2, 3])],
           [("M", np.array(M, np.int64)), ("c0", np.array(True)), ("s0", np.zeros_like(xp)),
            ("x", xp), ("limit", np.array(limit, np.float32))],
           [("s_final", s), ("scans", sc)])  # no iteration: scans has shape [0]

# 3. Scan with a state, two scan inputs on axes 1 and 0 (the second read in
#    reverse) and two scan outputs (axis 1, and axis 0 stacked in reverse).
a = rng.standard_normal((3, 5)).astype(np.float32)  # scanned along axis 1 (5 steps)
b = rng.standard_normal((5, 3)).astype(np.float32)  # scanned along axis 0, reversed
sbody = h.make_graph(
    [h.make_node("Add", ["st", "ai"], ["t1"]), h.make_node("Mul", ["t1", "bi"], ["st_out"]),
     h.make_node("Sub", ["st_out", "ai"], ["o1"]), h.make_node("Add", ["st_out", "bi"], ["o2"])],
    "sbody", [vi("st", F, [3]), vi("ai", F, [3]), vi("bi", F, [3])],
    [vi("st_out", F, [3]), vi("o1", F, [3]), vi("o2", F, [3])])
st = np.ones(3, np.float32)
o1s, o2s = [], []
for t in range(5):
    ai, bi = a[:, t], b[4 - t]
    st = (st + ai) * bi
    o1s.append(st - ai)
    o2s.append(st + bi)
o1 = np.stack(o1s, axis=1)
o2 = np.stack(o2s[::-1], axis=0)
folder("scan_axes",
       [h.make_node("Scan", ["s0", "a", "b"], ["s_final", "o1", "o2"], body=sbody,
                    num_scan_inputs=2, scan_input_axes=[1, 0], scan_input_directions=[0, 1],
                    scan_output_axes=[1, 0], scan_output_directions=[0, 1])],
       [vi("s0", F, [3]), vi("a", F, [3, 5]), vi("b", F, [5, 3])],
       [vi("s_final", F, [3]), vi("o1", F, [3, 5]), vi("o2", F, [5, 3])],
       [("s0", np.ones(3, np.float32)), ("a", a), ("b", b)],
       [("s_final", st), ("o1", o1), ("o2", o2)])

# 4. Malformed: a Loop with neither M nor cond; an If whose cond is float;
#    a branch with an unknown op.
def bad(name, nodes, inputs, feeds):
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    g = h.make_graph(nodes, name, inputs, [vi("y", F, [2, 3])])
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), os.path.join(d, "model.onnx"))
    for i, (n, arr) in enumerate(feeds):
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(arr, n).SerializeToString())
    with open(os.path.join(d, "test_data_set_0", "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(np.zeros((2, 3), np.float32), "y").SerializeToString())
bad("bad_loop_forever", [h.make_node("Loop", ["", "", "s0"], ["y"], body=h.make_graph(
        [h.make_node("Identity", ["ci"], ["co"]), h.make_node("Identity", ["si"], ["so"])], "b",
        [vi("i", I64, []), vi("ci", B, []), vi("si", F, [2, 3])], [vi("co", B, []), vi("so", F, [2, 3])]))],
    [vi("s0", F, [2, 3])], [("s0", x)])
bad("bad_if_cond", [h.make_node("If", ["c"], ["y"], then_branch=else_g, else_branch=else_g)],
    [vi("c", F, []), vi("x", F, [2, 3]), vi("w", F, [2, 3])],
    [("c", np.array(1.0, np.float32)), ("x", x), ("w", w)])
bad("bad_branch_op", [h.make_node("If", ["c"], ["y"], else_branch=else_g, then_branch=h.make_graph(
        [h.make_node("NoSuchOp", ["x"], ["t"])], "t", [], [vi("t", F, [2, 3])]))],
    [vi("c", B, []), vi("x", F, [2, 3]), vi("w", F, [2, 3])],
    [("c", np.array(True)), ("x", x), ("w", w)])

# 5. A Loop body's memory counts against the outer session's cap
#    (--max-arena-bytes): each of 2 iterations fills 1 000 000 floats
#    (4 MB) and adds their sum to the state, so the state ends at 2e6 * 2.0.
nfill = np.array([1000000], np.int64)
lbody = h.make_graph(
    [h.make_node("ConstantOfShape", ["nfill"], ["big"], value=h.make_tensor("v", F, [1], [2.0])),
     h.make_node("ReduceSum", ["big"], ["bs"], keepdims=1),
     h.make_node("Add", ["si", "bs"], ["so"]), h.make_node("Identity", ["ci"], ["co"])],
    "lbody", [vi("i", I64, []), vi("ci", B, []), vi("si", F, [1])],
    [vi("co", B, []), vi("so", F, [1])])
folder("loop_big_body",
       [h.make_node("Loop", ["M", "", "s0"], ["s_final"], body=lbody)],
       [vi("M", I64, []), vi("s0", F, [1])], [vi("s_final", F, [1])],
       [("M", np.array(2, np.int64)), ("s0", np.zeros(1, np.float32))],
       [("s_final", np.array([4e6], np.float32))],
       inits=[numpy_helper.from_array(nfill, "nfill")])

# 6. Scan-8 (batch axis in front) over a zero-length sequence: the state comes
# back unchanged (an empty per-batch scan-output part was once memcpy'd from
# NULL, an UBSan report).
b8 = h.make_graph([h.make_node("Add", ["s_in", "x"], ["s_out"]),
                   h.make_node("Identity", ["s_out"], ["y"])], "b8",
                  [vi("s_in", F, [2]), vi("x", F, [2])], [vi("s_out", F, [2]), vi("y", F, [2])])
st8 = np.array([[1, 2]], np.float32)
folder("scan_v8_empty_sequence",
       [h.make_node("Scan", ["", "s0", "xs"], ["s_final", "ys"], body=b8, num_scan_inputs=1)],
       [vi("s0", F, [1, 2]), vi("xs", F, [1, 0, 2])], [vi("s_final", F, [1, 2])],
       [("s0", st8), ("xs", np.zeros((1, 0, 2), np.float32))],
       [("s_final", st8)], opset=8)  # ys: its per-step shape is unknown, not compared
EOF

for d in "$TMP"/if_* "$TMP"/loop_* "$TMP"/scan_*; do
    name=$(basename "$d")
    if "$ONNORM" test "$d" >"$TMP/$name.out" 2>&1; then
        pass "$name matches NumPy"
    else
        fail "$name"; cat "$TMP/$name.out" >&2
    fi
done

expect() { # folder, text the error must contain
    local rc=0
    "$ONNORM" run "$TMP/$1/model.onnx" --input "$(basename "$(ls "$TMP/$1/test_data_set_0/"input_0.pb)")" \
        >/dev/null 2>&1 || true
    "$ONNORM" test "$TMP/$1" >"$TMP/$1.out" 2>&1 || rc=$?
    if [ $rc -ne 1 ]; then
        fail "$1: exit status $rc, expected 1"; cat "$TMP/$1.out" >&2
    elif ! grep -q -- "$2" "$TMP/$1.out"; then
        fail "$1: message lacks '$2'"; cat "$TMP/$1.out" >&2
    else
        pass "$1 refused: $(grep -o -- "$2.*" "$TMP/$1.out" | head -1 | cut -c1-120)"
    fi
}
expect bad_loop_forever "never ends"
expect bad_if_cond "cond must be a bool"
expect bad_branch_op "unknown op NoSuchOp"

# The body's 4 MB fill is refused under a 1 MiB cap on the outer session.
rc=0
"$ONNORM" test "$TMP/loop_big_body" --max-arena-bytes 1048576 >"$TMP/cap.out" 2>&1 || rc=$?
if [ $rc -ne 1 ] || ! grep -q "max_arena_bytes" "$TMP/cap.out"; then
    fail "loop_big_body under a 1 MiB cap: exit $rc"; cat "$TMP/cap.out" >&2
else
    pass "loop_big_body refused under a 1 MiB cap: $(grep -o "ConstantOfShape.*" "$TMP/cap.out" | head -1 | cut -c1-120)"
fi

# optimize writes the subgraphs back: onnx.checker accepts the file and
# onnorm gives the same results from it.
for name in if_nested_10 loop_cond scan_axes; do
    mkdir -p "$TMP/opt_$name"
    cp -r "$TMP/$name/test_data_set_0" "$TMP/opt_$name/"
    if ! "$ONNORM" optimize "$TMP/$name/model.onnx" -o "$TMP/opt_$name/model.onnx" >"$TMP/opt.out" 2>&1; then
        fail "optimize $name"; cat "$TMP/opt.out" >&2
    elif ! /usr/bin/python3 -c "import onnx,sys; onnx.checker.check_model(sys.argv[1], full_check=True)" \
        "$TMP/opt_$name/model.onnx"; then
        fail "onnx.checker rejects the optimized $name"
    elif ! "$ONNORM" test "$TMP/opt_$name" >"$TMP/opt_test.out" 2>&1; then
        fail "optimized $name"; cat "$TMP/opt_test.out" >&2
    else
        pass "optimize keeps $name's subgraphs"
    fi
done

if [ $failures -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all control-flow checks passed"
