#!/usr/bin/env python3
"""Kernel run functions do arithmetic only (ops/kernel.h): no attribute
lookup, no op-name comparison, no allocation. This walks the C sources of
ops/ and lists every such call that a run function can reach through the
functions it calls (by name, across files), and exits non-zero if there is
one. A run function is the last function argument of an ONN_KERNEL entry,
or any function named *_run (tables built through macros pass them as macro
arguments); a function reaches every function it calls or names (callbacks). Comments and string literals are ignored.

    tests/check_run_functions.py [SOURCE_ROOT]
"""
import glob
import os
import re
import sys

FORBIDDEN = re.compile(
    r"\b(onn_attr_\w+|onn_kattr_\w+|strcmp|strncmp|malloc|calloc|realloc|aligned_alloc|free"
    r"|onn_tensor_new|onn_kalloc|onn_kscratch_need)\s*\(|->op_type\b")


def strip(src):
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = re.sub(r"//[^\n]*", " ", src)
    return re.sub(r'"(\\.|[^"\\])*"', '""', src)


def functions(src):
    """name -> body of every function definition at file scope."""
    out = {}
    for m in re.finditer(r"^[\w][\w\s\*]*?\b(\w+)\s*\(([^;{}]*?)\)\s*\{", src, re.M):
        depth, i = 0, m.end() - 1
        while i < len(src):
            depth += {"{": 1, "}": -1}.get(src[i], 0)
            if depth == 0:
                break
            i += 1
        out.setdefault(m.group(1), src[m.end() - 1:i + 1])
    return out


def run_functions(src, known):
    runs = set(re.findall(r"\b(\w+_run)\s*\(", src))
    for m in re.finditer(r"\bONN_KERNEL\(", src):
        i, depth, args = m.end(), 1, [""]
        while depth and i < len(src):
            c = src[i]
            depth += {"(": 1, ")": -1}.get(c, 0)
            if depth == 1 and c == ",":
                args.append("")
            elif depth >= 1:
                args[-1] += c
            i += 1
        if len(args) == 10:
            runs.add(args[9].strip())
    return {r for r in runs if r in known}


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    files = sorted(glob.glob(os.path.join(root, "ops", "**", "*.[ch]"), recursive=True))
    sources = {f: strip(open(f).read()) for f in files}
    bodies = {}
    for src in sources.values():
        for name, body in functions(src).items():
            bodies.setdefault(name, body)
    bad = checked = 0
    for f, src in sources.items():
        for run in sorted(run_functions(src, bodies)):
            checked += 1
            seen, todo = set(), [run]
            while todo:
                fn = todo.pop()
                if fn in seen or fn not in bodies:
                    continue
                seen.add(fn)
                for m in FORBIDDEN.finditer(bodies[fn]):
                    print(f"{os.path.relpath(f, root)}: {run} reaches {fn}, which calls "
                          f"{m.group(0).strip()}")
                    bad += 1
                # calls, and functions passed by name (callbacks)
                todo.extend(c for c in re.findall(r"\b(\w+)\b", bodies[fn]) if c in bodies)
    print(f"{checked} run functions checked, {bad} forbidden call(s) reachable")
    if checked < 30:
        print("too few run functions found: the scan is broken")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
