"""Unit tests of the onnorm Python package: models, the operator-level
functions (against NumPy implementations of the ONNX formulas), the ONNX
backend entry points, and errors.

Run: ONNORM_LIBRARY=build/libonnorm.so PYTHONPATH=python python3 -m unittest python/tests/test_onnorm.py
"""

import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper

import onnorm
import onnorm.backend

RNG = np.random.default_rng(13)


def randn(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def ref_layer_norm(x, scale, bias, axis=-1, eps=1e-5):
    axes = tuple(range(axis % x.ndim, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * scale + (0 if bias is None else bias)


def ref_batch_norm(x, scale, bias, mean, var, eps=1e-5):
    s = (-1,) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(s)) / np.sqrt(var.reshape(s) + eps) * scale.reshape(s) + bias.reshape(s)


def ref_group_norm(x, scale, bias, groups, eps=1e-5):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    mean = g.mean(-1, keepdims=True)
    var = g.var(-1, keepdims=True)
    y = ((g - mean) / np.sqrt(var + eps)).reshape(x.shape)
    s = (1, c) + (1,) * (x.ndim - 2)
    return y * scale.reshape(s) + bias.reshape(s)


def ref_instance_norm(x, scale, bias, eps=1e-5):
    axes = tuple(range(2, x.ndim))
    mean = x.mean(axes, keepdims=True)
    var = x.var(axes, keepdims=True)
    s = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean) / np.sqrt(var + eps) * scale.reshape(s) + bias.reshape(s)


def ref_rms_norm(x, scale, axis=-1, eps=1e-5):
    axes = tuple(range(axis % x.ndim, x.ndim))
    return x / np.sqrt((x * x).mean(axes, keepdims=True) + eps) * scale


def layer_norm_model(cols=8, opset=17):
    node = helper.make_node("LayerNormalization", ["x", "scale", "bias"], ["y"], axis=-1,
                            epsilon=1e-5)
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [cols], np.linspace(0.5, 1.5, cols))
    bias = helper.make_tensor("bias", TensorProto.FLOAT, [cols], np.linspace(-1, 1, cols))
    graph = helper.make_graph([node], "ln", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", cols])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", cols])],
                              initializer=[scale, bias])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


class ModelTest(unittest.TestCase):
    def setUp(self):
        self.proto = layer_norm_model()
        self.scale = np.linspace(0.5, 1.5, 8).astype(np.float32)
        self.bias = np.linspace(-1, 1, 8).astype(np.float32)

    def test_load_file_and_run(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ln.onnx")
            onnx.save(self.proto, path)
            model = onnorm.Model(path)
        self.assertEqual(model.input_names, ["x"])
        self.assertEqual(model.output_names, ["y"])
        self.assertEqual(model.inputs, [("x", "float32", (None, 8))])
        sess = onnorm.Session(model, threads=2, opt_level=0)
        self.assertEqual(sess.threads, 2)
        x = randn(5, 8)
        out = sess.run({"x": x})
        self.assertEqual(list(out), ["y"])
        np.testing.assert_allclose(out["y"], ref_layer_norm(x, self.scale, self.bias),
                                   rtol=1e-5, atol=1e-5)
        # The output is a copy: a second run does not change the first result.
        y0 = out["y"].copy()
        sess.run({"x": randn(5, 8)})
        np.testing.assert_array_equal(out["y"], y0)

    def test_load_buffer_and_reshape(self):
        sess = onnorm.Session(onnorm.Model(self.proto.SerializeToString()))
        for rows in (1, 3, 64):
            x = randn(rows, 8)
            y = sess.run({"x": x})["y"]
            self.assertEqual(y.shape, (rows, 8))
            np.testing.assert_allclose(y, ref_layer_norm(x, self.scale, self.bias), rtol=1e-5,
                                       atol=1e-5)

    def test_non_contiguous_input(self):
        sess = onnorm.Session(self.proto.SerializeToString())
        x = randn(16, 8)[::2]
        y = sess.run({"x": x})["y"]
        np.testing.assert_allclose(y, ref_layer_norm(x, self.scale, self.bias), rtol=1e-5,
                                   atol=1e-5)

    def test_errors(self):
        with self.assertRaises(onnorm.Error) as cm:
            onnorm.Model("/nonexistent/model.onnx")
        self.assertIn("/nonexistent/model.onnx", str(cm.exception))
        self.assertEqual(cm.exception.code, "ONNORM_ERR_IO")
        with self.assertRaises(onnorm.Error):
            onnorm.Model(b"this is not a protobuf")
        sess = onnorm.Session(onnorm.Model(self.proto.SerializeToString()))
        with self.assertRaises(onnorm.Error) as cm:
            sess.run({"nope": randn(2, 8)})
        self.assertIn("nope", str(cm.exception))
        with self.assertRaises(onnorm.Error) as cm:
            sess.run({})
        self.assertIn("missing input x", str(cm.exception))
        with self.assertRaises(onnorm.Error) as cm:
            sess.run({"x": randn(2, 7)})
        self.assertTrue(str(cm.exception))
        with self.assertRaises(onnorm.Error):
            sess.run({"x": randn(2, 8, dtype=np.float64)})
        with self.assertRaises(onnorm.Error):
            sess.run({"x": np.array([["a"]])})
        # An unsupported op is refused at load, naming it.
        node = helper.make_node("StringNormalizer", ["x"], ["y"])
        g = helper.make_graph([node], "s", [helper.make_tensor_value_info("x", TensorProto.STRING, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.STRING, [2])])
        with self.assertRaises(onnorm.Error) as cm:
            onnorm.Model(helper.make_model(g).SerializeToString())
        self.assertEqual(cm.exception.code, "ONNORM_ERR_UNSUPPORTED")
        self.assertIn("StringNormalizer", str(cm.exception))


class LibraryTest(unittest.TestCase):
    def test_loaded_library(self):
        self.assertTrue(os.path.exists(onnorm.library_path))
        env = os.environ.get("ONNORM_LIBRARY")
        if env:
            self.assertEqual(onnorm.library_path, env)

    def test_env_names_missing_library(self):
        env = dict(os.environ, ONNORM_LIBRARY="/nonexistent/libonnorm.so")
        r = subprocess.run([sys.executable, "-c", "import onnorm"], env=env, capture_output=True,
                           text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("/nonexistent/libonnorm.so", r.stderr)
        self.assertIn("ONNORM_LIBRARY", r.stderr)


class OpsTest(unittest.TestCase):
    def test_layer_norm(self):
        x, g, b = randn(3, 4, 16), randn(16), randn(16)
        np.testing.assert_allclose(onnorm.layer_norm(x, g, b), ref_layer_norm(x, g, b),
                                   rtol=1e-4, atol=1e-5)
        g2, b2 = randn(4, 16), randn(4, 16)
        np.testing.assert_allclose(onnorm.layer_norm(x, g2, b2, axis=1, epsilon=1e-3),
                                   ref_layer_norm(x, g2, b2, axis=1, eps=1e-3), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(onnorm.layer_norm(x, g, None), ref_layer_norm(x, g, None),
                                   rtol=1e-4, atol=1e-5)

    def test_layer_norm_float64(self):
        x, g, b = randn(5, 7, dtype=np.float64), randn(7, dtype=np.float64), randn(7, dtype=np.float64)
        y = onnorm.layer_norm(x, g, b)
        self.assertEqual(y.dtype, np.float64)
        np.testing.assert_allclose(y, ref_layer_norm(x, g, b), rtol=1e-10, atol=1e-12)

    def test_batch_norm(self):
        x = randn(2, 3, 5, 5)
        s, b, m = randn(3), randn(3), randn(3)
        v = RNG.uniform(0.5, 2, 3).astype(np.float32)
        np.testing.assert_allclose(onnorm.batch_norm(x, s, b, m, v, epsilon=1e-3),
                                   ref_batch_norm(x, s, b, m, v, 1e-3), rtol=1e-4, atol=1e-5)

    def test_group_norm(self):
        x, s, b = randn(2, 6, 4, 4), randn(6), randn(6)
        np.testing.assert_allclose(onnorm.group_norm(x, s, b, num_groups=3),
                                   ref_group_norm(x, s, b, 3), rtol=1e-4, atol=1e-5)

    def test_instance_norm(self):
        x, s, b = randn(2, 3, 4, 5), randn(3), randn(3)
        np.testing.assert_allclose(onnorm.instance_norm(x, s, b, epsilon=1e-4),
                                   ref_instance_norm(x, s, b, 1e-4), rtol=1e-4, atol=1e-5)

    def test_rms_norm(self):
        x, s = randn(4, 32), randn(32)
        np.testing.assert_allclose(onnorm.rms_norm(x, s), ref_rms_norm(x, s), rtol=1e-4, atol=1e-5)

    def test_other_norms(self):
        x = randn(2, 5, 3, 3)
        np.testing.assert_allclose(onnorm.lp_norm(x, axis=1, p=2),
                                   x / np.sqrt((x * x).sum(1, keepdims=True)), rtol=1e-5, atol=1e-6)
        m = x.mean((0, 2, 3), keepdims=True)
        sd = np.sqrt(((x - m) ** 2).mean((0, 2, 3), keepdims=True))
        np.testing.assert_allclose(onnorm.mean_variance_norm(x), (x - m) / (sd + 1e-9), rtol=1e-4,
                                   atol=1e-5)

    def test_run_op_generic(self):
        x, g, b = randn(3, 10), randn(10), randn(10)
        y = onnorm.run_op("LayerNormalization", [x, g, b], opset=17, axis=-1, epsilon=1e-5)
        np.testing.assert_allclose(y, ref_layer_norm(x, g, b), rtol=1e-4, atol=1e-5)
        # Several outputs: LayerNormalization's Mean and InvStdDev.
        y, mean, inv = onnorm.run_op("LayerNormalization", [x, g, b], opset=17, num_outputs=3)
        np.testing.assert_allclose(mean.reshape(-1), x.mean(-1), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(inv.reshape(-1), 1 / np.sqrt(x.var(-1) + 1e-5), rtol=1e-4)
        # A contrib op, float ints attribute forms.
        y = onnorm.run_op("SkipLayerNormalization", [x, x, g, b], domain="com.microsoft",
                          epsilon=1e-5)
        np.testing.assert_allclose(y, ref_layer_norm(2 * x, g, b), rtol=1e-4, atol=1e-5)
        self.assertIn(("", "LayerNormalization"), onnorm.supported_ops())

    def test_op_errors(self):
        x = randn(2, 8)
        with self.assertRaises(onnorm.Error) as cm:
            onnorm.run_op("Relu", [x])
        self.assertEqual(cm.exception.code, "ONNORM_ERR_UNSUPPORTED")
        self.assertIn("Relu", str(cm.exception))
        with self.assertRaises(onnorm.Error) as cm:
            onnorm.run_op("LayerNormalization", [x, randn(8)], opset=17, not_an_attr=1)
        self.assertIn("not_an_attr", str(cm.exception))
        with self.assertRaises(onnorm.Error) as cm:
            onnorm.layer_norm(x, randn(3), randn(3))
        self.assertEqual(cm.exception.code, "ONNORM_ERR_SHAPE")
        with self.assertRaises(onnorm.Error):
            onnorm.group_norm(randn(2, 6, 4), randn(6), randn(6), num_groups=4)
        with self.assertRaises(onnorm.Error):
            onnorm.layer_norm(x.astype(np.int32), randn(8), randn(8))


class BackendApiTest(unittest.TestCase):
    def test_supports_device(self):
        self.assertTrue(onnorm.backend.supports_device("CPU"))
        self.assertFalse(onnorm.backend.supports_device("CUDA"))

    def test_prepare_and_run(self):
        proto = layer_norm_model()
        rep = onnorm.backend.prepare(proto, "CPU")
        x = randn(3, 8)
        y, = rep.run([x])
        ref = ref_layer_norm(x, np.linspace(0.5, 1.5, 8, dtype=np.float32),
                             np.linspace(-1, 1, 8, dtype=np.float32))
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(rep.run({"x": x})["y"], ref, rtol=1e-5, atol=1e-5)
        out = onnorm.backend.run_model(proto.SerializeToString(), [x])
        np.testing.assert_allclose(out[0], ref, rtol=1e-5, atol=1e-5)

    def test_run_node(self):
        x, s, b = randn(2, 4, 3), randn(4), randn(4)
        node = helper.make_node("InstanceNormalization", ["x", "s", "b"], ["y"], epsilon=1e-5)
        y, = onnorm.backend.run_node(node, [x, s, b])
        np.testing.assert_allclose(y, ref_instance_norm(x, s, b), rtol=1e-4, atol=1e-5)
        node = helper.make_node("Add", ["a", "b"], ["c"])
        c, = onnorm.backend.run_node(node, [x, x], opset_version=13)
        np.testing.assert_allclose(c, 2 * x)
        with self.assertRaises(onnorm.Error):
            onnorm.backend.run_node(helper.make_node("NoSuchOp", ["a"], ["b"]), [x])


if __name__ == "__main__":
    unittest.main()
