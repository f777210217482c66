#!/usr/bin/python3
"""Runs `onnorm test` over every official ONNX node test folder and prints
the pass count and every failing folder with its reason, grouped, as
Markdown (the README's "Official node tests" section is this output).

Usage: /usr/bin/python3 scripts/node_report.py [--onnorm build/onnorm]
           [--node-dir /usr/share/libonnx-testdata/data/node]
"""

import argparse
import collections
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Why an op is left out, by op type (anything else unknown: "not yet implemented").
LEFT_OUT = {
    "strings": {"StringNormalizer", "TfIdfVectorizer", "RegexFullMatch", "StringConcat",
                "StringSplit"},
    "sequence and optional types": {
        "SequenceEmpty", "SequenceInsert", "SequenceAt", "SequenceConstruct", "SequenceErase",
        "SequenceLength", "SequenceMap", "SplitToSequence", "ConcatFromSequence",
        "Optional", "OptionalHasElement", "OptionalGetElement"},
    "random values that cannot be compared": {
        "Bernoulli", "RandomUniform", "RandomUniformLike", "RandomNormal", "RandomNormalLike",
        "Multinomial"},
    "training-only (ai.onnx.preview.training)": {
        "ai.onnx.preview.training.Adagrad", "ai.onnx.preview.training.Adam",
        "ai.onnx.preview.training.Momentum", "ai.onnx.preview.training.Gradient"},
    "control flow (If, Loop, Scan: subgraphs not yet supported)": {"If", "Loop", "Scan"},
}


def reason_for(output, folder=""):
    # Folders whose inputs or outputs are sequences or optionals (the data
    # files then fail to parse as tensors).
    if re.search(r"(^|_)(seq|sequence|opt|optional)(_|$)", folder[5:]):
        return "sequence and optional types", []
    unknown = sorted(set(re.findall(r"unknown op (\S+)", output)))
    if unknown:
        for why, ops in LEFT_OUT.items():
            if any(u in ops for u in unknown):
                return why, unknown
        return "not yet implemented", unknown
    if re.search(r"STRING|string", output):
        return "strings", []
    if re.search(r"sequence|optional", output, re.I):
        return "sequence and optional types", []
    if "training" in output:
        return "training-only (ai.onnx.preview.training)", []
    first = output.strip().splitlines()[0] if output.strip() else "no output"
    first = re.sub(r"^FAIL \S+ max_abs=\S+ max_rel=\S+: ", "", first)
    first = re.sub(r"/\S*/node/test_[^/ ]*/", "", first)
    return "other: " + first[:160], []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnorm", default=os.path.join(ROOT, "build", "onnorm"))
    ap.add_argument("--node-dir", default="/usr/share/libonnx-testdata/data/node")
    a = ap.parse_args()
    folders = sorted(d for d in os.listdir(a.node_dir) if os.path.isdir(os.path.join(a.node_dir, d)))
    passed, failed = [], collections.defaultdict(list)
    for d in folders:
        p = subprocess.run([a.onnorm, "test", os.path.join(a.node_dir, d)], capture_output=True,
                           text=True, timeout=300)
        out = p.stdout + p.stderr
        if p.returncode == 0 and re.search(r"^1 passed, 0 failed", out, re.M):
            passed.append(d)
            continue
        why, ops = reason_for(out.split("\n", 1)[1] if out.startswith("threads") else out, d)
        failed[why].append((d, ops))
    total = len(folders)
    print(f"{len(passed)} of {total} official node test folders pass "
          f"({100.0 * len(passed) / total:.1f} %).\n")
    for why in sorted(failed, key=lambda w: (-len(failed[w]), w)):
        items = failed[why]
        print(f"- **{why}** ({len(items)}): " + ", ".join(
            f"`{d[5:]}`" + (f" ({', '.join(o.split('.')[-1] for o in ops)})" if ops and why ==
                            "not yet implemented" else "") for d, ops in items))
    return 0


if __name__ == "__main__":
    sys.exit(main())
