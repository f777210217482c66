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

import argparse
import hashlib
import os
import shutil
import sys
import time
import traceback
import warnings
import zlib

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper

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
    m = onnx.load(path)
    onnx.checker.check_model(m)
    inits = {t.name for t in m.graph.initializer}
    inputs = [i.name for i in m.graph.input if i.name not in inits]
    outputs = [o.name for o in m.graph.output]
    if len(inputs) != 1 or len(outputs) != 1:
        raise RuntimeError(f"expected one input and one output, got {inputs} and {outputs}")
    ops = {}
    for node in m.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    if ops.get("BatchNormalization", 0) != n_bn:  # SqueezeNet has none
        raise RuntimeError(f"{n_bn} BatchNorm layers but {ops.get('BatchNormalization', 0)} "
                           f"BatchNormalization nodes in the export")
    for arr, nm, fn in ((x, inputs[0], "input_0.pb"), (y, outputs[0], "output_0.pb")):
        t = numpy_helper.from_array(np.ascontiguousarray(arr.numpy().astype(np.float32)), nm)
        with open(os.path.join(tmp, "test_data_set_0", fn), "wb") as f:
            f.write(t.SerializeToString())
    with open(os.path.join(tmp, "generator.txt"), "w") as f:
        f.write(stamp(mode))
    shutil.rmtree(folder, ignore_errors=True)
    os.rename(tmp, folder)
    return ops, os.path.getsize(os.path.join(folder, "model.onnx"))


def up_to_date(folder, mode):
    try:
        with open(os.path.join(folder, "generator.txt")) as f:
            if f.read() != stamp(mode):
                return False
    except OSError:
        return False
    return all(os.path.isfile(os.path.join(folder, p))
               for p in ("model.onnx", "test_data_set_0/input_0.pb", "test_data_set_0/output_0.pb"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "models"), help="output folder (default bench/models)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated names (default: all)")
    ap.add_argument("--opsets", default=",".join(map(str, OPSETS)), help="comma-separated (default 13,17)")
    ap.add_argument("--skip-existing", action="store_true",
                    help="keep folders this version of the script already wrote")
    ap.add_argument("--bn-stats", choices=("calibrated", "random"), default="calibrated",
                    help="BatchNorm running statistics: measured on random data (default) or drawn at random")
    ap.add_argument("--list", action="store_true", help="print the model names and input shapes")
    a = ap.parse_args()
    if a.list:
        for name, (_, shape) in MODELS.items():
            print(f"{name}\t{'x'.join(map(str, shape))}")
        return 0
    names = [n for n in a.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    try:
        opsets = [int(o) for o in a.opsets.split(",") if o]
    except ValueError:
        ap.error(f"bad --opsets '{a.opsets}'")
    os.makedirs(a.out, exist_ok=True)
    torch.set_grad_enabled(False)
    failed = []
    for name in names:
        todo = [o for o in opsets
                if not (a.skip_existing and up_to_date(os.path.join(a.out, f"{name}_opset{o}"), a.bn_stats))]
        for o in opsets:
            if o not in todo:
                print(f"{name}_opset{o}: up to date", flush=True)
        if not todo:
            continue
        t0 = time.time()
        try:
            model, x, y, n_bn = build(name, a.bn_stats)
        except Exception as e:  # noqa: BLE001 -- reported, then the next model
            for o in todo:
                failed.append((f"{name}_opset{o}", f"build/forward: {type(e).__name__}: {e}"))
            traceback.print_exc()
            continue
        for o in todo:
            tag = f"{name}_opset{o}"
            try:
                ops, size = export(model, x, y, n_bn, o, os.path.join(a.out, tag), a.bn_stats)
            except Exception as e:  # noqa: BLE001
                shutil.rmtree(os.path.join(a.out, tag + ".partial"), ignore_errors=True)
                failed.append((tag, f"export: {type(e).__name__}: {e}"))
                traceback.print_exc()
                continue
            top = ", ".join(f"{k} {v}" for k, v in sorted(ops.items(), key=lambda kv: -kv[1])[:6])
            yn = y.numpy()
            print(f"{tag}: input {'x'.join(map(str, x.shape))}, output {'x'.join(map(str, yn.shape))} "
                  f"max|y| {np.abs(yn).max():.4g} std {yn.std():.4g}; {sum(ops.values())} nodes "
                  f"({top}, ...); {n_bn} BatchNorm; {size / 1e6:.1f} MB; {time.time() - t0:.1f} s",
                  flush=True)
    return report_failures(failed)


def report_failures(failed):
    """Lists (folder, error) pairs on stderr; the exit status: 1 if any."""
    if failed:
        print(f"\nFAILED to generate {len(failed)} folder(s):", file=sys.stderr)
        for tag, err in failed:
            print(f"  {tag}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
