#!/usr/bin/python3
"""Generate the default "chained norms" model used by onnorm.

Writes testdata/default/:
    model.onnx                   opset 17, input "x" float[2,8,16,16], output "y"
    test_data_set_0/input_0.pb   tensor "x"
    test_data_set_0/output_0.pb  tensor "y" (expected)

Graph (parameters are initializers, not graph inputs):
    x -> BatchNormalization (inference) -> InstanceNormalization
      -> LayerNormalization (axis=-1, over the last dim of 16)
      -> BatchNormalization (different parameters) -> y

The expected output comes from a float64 NumPy reference of the whole chain,
written from the ONNX operator spec, cast to float32 at the end; it is not
produced by any ONNX runtime. onnx.checker.check_model is run on the model.

Usage:  /usr/bin/python3 testdata/gen_default_model.py
        onnorm run testdata/default/model.onnx \\
            --input x=testdata/default/test_data_set_0/input_0.pb
Idempotent: testdata/default/ is deleted and rewritten.
"""

import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "default")

SEED = 20240
SHAPE = (2, 8, 16, 16)
OPSET = 17
EPS = 1e-5


def make_params(rng):
    c, w = SHAPE[1], SHAPE[-1]
    f32 = np.float32

    def normal(n, loc=0.0, sd=1.0):
        return (loc + sd * rng.standard_normal(n)).astype(f32)

    return {
        "bn1_scale": normal(c, 1.0, 0.3),
        "bn1_B": normal(c, 0.0, 0.5),
        "bn1_mean": normal(c, 0.5, 1.0),
        "bn1_var": rng.uniform(0.5, 2.0, c).astype(f32),
        "in_scale": normal(c, 1.0, 0.3),
        "in_B": normal(c, 0.0, 0.5),
        "ln_scale": normal(w, 1.0, 0.3),
        "ln_B": normal(w, 0.0, 0.5),
        "bn2_scale": normal(c, 1.0, 0.5),
        "bn2_B": normal(c, 0.0, 1.0),
        "bn2_mean": normal(c, -0.2, 0.3),
        "bn2_var": rng.uniform(0.25, 4.0, c).astype(f32),
    }


def chain_ref(x, p):
    """Float64 reference of BN -> IN -> LN -> BN per the ONNX spec."""
    eps = float(np.float32(EPS))  # attributes are stored as float32
    q = {k: v.astype(np.float64) for k, v in p.items()}
    ch = (1, -1, 1, 1)

    def bn(t, pre):
        return ((t - q[pre + "_mean"].reshape(ch)) / np.sqrt(q[pre + "_var"].reshape(ch) + eps)
                * q[pre + "_scale"].reshape(ch) + q[pre + "_B"].reshape(ch))

    t = bn(x.astype(np.float64), "bn1")
    # InstanceNormalization: per (n, c) over spatial dims, population variance.
    m = t.mean(axis=(2, 3), keepdims=True)
    v = ((t - m) ** 2).mean(axis=(2, 3), keepdims=True)
    t = (t - m) / np.sqrt(v + eps) * q["in_scale"].reshape(ch) + q["in_B"].reshape(ch)
    # LayerNormalization, axis=-1.
    m = t.mean(axis=-1, keepdims=True)
    v = ((t - m) ** 2).mean(axis=-1, keepdims=True)
    t = (t - m) / np.sqrt(v + eps) * q["ln_scale"] + q["ln_B"]
    t = bn(t, "bn2")
    return t.astype(np.float32)


def build_model(p):
    nodes = [
        helper.make_node("BatchNormalization",
                         ["x", "bn1_scale", "bn1_B", "bn1_mean", "bn1_var"], ["t1"],
                         name="bn1", epsilon=EPS),
        helper.make_node("InstanceNormalization", ["t1", "in_scale", "in_B"], ["t2"],
                         name="instnorm", epsilon=EPS),
        helper.make_node("LayerNormalization", ["t2", "ln_scale", "ln_B"], ["t3"],
                         name="layernorm", axis=-1, epsilon=EPS),
        helper.make_node("BatchNormalization",
                         ["t3", "bn2_scale", "bn2_B", "bn2_mean", "bn2_var"], ["y"],
                         name="bn2", epsilon=EPS),
    ]
    inits = [numpy_helper.from_array(v, k) for k, v in p.items()]
    f = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "chained_norms",
        inputs=[helper.make_tensor_value_info("x", f, list(SHAPE))],
        outputs=[helper.make_tensor_value_info("y", f, list(SHAPE))],
        initializer=inits)
    model = helper.make_model(graph, producer_name="onnorm-testdata-gen",
                              opset_imports=[helper.make_opsetid("", OPSET)])
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


def verify(p):
    ds = os.path.join(OUT_DIR, "test_data_set_0")
    model_path = os.path.join(OUT_DIR, "model.onnx")
    m = onnx.load(model_path)
    onnx.checker.check_model(m, full_check=True)
    assert [n.op_type for n in m.graph.node] == [
        "BatchNormalization", "InstanceNormalization", "LayerNormalization",
        "BatchNormalization"]
    assert [i.name for i in m.graph.input] == ["x"]
    assert [o.name for o in m.graph.output] == ["y"]
    assert not {i.name for i in m.graph.initializer} & {i.name for i in m.graph.input}
    nx, x = load_tensor(os.path.join(ds, "input_0.pb"))
    ny, y = load_tensor(os.path.join(ds, "output_0.pb"))
    assert (nx, ny) == ("x", "y")
    assert x.shape == SHAPE and y.shape == SHAPE
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert np.all(np.isfinite(y))
    assert np.array_equal(y, chain_ref(x, p))
    try:
        from onnx.reference import ReferenceEvaluator  # onnx >= 1.13
    except ImportError:
        print("onnx.reference not available; skipping ReferenceEvaluator check")
    else:
        got = ReferenceEvaluator(m).run(None, {"x": x})[0]
        np.testing.assert_allclose(got, y, rtol=1e-4, atol=1e-4)
        print("onnx.reference agrees with the NumPy reference")
    for path in (model_path, os.path.join(ds, "input_0.pb"), os.path.join(ds, "output_0.pb")):
        assert os.path.getsize(path) < 100 * 1024


def main():
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal(SHAPE).astype(np.float32)
    p = make_params(rng)
    y = chain_ref(x, p)
    if os.path.isdir(OUT_DIR):
        shutil.rmtree(OUT_DIR)
    ds = os.path.join(OUT_DIR, "test_data_set_0")
    os.makedirs(ds)
    onnx.save(build_model(p), os.path.join(OUT_DIR, "model.onnx"))
    save_tensor(os.path.join(ds, "input_0.pb"), x, "x")
    save_tensor(os.path.join(ds, "output_0.pb"), y, "y")
    verify(p)
    print("wrote and verified", os.path.relpath(OUT_DIR, HERE))


if __name__ == "__main__":
    main()
