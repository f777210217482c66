"""Helpers of the calibrate / standardize tests: small conv/BN models built
with onnx.helper, and an independent float64 NumPy evaluator of the few ops
they use (onnx 1.12 has no onnx.reference), which also returns every
intermediate value."""
import os
import subprocess

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv(x, w, b=None, pads=(0, 0, 0, 0)):
    """2-D convolution, stride 1, group 1, NCHW; pads = (top, left, bottom, right)."""
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    m, c, kh, kw = w.shape
    ho, wo = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    y = np.zeros((x.shape[0], m, ho, wo))
    for i in range(kh):
        for j in range(kw):
            y += np.einsum("mc,nchw->nmhw", w[:, :, i, j], x[:, :, i:i + ho, j:j + wo])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def evaluate(model, feeds):
    """Runs the graph in float64; returns a dict of every value."""
    env = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
    for k, v in feeds.items():
        env[k] = np.asarray(v, dtype=np.float64)
    for n in model.graph.node:
        a = [env[i] if i else None for i in n.input]
        op = n.op_type
        if op == "Conv":
            pads = attr(n, "pads", [0, 0, 0, 0])
            y = conv(a[0], a[1], a[2] if len(a) > 2 else None, pads)
        elif op == "BatchNormalization":
            eps = attr(n, "epsilon", 1e-5)
            sh = (1, -1) + (1,) * (a[0].ndim - 2)
            y = (a[0] - a[3].reshape(sh)) / np.sqrt(a[4].reshape(sh) + eps) * a[1].reshape(sh) \
                + a[2].reshape(sh)
        elif op == "Relu":
            y = np.maximum(a[0], 0)
        elif op == "Add":
            y = a[0] + a[1]
        elif op == "Sub":
            y = a[0] - a[1]
        elif op == "Mul":
            y = a[0] * a[1]
        elif op == "Div":
            y = a[0] / a[1]
        elif op == "GlobalAveragePool":
            y = a[0].mean(axis=tuple(range(2, a[0].ndim)), keepdims=True)
        elif op == "Flatten":
            y = a[0].reshape(a[0].shape[0], -1)
        elif op == "Gemm":
            y = a[0] @ (a[1].T if attr(n, "transB", 0) else a[1])
            if len(a) > 2:
                y = y + a[2]
        else:
            raise NotImplementedError(op)
        env[n.output[0]] = y
    return env


def bn_nodes(model):
    return [n for n in model.graph.node if n.op_type == "BatchNormalization"]


def inits(model):
    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def set_init(model, name, value):
    for i in model.graph.initializer:
        if i.name == name:
            i.CopyFrom(numpy_helper.from_array(np.asarray(value), name))
            return
    raise KeyError(name)


def conv_bn_model(seed=0, batch="N"):
    """x[N,3,8,8] -> Conv3x3(pad 1) -> bn1 -> Relu -> Conv1x1 -> bn2 --+
                  \\-> Conv1x1 -> bn3 ------------------------------Add -> Relu -> bn4
                  -> GlobalAveragePool -> y.   bn1, bn3: wave 0; bn2: 1; bn4: 2."""
    rng = np.random.default_rng(seed)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)
    init = {
        "W1": f32(4, 3, 3, 3), "b1": f32(4),
        "W2": f32(4, 4, 1, 1), "W3": f32(4, 3, 1, 1),
    }
    nodes = [
        helper.make_node("Conv", ["x", "W1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "s1", "B1", "m1", "v1"], ["y1"], name="bn1"),
        helper.make_node("Relu", ["y1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "W2"], ["c2"], name="conv2"),
        helper.make_node("BatchNormalization", ["c2", "s2", "B2", "m2", "v2"], ["y2"], name="bn2",
                         epsilon=1e-3),
        helper.make_node("Conv", ["x", "W3"], ["c3"], name="conv3"),
        helper.make_node("BatchNormalization", ["c3", "s3", "B3", "m3", "v3"], ["y3"], name="bn3"),
        helper.make_node("Add", ["y2", "y3"], ["s"], name="add"),
        helper.make_node("Relu", ["s"], ["rs"], name="relu2"),
        helper.make_node("BatchNormalization", ["rs", "s4", "B4", "m4", "v4"], ["y4"], name="bn4"),
        helper.make_node("GlobalAveragePool", ["y4"], ["y"], name="gap"),
    ]
    for k in "1234":
        init["s" + k] = (0.5 + rng.random(4)).astype(np.float32)
        init["B" + k] = f32(4)
        init["m" + k] = f32(4)
        init["v" + k] = (0.5 + 2 * rng.random(4)).astype(np.float32)
    graph = helper.make_graph(
        nodes, "conv_bn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 4, 1, 1])],
        [numpy_helper.from_array(v, k) for k, v in init.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_data(folder, batches, seed=1, shift=0.0, scale=1.0):
    """Writes the batches (arrays [n,3,8,8], or [3,8,8] samples) as .npy and
    .pb files (alternating) and returns them as one float32 array [N,3,8,8]."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    allx = []
    for i, shape in enumerate(batches):
        x = (shift + scale * rng.standard_normal(shape)).astype(np.float32)
        if i % 2 == 0:
            np.save(os.path.join(folder, "b%02d.npy" % i), x)
        else:
            t = numpy_helper.from_array(x, "x")
            with open(os.path.join(folder, "b%02d.pb" % i), "wb") as f:
                f.write(t.SerializeToString())
        allx.append(x.reshape((-1,) + x.shape[-3:]))
    return np.concatenate(allx)


def run(cmd, expect=0):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if expect is not None and p.returncode != expect:
        raise AssertionError("%s exited %d (expected %d)\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(cmd), p.returncode, expect, p.stdout, p.stderr))
    return p
