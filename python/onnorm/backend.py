"""onnorm as an ONNX backend (onnx.backend.base.Backend).

    import onnorm.backend as backend
    rep = backend.prepare(onnx_model, "CPU")
    outputs = rep.run([x])            # a namedtuple-like of arrays, by output order

The module itself is the backend object ONNX's test harness expects:
    onnx.backend.test.BackendTest(onnorm.backend, __name__)

Models are handed to the library serialized (onnorm_model_load_buffer).
Inputs declared bfloat16 take float32 arrays and bfloat16 outputs come back
as float32, as onnx.numpy_helper represents bfloat16.
"""

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.backend.base import Backend, BackendRep, Device, DeviceType, namedtupledict

from . import Error, Model, Session

__all__ = ["OnnormBackend", "OnnormRep", "prepare", "run_model", "run_node", "supports_device",
           "is_compatible"]


class OnnormRep(BackendRep):
    """A prepared model: run(inputs) with a list (graph input order), a dict
    or a single array."""

    def __init__(self, session):
        self.session = session
        self.input_names = session.input_names
        self.output_names = session.output_names

    def run(self, inputs, **kwargs):
        if isinstance(inputs, dict):
            feeds = dict(inputs)
        else:
            if isinstance(inputs, np.ndarray):
                inputs = [inputs]
            inputs = list(inputs)
            if len(inputs) > len(self.input_names):
                raise Error("onnorm: %d inputs given, the model takes %d (%s)"
                            % (len(inputs), len(self.input_names), ", ".join(self.input_names)),
                            "ONNORM_ERR_INVALID")
            feeds = dict(zip(self.input_names, inputs))
        outs = self.session.run(feeds)
        return namedtupledict("Outputs", self.output_names)(*[outs[n] for n in self.output_names])


class OnnormBackend(Backend):
    @classmethod
    def supports_device(cls, device):
        return Device(device).type == DeviceType.CPU

    @classmethod
    def prepare(cls, model, device="CPU", threads=0, opt_level=1, **kwargs):
        """model: an onnx.ModelProto, serialized bytes or a path."""
        if not cls.supports_device(device):
            raise Error("onnorm: device %s is not supported (CPU only)" % device,
                        "ONNORM_ERR_UNSUPPORTED")
        if isinstance(model, onnx.ModelProto):
            name = model.graph.name or "<model>"
            model = Model(model.SerializeToString(), name=name)
        elif isinstance(model, (bytes, bytearray)):
            model = Model(bytes(model))
        elif not isinstance(model, Model):
            model = Model(model)
        return OnnormRep(Session(model, threads=threads, opt_level=opt_level))

    @classmethod
    def run_model(cls, model, inputs, device="CPU", **kwargs):
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node, inputs, device="CPU", outputs_info=None, **kwargs):
        """Runs one NodeProto: a one-node model is built with onnx.helper
        (opset: kwargs['opset_version'] for ai.onnx, else onnx's newest) and
        run. inputs: arrays for the node's non-empty inputs, in order, or a
        dict by name."""
        names = [n for n in node.input if n]
        if isinstance(inputs, dict):
            values = [inputs[n] for n in names]
        else:
            values = list(inputs)
        if len(values) != len(names):
            raise Error("onnorm: node %s takes %d inputs, %d given"
                        % (node.op_type, len(names), len(values)), "ONNORM_ERR_INVALID")
        graph_inputs = []
        for n, v in zip(names, values):
            v = np.asarray(v)
            elem = onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[v.dtype]
            graph_inputs.append(helper.make_tensor_value_info(n, elem, v.shape))
        graph_outputs = []
        for i, n in enumerate(o for o in node.output if o):
            if outputs_info and i < len(outputs_info):
                dt, shape = outputs_info[i]
                graph_outputs.append(helper.make_tensor_value_info(
                    n, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(dt)], shape))
            else:
                graph_outputs.append(helper.make_empty_tensor_value_info(n))
        graph = helper.make_graph([node], "run_node_" + node.op_type, graph_inputs, graph_outputs)
        opset = kwargs.pop("opset_version", None) or onnx.defs.onnx_opset_version()
        imports = [helper.make_opsetid("", opset)]
        if node.domain not in ("", "ai.onnx"):
            imports.append(helper.make_opsetid(node.domain, kwargs.pop("domain_version", 1)))
        model = helper.make_model(graph, opset_imports=imports, producer_name="onnorm.backend")
        return cls.run_model(model, dict(zip(names, values)), device, **kwargs)


is_compatible = OnnormBackend.is_compatible
prepare = OnnormBackend.prepare
run_model = OnnormBackend.run_model
run_node = OnnormBackend.run_node
supports_device = OnnormBackend.supports_device
