"""End-to-end checks of `onnorm calibrate`, against NumPy.

  usage: test_calibrate.py ONNORM_BINARY

1. Statistics: a conv/BN model (four BatchNormalization nodes in three
   dependency waves) is calibrated on batches of unequal sizes (.npy and .pb
   files, one of them a sample without its batch dim). The intermediate
   values of the calibrated model are recomputed independently in float64
   NumPy, and the population mean and variance of every BN input over all
   the data must equal the stored ones to 1e-5 relative. The report's mean
   shift and variance ratio are recomputed from the stored statistics.
2. Restoring corrupted statistics: a reference model whose statistics are
   (by construction, in NumPy, layer after layer) the population statistics
   of the data under itself; its statistics are then corrupted, and
   calibration on the same data must give back the reference outputs, both
   in NumPy and when onnorm runs the calibrated model.
3. Options: --nodes (only that node changes), --blend, --variance unbiased.
4. Errors and help: exit codes 0/1/2/3 and messages; a BN in training mode
   is skipped with a note, or refused when named.
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calib_util as u  # noqa: E402

ONNORM = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="onnorm-calib.")
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


def bn_input_stats(model, x):
    """Per BN node: (mean, population var, count) of its input over x (float64)."""
    env = u.evaluate(model, {"x": x})
    out = {}
    for n in u.bn_nodes(model):
        v = env[n.input[0]]
        axes = (0,) + tuple(range(2, v.ndim))
        out[n.name] = (v.mean(axis=axes), v.var(axis=axes), v.size // v.shape[1])
    return out


# ---- 1. the stored statistics are the measured ones ------------------------
model = u.conv_bn_model(seed=0)
onnx.save(model, path("m.onnx"))
X = u.write_data(path("data"), [(2, 3, 8, 8), (3, 3, 8, 8), (3, 8, 8), (1, 3, 8, 8), (5, 3, 8, 8)],
                 seed=1, shift=0.3, scale=1.7)
p = u.run([ONNORM, "calibrate", path("m.onnx"), "--data", path("data"), "-o", path("cal.onnx"),
           "--json", path("cal.json")])
cal = onnx.load(path("cal.onnx"))
onnx.checker.check_model(cal)
check([n.op_type for n in cal.graph.node] == [n.op_type for n in model.graph.node],
      "the calibrated model keeps every node (BatchNormalization is not folded)")
ci, mi = u.inits(cal), u.inits(model)
stats = bn_input_stats(cal, X)
worst = 0.0
for n in u.bn_nodes(cal):
    mean, var, count = stats[n.name]
    sm, sv = ci[n.input[3]].astype(np.float64), ci[n.input[4]].astype(np.float64)
    em = np.max(np.abs(sm - mean) / (np.abs(mean) + np.sqrt(var)))
    ev = np.max(np.abs(sv - var) / var)
    worst = max(worst, em, ev)
    check(em <= 1e-5 and ev <= 1e-5,
          "%s: stored mean/var = NumPy population statistics of its input under the calibrated "
          "model (rel err %.2g, %.2g)" % (n.name, em, ev))
    check(ci[n.input[3]].dtype == np.float32 and ci[n.input[3]].shape == (4,),
          "%s: statistics stay float32 [4] under their names" % n.name)
print("largest relative error of the stored statistics: %.3g" % worst)
# Weights other than BN statistics are untouched.
same = all(np.array_equal(ci[k], mi[k]) for k in mi if not k.startswith(("m", "v")))
check(same, "no other initializer changed")
rep = json.load(open(path("cal.json")))
waves = {l["node"]: l["wave"] for l in rep["layers"]}
check(waves == {"bn1": 0, "bn3": 0, "bn2": 1, "bn4": 2}, "waves follow the dependencies: %s" % waves)
check(all(l["count"] == X.shape[0] * 64 for l in rep["layers"]) and rep["items"] == 5,
      "every node saw all %d samples x 64 positions" % X.shape[0])
for l in rep["layers"]:
    n = [b for b in u.bn_nodes(model) if b.name == l["node"]][0]
    eps = u.attr(n, "epsilon", 1e-5)
    m0, v0 = mi[n.input[3]].astype(np.float64), mi[n.input[4]].astype(np.float64)
    m1, v1 = ci[n.input[3]].astype(np.float64), ci[n.input[4]].astype(np.float64)
    shift = np.abs(m1 - m0) / np.sqrt(v0 + eps)
    ratio = (v1 + eps) / (v0 + eps)
    ok = (np.isclose(l["mean_shift_max"], shift.max(), rtol=1e-6)
          and np.isclose(l["mean_shift_mean"], shift.mean(), rtol=1e-6)
          and np.isclose(l["var_ratio_min"], ratio.min(), rtol=1e-6)
          and np.isclose(l["var_ratio_max"], ratio.max(), rtol=1e-6)
          and np.isclose(l["var_ratio_gmean"], np.exp(np.log(ratio).mean()), rtol=1e-6))
    check(ok, "%s: the report's mean shift and variance ratio match NumPy" % l["node"])
check("bn4" in p.stdout and "calibrated 4 BatchNormalization" in p.stdout,
      "the table lists the nodes")

# Calibrating the calibrated model again moves nothing (a fixed point).
u.run([ONNORM, "calibrate", path("cal.onnx"), "--data", path("data"), "-o", path("cal2.onnx"),
       "--json", path("cal2.json")])
rep2 = json.load(open(path("cal2.json")))
check(all(l["mean_shift_max"] < 1e-5 and abs(l["var_ratio_min"] - 1) < 1e-5
          and abs(l["var_ratio_max"] - 1) < 1e-5 for l in rep2["layers"]),
      "recalibrating the calibrated model moves no statistic")
# A model exported with a fixed batch of 1 takes the same batch files, cut
# into runs of one sample, and gets the same statistics.
fixed = u.conv_bn_model(seed=0, batch=1)
onnx.save(fixed, path("fixed1.onnx"))
p = u.run([ONNORM, "calibrate", path("fixed1.onnx"), "--data", path("data"), "-o",
           path("fixed1_cal.onnx")])
fi = u.inits(onnx.load(path("fixed1_cal.onnx")))
check("on 12 data item(s)" in p.stdout and all(
    np.allclose(fi[k], ci[k], rtol=1e-6, atol=1e-7) for k in ci),
      "fixed batch 1: files cut into 12 runs, the same statistics as with a free batch")

# ---- 2. corrupted statistics come back -------------------------------------
ref = u.conv_bn_model(seed=5)
for n in u.bn_nodes(ref):  # in graph order = dependency order here
    mean, var, _ = bn_input_stats(ref, X)[n.name]
    u.set_init(ref, n.input[3], mean.astype(np.float32))
    u.set_init(ref, n.input[4], var.astype(np.float32))
y_ref = u.evaluate(ref, {"x": X})["y"]
bad = onnx.ModelProto()
bad.CopyFrom(ref)
rng = np.random.default_rng(9)
for n in u.bn_nodes(bad):
    bi = u.inits(bad)
    u.set_init(bad, n.input[3], (bi[n.input[3]] + rng.standard_normal(4)).astype(np.float32))
    u.set_init(bad, n.input[4], (bi[n.input[4]] * (0.2 + 3 * rng.random(4))).astype(np.float32))
onnx.save(bad, path("bad.onnx"))
y_bad = u.evaluate(bad, {"x": X})["y"]
scale = np.abs(y_ref).max()
check(np.abs(y_bad - y_ref).max() > 0.1 * scale, "the corruption changes the outputs (%.3g)"
      % (np.abs(y_bad - y_ref).max() / scale))
u.run([ONNORM, "calibrate", path("bad.onnx"), "--data", path("data"), "-o", path("fixed.onnx")])
fixed = onnx.load(path("fixed.onnx"))
y_fix = u.evaluate(fixed, {"x": X})["y"]
err = np.abs(y_fix - y_ref).max() / scale
check(err < 1e-5, "after calibration the outputs are the reference ones (NumPy, rel err %.2g)" % err)
# The same through onnorm itself: run the fixed model on the whole data as one batch.
np_all = path("all.pb")
with open(np_all, "wb") as f:
    f.write(numpy_helper.from_array(X, "x").SerializeToString())
u.run([ONNORM, "run", path("fixed.onnx"), "--input", "x=" + np_all, "--output-dir", path("out"),
       "--repeat", "1", "--warmup", "0"])
y_on = numpy_helper.to_array(onnx.load_tensor(path("out", "y.pb")))
err = np.abs(y_on - y_ref).max() / scale
check(err < 1e-5, "onnorm run of the calibrated model gives the reference outputs (rel err %.2g)"
      % err)

# ---- 3. options -------------------------------------------------------------
u.run([ONNORM, "calibrate", path("m.onnx"), "--data", path("data"), "-o", path("n3.onnx"),
       "--nodes", "bn3"])
n3 = u.inits(onnx.load(path("n3.onnx")))
mean3, var3, _ = bn_input_stats(model, X)["bn3"]  # bn3 depends on no other BN
check(all(np.array_equal(n3[k], mi[k]) for k in mi if k not in ("m3", "v3")),
      "--nodes bn3 changes only m3 and v3")
check(np.allclose(n3["m3"], mean3, rtol=1e-5, atol=1e-6) and np.allclose(n3["v3"], var3, rtol=1e-5),
      "--nodes bn3 writes bn3's measured statistics")
u.run([ONNORM, "calibrate", path("m.onnx"), "--data", path("data"), "-o", path("b.onnx"),
       "--nodes", "bn1,bn3", "--blend", "0.25", "--variance", "unbiased"])
bi = u.inits(onnx.load(path("b.onnx")))
st = bn_input_stats(model, X)
ok = True
for k in "13":
    mean, var, count = st["bn" + k]
    want_m = 0.25 * mean + 0.75 * mi["m" + k]
    want_v = 0.25 * var * count / (count - 1) + 0.75 * mi["v" + k]
    ok &= np.allclose(bi["m" + k], want_m, rtol=1e-5, atol=1e-6) and np.allclose(
        bi["v" + k], want_v, rtol=1e-5)
check(ok, "--blend 0.25 --variance unbiased: 0.25 * measured (N-1) + 0.75 * stored")

# ---- 4. errors, help, training mode ---------------------------------------
p = u.run([ONNORM, "calibrate", "--help"])
check("population" in p.stdout and "--blend" in p.stdout and "--data" in p.stdout, "--help")
p = u.run([ONNORM, "help", "calibrate"])
check("usage: onnorm calibrate" in p.stdout, "onnorm help calibrate")
p = u.run([ONNORM, "calibrate", path("m.onnx"), "-o", path("x.onnx")], expect=2)
check("--data" in p.stderr, "missing --data: exit 2")
p = u.run([ONNORM, "calibrate", path("m.onnx"), "--data", path("data")], expect=2)
check("-o" in p.stderr, "missing -o: exit 2")
p = u.run([ONNORM, "calibrate", path("m.onnx"), "--data", "-o", path("x.onnx")], expect=2)
check("at least one PATH" in p.stderr, "--data without a path: exit 2")
p = u.run([ONNORM, "calibrate", path("m.onnx"), "--data", path("data"), "-o", path("x.onnx"),
           "--variance", "sample"], expect=2)
check("population or unbiased" in p.stderr, "bad --variance: exit 2")
p = u.run([ONNORM, "calibrate", path("m.onnx"), "--data", path("data"), "-o", path("x.onnx"),
           "--blend", "1.5"], expect=2)
check("--blend" in p.stderr, "--blend out of range: exit 2")
p = u.run([ONNORM, "calibrate", path("m.onnx"), "--data", path("data"), "-o", path("x.onnx"),
           "--nodes", "bn9"], expect=1)
check("no BatchNormalization node named 'bn9'" in p.stderr, "unknown --nodes name: exit 1")
p = u.run([ONNORM, "calibrate", path("m.onnx"), "--data", path("nowhere"), "-o", path("x.onnx")],
          expect=1)
check("no such file" in p.stderr, "missing data: exit 1")
os.makedirs(path("d64"))
np.save(path("d64", "a.npy"), X[:2].astype(np.float64))
p = u.run([ONNORM, "calibrate", path("m.onnx"), "--data", path("d64"), "-o", path("x.onnx")],
          expect=1)
check("float32, the file holds float64" in p.stderr, "float64 data for a float32 model: exit 1")
os.makedirs(path("dnan"))
xn = X[:2].copy()
xn[1, 0, 3, 3] = np.nan
np.save(path("dnan", "a.npy"), xn)
p = u.run([ONNORM, "calibrate", path("m.onnx"), "--data", path("dnan"), "-o", path("x.onnx")],
          expect=1)
check("NaN or Inf" in p.stderr, "NaN in the data: exit 1 with a message")
check(not os.path.exists(path("x.onnx")), "no model is written after an error")

# A BN in training mode (opset 15, training_mode=1, three outputs) next to an
# inference one: skipped with a note; named, refused (exit 3).
tm = u.conv_bn_model(seed=0)
for n in tm.graph.node:
    if n.name == "bn3":
        n.attribute.append(helper.make_attribute("training_mode", 1))
        n.output.extend(["rm3", "rv3"])
onnx.save(tm, path("tm.onnx"))
p = u.run([ONNORM, "calibrate", path("tm.onnx"), "--data", path("data"), "-o", path("tm_out.onnx")])
check("skipped BatchNormalization 'bn3'" in p.stdout and "training mode" in p.stdout
      and "calibrated 3 BatchNormalization" in p.stdout, "a training-mode BN is skipped with a note")
p = u.run([ONNORM, "calibrate", path("tm.onnx"), "--data", path("data"), "-o", path("tm_out.onnx"),
           "--nodes", "bn3"], expect=3)
check("training mode" in p.stderr, "naming a training-mode BN: exit 3")

print("%d failure(s)" % failures)
shutil.rmtree(TMP, ignore_errors=True)
sys.exit(1 if failures else 0)
