"""`onnorm stats` against NumPy on the same activations.

usage: test_stats.py ONNORM [KEEP_DIR]

Builds small models with python3-onnx, writes data as .npy and .pb files,
runs `onnorm stats --json --html`, and checks every number of the JSON
against NumPy:
  - the activations each norm node sees are taken from onnorm itself (a copy
    of the model that outputs them, run with `onnorm run --opt-level 0`), and
    are first checked against a NumPy forward pass of the model (so they are
    the right tensors);
  - NumPy then computes, on exactly those float32 values, everything the JSON
    holds: per-unit population mean/std, their five-number summaries
    (np.quantile), dead and near-constant units, NaN/Inf counts, row
    statistics, BatchNormalization drift and the batch-size noise over
    consecutive batches.
The HTML must parse as XML, hold no script, link or external reference, and
one <svg> per chart. Ends with 'N passed, M failed'.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ONNORM = sys.argv[1]
KEEP = sys.argv[2] if len(sys.argv) > 2 else None
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def close(got, exp, what, rtol=1e-7, atol=1e-9):
    """got (from JSON: None for non-finite) against exp (NumPy)."""
    g = np.array([np.nan if v is None else v for v in np.ravel(got)], np.float64)
    e = np.array(np.ravel(exp), np.float64)
    if g.shape != e.shape:
        check(False, "%s: shape %s, expected %s" % (what, g.shape, e.shape))
        return
    e_fin = np.isfinite(e)
    ok = np.array_equal(np.isfinite(g), e_fin) and np.allclose(g[e_fin], e[e_fin], rtol=rtol,
                                                                atol=atol)
    if not ok:
        bad = np.where(~np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True))[0][:5]
        check(False, "%s: got %s expected %s (first differing %s)" % (what, g[bad], e[bad], bad))
    else:
        check(True, what)


def run(*args, expect=0):
    p = subprocess.run([ONNORM] + [str(a) for a in args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != expect:
        print("onnorm", *args, "->", p.returncode, "expected", expect)
        print(p.stdout[-2000:], p.stderr[-2000:])
    check(p.returncode == expect, "exit status of onnorm %s" % " ".join(map(str, args[:2])))
    return p


f32 = lambda n, s: helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
init = numpy_helper.from_array


def save_model(path, nodes, inits, ins, outs, opset):
    g = helper.make_graph(nodes, "g", ins, outs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.save(m, path)
    return m


def with_taps(model, path, names):
    """The model with every value in names also a graph output."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for n in names:
        if n not in have:
            m.graph.output.append(helper.make_empty_tensor_value_info(n))
            have.add(n)
    onnx.save(m, path)


def write_pb(path, a, name="x"):
    with open(path, "wb") as f:
        f.write(init(a, name).SerializeToString())


def taps_of(tmp, model_path, items, names):
    """Per tap name: onnorm's values over every item, concatenated on axis 0."""
    got = {n: [] for n in names}
    for k, a in enumerate(items):
        pb = os.path.join(tmp, "item%d.pb" % k)
        write_pb(pb, a)
        out = os.path.join(tmp, "taps%d" % k)
        run("run", model_path, "--opt-level", 0, "--repeat", 1, "--warmup", 0,
            "--input", "x=" + pb, "--output-dir", out)
        for n in names:
            t = onnx.TensorProto()
            t.ParseFromString(open(os.path.join(out, n + ".pb"), "rb").read())
            got[n].append(numpy_helper.to_array(t))
    return got


# ---- NumPy statistics (the definitions of runtime/normstats.c) -------------------------

def units_view(a, kind, groups=None, axis=-1):
    """a as [samples, elements per sample of a unit..., units] -> [units, samples, per]."""
    if kind == "channel":
        n, c = a.shape[:2]
        return a.reshape(n, c, -1).transpose(1, 0, 2)
    if kind == "group":
        n, c = a.shape[:2]
        return a.reshape(n, groups, -1).transpose(1, 0, 2)
    if kind == "feature":
        ax = axis % a.ndim
        d = int(np.prod(a.shape[ax:]))
        return a.reshape(a.shape[0], -1, d).transpose(2, 0, 1)
    raise ValueError(kind)


def five(v):
    v = np.asarray(v, np.float64)
    v = v[~np.isnan(v)]
    return [v.min(), *np.quantile(v, [0.25, 0.5, 0.75]), v.max()]


def side_ref(a, kind, groups=None, axis=-1):
    a64 = a.astype(np.float64)
    u = units_view(a64, kind, groups, axis)  # [U, samples, per]
    flat = u.reshape(u.shape[0], -1)
    fin = np.isfinite(flat)
    cnt = fin.sum(1)
    masked = np.where(fin, flat, 0.0)
    mean = masked.sum(1) / cnt
    var = (np.where(fin, flat - mean[:, None], 0.0) ** 2).sum(1) / cnt
    std = np.sqrt(var)
    dead = [i for i in range(flat.shape[0]) if not np.any(flat[i] != 0)]
    near = [i for i in range(flat.shape[0])
            if i not in dead and std[i] < 1e-6 * (1 + abs(mean[i]))]
    r = {"mean": mean, "var": var, "std": std, "dead": dead, "near": near,
         "nan": int(np.isnan(a64).sum()), "inf": int(np.isinf(a64).sum()),
         "min": np.nanmin(np.where(np.isinf(a64), np.nan, a64)),
         "max": np.nanmax(np.where(np.isinf(a64), np.nan, a64)), "u": u}
    if kind == "feature":
        ax = axis % a.ndim
        rows = a64.reshape(-1, int(np.prod(a.shape[ax:])))
        rm, rs = [], []
        for row in rows:
            f = row[np.isfinite(row)]
            if f.size:
                rm.append(f.mean())
                rs.append(f.std())
        r["rows"] = {"count": len(rm), "mean": rm, "std": rs,
                     "dead": int(sum(not np.any(row != 0) for row in rows)),
                     "nonfinite": int(sum(not np.all(np.isfinite(row)) for row in rows))}
    return r


def noise_ref(ref):
    """Batch noise over consecutive batches of b samples (b = 1, 2, 4, ...)."""
    u = ref["u"]  # [U, S, per]
    S = u.shape[1]
    keep = [i for i in range(u.shape[0]) if i not in ref["dead"] and i not in ref["near"]
            and ref["var"][i] > 0]
    out = []
    b = 1
    while S // b >= 2:
        k = S // b
        bt = u[keep, :k * b].reshape(len(keep), k, -1)  # [U', k, b*per]
        bt = np.where(np.isfinite(bt), bt, np.nan)  # over finite values only
        m = np.nanmean(bt, 2)
        v = np.nanvar(bt, 2)
        mu = ref["mean"][keep][:, None]
        var = ref["var"][keep][:, None]
        out.append({"batch": b, "batches": k, "units": len(keep),
                    "mean_rms": np.sqrt(np.mean((m - mu) ** 2 / var)),
                    "var_rms": np.sqrt(np.mean((v / var - 1) ** 2)),
                    "var_bias": np.mean(v / var - 1)})
        b *= 2
    return out


def check_side(js, ref, what):
    close(js["unit_mean"], ref["mean"], what + " unit_mean")
    close(js["unit_std"], ref["std"], what + " unit_std", atol=1e-7)
    close([js["mean"][k] for k in ("min", "q1", "median", "q3", "max")], five(ref["mean"]),
          what + " mean quartiles")
    close([js["std"][k] for k in ("min", "q1", "median", "q3", "max")], five(ref["std"]),
          what + " std quartiles", atol=1e-7)
    check(js["dead"] == ref["dead"], "%s dead %s, expected %s" % (what, js["dead"], ref["dead"]))
    check(js["near_constant"] == ref["near"],
          "%s near_constant %s, expected %s" % (what, js["near_constant"], ref["near"]))
    check(js["nan"] == ref["nan"] and js["inf"] == ref["inf"],
          "%s nan/inf %s/%s, expected %s/%s" % (what, js["nan"], js["inf"], ref["nan"],
                                                 ref["inf"]))
    close([js["min"], js["max"]], [ref["min"], ref["max"]], what + " min/max")
    if "rows" in ref:
        r, jr = ref["rows"], js["rows"]
        check(jr["count"] == r["count"] and jr["dead"] == r["dead"] and
              jr["nonfinite"] == r["nonfinite"], what + " row counts %s vs %s" % (
                  (jr["count"], jr["dead"], jr["nonfinite"]),
                  (r["count"], r["dead"], r["nonfinite"])))
        close([jr["mean"][k] for k in ("min", "q1", "median", "q3", "max")], five(r["mean"]),
              what + " row mean quartiles")
        close([jr["std"][k] for k in ("min", "q1", "median", "q3", "max")], five(r["std"]),
              what + " row std quartiles", atol=1e-7)


def check_noise(js, ref, what):
    exp = noise_ref(ref)
    check([e["batch"] for e in js] == [e["batch"] for e in exp],
          "%s batch sizes %s, expected %s" % (what, [e["batch"] for e in js],
                                              [e["batch"] for e in exp]))
    for g, e in zip(js, exp):
        check(g["batches"] == e["batches"] and g["units"] == e["units"],
              "%s b=%d batches/units" % (what, e["batch"]))
        close([g["mean_rms"], g["var_rms"], g["var_bias"]],
              [e["mean_rms"], e["var_rms"], e["var_bias"]], "%s b=%d noise" % (what, e["batch"]),
              rtol=1e-6, atol=1e-9)
    return exp


def check_drift(js, ref, mean_s, var_s, eps, what):
    shift = np.abs(ref["mean"] - mean_s) / np.sqrt(var_s + eps)
    ratio = (ref["var"] + eps) / (var_s + eps)
    close(js["shift"], shift, what + " shift")
    close(js["ratio"], ratio, what + " ratio")
    close([js["max_shift"], js["mean_shift"], js["min_ratio"], js["max_ratio"]],
          [shift.max(), shift.mean(), ratio.min(), ratio.max()], what + " drift summary")
    check(js["worst_shift_channel"] == int(np.argmax(shift)), what + " worst shift channel")
    flagged = bool(shift.max() > 0.5 or ratio.min() < 0.5 or ratio.max() > 2)
    check(js["flagged"] == flagged, what + " flagged %s, expected %s" % (js["flagged"], flagged))
    return flagged


# ---- NumPy forward pass ----------------------------------------------------------------

def conv(x, w, b, pad):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    y = np.zeros((n, o, h, wd))
    for i in range(kh):
        for j in range(kw):
            y += np.einsum("nchw,oc->nohw", xp[:, :, i:i + h, j:j + wd], w[:, :, i, j])
    return y + b[None, :, None, None]


def check_html(path, n_svg, what):
    text = open(path, encoding="utf-8").read()
    try:
        root = ET.fromstring(text)
        ok = True
    except ET.ParseError as e:
        ok = False
        print("HTML parse error:", e)
    check(ok, what + " HTML is well-formed XML")
    if not ok:
        return
    svg = root.findall(".//{http://www.w3.org/2000/svg}svg")
    check(len(svg) == n_svg, "%s: %d <svg>, expected %d" % (what, len(svg), n_svg))
    tags = {el.tag.split("}")[-1] for el in root.iter()}
    check(not tags & {"script", "link", "img", "iframe", "object", "embed"},
          what + " HTML has no script, link or embedded resource: %s" % sorted(tags))
    attrs = [k for el in root.iter() for k in el.attrib]
    check(not any(k in ("src", "href") or k.endswith("}href") for k in attrs),
          what + " HTML references nothing")
    check(text.replace('xmlns="http://www.w3.org/2000/svg"', "").find("http") < 0,
          what + " HTML names no URL")


def main():
    tmp = tempfile.mkdtemp(prefix="onnorm_stats_")
    rng = np.random.default_rng(14)

    # ---- model 1: Conv -> BN -> Relu -> Conv -> IN -> GN -> LN -> MVN ----
    w1 = rng.normal(0, 0.4, (4, 3, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.2, 4).astype(np.float32)
    bn_scale = rng.uniform(0.5, 1.5, 4).astype(np.float32)
    bn_bias = rng.normal(0, 0.3, 4).astype(np.float32)
    bn_mean = rng.normal(0, 0.3, 4).astype(np.float32)
    bn_var = rng.uniform(0.5, 2.0, 4).astype(np.float32)
    bn_mean[2] += 3.0  # one channel's stored statistics far off: drift
    w2 = rng.normal(0, 0.5, (8, 4, 1, 1)).astype(np.float32)
    b2 = rng.normal(0, 0.1, 8).astype(np.float32)
    w2[0] = 0; b2[0] = 0    # a dead channel
    w2[1] = 0; b2[1] = 3.0  # a constant one
    in_scale = rng.uniform(0.5, 1.5, 8).astype(np.float32)
    in_bias = rng.normal(0, 0.3, 8).astype(np.float32)
    gn_scale = np.array([1.5, 0.5], np.float32)
    gn_bias = np.array([0.1, -0.2], np.float32)
    ln_scale = rng.uniform(0.5, 1.5, 8).astype(np.float32)
    ln_bias = rng.normal(0, 0.3, 8).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bs", "bb", "bm", "bv"], ["n1"],
                         name="bn", epsilon=1e-3),
        helper.make_node("Relu", ["n1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"]),
        helper.make_node("InstanceNormalization", ["c2", "is", "ib"], ["i1"], name="inorm"),
        helper.make_node("GroupNormalization", ["i1", "gs", "gb"], ["g1"], name="gnorm",
                         num_groups=2),
        helper.make_node("LayerNormalization", ["g1", "ls", "lb"], ["l1"], name="lnorm",
                         axis=-1),
        helper.make_node("MeanVarianceNormalization", ["l1"], ["y"], name="mvn"),
    ]
    inits = [init(w1, "w1"), init(b1, "b1"), init(bn_scale, "bs"), init(bn_bias, "bb"),
             init(bn_mean, "bm"), init(bn_var, "bv"), init(w2, "w2"), init(b2, "b2"),
             init(in_scale, "is"), init(in_bias, "ib"), init(gn_scale, "gs"),
             init(gn_bias, "gb"), init(ln_scale, "ls"), init(ln_bias, "lb")]
    m1_path = os.path.join(tmp, "m1.onnx")
    m1 = save_model(m1_path, nodes, inits, [f32("x", ["N", 3, 8, 8])],
                    [f32("y", ["N", 8, 8, 8])], 18)

    # 16 samples: a batch of 5 (.npy), 7 (.pb), one sample without the batch
    # dim (.npy), 3 (.npy). Channel means differ per sample (a sample offset).
    sizes = [5, 7, 1, 3]
    items = [(rng.normal(0, 1, (s, 3, 8, 8)) + rng.normal(0, 0.5, (s, 3, 1, 1)) + 0.3)
             .astype(np.float32) for s in sizes]
    paths = []
    for k, a in enumerate(items):
        if k == 1:
            p = os.path.join(tmp, "d%d.pb" % k)
            write_pb(p, a)
        else:
            p = os.path.join(tmp, "d%d.npy" % k)
            np.save(p, a[0] if k == 2 else a)
        paths.append(p)
    out_json = os.path.join(tmp, "m1.json")
    out_html = os.path.join(tmp, "m1.html")
    p = run("stats", m1_path, "--data", *paths, "--json", out_json, "--html", out_html)
    check(len([l for l in p.stdout.splitlines() if "'" in l]) == 5,
          "one text line per norm node:\n" + p.stdout)
    check("FLAGS drift" in p.stdout.split("\n")[1], "the BN line is flagged drift:\n" + p.stdout)
    js = json.load(open(out_json))
    nodes_js = {n["name"]: n for n in js["nodes"]}
    check(sorted(nodes_js) == ["bn", "gnorm", "inorm", "lnorm", "mvn"], "nodes recorded")

    # onnorm's activations, checked against a NumPy forward pass first
    taps = ["c1", "n1", "c2", "i1", "g1", "l1", "y"]
    tp = os.path.join(tmp, "m1_taps.onnx")
    with_taps(m1, tp, taps)
    got = taps_of(tmp, tp, items, taps)
    act = {n: np.concatenate(got[n]) for n in taps}
    x = np.concatenate(items).astype(np.float64)
    c1 = conv(x, w1, b1, 1)
    n1 = (c1 - bn_mean[None, :, None, None]) / np.sqrt(bn_var + 1e-3)[None, :, None, None] * \
        bn_scale[None, :, None, None] + bn_bias[None, :, None, None]
    c2 = conv(np.maximum(n1, 0), w2, b2, 0)
    mu = c2.mean((2, 3), keepdims=True)
    i1 = (c2 - mu) / np.sqrt(c2.var((2, 3), keepdims=True) + 1e-5) * \
        in_scale[None, :, None, None] + in_bias[None, :, None, None]
    gv = i1.reshape(i1.shape[0], 2, -1)
    g1 = ((gv - gv.mean(2, keepdims=True)) / np.sqrt(gv.var(2, keepdims=True) + 1e-5))
    g1 = (g1 * gn_scale[None, :, None] + gn_bias[None, :, None]).reshape(i1.shape)
    l1 = (g1 - g1.mean(-1, keepdims=True)) / np.sqrt(g1.var(-1, keepdims=True) + 1e-5) * \
        ln_scale + ln_bias
    ys, start = [], 0
    for s in sizes:  # MVN's statistics span each run's batch
        b = l1[start:start + s]
        ys.append((b - b.mean((0, 2, 3), keepdims=True)) /
                  (np.sqrt(b.var((0, 2, 3), keepdims=True)) + 1e-9))
        start += s
    fwd = {"c1": c1, "n1": n1, "c2": c2, "i1": i1, "g1": g1, "l1": l1, "y": np.concatenate(ys)}
    for n in taps:
        check(act[n].shape == fwd[n].shape and
              np.allclose(act[n], fwd[n], rtol=1e-4, atol=1e-4),
              "onnorm's %s matches the NumPy forward pass (max diff %g)" %
              (n, np.abs(act[n] - fwd[n]).max()))

    spec = {"bn": ("c1", "n1", "channel", {}), "inorm": ("c2", "i1", "channel", {}),
            "gnorm": ("i1", "g1", "group", {"groups": 2}),
            "lnorm": ("g1", "l1", "feature", {"axis": -1}), "mvn": ("l1", "y", "channel", {})}
    for name, (xi, yo, kind, kw) in spec.items():
        nj = nodes_js[name]
        check(nj["unit"] == kind, "%s unit %s, expected %s" % (name, nj["unit"], kind))
        check(nj["samples"] == 16, "%s samples %d" % (name, nj["samples"]))
        ri = side_ref(act[xi], kind, **kw)
        check_side(nj["input"], ri, name + " input")
        check_side(nj["output"], side_ref(act[yo], kind, **kw), name + " output")
        check(nj["input"]["shape"] == list(got[xi][-1].shape), name + " last shape")
        exp = check_noise(nj["batch_noise"], ri, name)
        check([e["batch"] for e in exp] == [1, 2, 4, 8], name + " batch sizes 1..8")
    check(nodes_js["inorm"]["input"]["dead"] == [0] and
          nodes_js["inorm"]["input"]["near_constant"] == [1], "dead and constant channels found")
    check(set(nodes_js["inorm"]["flags"]) == {"dead", "near_constant"},
          "inorm flags %s" % nodes_js["inorm"]["flags"])
    ri = side_ref(act["c1"], "channel")
    check(check_drift(nodes_js["bn"]["drift"], ri, bn_mean.astype(np.float64),
                      bn_var.astype(np.float64), np.float64(np.float32(1e-3)), "bn"),
          "the corrupted BN is flagged")
    check("drift" in nodes_js["bn"]["flags"], "bn flags")
    for name in ("inorm", "gnorm", "lnorm", "mvn"):
        check(nodes_js[name]["drift"] is None, name + " has no drift")
    check_html(out_html, 6, "m1")

    # Data given as a folder (sorted .npy/.pb) equals the same files in that order.
    folder = os.path.join(tmp, "folder")
    os.makedirs(folder)
    for pth in paths:
        shutil.copy(pth, folder)
    out2 = os.path.join(tmp, "m1_folder.json")
    run("stats", m1_path, "--data", folder, "--json", out2)
    check(json.load(open(out2))["nodes"] == js["nodes"], "a folder of the files gives the same JSON")
    # --data=P, repeated: the same again.
    out3 = os.path.join(tmp, "m1_eq.json")
    run("stats", m1_path, "--data=" + paths[0], "--json", out3, "--data", *paths[1:])
    check(json.load(open(out3))["nodes"] == js["nodes"], "--data=P and a repeated --data")

    # ---- model 2: BN with good statistics -> RMSNormalization, NaN and Inf ----
    a = rng.normal(1.0, 2.0, (6, 4, 5)).astype(np.float32)
    a[1, 2, 3] = np.nan
    a[4, 2, 0] = np.inf
    a[5, 0, 1] = -np.inf
    fin = np.where(np.isfinite(a), a, np.nan).astype(np.float64)
    m_s = np.nanmean(fin, axis=(0, 2)).astype(np.float32)
    v_s = np.nanvar(fin, axis=(0, 2)).astype(np.float32)
    nodes2 = [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["n"], name="bn2"),
              helper.make_node("RMSNormalization", ["n", "rs"], ["y"], name="rms", axis=-1)]
    inits2 = [init(np.ones(4, np.float32), "s"), init(np.zeros(4, np.float32), "b"),
              init(m_s, "m"), init(v_s, "v"), init(np.ones(5, np.float32), "rs")]
    m2_path = os.path.join(tmp, "m2.onnx")
    m2 = save_model(m2_path, nodes2, inits2, [f32("x", ["N", 4, 5])], [f32("y", ["N", 4, 5])], 23)
    d2 = os.path.join(tmp, "m2.npy")
    np.save(d2, a)
    j2 = os.path.join(tmp, "m2.json")
    h2 = os.path.join(tmp, "m2.html")
    run("stats", m2_path, "--data", d2, "--json", j2, "--html", h2)
    js2 = {n["name"]: n for n in json.load(open(j2))["nodes"]}
    tp2 = os.path.join(tmp, "m2_taps.onnx")
    with_taps(m2, tp2, ["n", "y"])
    act2 = {k: np.concatenate(v) for k, v in taps_of(tmp, tp2, [a], ["n", "y"]).items()}
    ri = side_ref(a, "channel")
    check_side(js2["bn2"]["input"], ri, "bn2 input")
    check_side(js2["bn2"]["output"], side_ref(act2["n"], "channel"), "bn2 output")
    check(js2["bn2"]["input"]["nan"] == 1 and js2["bn2"]["input"]["inf"] == 2, "NaN/Inf counted")
    check(not check_drift(js2["bn2"]["drift"], ri, m_s.astype(np.float64), v_s.astype(np.float64),
                          np.float64(np.float32(1e-5)), "bn2"),
          "BN with matching statistics is not flagged")
    check(js2["bn2"]["flags"] == ["nonfinite"], "bn2 flags %s" % js2["bn2"]["flags"])
    check(js2["rms"]["unit"] == "feature" and js2["rms"]["units"] == 5, "rms units")
    check_side(js2["rms"]["input"], side_ref(act2["n"], "feature", axis=-1), "rms input")
    check_side(js2["rms"]["output"], side_ref(act2["y"], "feature", axis=-1), "rms output")
    check_noise(js2["bn2"]["batch_noise"], ri, "bn2")
    check_html(h2, 6, "m2")

    # ---- model 3: the contrib forms: onnorm's fused BatchNormalization (+Relu),
    # com.microsoft SkipLayerNormalization and LayerNormalization (axis 1) ----
    a3 = (rng.normal(0, 1, (8, 4, 6)) * rng.uniform(0.5, 2, (1, 4, 1))).astype(np.float32)
    skip = rng.normal(0, 1, (8, 4, 6)).astype(np.float32)
    bm3 = rng.normal(0, 0.1, 4).astype(np.float32)
    bv3 = rng.uniform(0.5, 2, 4).astype(np.float32)
    nodes3 = [
        helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["n"], name="fbn",
                         domain="ai.onnorm", activation="Relu"),
        helper.make_node("SkipLayerNormalization", ["n", "skip", "g", "be"], ["k"], name="sln",
                         domain="com.microsoft"),
        helper.make_node("LayerNormalization", ["k", "g2", "be2"], ["y"], name="msln",
                         domain="com.microsoft", axis=1),
    ]
    inits3 = [init(np.ones(4, np.float32), "s"), init(np.zeros(4, np.float32), "b"),
              init(bm3, "m"), init(bv3, "v"), init(skip, "skip"),
              init(np.ones(6, np.float32), "g"), init(np.zeros(6, np.float32), "be"),
              init(np.ones((4, 6), np.float32), "g2"), init(np.zeros((4, 6), np.float32), "be2")]
    g3 = helper.make_graph(nodes3, "g", [f32("x", [8, 4, 6])], [f32("y", [8, 4, 6])],
                           initializer=inits3)
    m3 = helper.make_model(g3, opset_imports=[helper.make_opsetid("", 17),
                                              helper.make_opsetid("ai.onnorm", 1),
                                              helper.make_opsetid("com.microsoft", 1)])
    m3.ir_version = 8
    m3_path = os.path.join(tmp, "m3.onnx")
    onnx.save(m3, m3_path)
    d3 = os.path.join(tmp, "m3.npy")
    np.save(d3, a3)
    j3 = os.path.join(tmp, "m3.json")
    run("stats", m3_path, "--data", d3, "--json", j3)
    js3 = {n["name"]: n for n in json.load(open(j3))["nodes"]}
    check(sorted(js3) == ["fbn", "msln", "sln"], "contrib norms recorded: %s" % sorted(js3))
    tp3 = os.path.join(tmp, "m3_taps.onnx")
    with_taps(m3, tp3, ["n", "k", "y"])
    act3 = {k: np.concatenate(v) for k, v in taps_of(tmp, tp3, [a3], ["n", "k", "y"]).items()}
    # fused BN = Relu(BN(x)); SkipLayerNormalization = LN(n + skip); LN over axes 1..
    n_ref = np.maximum((a3 - bm3[None, :, None]) / np.sqrt(bv3 + 1e-5)[None, :, None], 0)
    check(np.allclose(act3["n"], n_ref, rtol=1e-5, atol=1e-5), "fused BN tap matches NumPy")
    hsum = act3["n"].astype(np.float64) + skip
    k_ref = (hsum - hsum.mean(-1, keepdims=True)) / np.sqrt(hsum.var(-1, keepdims=True) + 1e-12)
    check(np.allclose(act3["k"], k_ref, rtol=1e-4, atol=1e-4), "SkipLayerNormalization tap")
    ri = side_ref(a3, "channel")
    check_side(js3["fbn"]["input"], ri, "fbn input")
    check_side(js3["fbn"]["output"], side_ref(act3["n"], "channel"), "fbn output")
    check_drift(js3["fbn"]["drift"], ri, bm3.astype(np.float64), bv3.astype(np.float64),
                np.float64(np.float32(1e-5)), "fbn")
    check(js3["sln"]["unit"] == "feature" and js3["sln"]["units"] == 6, "sln: the last axis")
    check_side(js3["sln"]["input"], side_ref(act3["n"], "feature", axis=-1), "sln input 0")
    check_side(js3["sln"]["output"], side_ref(act3["k"], "feature", axis=-1), "sln output")
    check(js3["msln"]["units"] == 24, "msln: axis 1 gives rows of 24")
    check_side(js3["msln"]["input"], side_ref(act3["k"], "feature", axis=1), "msln input")
    check_side(js3["msln"]["output"], side_ref(act3["y"], "feature", axis=1), "msln output")

    # ---- errors ----
    run("stats", m1_path, expect=2)                      # no --data
    run("stats", m1_path, "--data", expect=2)            # --data without a path
    run("stats", "--data", paths[0], expect=2)           # no model... the path is data
    run("stats", m1_path, "--data", os.path.join(tmp, "missing.npy"), expect=1)
    run("stats", m1_path, "--data", paths[0], "--json", os.path.join(tmp, "nodir", "x.json"),
        expect=1)
    plain = os.path.join(tmp, "plain.onnx")
    save_model(plain, [helper.make_node("Relu", ["x"], ["y"])], [], [f32("x", [2])],
               [f32("y", [2])], 17)
    p = run("stats", plain, "--data", paths[0], expect=1)
    check("no normalization node" in p.stderr, "a model without norms is refused: " + p.stderr)
    unsup = os.path.join(tmp, "unsup.onnx")
    g = helper.make_graph([helper.make_node("NoSuchOp", ["x"], ["t"], domain="com.example"),
                           helper.make_node("InstanceNormalization", ["t", "s", "b"], ["y"])],
                          "g", [f32("x", [1, 2, 3])], [f32("y", [1, 2, 3])],
                          [init(np.ones(2, np.float32), "s"), init(np.zeros(2, np.float32), "b")])
    mu = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                             helper.make_opsetid("com.example", 1)])
    mu.ir_version = 8
    onnx.save(mu, unsup)
    p = run("stats", unsup, "--data", paths[0], expect=3)
    check("NoSuchOp" in p.stderr, "an unsupported op is named: " + p.stderr)
    wrong = os.path.join(tmp, "wrong.npy")
    np.save(wrong, np.zeros((2, 5, 8, 8), np.float32))
    p = run("stats", m1_path, "--data", wrong, expect=1)
    check(p.stderr.startswith("onnorm stats:") and "wrong.npy" in p.stderr,
          "a wrong-shaped item is named: " + p.stderr)
    p = run("help", "stats")
    check("--data" in p.stdout and "--html" in p.stdout and "exit status" in p.stdout, "help")

    if KEEP:
        os.makedirs(KEEP, exist_ok=True)
        for f in ("m1.json", "m1.html", "m2.html"):
            shutil.copy(os.path.join(tmp, f), KEEP)
    shutil.rmtree(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
