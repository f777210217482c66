"""What bench/gen_cnn.py and bench/gen_transformers.py share: their command
line and the loop that builds each model once and writes it as a test folder
at every opset, reporting failures and going on with the rest.
"""

import argparse
import os
import shutil
import sys
import time
import traceback

import numpy as np
import onnx


def parse(doc, models, opsets, default_out, extra=None):
    """The common options (--out, --models, --opsets, --skip-existing, --list)
    plus what extra(ap) adds. Returns (args, names, opsets); names is None
    when --list printed the models and there is nothing else to do."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=default_out,
                    help=f"output folder (default {os.path.relpath(default_out, os.path.dirname(os.path.dirname(default_out)))})")
    ap.add_argument("--models", default=",".join(models), help="comma-separated names (default: all)")
    ap.add_argument("--opsets", default=",".join(map(str, opsets)),
                    help=f"comma-separated (default {','.join(map(str, opsets))})")
    ap.add_argument("--skip-existing", action="store_true",
                    help="keep folders this version of the script already wrote")
    if extra:
        extra(ap)
    ap.add_argument("--list", action="store_true", help="print the model names and input shapes")
    a = ap.parse_args()
    if a.list:
        for name, (_, shape) in models.items():
            print(f"{name}\t{'x'.join(map(str, shape))}")
        return a, None, None
    names = [n for n in a.models.split(",") if n]
    unknown = [n for n in names if n not in models]
    if unknown:
        ap.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(models)}")
    try:
        chosen = [int(o) for o in a.opsets.split(",") if o]
    except ValueError:
        ap.error(f"bad --opsets '{a.opsets}'")
    return a, names, chosen


def folder_current(folder, stamp):
    """The folder holds a whole test folder written by the generator whose
    generator.txt is `stamp` (--skip-existing)."""
    try:
        with open(os.path.join(folder, "generator.txt")) as f:
            if f.read() != stamp:
                return False
    except OSError:
        return False
    return all(os.path.isfile(os.path.join(folder, p))
               for p in ("model.onnx", "test_data_set_0/input_0.pb", "test_data_set_0/output_0.pb"))


def generate(names, opsets, out, skip_existing, up_to_date, build, export, counted):
    """For each model: build(name) -> (model, x, y, count) once, then
    export(model, x, y, count, opset, folder) -> (op counts, bytes) at every
    opset whose folder is not up_to_date(folder) (with skip_existing). A
    failure is reported and the loop goes on; `counted` names what count
    counts. Returns the exit status (report_failures)."""
    os.makedirs(out, exist_ok=True)
    failed = []
    for name in names:
        todo = [o for o in opsets
                if not (skip_existing and up_to_date(os.path.join(out, f"{name}_opset{o}")))]
        for o in opsets:
            if o not in todo:
                print(f"{name}_opset{o}: up to date", flush=True)
        if not todo:
            continue
        t0 = time.time()
        try:
            model, x, y, count = build(name)
        except Exception as e:  # noqa: BLE001 -- reported, then the next model
            for o in todo:
                failed.append((f"{name}_opset{o}", f"build/forward: {type(e).__name__}: {e}"))
            traceback.print_exc()
            continue
        for o in todo:
            tag = f"{name}_opset{o}"
            try:
                ops, size = export(model, x, y, count, o, os.path.join(out, tag))
            except Exception as e:  # noqa: BLE001
                shutil.rmtree(os.path.join(out, tag + ".partial"), ignore_errors=True)
                failed.append((tag, f"export: {type(e).__name__}: {e}"))
                traceback.print_exc()
                continue
            top = ", ".join(f"{k} {v}" for k, v in sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))[:6])
            yn = y.numpy()
            print(f"{tag}: input {'x'.join(map(str, x.shape))}, output {'x'.join(map(str, yn.shape))} "
                  f"max|y| {np.abs(yn).max():.4g} std {yn.std():.4g}; {sum(ops.values())} nodes "
                  f"({top}, ...); {count} {counted}; {size / 1e6:.1f} MB; {time.time() - t0:.1f} s",
                  flush=True)
    return report_failures(failed)


def load_checked(path):
    """The model an export wrote, checked by onnx.checker, and the names of
    its one graph input (initializers aside) and its one output."""
    m = onnx.load(path)
    onnx.checker.check_model(m)
    inits = {t.name for t in m.graph.initializer}
    inputs = [i.name for i in m.graph.input if i.name not in inits]
    outputs = [o.name for o in m.graph.output]
    if len(inputs) != 1 or len(outputs) != 1:
        raise RuntimeError(f"expected one input and one output, got {inputs} and {outputs}")
    return m, inputs[0], outputs[0]


def report_failures(failed):
    """Lists (folder, error) pairs on stderr; the exit status: 1 if any."""
    if failed:
        print(f"\nFAILED to generate {len(failed)} folder(s):", file=sys.stderr)
        for tag, err in failed:
            print(f"  {tag}: {err}", file=sys.stderr)
        return 1
    return 0
