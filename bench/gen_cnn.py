#!/usr/bin/python3
"""Exports torchvision CNNs as ONNX test folders for bench/cnn.sh and the
torchvision_models test.

For every model and opset, writes OUT/<name>_opset<NN>/:
    model.onnx                     torch.onnx.export of the model in eval mode
    test_data_set_0/input_0.pb     the input (TensorProto named like the graph input)
    test_data_set_0/output_0.pb    PyTorch's own output for that input
    generator.txt                  what wrote the folder (for --skip-existing)

Weights are random (no downloads: weights=None), from a fixed seed per model,
so a model's folder is the same whichever other models are generated with it
and at both opsets. Every BatchNorm layer gets a random affine weight
~ U(0.5, 1.5) and bias ~ N(0, 0.1), and running statistics that are not
(0, 1): by default measured on random data (--bn-stats calibrated, see
randomize_norms: it keeps every model's output dependent on its input), or
drawn as running_mean ~ N(0, 0.1), running_var ~ U(0.5, 1.5) (--bn-stats
random). Either way folding a norm into its convolution is not the identity.
The models are exported in eval mode with training=TrainingMode.PRESERVE and
do_constant_folding=False, which keeps the BatchNormalization nodes in the
graph. The expected output is computed by PyTorch (float32, eval mode, no
ONNX runtime involved).

A model that fails to build, run or export is reported with its error and
the script exits non-zero after trying the rest.

Usage:
    /usr/bin/python3 bench/gen_cnn.py [--out DIR] [--models NAME,...]
                                      [--opsets 13,17] [--bn-stats calibrated|random]
                                      [--skip-existing] [--list]
The output directory defaults to bench/models/ (ignored by git: the files
are tens of MB). Needs python3-torch 1.13, python3-torchvision 0.14 and
python3-onnx (Debian 12); run with /usr/bin/python3.
"""

import hashlib
import os
import shutil
import sys
import warnings
import zlib

import numpy as np
import torch
import torchvision
from onnx import numpy_helper

import export_util  # bench/: the command line and the export loop
from export_util import report_failures  # noqa: F401 (tests/gen_real_models.py imports it from here)

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20240613
IMAGE = (1, 3, 224, 224)

# name -> (constructor, input shape). Everything is built with weights=None
# (random initialization, nothing downloaded); GoogLeNet and Inception-v3
# without their auxiliary classifiers.
MODELS = {
    "resnet18": (lambda: torchvision.models.resnet18(weights=None), IMAGE),
    "resnet50": (lambda: torchvision.models.resnet50(weights=None), IMAGE),
    "resnext50_32x4d": (lambda: torchvision.models.resnext50_32x4d(weights=None), IMAGE),
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None), IMAGE),
    "mobilenet_v3_small": (lambda: torchvision.models.mobilenet_v3_small(weights=None), IMAGE),
    "efficientnet_b0": (lambda: torchvision.models.efficientnet_b0(weights=None), IMAGE),
    "regnet_y_400mf": (lambda: torchvision.models.regnet_y_400mf(weights=None), IMAGE),
    "densenet121": (lambda: torchvision.models.densenet121(weights=None), IMAGE),
    "shufflenet_v2_x1_0": (lambda: torchvision.models.shufflenet_v2_x1_0(weights=None), IMAGE),
    "squeezenet1_1": (lambda: torchvision.models.squeezenet1_1(weights=None), IMAGE),
    "googlenet": (lambda: torchvision.models.googlenet(weights=None, aux_logits=False,
                                                       init_weights=True), IMAGE),
    "inception_v3": (lambda: torchvision.models.inception_v3(weights=None, aux_logits=False,
                                                             init_weights=True), (1, 3, 299, 299)),
    "mnasnet0_5": (lambda: torchvision.models.mnasnet0_5(weights=None), IMAGE),
    "r3d_18": (lambda: torchvision.models.video.r3d_18(weights=None), (1, 3, 16, 112, 112)),
    "resnet18_b8": (lambda: torchvision.models.resnet18(weights=None), (8, 3, 224, 224)),
}
OPSETS = (13, 17)


def stamp(mode):
    """Identifies the generator, its BatchNorm mode and the PyTorch that wrote a folder."""
    with open(os.path.abspath(__file__), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    return f"gen_cnn.py {digest} bn-stats {mode} torch {torch.__version__} torchvision {torchvision.__version__}\n"


def randomize_norms(model, gen, shape, mode):
    """Random BatchNorm parameters: weight ~ U(0.5, 1.5), bias ~ N(0, 0.1), and
    running statistics either drawn at random (mode "random": mean ~ N(0, 0.1),
    var ~ U(0.5, 1.5)) or measured (mode "calibrated", the default): every
    BatchNorm records the exact mean and variance of its input over a batch of
    two random inputs, forwarded with only the BatchNorm layers in training
    mode, so the statistics are as arbitrary as the weights but fit the
    activations, as a trained network's do. With purely random statistics the
    activations drift layer after layer in randomly initialized networks:
    MobileNetV2/V3, EfficientNet-B0, ShuffleNetV2, GoogLeNet and MNASNet give
    outputs that differ by 1e-7 (relative) between two inputs (the biases
    alone decide them, so the comparison would not see the input's path) and
    Inception-v3's logits reach 4e13."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for m in bns:
            c = m.num_features
            if m.affine:
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
            if mode == "random":
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
        if mode == "calibrated" and bns:
            model.eval()
            saved = []
            for m in bns:
                saved.append(m.momentum)
                m.reset_running_stats()
                m.momentum = None  # cumulative average: one batch gives its exact statistics
                m.train()
            model(torch.randn(2, *shape[1:], generator=gen))
            for m, mom in zip(bns, saved):
                m.momentum = mom
    model.eval()
    return len(bns)


def build(name, mode):
    """The model in eval mode, its input and PyTorch's output."""
    ctor, shape = MODELS[name]
    seed = SEED ^ zlib.crc32(name.encode())
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's init_weights notices
        model = ctor()
    gen = torch.Generator().manual_seed(seed)
    n_bn = randomize_norms(model, gen, shape, mode)
    x = torch.randn(*shape, generator=gen)
    with torch.no_grad():
        y = model(x)
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name}: forward returned {type(y).__name__}, not a tensor")
    return model, x, y, n_bn


def export(model, x, y, n_bn, opset, folder, mode):
    """Writes one test folder atomically (a half-written folder never stays)."""
    tmp = folder + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "test_data_set_0"))
    path = os.path.join(tmp, "model.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"],
                          output_names=["output"], training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False)
    m, in_name, out_name = export_util.load_checked(path)
    ops = {}
    for node in m.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    if ops.get("BatchNormalization", 0) != n_bn:  # SqueezeNet has none
        raise RuntimeError(f"{n_bn} BatchNorm layers but {ops.get('BatchNormalization', 0)} "
                           f"BatchNormalization nodes in the export")
    for arr, nm, fn in ((x, in_name, "input_0.pb"), (y, out_name, "output_0.pb")):
        t = numpy_helper.from_array(np.ascontiguousarray(arr.numpy().astype(np.float32)), nm)
        with open(os.path.join(tmp, "test_data_set_0", fn), "wb") as f:
            f.write(t.SerializeToString())
    with open(os.path.join(tmp, "generator.txt"), "w") as f:
        f.write(stamp(mode))
    shutil.rmtree(folder, ignore_errors=True)
    os.rename(tmp, folder)
    return ops, os.path.getsize(os.path.join(folder, "model.onnx"))


def up_to_date(folder, mode):
    return export_util.folder_current(folder, stamp(mode))


def main():
    a, names, opsets = export_util.parse(
        __doc__, MODELS, OPSETS, os.path.join(HERE, "models"),
        extra=lambda ap: ap.add_argument(
            "--bn-stats", choices=("calibrated", "random"), default="calibrated",
            help="BatchNorm running statistics: measured on random data (default) or drawn at random"))
    if names is None:
        return 0
    torch.set_grad_enabled(False)
    return export_util.generate(
        names, opsets, a.out, a.skip_existing, lambda folder: up_to_date(folder, a.bn_stats),
        lambda name: build(name, a.bn_stats),
        lambda model, x, y, n, o, folder: export(model, x, y, n, o, folder, a.bn_stats), "BatchNorm")


if __name__ == "__main__":
    sys.exit(main())
