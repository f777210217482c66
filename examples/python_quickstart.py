import numpy as np
import onnorm
import onnorm.backend
from onnx import TensorProto, helper

# The operator API on NumPy arrays (every normalization op: layer_norm,
# batch_norm, group_norm, instance_norm, rms_norm, ..., and run_op).
x = np.array([[1, 2, 3, 4], [-1, 0, 1, 2]], np.float32)
y = onnorm.layer_norm(x, np.ones(4, np.float32), np.zeros(4, np.float32), axis=-1, epsilon=1e-5)
print(y[0].round(4))  # [-1.3416 -0.4472  0.4472  1.3416]

# A model, from a path or serialized bytes; here one GroupNormalization node.
node = helper.make_node("GroupNormalization", ["x", "scale", "bias"], ["y"], num_groups=2)
graph = helper.make_graph(
    [node], "gn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])],
    initializer=[helper.make_tensor("scale", TensorProto.FLOAT, [4], [1.0] * 4),
                 helper.make_tensor("bias", TensorProto.FLOAT, [4], [0.0] * 4)])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
session = onnorm.Session(onnorm.Model(model.SerializeToString()), threads=2)
outputs = session.run({"x": np.random.rand(1, 4, 8, 8).astype(np.float32)})  # {name: array}
print(session.input_names, session.output_names, outputs["y"].shape)

# ONNX's backend interface (onnx.backend.base.Backend).
(y,) = onnorm.backend.run_model(model, [np.random.rand(1, 4, 8, 8).astype(np.float32)])

# Errors raise onnorm.Error with the library's message.
try:
    onnorm.layer_norm(x, np.ones(3, np.float32), None)
except onnorm.Error as e:
    print("onnorm.Error:", e)
