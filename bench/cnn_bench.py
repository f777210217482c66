#!/usr/bin/python3
"""The body of bench/cnn.sh: checks and times onnorm against ONNX Runtime on
the torchvision test folders that bench/gen_cnn.py writes, and prints one
Markdown table.

Per folder:
  1. onnorm's output on test_data_set_0 against PyTorch's (bench/compare.py:
     rtol 1e-3, atol 1e-4 * max|expected|);
  2. per thread count, ROUNDS rounds; each round runs `onnorm bench` and
     `node bench/ort_run.js` for ITERS timed runs (after one warm-up run),
     one after the other, the order alternating from round to round, so that
     a slow spell on a shared machine hits both alike. A runtime's time is the
     median of its round medians. Both fill the input with the same
     deterministic data; times include each runtime's per-call overhead.
  3. when `onnorm bench` has --profile (a "profile" member mapping op types to
     {"ms", "share", ...}), one more onnorm run with profiling gives the shares
     of time in convolutions and products, in norms, and in the rest. Without
     the flag those columns are left out.

Usage: /usr/bin/python3 bench/cnn_bench.py [--iters N] [--rounds R]
           [--threads 1,2] [--raw FILE.jsonl] [DIR...]
DIR defaults to every folder under bench/models holding a model.onnx. The
environment variable ONNORM overrides the binary (default build/onnorm).
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ONNORM = os.environ.get("ONNORM") or os.path.join(ROOT, "build", "onnorm")
ORT_RUN = os.path.join(HERE, "ort_run.js")

# Op types counted as convolutions / products and as norms in the profile
# columns; everything else is "rest".
CONV_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "FusedConv", "FusedGemm", "FusedMatMul", "Linear",
            "ExpandDepthwise"}
NORM_OPS = {"BatchNormalization", "InstanceNormalization", "LayerNormalization",
            "GroupNormalization", "RMSNormalization", "SimplifiedLayerNormalization",
            "SkipLayerNormalization", "SkipSimplifiedLayerNormalization",
            "MeanVarianceNormalization", "LpNormalization", "LRN"}


# A runtime whose round medians differ by more than this factor gets a mark.
NOISY = 1.5


def category(op):
    if op in CONV_OPS or any(k in op for k in ("Conv", "Gemm", "MatMul")):
        return "conv"
    if op in NORM_OPS or "Normalization" in op:
        return "norm"
    return "rest"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def run(cmd, timeout):
    """(stdout, error message or None)."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "", f"timed out after {timeout:.0f} s"
    if p.returncode != 0:
        return p.stdout, (p.stderr.strip() or p.stdout.strip() or f"exit {p.returncode}").replace("\n", " | ")
    return p.stdout, None


def profile_supported():
    """Whether `onnorm bench --profile` exists and prints a "profile" object."""
    model = os.path.join(ROOT, "testdata", "default", "model.onnx")
    out, err = run([ONNORM, "bench", model, "--iters", "2", "--profile"], 120)
    if err:
        return False, err
    for obj in json_lines(out):
        if isinstance(obj.get("profile"), dict):
            return True, None
    return False, "no \"profile\" object in the output"


def shares(profile):
    """{"conv", "norm", "rest"} -> fraction of the profiled time."""
    ms = {"conv": 0.0, "norm": 0.0, "rest": 0.0}
    use_ms = all(isinstance(v, dict) and "ms" in v for v in profile.values())
    for op, v in profile.items():
        if isinstance(v, dict):
            x = v.get("ms") if use_ms else v.get("share", 0.0)
        else:
            x = v
        ms[category(op)] += float(x or 0.0)
    total = sum(ms.values())
    return {k: (v / total if total > 0 else 0.0) for k, v in ms.items()}


def input_args(folder):
    """ort_run.js --input arguments from the folder's input_K.pb files."""
    args = []
    data = os.path.join(folder, "test_data_set_0")
    k = 0
    while os.path.isfile(os.path.join(data, f"input_{k}.pb")):
        name, arr = compare.read_pb(os.path.join(data, f"input_{k}.pb"))
        args += ["--input", f"{name}:{'x'.join(map(str, arr.shape))}"]
        k += 1
    return args


def time_onnorm(model, threads, iters, timeout):
    out, err = run([ONNORM, "bench", model, "--threads", str(threads), "--iters", str(iters)], timeout)
    if err:
        return None, err
    for obj in json_lines(out):
        if "median_ms" in obj:
            return float(obj["median_ms"]), None
    return None, f"no median_ms in: {out.strip()[:300]}"


def time_ort(model, inputs, threads, iters, timeout):
    out, err = run(["node", ORT_RUN, model, *inputs, "--threads", str(threads), "--repeat", str(iters)],
                   timeout)
    if err:
        return None, err
    for obj in json_lines(out):
        if "median_ms" in obj:
            return float(obj["median_ms"]), None
    return None, f"no median_ms in: {out.strip()[:300]}"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def ort_version():
    try:
        with open(os.path.join(HERE, "node_modules", "onnxruntime-node", "package.json")) as f:
            return json.load(f).get("version", "?")
    except (OSError, ValueError):
        return "?"


def git_describe():
    out, err = run(["git", "-C", ROOT, "describe", "--always", "--dirty"], 30)
    return "?" if err else out.strip()


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:.1f}" if v >= 100 else f"{v:.2f}" if v >= 1 else f"{v:.3f}"


def match_cell(c):
    if c["max_abs_err"] is None:
        return "**error**"
    pct = 100 * c["worst_ratio"]
    cell = f"max err {c['max_abs_err']:.1e}, {pct:.2g}% of tol"
    return cell if c["ok"] else f"**FAIL** ({cell})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="*", metavar="DIR")
    ap.add_argument("--iters", type=int, default=10, help="timed runs per round (default 10)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--title", default="torchvision CNNs", help="what the table's heading names")
    ap.add_argument("--raw", default=os.path.join(ROOT, "build", "cnn-raw.jsonl"),
                    help="every measurement as JSON lines (default build/cnn-raw.jsonl)")
    a = ap.parse_args()
    if a.iters < 1 or a.rounds < 1:
        ap.error("--iters and --rounds must be at least 1")
    threads = [int(t) for t in a.threads.split(",") if t]
    dirs = a.dirs
    if not dirs:
        base = os.path.join(HERE, "models")
        dirs = sorted(os.path.join(base, d) for d in os.listdir(base)  # not gen_cnn.py's *.partial
                      if not d.endswith(".partial") and os.path.isfile(os.path.join(base, d, "model.onnx"))
                      ) if os.path.isdir(base) else []
    if not dirs:
        ap.error("no model folders (run bench/gen_cnn.py first)")
    timeout = 300 + 60 * a.iters
    load_start = os.getloadavg()
    has_profile, why = profile_supported()
    log(f"onnorm bench --profile: {'yes' if has_profile else 'not available (' + why[:120] + ')'}")
    os.makedirs(os.path.dirname(os.path.abspath(a.raw)), exist_ok=True)
    raw = open(a.raw, "w")

    rows, failures = [], []
    for d in dirs:
        name = os.path.basename(os.path.normpath(d))
        model = os.path.join(d, "model.onnx")
        log(f"{name}: checking against PyTorch")
        c = compare.check(d, ONNORM, 1e-3, 1e-4, 0, 900)
        raw.write(json.dumps({"kind": "match", **c}) + "\n")
        if not c["ok"]:
            failures.append((name, c["error"]))
        onnorm_runs = c["max_abs_err"] is not None  # it loaded and ran
        inputs = input_args(d)
        for t in threads:
            rounds = {"onnorm": [], "ort": []}
            errors = {}
            for r in range(a.rounds):
                order = ("onnorm", "ort") if r % 2 == 0 else ("ort", "onnorm")
                for rt in order:
                    if rt in errors or (rt == "onnorm" and not onnorm_runs):
                        continue
                    if rt == "onnorm":
                        ms, err = time_onnorm(model, t, a.iters, timeout)
                    else:
                        ms, err = time_ort(model, inputs, t, a.iters, timeout)
                    raw.write(json.dumps({"kind": "time", "model": name, "runtime": rt, "threads": t,
                                          "round": r, "iters": a.iters, "median_ms": ms, "error": err}) + "\n")
                    raw.flush()
                    if err:
                        errors[rt] = err
                        failures.append((f"{name} ({rt}, {t} thread{'s' if t > 1 else ''})", err))
                    else:
                        rounds[rt].append(ms)
            med = {rt: (statistics.median(v) if v else None) for rt, v in rounds.items()}
            prof = None
            if has_profile and onnorm_runs:
                out, err = run([ONNORM, "bench", model, "--threads", str(t), "--iters", str(a.iters),
                                "--profile"], timeout)
                objs = [o for o in json_lines(out) if isinstance(o.get("profile"), dict)] if not err else []
                if objs:
                    prof = shares(objs[0]["profile"])
                    raw.write(json.dumps({"kind": "profile", "model": name, "threads": t,
                                          "profile": objs[0]["profile"]}) + "\n")
            spread = {rt: (f"{min(v):.4g}-{max(v):.4g}" if v else "-") for rt, v in rounds.items()}
            log(f"  {t} thread(s): onnorm {fmt_ms(med['onnorm'])} ms (rounds {spread['onnorm']}), "
                f"ORT {fmt_ms(med['ort'])} ms (rounds {spread['ort']})")
            noisy = {rt: len(v) > 1 and max(v) > NOISY * min(v) for rt, v in rounds.items()}
            rows.append((name, t, med["onnorm"], med["ort"], c, prof, noisy))
    raw.close()

    print(f"# onnorm vs ONNX Runtime: {a.title}")
    print()
    print(f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores; 1-min load average "
          f"{load_start[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end (other processes "
          "competing for the cores slow down multi-threaded runs most)")
    omp = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())
                   if k.startswith(("OMP_", "GOMP_", "OPENBLAS_", "ONNORM_")))
    if omp:
        print(f"- Environment: {omp}")
    print(f"- Date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"- onnorm: git {git_describe()} ({ONNORM}, default optimization level); "
          f"ONNX Runtime: onnxruntime-node {ort_version()}, CPU, graph optimization 'all'")
    print(f"- Time: median of {a.rounds} alternating rounds' medians of {a.iters} runs each, "
          "per-call overhead included, same deterministic input in both")
    print("- Match: onnorm on test_data_set_0 against PyTorch's output, "
          "|err| <= 1e-4 * max|expected| + 1e-3 * |expected|")
    print()
    head = "| model | threads | onnorm ms | ORT ms | ORT / onnorm | match |"
    sep = "|---|---|---|---|---|---|"
    if has_profile:
        head += " conv/gemm | norms | rest |"
        sep += "---|---|---|"
    print(head)
    print(sep)
    for name, t, on, ort, c, prof, noisy in rows:
        ratio = f"{ort / on:.2f}x" if on and ort else "-"
        mark = {rt: " †" if noisy[rt] else "" for rt in noisy}
        line = (f"| {name} | {t} | {fmt_ms(on)}{mark['onnorm']} | {fmt_ms(ort)}{mark['ort']} | {ratio} "
                f"| {match_cell(c)} |")
        if has_profile:
            if prof:
                line += " " + " | ".join(f"{100 * prof[k]:.0f}%" for k in ("conv", "norm", "rest")) + " |"
            else:
                line += " - | - | - |"
        print(line)
    if any(any(r[-1].values()) for r in rows):
        print()
        print(f"† that runtime's round medians differ by more than {NOISY}x: something else was using the cores "
              f"(the rounds are in {os.path.relpath(a.raw)}); rerun those models for a steadier number.")
    if failures:
        print()
        print("Failures:")
        for what, err in failures:
            print(f"- {what}: {err}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
