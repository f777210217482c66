#!/usr/bin/env python3
"""The passes fold-affine-into-norm and fold-norm-into-next-conv against NumPy.

Builds small models with python3-onnx, writes the optimized model with
`onnorm optimize`, checks the pass report and the op types of the written
file, and checks the outputs of both the written model (run as is,
--opt-level 0: the folded weights themselves) and the original model run
with the passes (--opt-level 1) against a float64 NumPy computation of the
original graph (rtol 1e-4, atol 1e-4 of float32 sums). Cases: a Caffe2-style
BN -> Mul -> Add chain block, input standardization into a grouped Conv and
BN into a Gemm, a padded Conv left alone, LayerNorm -> Mul -> Sub, a float64
chain, and --disable switching a pass off.

    test_affine_folds.py ONNORM_BIN
"""
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
rng = np.random.default_rng(14)
failures = []


def f32(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def bn_params(c):
    return f32(c, lo=0.5, hi=1.5), f32(c), f32(c, lo=-0.5, hi=0.5), f32(c, lo=0.3, hi=2.0)


def np_bn(x, s, b, m, v, eps=1e-5):
    sh = (1, -1) + (1,) * (x.ndim - 2)
    x = x.astype(np.float64)
    return (x - m.reshape(sh)) / np.sqrt(v.reshape(sh).astype(np.float64) + eps) * s.reshape(
        sh) + b.reshape(sh)


def np_conv(x, w, b=None, pads=(0, 0, 0, 0), group=1):
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    n, c, hh, ww = x.shape
    m, cg, kh, kw = w.shape
    oh, ow = hh - kh + 1, ww - kw + 1
    y = np.zeros((n, m, oh, ow))
    mg = m // group
    for o in range(m):
        gi = o // mg
        for j in range(cg):
            for a in range(kh):
                for bb in range(kw):
                    y[:, o] += w[o, j, a, bb] * x[:, gi * cg + j, a:a + oh, bb:bb + ow]
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def bn_node(name, x, y, inits, c):
    s, b, m, v = bn_params(c)
    names = [f"{name}.{k}" for k in "sbmv"]
    for nm, arr in zip(names, (s, b, m, v)):
        inits.append(nh.from_array(arr, nm))
    return h.make_node("BatchNormalization", [x] + names, [y], name=name), (s, b, m, v)


def const(inits, name, arr):
    inits.append(nh.from_array(arr, name))
    return name


def save(nodes, inits, inputs, outputs, path, opset=13):
    g = h.make_graph(nodes, "g", inputs, [h.make_tensor_value_info(o, T.FLOAT, None)
                                          for o in outputs], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.save(m, path)


def run(model, feeds, tmp, level):
    out = os.path.join(tmp, f"out{level}")
    args = [ONNORM, "run", model, "--repeat", "1", "--warmup", "0", "--opt-level", str(level),
            "--output-dir", out]
    for name, arr in feeds.items():
        p = os.path.join(tmp, name + ".pb")
        with open(p, "wb") as f:
            f.write(nh.from_array(arr, name).SerializeToString())
        args += ["--input", f"{name}={p}"]
    subprocess.run(args, check=True, capture_output=True, text=True)
    res = {}
    for fn in os.listdir(out):
        t = onnx.TensorProto()
        with open(os.path.join(out, fn), "rb") as f:
            t.ParseFromString(f.read())
        res[fn[:-3]] = nh.to_array(t)
    return res


def case(name, build, want_report, gone, present=(), extra=(), not_reported=()):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "m.onnx"), os.path.join(tmp, "o.onnx")
        feeds, ref = build(src)
        r = subprocess.run([ONNORM, "optimize", src, "-o", dst, *extra], capture_output=True,
                           text=True)
        if r.returncode:
            failures.append(f"{name}: optimize failed: {r.stderr}")
            return
        for line in want_report:
            if line not in r.stdout:
                failures.append(f"{name}: the report lacks '{line}':\n{r.stdout}")
        for line in not_reported:
            if line in r.stdout:
                failures.append(f"{name}: the report has '{line}':\n{r.stdout}")
        ops = [n.op_type for n in onnx.load(dst).graph.node]
        for op in gone:
            if op in ops:
                failures.append(f"{name}: {op} left in {ops}")
        for op in present:
            if op not in ops:
                failures.append(f"{name}: no {op} in {ops}")
        runs = (("written", dst, 0), ("original", src, 1)) if not extra else (("written", dst, 0),)
        for label, model, level in runs:
            got = run(model, feeds, tmp, level)
            for out, want in ref.items():
                g = got[out].astype(np.float64)
                err = np.max(np.abs(g - want) / (1e-4 + 1e-4 * np.abs(want)))
                if not np.isfinite(err) or err > 1.0:
                    failures.append(f"{name}: {label} model output {out}: max error "
                                    f"{np.max(np.abs(g - want)):.3g} over the tolerance")
        print(f"ok: {name}: {' '.join(ops)}")


def caffe2_densenet(path):
    """BN -> Mul -> Add -> Relu -> Conv 1x1 -> BN -> Mul -> Add (Caffe2's
    DenseNet-121 block shape: the first BN has no Conv before it)."""
    inits = []
    x = f32(2, 8, 6, 6, lo=-2, hi=2)
    n1, p1 = bn_node("bn1", "X", "a", inits, 8)
    s1, t1 = f32(1, 8, 1, 1, lo=0.5, hi=2), f32(1, 8, 1, 1)
    w = f32(5, 8, 1, 1)
    n2, p2 = bn_node("bn2", "c", "d", inits, 5)
    s2, t2 = f32(1, 5, 1, 1, lo=0.5, hi=2), f32(1, 5, 1, 1)
    nodes = [n1,
             h.make_node("Mul", ["a", const(inits, "s1", s1)], ["m1"], name="mul1"),
             h.make_node("Add", ["m1", const(inits, "t1", t1)], ["b"], name="add1"),
             h.make_node("Relu", ["b"], ["r"], name="relu"),
             h.make_node("Conv", ["r", const(inits, "w", w)], ["c"], name="conv"),
             n2,
             h.make_node("Mul", ["d", const(inits, "s2", s2)], ["m2"], name="mul2"),
             h.make_node("Add", ["m2", const(inits, "t2", t2)], ["Y"], name="add2")]
    save(nodes, inits, [h.make_tensor_value_info("X", T.FLOAT, x.shape)], ["Y"], path)
    a = np.maximum(np_bn(x, *p1) * s1 + t1, 0)
    y = np_bn(np_conv(a, w), *p2) * s2 + t2
    return {"X": x}, {"Y": y}


def standardize_into_conv_and_gemm(path):
    """(X - mean) / std into a grouped Conv without padding, and a
    BatchNormalization into a Gemm with transB."""
    inits = []
    x = f32(2, 4, 7, 7, lo=0, hi=255)
    mean, std = f32(1, 4, 1, 1, lo=100, hi=150), f32(1, 4, 1, 1, lo=40, hi=80)
    w, b = f32(6, 2, 3, 3), f32(6)
    x2 = f32(3, 5, lo=-2, hi=2)
    n, p = bn_node("bn", "X2", "z", inits, 5)
    wg, cg = f32(4, 5), f32(4)
    nodes = [h.make_node("Sub", ["X", const(inits, "mean", mean)], ["a"], name="sub"),
             h.make_node("Div", ["a", const(inits, "std", std)], ["s"], name="div"),
             h.make_node("Conv", ["s", const(inits, "w", w), const(inits, "b", b)], ["Y"],
                         name="conv", group=2, strides=[2, 2]),
             n,
             h.make_node("Gemm", ["z", const(inits, "wg", wg), const(inits, "cg", cg)], ["Y2"],
                         name="gemm", transB=1, alpha=0.5, beta=2.0)]
    save(nodes, inits, [h.make_tensor_value_info("X", T.FLOAT, x.shape),
                        h.make_tensor_value_info("X2", T.FLOAT, x2.shape)], ["Y", "Y2"], path)
    y = np_conv((x.astype(np.float64) - mean) / std, w, b, group=2)[:, :, ::2, ::2]
    y2 = 0.5 * np_bn(x2, *p) @ wg.T.astype(np.float64) + 2.0 * cg
    return {"X": x, "X2": x2}, {"Y": y, "Y2": y2}


def padded_conv_left_alone(path):
    inits = []
    x = f32(1, 3, 5, 5)
    n, p = bn_node("bn", "X", "a", inits, 3)
    w = f32(4, 3, 3, 3)
    nodes = [n, h.make_node("Conv", ["a", const(inits, "w", w)], ["Y"], name="conv",
                            pads=[1, 1, 1, 1])]
    save(nodes, inits, [h.make_tensor_value_info("X", T.FLOAT, x.shape)], ["Y"], path)
    return {"X": x}, {"Y": np_conv(np_bn(x, *p), w, pads=(1, 1, 1, 1))}


def layernorm_mul_add(path):
    inits = []
    x = f32(2, 3, 8, lo=-3, hi=3)
    g, b = f32(8, lo=0.5, hi=1.5), f32(8)
    s, t = f32(8, lo=-2, hi=2), f32(1, 1, 8)
    nodes = [h.make_node("LayerNormalization", ["X", const(inits, "g", g), const(inits, "b", b)],
                         ["n"], name="ln", epsilon=1e-5),
             h.make_node("Mul", ["n", const(inits, "s", s)], ["m"], name="mul"),
             h.make_node("Sub", ["m", const(inits, "t", t)], ["Y"], name="sub")]
    save(nodes, inits, [h.make_tensor_value_info("X", T.FLOAT, x.shape)], ["Y"], path, opset=17)
    xd = x.astype(np.float64)
    mu, var = xd.mean(-1, keepdims=True), xd.var(-1, keepdims=True)
    y = ((xd - mu) / np.sqrt(var + 1e-5) * g + b) * s - t
    return {"X": x}, {"Y": y}


def bn_mul_add_float64(path):
    """The Caffe2 chain in float64: folded in double, kept float64."""
    inits = []
    x = rng.uniform(-2, 2, (2, 3, 4, 4))
    s, b, m, v = (a.astype(np.float64) for a in bn_params(3))
    for nm, arr in zip(("bn.s", "bn.b", "bn.m", "bn.v"), (s, b, m, v)):
        inits.append(nh.from_array(arr, nm))
    sc, t = rng.uniform(0.5, 2, (3, 1, 1)), rng.uniform(-1, 1, (1, 3, 1, 1))
    nodes = [h.make_node("BatchNormalization", ["X", "bn.s", "bn.b", "bn.m", "bn.v"], ["a"],
                         name="bn"),
             h.make_node("Mul", ["a", const(inits, "sc", sc)], ["c"], name="mul"),
             h.make_node("Add", ["c", const(inits, "t", t)], ["Y"], name="add")]
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info("X", T.DOUBLE, x.shape)],
                     [h.make_tensor_value_info("Y", T.DOUBLE, None)], inits)
    mdl = h.make_model(g, opset_imports=[h.make_opsetid("", 15)])
    mdl.ir_version = 8
    onnx.save(mdl, path)
    return {"X": x}, {"Y": np_bn(x, s, b, m, v) * sc + t}


case("caffe2 BN-Mul-Add chains", caffe2_densenet,
     ["pass fold-affine-into-norm 2 rewritten", "pass fold-batchnorm  1 rewritten",
      "pass fold-affine     2 rewritten"], ["Mul", "Add"], ["BatchNormalization"])
case("standardize into Conv, BN into Gemm", standardize_into_conv_and_gemm,
     ["pass fold-norm-into-next-conv 2 rewritten, 0 left alone"],
     ["Sub", "Div", "BatchNormalization"], ["Conv", "Gemm"])
case("padded Conv", padded_conv_left_alone,
     ["pass fold-norm-into-next-conv 0 rewritten, 1 left alone", "padding: Conv 'conv'"], [],
     ["BatchNormalization"])
case("LayerNormalization Mul Sub", layernorm_mul_add,
     ["pass fold-affine-into-norm 2 rewritten"], ["Mul", "Sub"], ["LayerNormalization"])

case("float64 BN-Mul-Add", bn_mul_add_float64, ["pass fold-affine-into-norm 2 rewritten"],
     ["Mul", "Add"], ["BatchNormalization"])
case("--disable fold-affine-into-norm", bn_mul_add_float64, ["pass fold-affine     0"], [],
     ["Mul", "Add", "BatchNormalization"], ["--disable", "fold-affine-into-norm"],
     ["pass fold-affine-into-norm"])

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("all fold cases match NumPy")
