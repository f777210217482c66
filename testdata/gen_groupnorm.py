#!/usr/bin/python3
"""Generate ONNX backend-style test folders for GroupNormalization.

Writes testdata/groupnorm/<case>_opset18/ and testdata/groupnorm/<case>_opset21/,
each holding:
    model.onnx                      one GroupNormalization node; inputs X, scale,
                                    bias; output Y
    test_data_set_0/input_0.pb      X
    test_data_set_0/input_1.pb      scale
    test_data_set_0/input_2.pb      bias
    test_data_set_0/output_0.pb     Y (expected)

The expected outputs come from a NumPy reference written from the ONNX
operator spec (statistics and affine computed in float64, then cast to
float32); they are not produced by any ONNX runtime.

  opset 18: scale/bias have shape (num_groups) and are applied per group.
  opset 21: scale/bias have shape (C) and are applied per channel.
In both, each (n, group) is normalised with the mean and population variance
taken over the group's C/num_groups channels and all spatial positions.

onnx 1.12 does not know GroupNormalization, so the node is built with
onnx.helper.make_node and onnx.checker is NOT run on these models.

Run with /usr/bin/python3 (onnx 1.12, numpy 1.24). Idempotent: each case
folder is deleted and rewritten.
"""

import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_ROOT = os.path.join(HERE, "groupnorm")

# name: (X shape, num_groups, epsilon or None for the default, seed, X kind)
CASES = {
    "example":               ((3, 4, 2, 2),    2, None,  101, "normal"),
    "epsilon":               ((3, 4, 2, 2),    2, 1e-2,  102, "normal"),
    "rank2":                 ((3, 6),          3, None,  103, "normal"),
    "rank3":                 ((2, 6, 7),       2, None,  104, "normal"),
    "rank5":                 ((2, 4, 2, 3, 2), 4, None,  105, "normal"),
    "one_group":             ((2, 5, 3, 3),    1, None,  106, "normal"),
    "one_element_per_group": ((2, 4, 1),       4, None,  107, "normal"),
    "constant_input":        ((2, 4, 3, 3),    2, None,  108, "constant"),
    "large_offset":          ((2, 4, 8, 8),    2, None,  109, "offset"),
    "tiny_epsilon":          ((3, 4, 2, 2),    2, 1e-10, 110, "normal"),
}

# The one case that sets stash_type=1 explicitly (an opset-21 attribute).
EXPLICIT_STASH_TYPE = "rank3_opset21"

DEFAULT_EPSILON = 1e-5


def groupnorm_ref(x, scale, bias, num_groups, epsilon, per_channel):
    """Float64 GroupNormalization per the ONNX spec; returns float32."""
    n, c = x.shape[:2]
    assert c % num_groups == 0
    xg = x.astype(np.float64).reshape(n, num_groups, -1)
    mean = xg.mean(axis=2, keepdims=True)
    var = ((xg - mean) ** 2).mean(axis=2, keepdims=True)  # population variance
    xhat = ((xg - mean) / np.sqrt(var + epsilon)).reshape(x.shape)
    if per_channel:
        s = scale.astype(np.float64)
        b = bias.astype(np.float64)
    else:
        s = np.repeat(scale.astype(np.float64), c // num_groups)
        b = np.repeat(bias.astype(np.float64), c // num_groups)
    bshape = (1, c) + (1,) * (x.ndim - 2)
    y = s.reshape(bshape) * xhat + b.reshape(bshape)
    return y.astype(np.float32)


def make_inputs(shape, num_groups, seed, kind, opset):
    rng = np.random.default_rng(seed)
    if kind == "constant":
        x = np.full(shape, 7.0, dtype=np.float32)
    elif kind == "offset":
        x = (1e4 + rng.standard_normal(shape)).astype(np.float32)
    else:
        x = rng.standard_normal(shape).astype(np.float32)
    pshape = (num_groups,) if opset == 18 else (shape[1],)
    scale = rng.standard_normal(pshape).astype(np.float32)
    bias = rng.standard_normal(pshape).astype(np.float32)
    return x, scale, bias


def build_model(name, x, scale, bias, num_groups, epsilon, opset, stash_type):
    attrs = {"num_groups": num_groups}
    if epsilon is not None:
        attrs["epsilon"] = epsilon
    if stash_type is not None:
        attrs["stash_type"] = stash_type
    node = helper.make_node("GroupNormalization", ["X", "scale", "bias"], ["Y"],
                            name="groupnorm", **attrs)
    f = TensorProto.FLOAT
    graph = helper.make_graph(
        [node], "test_" + name,
        inputs=[helper.make_tensor_value_info("X", f, list(x.shape)),
                helper.make_tensor_value_info("scale", f, list(scale.shape)),
                helper.make_tensor_value_info("bias", f, list(bias.shape))],
        outputs=[helper.make_tensor_value_info("Y", f, list(x.shape))])
    model = helper.make_model(graph, producer_name="onnorm-testdata-gen",
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def save_tensor(path, arr, name):
    with open(path, "wb") as fh:
        fh.write(numpy_helper.from_array(arr, name).SerializeToString())


def load_tensor(path):
    t = TensorProto()
    with open(path, "rb") as fh:
        t.ParseFromString(fh.read())
    return t.name, numpy_helper.to_array(t)


def write_case(name, x, scale, bias, y, model):
    d = os.path.join(OUT_ROOT, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    ds = os.path.join(d, "test_data_set_0")
    os.makedirs(ds)
    onnx.save(model, os.path.join(d, "model.onnx"))
    save_tensor(os.path.join(ds, "input_0.pb"), x, "X")
    save_tensor(os.path.join(ds, "input_1.pb"), scale, "scale")
    save_tensor(os.path.join(ds, "input_2.pb"), bias, "bias")
    save_tensor(os.path.join(ds, "output_0.pb"), y, "Y")


def verify_case(name, base, shape, num_groups, epsilon, opset):
    d = os.path.join(OUT_ROOT, name)
    ds = os.path.join(d, "test_data_set_0")
    m = onnx.load(os.path.join(d, "model.onnx"))
    assert m.ir_version == 8
    assert [(o.domain, o.version) for o in m.opset_import] == [("", opset)]
    assert len(m.graph.node) == 1 and m.graph.node[0].op_type == "GroupNormalization"
    attrs = {a.name: helper.get_attribute_value(a) for a in m.graph.node[0].attribute}
    assert attrs["num_groups"] == num_groups
    assert attrs.get("epsilon") == (None if epsilon is None else np.float32(epsilon))
    assert attrs.get("stash_type") == (1 if name == EXPLICIT_STASH_TYPE else None)
    nx, x = load_tensor(os.path.join(ds, "input_0.pb"))
    ns, s = load_tensor(os.path.join(ds, "input_1.pb"))
    nb, b = load_tensor(os.path.join(ds, "input_2.pb"))
    ny, y = load_tensor(os.path.join(ds, "output_0.pb"))
    assert (nx, ns, nb, ny) == ("X", "scale", "bias", "Y")
    assert all(a.dtype == np.float32 for a in (x, s, b, y))
    c = shape[1]
    pshape = (num_groups,) if opset == 18 else (c,)
    assert x.shape == shape and y.shape == shape
    assert s.shape == pshape and b.shape == pshape
    assert np.all(np.isfinite(y))
    eps = float(np.float32(DEFAULT_EPSILON if epsilon is None else epsilon))
    assert np.array_equal(y, groupnorm_ref(x, s, b, num_groups, eps, opset == 21))
    if base in ("constant_input", "one_element_per_group"):
        bc = b if opset == 21 else np.repeat(b, c // num_groups)
        expect = np.broadcast_to(bc.reshape((1, c) + (1,) * (len(shape) - 2)), shape)
        assert np.array_equal(y, expect), name + ": output != bias"
    for f in os.listdir(ds) + ["../model.onnx"]:
        assert os.path.getsize(os.path.join(ds, f)) < 100 * 1024


def main():
    for base, (shape, num_groups, epsilon, seed, kind) in CASES.items():
        for opset in (18, 21):
            name = "%s_opset%d" % (base, opset)
            stash = 1 if name == EXPLICIT_STASH_TYPE else None
            x, scale, bias = make_inputs(shape, num_groups, seed, kind, opset)
            # The attribute is stored as float32, so use that rounded value.
            eps = float(np.float32(DEFAULT_EPSILON if epsilon is None else epsilon))
            y = groupnorm_ref(x, scale, bias, num_groups, eps, opset == 21)
            model = build_model(name, x, scale, bias, num_groups, epsilon, opset, stash)
            write_case(name, x, scale, bias, y, model)
            verify_case(name, base, shape, num_groups, epsilon, opset)
            print("wrote and verified", os.path.relpath(os.path.join(OUT_ROOT, name), HERE))


if __name__ == "__main__":
    main()
