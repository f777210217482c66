#!/usr/bin/python3
"""Checks onnorm's outputs on ONNX test folders against the expected ones.

For each folder (model.onnx + test_data_set_0/input_K.pb, output_K.pb), runs
    onnorm run DIR/model.onnx --input NAME=input_K.pb ... --output-dir TMP --repeat 1
and compares every TMP/<output>.pb with output_K.pb: same shape, and
|got - exp| <= atol + rtol * |exp| everywhere, with atol = ATOL_REL *
max|exp| (defaults rtol 1e-3, ATOL_REL 1e-4), so the absolute part scales
with the output (logits of random networks have no common scale).

Prints one line per folder: PASS or FAIL, the largest absolute error, the
largest ratio error / tolerance (<= 1 passes) and, on failure, the reason
(onnorm's error message when it could not load or run the model). With
--json, one JSON object per folder instead. Exits 1 when any folder fails.

Usage: /usr/bin/python3 bench/compare.py DIR... [--onnorm build/onnorm]
           [--rtol 1e-3] [--atol-rel 1e-4] [--threads N] [--json]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def safe_name(name):
    """The file name `onnorm run --output-dir` gives an output (tools/cmd_run.c)."""
    return re.sub(r"[/\\: ]", "_", name)


def compare(got, exp, rtol, atol_rel):
    """(ok, max abs error, worst error / tolerance, atol, reason)."""
    if got.shape != exp.shape:
        return False, float("nan"), float("nan"), float("nan"), f"shape {list(got.shape)}, expected {list(exp.shape)}"
    g = got.astype(np.float64)
    e = exp.astype(np.float64)
    finite = np.isfinite(e)
    scale = float(np.abs(e[finite]).max()) if finite.any() else 0.0
    atol = atol_rel * scale
    err = np.abs(g - e)
    same_nonfinite = (np.isnan(g) & np.isnan(e)) | (g == e)
    err = np.where(same_nonfinite, 0.0, err)
    err = np.where(np.isnan(err), np.inf, err)
    tol = atol + rtol * np.abs(e)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(err == 0, 0.0, err / tol)
    worst = float(ratio.max()) if ratio.size else 0.0
    max_err = float(err.max()) if err.size else 0.0
    ok = bool((err <= tol).all())
    reason = ""
    if not ok:
        i = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
        bad = int((err > tol).sum())
        reason = (f"{bad} of {err.size} values out of tolerance; worst at {list(map(int, i))}: "
                  f"got {g[i]:.7g}, expected {e[i]:.7g}")
    return ok, max_err, worst, atol, reason


def check(folder, onnorm, rtol, atol_rel, threads, timeout):
    name = os.path.basename(os.path.normpath(folder))
    res = {"model": name, "ok": False, "max_abs_err": None, "worst_ratio": None, "atol": None,
           "rtol": rtol, "error": ""}
    data = os.path.join(folder, "test_data_set_0")
    inputs, expected = [], []
    k = 0
    while os.path.isfile(os.path.join(data, f"input_{k}.pb")):
        inputs.append((read_pb(os.path.join(data, f"input_{k}.pb"))[0], os.path.join(data, f"input_{k}.pb")))
        k += 1
    k = 0
    while os.path.isfile(os.path.join(data, f"output_{k}.pb")):
        expected.append(read_pb(os.path.join(data, f"output_{k}.pb")))
        k += 1
    if not inputs or not expected or any(not n for n, _ in inputs + expected):
        res["error"] = f"{data}: needs named input_K.pb and output_K.pb tensors"
        return res
    with tempfile.TemporaryDirectory(prefix="onnorm-cmp-") as tmp:
        cmd = [onnorm, "run", os.path.join(folder, "model.onnx"), "--output-dir", tmp, "--repeat", "1"]
        for n, path in inputs:
            cmd += ["--input", f"{n}={path}"]
        if threads:
            cmd += ["--threads", str(threads)]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            res["error"] = f"onnorm run did not finish in {timeout} s"
            return res
        if p.returncode != 0:
            msg = (p.stderr.strip() or p.stdout.strip()[-2000:]).replace("\n", " | ")
            res["error"] = f"onnorm run exited with {p.returncode}: {msg}"
            return res
        worst, max_err, atol, reasons = 0.0, 0.0, 0.0, []
        for n, exp in expected:
            path = os.path.join(tmp, safe_name(n) + ".pb")
            if not os.path.isfile(path):
                reasons.append(f"output {n}: onnorm wrote no {os.path.basename(path)}")
                continue
            ok, e, w, a, why = compare(read_pb(path)[1], exp, rtol, atol_rel)
            max_err, worst, atol = max(max_err, e), max(worst, w), max(atol, a)
            if not ok:
                reasons.append(f"output {n}: {why}")
        res.update(ok=not reasons, max_abs_err=max_err, worst_ratio=worst, atol=atol, error="; ".join(reasons))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+", metavar="DIR")
    ap.add_argument("--onnorm", default=os.path.join(ROOT, "build", "onnorm"))
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--atol-rel", type=float, default=1e-4, help="atol as a fraction of max|expected|")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--json", action="store_true", help="one JSON object per folder")
    a = ap.parse_args()
    failed = 0
    for d in a.dirs:
        r = check(d, a.onnorm, a.rtol, a.atol_rel, a.threads, a.timeout)
        failed += not r["ok"]
        if a.json:
            print(json.dumps(r), flush=True)
            continue
        line = f"{'PASS' if r['ok'] else 'FAIL'} {r['model']}"
        if r["max_abs_err"] is not None:
            line += (f": max|err| {r['max_abs_err']:.3g}, worst err/tol {r['worst_ratio']:.3g} "
                     f"(rtol {a.rtol:g}, atol {r['atol']:.3g})")
        if r["error"]:
            line += f" -- {r['error']}"
        print(line, flush=True)
    if not a.json:
        print(f"{len(a.dirs) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
