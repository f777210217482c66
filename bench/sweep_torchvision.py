#!/usr/bin/python3
"""Sweeps torchvision's classification, segmentation and video models through
onnorm: exports each one (random weights, weights=None; PyTorch 1.13 /
torchvision 0.14) at each opset into a scratch folder, compares onnorm's
output with PyTorch's (bench/compare.py: rtol 1e-3, atol 1e-4 * max|expected|)
and prints a table: model, opset, nodes, PASS/FAIL and the reason.

Models are built, randomized and exported as tests/gen_real_models.py does
(norm layers get random affine parameters, BatchNorm statistics measured on
random data; do_constant_folding=False, training=TrainingMode.PRESERVE).
Inputs are small where the architecture allows: 1x3x64x64 for convolutional
classifiers, 224x224 where the model fixes its image size (MaxViT), 112x112 for ViT (its image size is a parameter),
1x3x128x128 for segmentation, 1x3x8x64x64 for video.

The models in BIG (hundreds of MB to GB of weights: slow to export and to
write, and ONNX's 2 GB protobuf limit for the largest) are skipped unless
named with --models or --big is given.

Usage: /usr/bin/python3 bench/sweep_torchvision.py --out DIR [--models a,b]
           [--opsets 13,17] [--onnorm build/onnorm] [--big] [--keep]
           [--skip-existing] [--fp64-ref] [--json FILE]
The exported folders stay in DIR with --keep (default: removed after a PASS).
"""

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
import warnings
import zlib

import onnx
import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
from gen_real_models import export, randomize_norms  # noqa: E402

SEED = 20261130

# Too big to sweep by default (weights in MB of float32, roughly).
BIG = {
    "vgg11": 530, "vgg11_bn": 530, "vgg13": 530, "vgg13_bn": 530, "vgg16": 550, "vgg16_bn": 550,
    "vgg19": 570, "vgg19_bn": 570, "vit_l_16": 1200, "vit_l_32": 1200, "vit_h_14": 2500,
    "regnet_y_128gf": 2600, "regnet_y_32gf": 580, "regnet_x_32gf": 430, "regnet_y_16gf": 330,
    "regnet_x_16gf": 220, "efficientnet_v2_l": 470, "convnext_large": 790, "convnext_base": 350,
    "swin_b": 350, "swin_v2_b": 350, "resnext101_64x4d": 330, "resnext101_32x8d": 350,
    "wide_resnet101_2": 500, "wide_resnet50_2": 270, "efficientnet_b7": 260,
}


class SegOut(nn.Module):
    """torchvision segmentation models return a dict; export its 'out'."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)["out"]


def classifiers():
    names = torchvision.models.list_models(module=torchvision.models)
    out = {}
    for n in names:
        # ViT and MaxViT fix their image size; AlexNet's and VGG's adaptive
        # pooling to 6x6 / 7x7 exports only from a multiple of that size.
        kw = {"weights": None}
        if n.startswith(("vgg", "alexnet")) or n == "maxvit_t":
            shape = (1, 3, 224, 224)
        elif n.startswith("vit_"):
            # image_size is a ViT parameter: 49 tokens for patches of 16 (14),
            # 16 for patches of 32
            size = 128 if n.endswith("_32") else 112
            shape = (1, 3, size, size)
            kw["image_size"] = size
        elif n == "inception_v3":
            shape = (1, 3, 128, 128)  # needs >= 75x75
        else:
            shape = (1, 3, 64, 64)
        if n in ("googlenet", "inception_v3"):
            kw.update(aux_logits=False, init_weights=True)
        out[n] = (lambda n=n, kw=kw: torchvision.models.get_model(n, **kw), shape)
    return out


def all_models():
    m = classifiers()
    for n in torchvision.models.list_models(module=torchvision.models.segmentation):
        m[n] = (lambda n=n: SegOut(torchvision.models.get_model(
            n, weights=None, weights_backbone=None, num_classes=5, aux_loss=False)), (1, 3, 128, 128))
    for n in torchvision.models.list_models(module=torchvision.models.video):
        # MViT's builders fix 16 frames of 224x224; S3D's final pooling
        # window needs 16 frames of 224x224.
        shape = (1, 3, 16, 224, 224) if n.startswith(("mvit", "s3d")) else (1, 3, 8, 64, 64)
        m[n] = (lambda n=n: torchvision.models.get_model(n, weights=None), shape)
    return m


def build(name, ctor, shape, fp64=False):
    seed = SEED ^ zlib.crc32(name.encode())
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ctor()
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(*shape, generator=gen),)
    # BatchNorm statistics from a batch of 8 random images (2 video clips),
    # not the test input alone: DeepLabV3's ASPP pooling branch normalizes a
    # 1x1 map, which one image cannot calibrate, and statistics from few
    # values leave deep nets (EfficientNetV2, RegNetY at 64x64) so
    # ill-conditioned that PyTorch's float32 output misses its own float64
    # one by 300 times the tolerance.
    calib = 2 if len(shape) == 5 else 8
    randomize_norms(model, (torch.randn(calib, *shape[1:], generator=gen),), gen)
    # Heads initialized to zero (ViT) would make every output 0.
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.Linear) and not mod.weight.any():
                mod.weight.normal_(0, mod.in_features ** -0.5, generator=gen)
    with torch.no_grad():
        if fp64:  # the float64 forward, rounded: free of float32 accumulation noise
            y = copy.deepcopy(model).double()(x[0].double()).float()
        else:
            y = model(*x)
    return model, x, (y,)


def compare(folder, onnorm, timeout):
    p = subprocess.run([sys.executable, os.path.join(HERE, "compare.py"), "--json", "--onnorm", onnorm,
                        "--timeout", str(timeout), folder], capture_output=True, text=True)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"ok": False, "error": f"compare.py: {p.stderr.strip()[-500:]}"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default="")
    ap.add_argument("--opsets", default="13,17")
    ap.add_argument("--onnorm", default=os.path.join(ROOT, "build", "onnorm"))
    ap.add_argument("--big", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--skip-existing", action="store_true", help="reuse exported folders")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--fp64-ref", action="store_true",
                    help="expected outputs from PyTorch in float64 (deep random nets such as FCN-ResNet50 "
                         "differ from their own float64 values by nearly the tolerance in float32)")
    ap.add_argument("--json", help="append one JSON line per row to this file")
    a = ap.parse_args()
    models = all_models()
    if a.models:
        names = [n for n in a.models.split(",") if n]
        bad = [n for n in names if n not in models]
        if bad:
            ap.error(f"unknown: {', '.join(bad)}")
    else:
        names = [n for n in models if a.big or n not in BIG]
        print(f"skipped (big, use --big): {', '.join(n for n in models if n in BIG)}", flush=True)
    opsets = [int(o) for o in a.opsets.split(",")]
    os.makedirs(a.out, exist_ok=True)
    # Not torch.set_grad_enabled(False): without autograd, nn.MultiheadAttention
    # takes its fast path (aten::_native_multi_head_attention), which does not
    # export. build() runs the reference forward under no_grad.
    rows = []
    for name in names:
        ctor, shape = models[name]
        t0 = time.time()
        built = None
        for o in opsets:
            tag = f"{name}_opset{o}"
            folder = os.path.join(a.out, tag)
            row = {"model": name, "opset": o, "nodes": None, "status": "FAIL", "reason": ""}
            try:
                if not (a.skip_existing and os.path.isfile(os.path.join(folder, "model.onnx"))):
                    if built is None:
                        built = build(name, ctor, shape, a.fp64_ref)
                    export(*built, o, folder)
                row["nodes"] = len(onnx.load(os.path.join(folder, "model.onnx"),
                                             load_external_data=False).graph.node)
            except Exception as e:  # noqa: BLE001 -- reported in the table
                shutil.rmtree(folder + ".partial", ignore_errors=True)
                row["reason"] = f"export: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
                traceback.print_exc()
                rows.append(row)
                print(f"{tag}: {row['reason']}", flush=True)
                if a.json:
                    with open(a.json, "a") as f:
                        f.write(json.dumps(row) + "\n")
                continue
            t1 = time.time()
            r = compare(folder, a.onnorm, a.timeout)
            row["status"] = "PASS" if r.get("ok") else "FAIL"
            if r.get("ok"):
                row["reason"] = f"max|err| {r['max_abs_err']:.3g}, err/tol {r['worst_ratio']:.3g}"
                if not a.keep:
                    shutil.rmtree(folder, ignore_errors=True)
            else:
                row["reason"] = r.get("error", "")[:300]
                if r.get("max_abs_err") is not None:
                    row["reason"] = f"mismatch max|err| {r['max_abs_err']:.3g} err/tol {r['worst_ratio']:.3g}: " + row["reason"]
            row["seconds"] = round(time.time() - t0, 1)
            row["run_seconds"] = round(time.time() - t1, 1)
            rows.append(row)
            print(f"{tag}: {row['status']} ({row['nodes']} nodes, {row['seconds']} s) {row['reason']}", flush=True)
            if a.json:
                with open(a.json, "a") as f:
                    f.write(json.dumps(row) + "\n")
            t0 = time.time()
    print()
    print(f"{'model':32} {'opset':>5} {'nodes':>6}  result")
    for r in rows:
        print(f"{r['model']:32} {r['opset']:>5} {str(r['nodes']):>6}  {r['status']} {r['reason']}")
    bad = sum(r["status"] != "PASS" for r in rows)
    print(f"{len(rows) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
