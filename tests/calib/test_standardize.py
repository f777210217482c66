"""End-to-end checks of `onnorm standardize`, against a NumPy pipeline.

  usage: test_standardize.py ONNORM_BINARY

The fitted center and divisor are compared with NumPy's mean/std (or
min/max) over all the data in float64; the written model on raw inputs must
give what the original model gives on NumPy-standardized inputs (in the
float64 NumPy evaluator and when onnorm runs it); the prepended nodes must
be Mul then Add with [1, C, 1, 1] (per channel) or scalar float32
constants, which `onnorm optimize` folds into an unpadded first Conv;
constant channels get divisor 1; errors have their exit codes.
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calib_util as u  # noqa: E402

ONNORM = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="onnorm-std.")
failures = 0


def check(cond, what):
    global failures
    if cond:
        print("ok:", what)
    else:
        print("FAIL:", what)
        failures += 1


def path(*p):
    return os.path.join(TMP, *p)


model = u.conv_bn_model(seed=3)
onnx.save(model, path("m.onnx"))
X = u.write_data(path("data"), [(4, 3, 8, 8), (3, 8, 8), (2, 3, 8, 8)], seed=4, shift=5.0,
                 scale=3.0)
X64 = X.astype(np.float64)
with open(path("all.pb"), "wb") as f:
    f.write(numpy_helper.from_array(X, "x").SerializeToString())


def onnorm_run(model_path):
    out = path("out_" + os.path.basename(model_path))
    u.run([ONNORM, "run", model_path, "--input", "x=" + path("all.pb"), "--output-dir", out,
           "--repeat", "1", "--warmup", "0"])
    return numpy_helper.to_array(onnx.load_tensor(os.path.join(out, "y.pb")))


def check_model(name, std_path, center, divisor, per_channel):
    m = onnx.load(std_path)
    onnx.checker.check_model(m)
    ops = [n.op_type for n in m.graph.node]
    check(ops[:2] == ["Mul", "Add"] and ops[2:] == [n.op_type for n in model.graph.node],
          "%s: Mul and Add prepended, the rest unchanged" % name)
    ini = u.inits(m)
    a, b = ini[m.graph.node[0].input[1]], ini[m.graph.node[1].input[1]]
    shape = (1, 3, 1, 1) if per_channel else ()
    check(a.shape == shape and b.shape == shape and a.dtype == np.float32,
          "%s: constants are float32 %s" % (name, shape))
    check(np.allclose(a.reshape(-1), 1 / divisor, rtol=1e-7)
          and np.allclose(b.reshape(-1), -center / divisor, rtol=1e-6, atol=1e-7),
          "%s: Mul by 1/divisor, Add of -center/divisor" % name)
    sh = (1, -1, 1, 1) if per_channel else ()
    want = u.evaluate(model, {"x": (X64 - center.reshape(sh)) / divisor.reshape(sh)})["y"]
    got = u.evaluate(m, {"x": X64})["y"]
    scale = np.abs(want).max()
    err = np.abs(got - want).max() / scale
    check(err < 1e-5, "%s: model(raw x) = original model(NumPy-standardized x) (rel err %.2g)"
          % (name, err))
    err = np.abs(onnorm_run(std_path) - want).max() / scale
    check(err < 1e-5, "%s: the same through onnorm run (rel err %.2g)" % (name, err))
    return m


# ---- zscore per channel ---------------------------------------------------------
p = u.run([ONNORM, "standardize", path("m.onnx"), "--data", path("data"), "--mode", "zscore",
           "--per-channel", "-o", path("z.onnx"), "--json", path("z.json")])
rep = json.load(open(path("z.json")))
mean, std = X64.mean(axis=(0, 2, 3)), X64.std(axis=(0, 2, 3))
check(np.allclose(rep["center"], mean, rtol=1e-12) and np.allclose(rep["divisor"], std, rtol=1e-12),
      "zscore per channel: fitted mean and std = NumPy's (float64)")
check(rep["count"] == X.shape[0] * 64 and rep["items"] == 3 and rep["input"] == "x",
      "zscore per channel: counts")
check("mean" in p.stdout and "prepended Mul and Add" in p.stdout, "the fit is printed")
check_model("zscore per channel", path("z.onnx"), mean, std, True)

# ---- minmax per tensor ------------------------------------------------------------
u.run([ONNORM, "standardize", path("m.onnx"), "--data", path("data"), "--mode", "minmax",
       "-o", path("mm.onnx"), "--json", path("mm.json")])
rep = json.load(open(path("mm.json")))
lo, hi = X64.min(), X64.max()
check(rep["center"] == [lo] and np.isclose(rep["divisor"][0], hi - lo, rtol=1e-12),
      "minmax per tensor: min and max - min = NumPy's")
mm = check_model("minmax per tensor", path("mm.onnx"), np.array([lo]), np.array([hi - lo]), False)
xs = u.evaluate(mm, {"x": X64})[mm.graph.node[1].output[0]]
check(abs(xs.min()) < 1e-6 and abs(xs.max() - 1) < 1e-6, "minmax: the scaled data span [0, 1]")

# ---- zscore per tensor, minmax per channel ----------------------------------------
u.run([ONNORM, "standardize", path("m.onnx"), "--data", path("data"), "--mode", "zscore",
       "-o", path("zt.onnx")])
check_model("zscore per tensor", path("zt.onnx"), np.array([X64.mean()]), np.array([X64.std()]),
            False)
u.run([ONNORM, "standardize", path("m.onnx"), "--data", path("data"), "--mode", "minmax",
       "--per-channel", "-o", path("mc.onnx")])
lo, hi = X64.min(axis=(0, 2, 3)), X64.max(axis=(0, 2, 3))
check_model("minmax per channel", path("mc.onnx"), lo, hi - lo, True)

# ---- a constant channel: divisor 1 -------------------------------------------------
os.makedirs(path("const"))
xc = X[:4].copy()
xc[:, 1] = 2.5
np.save(path("const", "a.npy"), xc)
for mode in ("zscore", "minmax"):
    u.run([ONNORM, "standardize", path("m.onnx"), "--data", path("const"), "--mode", mode,
           "--per-channel", "-o", path("c.onnx"), "--json", path("c.json")])
    rep = json.load(open(path("c.json")))
    check(rep["center"][1] == 2.5 and rep["divisor"][1] == 1.0 and rep["divisor"][0] != 1.0,
          "%s: a constant channel gets divisor 1 (center 2.5)" % mode)

# ---- the fold: standardization into the first (unpadded) Conv ----------------------
# x -> Conv 3x3 (no padding) -> Relu -> y: `onnorm optimize` folds the
# prepended Mul and Add into the Conv's weights and bias (fold-norm-into-next-
# conv), and the folded model still computes the NumPy pipeline.
rng = np.random.default_rng(11)
Wf = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
bf = rng.standard_normal(5).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("Conv", ["x", "Wf", "bf"], ["c"], name="conv"),
     helper.make_node("Relu", ["c"], ["y"], name="relu")], "first_conv",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5, 6, 6])],
    [numpy_helper.from_array(Wf, "Wf"), numpy_helper.from_array(bf, "bf")])
fm = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
fm.ir_version = 8
onnx.save(fm, path("fc.onnx"))
u.run([ONNORM, "standardize", path("fc.onnx"), "--data", path("data"), "--mode", "zscore",
       "--per-channel", "-o", path("fc_std.onnx")])
p = u.run([ONNORM, "optimize", path("fc_std.onnx"), "-o", path("fc_opt.onnx")])
opt = onnx.load(path("fc_opt.onnx"))
ops = [n.op_type for n in opt.graph.node]
check("Mul" not in ops and "Add" not in ops and any(o in ("Conv", "FusedConv") for o in ops),
      "standardize folds into the first Conv (nodes after optimize: %s)" % ops)
mean, std = X64.mean(axis=(0, 2, 3)), X64.std(axis=(0, 2, 3))
want = u.evaluate(fm, {"x": (X64 - mean.reshape(1, -1, 1, 1)) / std.reshape(1, -1, 1, 1)})["y"]
out = path("out_fc")
u.run([ONNORM, "run", path("fc_opt.onnx"), "--input", "x=" + path("all.pb"), "--output-dir", out,
       "--repeat", "1", "--warmup", "0"])
got = numpy_helper.to_array(onnx.load_tensor(os.path.join(out, "y.pb")))
err = np.abs(got - want).max() / np.abs(want).max()
check(err < 1e-5, "the folded model = original model(NumPy-standardized x) (rel err %.2g)" % err)

# ---- errors and help ----------------------------------------------------------------
p = u.run([ONNORM, "standardize", "--help"])
check("zscore" in p.stdout and "--per-channel" in p.stdout and "divisor" in p.stdout, "--help")
p = u.run([ONNORM, "standardize", path("m.onnx"), "--data", path("data"), "-o", path("e.onnx")],
          expect=2)
check("--mode" in p.stderr, "missing --mode: exit 2")
p = u.run([ONNORM, "standardize", path("m.onnx"), "--data", path("data"), "--mode", "l2",
           "-o", path("e.onnx")], expect=2)
check("zscore or minmax" in p.stderr, "bad --mode: exit 2")
p = u.run([ONNORM, "standardize", path("m.onnx"), "--data", path("data"), "--mode", "zscore",
           "--input", "nope", "-o", path("e.onnx")], expect=1)
check("no input 'nope'" in p.stderr, "unknown --input: exit 1")
# an int64 input cannot be standardized
g = helper.make_graph([helper.make_node("Identity", ["i"], ["o"])], "ints",
                      [helper.make_tensor_value_info("i", TensorProto.INT64, [2])],
                      [helper.make_tensor_value_info("o", TensorProto.INT64, [2])])
im = helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)])
im.ir_version = 8
onnx.save(im, path("int.onnx"))
os.makedirs(path("ints"))
np.save(path("ints", "a.npy"), np.array([1, 2], dtype=np.int64))
p = u.run([ONNORM, "standardize", path("int.onnx"), "--data", path("ints"), "--mode", "zscore",
           "--input", "i", "-o", path("e.onnx")], expect=3)
check("only float32 and float64" in p.stderr, "an int64 input: exit 3")
check(not os.path.exists(path("e.onnx")), "no model is written after an error")

print("%d failure(s)" % failures)
shutil.rmtree(TMP, ignore_errors=True)
sys.exit(1 if failures else 0)
