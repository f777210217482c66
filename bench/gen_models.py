#!/usr/bin/env python3
"""Writes the benchmark models for bench/run.sh into an output folder.

For every case, two float32 models: a single normalization node and a
chain of K identical nodes (each with its own parameter initializers), with X
as the only graph input, as in exported models. Timing both and taking
(t(K) - t(1)) / (K - 1) cancels a runtime's fixed per-call overhead.

Usage: /usr/bin/python3 bench/gen_models.py OUTDIR [K]
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# name, op, X shape, opset, extra attributes, parameter builder
CASES = [
    ("batchnorm_8x64x112x112", "BatchNormalization", [8, 64, 112, 112], 15, {}),
    ("instancenorm_16x64x128x128", "InstanceNormalization", [16, 64, 128, 128], 6, {}),
    ("layernorm_32x512x1024", "LayerNormalization", [32, 512, 1024], 17, {"axis": -1}),
    ("groupnorm_8x320x64x64_g32", "GroupNormalization", [8, 320, 64, 64], 21, {"num_groups": 32}),
    ("rmsnorm_32x512x1024", "RMSNormalization", [32, 512, 1024], 23, {"axis": -1}),
    ("layernorm_64x768", "LayerNormalization", [64, 768], 17, {"axis": -1}),
    ("batchnorm_1x64x56x56", "BatchNormalization", [1, 64, 56, 56], 15, {}),
]


def params(op, shape, rng, prefix):
    c = shape[1]
    last = shape[-1]
    if op == "BatchNormalization":
        arrs = [rng.random(c) + 0.5, rng.standard_normal(c), rng.standard_normal(c) * 0.1,
                rng.random(c) + 0.5]
        names = ["scale", "B", "mean", "var"]
    elif op in ("InstanceNormalization", "GroupNormalization"):
        arrs = [rng.random(c) + 0.5, rng.standard_normal(c)]
        names = ["scale", "B"]
    elif op == "LayerNormalization":
        arrs = [rng.random(last) + 0.5, rng.standard_normal(last)]
        names = ["scale", "B"]
    elif op == "RMSNormalization":
        arrs = [rng.random(last) + 0.5]
        names = ["scale"]
    return [numpy_helper.from_array(a.astype(np.float32), f"{prefix}_{n}")
            for a, n in zip(arrs, names)]


def build(name, op, shape, opset, attrs, k):
    rng = np.random.default_rng(7)
    nodes, inits = [], []
    prev = "x"
    for i in range(k):
        p = params(op, shape, rng, f"n{i}")
        inits += p
        out = "y" if i == k - 1 else f"t{i}"
        nodes.append(helper.make_node(op, [prev] + [t.name for t in p], [out], name=f"n{i}", **attrs))
        prev = out
    graph = helper.make_graph(nodes, f"{name}_k{k}",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def main():
    out = sys.argv[1]
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    os.makedirs(out, exist_ok=True)
    for name, op, shape, opset, attrs in CASES:
        for kk in (1, k):
            onnx.save(build(name, op, shape, opset, attrs, kk), os.path.join(out, f"{name}_k{kk}.onnx"))
        print(f"{name}\t{op}\t{'x'.join(map(str, shape))}")


if __name__ == "__main__":
    main()
