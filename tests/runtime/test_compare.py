#!/usr/bin/env python3
"""`onnorm compare` (runtime/compare.c, tools/cmd_compare.c).

1. An error injected in one node (one weight of a Conv, or the constant of a
   Mul, changed in a copy of the model) is found: compare of the copy against
   the original (--reference) flags that node and no other, and the Conv's
   max_abs equals NumPy's max |conv(x, W') - conv(x, W)|.
2. Conv (groups, strides, dilations, pads), Gemm and MatMul, computed in
   float64 by other ops, match NumPy; at opset 11 they are marked f32.
3. The JSON numbers of a model whose ops all have float64 kernels match
   NumPy: max_abs and max_rel of every node between onnorm's float32 values
   (from `onnorm run` of a copy with every intermediate as output) and a
   float64 NumPy evaluation; an unperturbed model flags nothing.
4. Errors: a missing reference file, an unknown input name, a bad option.

    test_compare.py ONNORM_BIN
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

ONNORM = sys.argv[1]
rng = np.random.default_rng(7)
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def save(nodes, inits, x, path, outputs=("Y",), opset=17):
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info("X", T.FLOAT, x.shape)],
                     [h.make_tensor_value_info(o, T.FLOAT, None) for o in outputs],
                     [nh.from_array(v, k) for k, v in inits.items()])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.save(m, path)


def write_inputs(tmp, feeds):
    args = []
    for name, arr in feeds.items():
        p = os.path.join(tmp, name + ".pb")
        with open(p, "wb") as f:
            f.write(nh.from_array(arr, name).SerializeToString())
        args += ["--input", f"{name}={p}"]
    return args


def compare(tmp, model, x, *extra):
    feeds = x if isinstance(x, dict) else {"X": x}
    js = os.path.join(tmp, "c.json")
    r = subprocess.run([ONNORM, "compare", model, *write_inputs(tmp, feeds), "--json", js,
                        *extra], capture_output=True, text=True)
    if r.returncode:
        failures.append(f"compare {model} failed ({r.returncode}): {r.stderr}")
        return None, r.stdout
    with open(js) as f:
        return {n["name"]: n for n in json.load(f)["nodes"]}, r.stdout


def np_conv(x, w):
    x = x.astype(np.float64)
    n, c, hh, ww = x.shape
    m, _, kh, kw = w.shape
    y = np.zeros((n, m, hh - kh + 1, ww - kw + 1))
    for a in range(kh):
        for b in range(kw):
            y += np.einsum("nchw,mc->nmhw", x[:, :, a:a + y.shape[2], b:b + y.shape[3]],
                           w[:, :, a, b].astype(np.float64))
    return y


def injected_conv(tmp):
    x = rng.uniform(-1, 1, (2, 3, 8, 8)).astype(np.float32)
    w = rng.uniform(-1, 1, (6, 3, 3, 3)).astype(np.float32)
    s = rng.uniform(0.5, 1.5, (1, 6, 1, 1)).astype(np.float32)
    bad = w.copy()
    bad[2, 1, 1, 1] += np.float32(0.05)
    nodes = [h.make_node("Conv", ["X", "W"], ["c"], name="conv"),
             h.make_node("Mul", ["c", "s"], ["m"], name="mul"),
             h.make_node("Relu", ["m"], ["r"], name="relu"),
             h.make_node("GlobalAveragePool", ["r"], ["Y"], name="pool")]
    ref, cpy = os.path.join(tmp, "ref.onnx"), os.path.join(tmp, "bad.onnx")
    save(nodes, {"W": w, "s": s}, x, ref)
    save(nodes, {"W": bad, "s": s}, x, cpy)
    rows, out = compare(tmp, cpy, x, "--reference", ref)
    if rows is None:
        return
    flagged = [k for k, v in rows.items() if v["flagged"]]
    check(flagged == ["conv"], f"injected Conv error: flagged {flagged}\n{out}")
    check(not rows["conv"]["fallback"], "Conv runs in float64 (Pad, Slice, Einsum) at opset 17")
    want = np.max(np.abs(np_conv(x, bad) - np_conv(x, w)))
    check(abs(rows["conv"]["max_abs"] - want) <= 1e-5,
          f"conv max_abs {rows['conv']['max_abs']} vs NumPy {want}")
    check("error grows at 1 node(s): conv" in out, f"the summary does not name conv:\n{out}")
    print(f"ok: injected Conv error found (max_abs {want:.4g})")
    # The same against a float64 export of the original.
    ref64 = os.path.join(tmp, "ref64.onnx")
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info("X", T.DOUBLE, x.shape)],
                     [h.make_tensor_value_info("Y", T.DOUBLE, None)],
                     [nh.from_array(w.astype(np.float64), "W"),
                      nh.from_array(s.astype(np.float64), "s")])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, ref64)
    rows64, out = compare(tmp, cpy, x, "--reference", ref64)
    if rows64 is None:
        return
    flagged = [k for k, v in rows64.items() if v["flagged"]]
    check(flagged == ["conv"], f"against a float64 model: flagged {flagged}\n{out}")
    for k in rows:
        check(abs(rows64[k]["max_abs"] - rows[k]["max_abs"]) <= 1e-12,
              f"{k}: max_abs {rows64[k]['max_abs']} against the float64 model, "
              f"{rows[k]['max_abs']} against the widened float32 one")
    print("ok: the same against a float64 reference model")


def norm_model(s):
    nodes = [h.make_node("LayerNormalization", ["X", "g", "b"], ["n"], name="ln", axis=-1),
             h.make_node("Mul", ["n", "s"], ["m"], name="mul"),
             h.make_node("Tanh", ["m"], ["t"], name="tanh"),
             h.make_node("ReduceSum", ["t", "axes"], ["r"], name="sum", keepdims=1),
             h.make_node("Sub", ["t", "r"], ["d"], name="sub"),
             h.make_node("Softmax", ["d"], ["Y"], name="softmax", axis=-1)]
    return nodes


def np_norm_model(x, g, b, s):
    x = x.astype(np.float64)
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    n = (x - mu) / np.sqrt(var + 1e-5) * g + b
    m = n * s
    t = np.tanh(m)
    r = t.sum(-1, keepdims=True)
    d = t - r
    e = np.exp(d - d.max(-1, keepdims=True))
    return {"n": n, "m": m, "t": t, "r": r, "d": d, "Y": e / e.sum(-1, keepdims=True)}


def float64_numbers(tmp):
    x = rng.uniform(-3, 3, (4, 16)).astype(np.float32) * 100  # large: visible float32 error
    g = rng.uniform(0.5, 1.5, 16).astype(np.float32)
    b = rng.uniform(-1, 1, 16).astype(np.float32)
    s = rng.uniform(-3, 3, 16).astype(np.float32)
    axes = np.array([-1], dtype=np.int64)
    inits = {"g": g, "b": b, "s": s, "axes": axes}
    path, every = os.path.join(tmp, "n.onnx"), os.path.join(tmp, "every.onnx")
    save(norm_model(s), inits, x, path, opset=13 + 4)
    names = ["n", "m", "t", "r", "d", "Y"]
    save(norm_model(s), inits, x, every, outputs=names)
    rows, out = compare(tmp, path, x)
    if rows is None:
        return
    xp = os.path.join(tmp, "X.pb")
    od = os.path.join(tmp, "o")
    subprocess.run([ONNORM, "run", every, "--opt-level", "0", "--repeat", "1", "--warmup", "0",
                    "--input", f"X={xp}", "--output-dir", od], check=True, capture_output=True)
    ref = np_norm_model(x, g, b, s)
    node_of = {"n": "ln", "m": "mul", "t": "tanh", "r": "sum", "d": "sub", "Y": "softmax"}
    for v in names:
        t = onnx.TensorProto()
        with open(os.path.join(od, v + ".pb"), "rb") as f:
            t.ParseFromString(f.read())
        a, want = nh.to_array(t).astype(np.float64), ref[v]
        diff = np.abs(a - want)
        big = np.max(np.abs(want))
        rel = np.max(diff / np.maximum(np.abs(want), 1e-3 * big if big > 0 else 1.0))
        row = rows[node_of[v]]
        check(not row["fallback"], f"{node_of[v]} should run in float64")
        check(abs(row["max_abs"] - diff.max()) <= 1e-9 * max(1.0, big),
              f"{node_of[v]}: max_abs {row['max_abs']} vs NumPy {diff.max()}")
        check(abs(row["max_rel"] - rel) <= 1e-6 * rel + 1e-12,
              f"{node_of[v]}: max_rel {row['max_rel']} vs NumPy {rel}")
        check(row["max_abs"] > 0 or v == "Y", f"{node_of[v]}: no float32 error at all?")
    check(not any(r["flagged"] for r in rows.values()), f"an exact model flagged nodes:\n{out}")
    check("every node in float64" in out, f"the header should say every node ran in float64:\n{out}")
    print("ok: per-node max_abs and max_rel match NumPy")
    # The same model with the Mul's constant changed in a copy.
    s2 = s.copy()
    s2[5] *= np.float32(1.01)
    cpy = os.path.join(tmp, "n_bad.onnx")
    save(norm_model(s2), dict(inits, s=s2), x, cpy)
    rows, out = compare(tmp, cpy, x, "--reference", path)
    if rows is None:
        return
    flagged = [k for k, v in rows.items() if v["flagged"]]
    check(flagged == ["mul"], f"injected Mul error: flagged {flagged}\n{out}")
    print("ok: injected Mul error found")


def np_conv_full(x, w, b, pads, strides, dil, group):
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    m, cg, kh, kw = w.shape
    oh = (x.shape[2] - (kh - 1) * dil[0] - 1) // strides[0] + 1
    ow = (x.shape[3] - (kw - 1) * dil[1] - 1) // strides[1] + 1
    y = np.zeros((x.shape[0], m, oh, ow))
    mg = m // group
    for o in range(m):
        for a in range(kh):
            for c in range(kw):
                patch = x[:, o // mg * cg:(o // mg + 1) * cg,
                          a * dil[0]:a * dil[0] + (oh - 1) * strides[0] + 1:strides[0],
                          c * dil[1]:c * dil[1] + (ow - 1) * strides[1] + 1:strides[1]]
                y[:, o] += np.einsum("nchw,c->nhw", patch, w[o, :, a, c].astype(np.float64))
    return y + b.astype(np.float64).reshape(1, -1, 1, 1)


def linear_ops_in_float64(tmp):
    """Conv (groups, strides, dilations, pads, bias), Gemm (transB, alpha,
    beta, C) and a batched MatMul: compare's float64 evaluation of them must
    be NumPy's, so each row's max_abs is |onnorm float32 - NumPy float64|."""
    x = rng.uniform(-1, 1, (2, 4, 9, 8)).astype(np.float32)
    w = rng.uniform(-1, 1, (6, 2, 3, 2)).astype(np.float32)
    b = rng.uniform(-1, 1, 6).astype(np.float32)
    x2 = rng.uniform(-1, 1, (3, 5)).astype(np.float32)
    w2 = rng.uniform(-1, 1, (4, 5)).astype(np.float32)
    c2 = rng.uniform(-1, 1, (3, 4)).astype(np.float32)
    x3 = rng.uniform(-1, 1, (2, 3, 5)).astype(np.float32)
    w3 = rng.uniform(-1, 1, (5, 7)).astype(np.float32)
    nodes = [h.make_node("Conv", ["X", "W", "B"], ["Y"], name="conv", group=2, strides=[2, 1],
                         dilations=[1, 2], pads=[1, 0, 2, 1]),
             h.make_node("Gemm", ["X2", "W2", "C2"], ["Y2"], name="gemm", transB=1, alpha=0.5,
                         beta=1.5),
             h.make_node("MatMul", ["X3", "W3"], ["Y3"], name="matmul")]
    feeds = {"X": x, "X2": x2, "X3": x3}
    path = os.path.join(tmp, "lin.onnx")
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info(k, T.FLOAT, v.shape)
                                  for k, v in feeds.items()],
                     [h.make_tensor_value_info(o, T.FLOAT, None) for o in ("Y", "Y2", "Y3")],
                     [nh.from_array(v, k) for k, v in
                      {"W": w, "B": b, "W2": w2, "C2": c2, "W3": w3}.items()])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, path)
    rows, out = compare(tmp, path, feeds)
    if rows is None:
        return
    od = os.path.join(tmp, "lin_out")
    subprocess.run([ONNORM, "run", path, "--opt-level", "0", "--repeat", "1", "--warmup", "0",
                    *write_inputs(tmp, feeds), "--output-dir", od], check=True,
                   capture_output=True)
    want = {"Y": np_conv_full(x, w, b, (1, 0, 2, 1), (2, 1), (1, 2), 2),
            "Y2": 0.5 * x2.astype(np.float64) @ w2.T.astype(np.float64) + 1.5 * c2,
            "Y3": x3.astype(np.float64) @ w3.astype(np.float64)}
    for out_name, node in (("Y", "conv"), ("Y2", "gemm"), ("Y3", "matmul")):
        t = onnx.TensorProto()
        with open(os.path.join(od, out_name + ".pb"), "rb") as f:
            t.ParseFromString(f.read())
        got = nh.to_array(t).astype(np.float64)
        check(got.shape == want[out_name].shape, f"{node}: shape {got.shape}")
        d = np.max(np.abs(got - want[out_name]))
        row = rows[node]
        check(not row["fallback"], f"{node} should be computed in float64")
        check(d > 0 and abs(row["max_abs"] - d) <= 1e-12,
              f"{node}: max_abs {row['max_abs']} vs NumPy {d}")
    print("ok: Conv, Gemm and MatMul evaluated in float64 match NumPy")
    # Below opset 13 they run in float32 inside the float64 evaluation.
    m.opset_import[0].version = 11
    old = os.path.join(tmp, "lin11.onnx")
    onnx.save(m, old)
    rows, out = compare(tmp, old, feeds)
    if rows is None:
        return
    check(all(rows[k]["fallback"] for k in ("conv", "gemm", "matmul")),
          f"opset 11: Conv, Gemm, MatMul should be marked f32:\n{out}")
    check("3 node(s) marked f32" in out, f"the header should count the f32 nodes:\n{out}")
    print("ok: opset 11 falls back to float32 for them, and says so")


def errors(tmp):
    x = rng.uniform(-1, 1, (4, 16)).astype(np.float32)
    inits = {"g": np.ones(16, np.float32), "b": np.zeros(16, np.float32),
             "s": np.ones(16, np.float32), "axes": np.array([-1], np.int64)}
    path = os.path.join(tmp, "e.onnx")
    save(norm_model(None), inits, x, path)
    r = subprocess.run([ONNORM, "compare", path, "--reference", os.path.join(tmp, "none.onnx")],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "none.onnx" in r.stderr, f"missing reference: {r.returncode} "
          f"{r.stderr}")
    xp = os.path.join(tmp, "X.pb")
    with open(xp, "wb") as f:
        f.write(nh.from_array(x, "X").SerializeToString())
    r = subprocess.run([ONNORM, "compare", path, "--input", f"Q={xp}"], capture_output=True,
                       text=True)
    check(r.returncode == 1 and "no input named 'Q' (inputs: X)" in r.stderr,
          f"unknown input: {r.returncode} {r.stderr}")
    r = subprocess.run([ONNORM, "compare", path, "--ratio", "0.5"], capture_output=True,
                       text=True)
    check(r.returncode == 2, f"--ratio 0.5 should be a usage error: {r.returncode} {r.stderr}")
    print("ok: errors")


with tempfile.TemporaryDirectory() as d:
    injected_conv(d)
    linear_ops_in_float64(d)
    float64_numbers(d)
    errors(d)
if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("compare verified")
