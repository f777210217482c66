#!/usr/bin/python3
"""Compares onnorm's detections (boxes [N, 4], scores [N], labels [N]) on
folders written by bench/gen_detection.py with PyTorch's and, with --ort,
with ONNX Runtime's on the same file (bench/ort_run.js --feed/--dump).

Detections with equal scores come out in an order that depends on the
sort each runtime uses (PyTorch's TopK is not stable; ONNX Runtime and
onnorm keep ascending indices), so the comparison with PyTorch is a
matching: every expected detection must pair with a distinct one of
onnorm's with the same label, |score error| <= 1e-5 + 1e-3 |score| and
|box error| <= 1e-3 * max|box| + 1e-3 |box| per coordinate. Detections
left unpaired are allowed only at the cut-off (their score ties the lowest
kept score), where a different tie order picks different boxes. ONNX
Runtime's NonMaxSuppression takes equal scores in the order of a binary
heap (neither by index nor stable), so it is compared by the same rule.

Prints one line per folder; exits 1 when any fails.
Usage: /usr/bin/python3 bench/compare_detection.py DIR... [--onnorm build/onnorm]
           [--ort] [--threads N]
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = ("boxes", "scores", "labels")


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def close(a, b, atol, rtol=1e-3):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def box_atol(boxes):
    return 1e-3 * float(np.abs(boxes).max()) if boxes.size else 0.0


def match(got, exp):
    """(paired count, unpaired expected indices, unpaired got indices,
    largest score error, largest box error over the pairs)."""
    gb, gs, gl = got
    eb, es, el = exp
    atol = box_atol(eb)
    used = np.zeros(len(gs), bool)
    lost = []
    es_err = eb_err = 0.0
    for i in range(len(es)):
        for j in range(len(gs)):
            if (not used[j] and gl[j] == el[i] and close(gs[j], es[i], 1e-5)
                    and close(gb[j], eb[i], atol)):
                used[j] = True
                es_err = max(es_err, abs(float(gs[j]) - float(es[i])))
                eb_err = max(eb_err, float(np.abs(gb[j].astype(np.float64) - eb[i]).max()))
                break
        else:
            lost.append(i)
    return len(es) - len(lost), lost, [j for j in range(len(gs)) if not used[j]], es_err, eb_err


def in_order(got, exp):
    """'' when equal element by element within tolerance, else why not."""
    for n, g, e in zip(NAMES, got, exp):
        if g.shape != e.shape:
            return f"{n} shape {list(g.shape)}, expected {list(e.shape)}"
    gb, gs, gl = got
    eb, es, el = exp
    if not np.array_equal(gl, el):
        return f"labels differ at {int(np.argmax(gl != el))}"
    if not close(gs, es, 1e-5):
        return f"scores: max|err| {float(np.abs(gs - es).max()):.3g}"
    if not close(gb, eb, box_atol(eb)):
        return f"boxes: max|err| {float(np.abs(gb - eb).max()):.3g}"
    return ""


def judge(got, exp):
    """(ok, note): the matching rule of the module docstring."""
    paired, lost, extra, es_err, eb_err = match(got, exp)
    cut = float(exp[1].min()) if len(exp[1]) else 0.0
    at_cut = all(close(exp[1][i], cut, 1e-5) for i in lost) and \
        all(close(got[1][j], cut, 1e-5) for j in extra)
    ok = len(got[1]) == len(exp[1]) and at_cut
    note = f"{paired}/{len(exp[1])} paired (max|err| score {es_err:.2g}, box {eb_err:.2g})"
    if lost and at_cut:
        note += f", {len(lost)} differ at the cut-off score {cut:.7g}"
    elif lost:
        i = lost[0]
        note += f", {len(lost)} unpaired (first: #{i} label {exp[2][i]} score {exp[1][i]:.7g})"
    if len(got[1]) != len(exp[1]):
        note += f", got {len(got[1])} of {len(exp[1])}"
    if not in_order(got, exp):
        note += ", in order"
    return ok, note


def run_onnorm(onnorm, folder, tmp, threads):
    cmd = [onnorm, "run", os.path.join(folder, "model.onnx"), "--repeat", "1", "--output-dir", tmp,
           "--input", "image=" + os.path.join(folder, "test_data_set_0", "input_0.pb")]
    if threads:
        cmd += ["--threads", str(threads)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"onnorm run exited with {p.returncode}: {p.stderr.strip()[-800:]}")
    return tuple(read_pb(os.path.join(tmp, n + ".pb")) for n in NAMES)


def run_ort(folder, tmp):
    npy = os.path.join(tmp, "image.npy")
    np.save(npy, read_pb(os.path.join(folder, "test_data_set_0", "input_0.pb")))
    out = os.path.join(tmp, "ort")
    p = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), os.path.join(folder, "model.onnx"),
                        "--feed", "image=" + npy, "--dump", out, "--repeat", "0"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"ort_run.js exited with {p.returncode}: {p.stderr.strip()[-800:]}")
    return tuple(np.load(os.path.join(out, n + ".npy")) for n in NAMES)


def check(folder, onnorm, ort, threads):
    name = os.path.basename(os.path.normpath(folder))
    exp = tuple(read_pb(os.path.join(folder, "test_data_set_0", f"output_{k}.pb")) for k in range(3))
    with tempfile.TemporaryDirectory(prefix="onnorm-det-") as tmp:
        try:
            got = run_onnorm(onnorm, folder, tmp, threads)
        except (RuntimeError, OSError) as e:
            return False, f"FAIL {name}: {e}"
        ok, note = judge(got, exp)
        notes = ["torch: " + note]
        if ort:
            try:
                ref = run_ort(folder, tmp)
            except (RuntimeError, OSError) as e:
                return False, f"FAIL {name}: {e}"
            ok_ort, note = judge(got, ref)
            notes.append("ort: " + note)
            ok = ok and ok_ort
    return ok, f"{'PASS' if ok else 'FAIL'} {name}: {len(got[1])} detections; " + "; ".join(notes)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--onnorm", default=os.path.join(os.path.dirname(HERE), "build", "onnorm"))
    ap.add_argument("--ort", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    bad = 0
    for d in a.dirs:
        ok, line = check(d, a.onnorm, a.ort, a.threads)
        print(line, flush=True)
        bad += not ok
    print(f"{len(a.dirs) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
