#!/usr/bin/env python3
"""Turns bench/run.sh's raw JSON lines into the README's table."""
import json
import re
import sys
from collections import defaultdict


def main():
    raw, k = sys.argv[1], int(sys.argv[2])
    rows = [json.loads(line) for line in open(raw) if line.strip()]
    t = defaultdict(dict)  # (case, threads) -> measurements
    for r in rows:
        key = (r["case"], r["threads"])
        if r["runtime"] == "floor":
            t[key]["floor"] = r["floor_ms"]
            t[key]["bytes"] = r["bytes"]
        else:
            kk = 1 if r["model"].endswith("_k1.onnx") else k
            t[key][(r["runtime"], kk)] = r["median_ms"]
    print("| case | threads | onnorm ms/node | GB/s | x copy floor | ORT ms/node | onnorm vs ORT |")
    print("|---|---|---|---|---|---|---|")
    for (case, threads), m in t.items():
        def per_node(rt):
            a, b = m.get((rt, 1)), m.get((rt, k))
            return None if a is None or b is None else max((b - a) / (k - 1), 1e-9)
        on, ort = per_node("onnorm"), per_node("ort")
        def fmt(v, spec):
            return "n/a" if v is None else format(v, spec)
        gbs = 2 * m["bytes"] / (on * 1e6) if on else None
        floor = on / m["floor"] if on else None
        ratio = ort / on if on and ort else None
        print(f"| {case} | {threads} | {fmt(on, '.3f')} | {fmt(gbs, '.1f')} | {fmt(floor, '.2f')} | "
              f"{fmt(ort, '.3f')} | {fmt(ratio, '.2f')}{'x' if ratio else ''} |")


if __name__ == "__main__":
    main()
