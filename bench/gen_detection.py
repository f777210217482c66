#!/usr/bin/python3
"""Exports torchvision 0.14 detection models (random weights) as ONNX test
folders, with PyTorch's outputs as expected values.

For every model and opset, writes OUT/<name>_opset<NN>/:
    model.onnx                     torch.onnx.export of the model in eval mode
    test_data_set_0/input_0.pb     the image, a [3, H, W] float tensor
    test_data_set_0/output_K.pb    PyTorch's boxes [N, 4], scores [N], labels [N]
    generator.txt                  what wrote the folder (for --skip-existing)

Random weights give near-uniform class scores, so the score thresholds are
lowered and detections_per_img set small enough that the outputs are
non-trivial but short. Every BatchNorm gets a random affine transform and
running statistics measured on a random image (only the norms in training
mode), from a fixed seed per model: without that, a random ResNet-50's
activations grow until every RetinaNet score is 1.

torchvision 0.14 exports RoiAlign without coordinate_transformation_mode,
which from opset 16 defaults to half_pixel, while its MultiScaleRoIAlign
(aligned=False) means output_half_pixel: such files disagree with PyTorch
(ONNX Runtime and onnorm agree with each other on them). For opsets >= 16
this script registers a RoiAlign symbolic that writes the mode, as
torchvision 0.15 does.

Detections with (nearly) equal scores may come out in a different order in
PyTorch and in another runtime; bench/compare_detection.py compares them as
sets (sorted by score, then box) and, with --ort, against ONNX Runtime.

Usage: /usr/bin/python3 bench/gen_detection.py --out DIR [--models a,b]
           [--opsets 11,17] [--skip-existing] [--list]
"""

import argparse
import hashlib
import os
import shutil
import sys
import traceback
import warnings
import zlib

import numpy as np
import onnx
import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from gen_real_models import stamp_matches, write_folder  # noqa: E402

import export_util  # noqa: E402 (bench/, this script's folder)

SEED = 20261130
D = torchvision.models.detection

def ssdlite_small():
    """SSDlite resizing its input to 160x160 (its anchors follow the feature
    map sizes) with 11 classes."""
    net = D.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=11,
                                          score_thresh=0.0, detections_per_img=20,
                                          topk_candidates=50)
    net.transform.min_size = (160,)
    net.transform.max_size = 160
    net.transform.fixed_size = (160, 160)
    return net


# name -> (constructor, image shape [3, H, W], default opsets)
MODELS = {
    "ssdlite320_mobilenet_v3_large": (
        lambda: D.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None,
                                                score_thresh=0.0, detections_per_img=40,
                                                topk_candidates=100),
        (3, 320, 320), (11, 17)),
    # The same network, small enough for CI: 160x160 images, 11 classes.
    "ssdlite_small": (lambda: ssdlite_small(), (3, 160, 160), (11, 17)),
    "fasterrcnn_mobilenet_v3_large_320_fpn": (
        lambda: D.fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None,
                                                        box_score_thresh=0.0,
                                                        box_detections_per_img=40),
        (3, 320, 320), (11, 17)),
    # Small enough for CI: 160x160 images, 11 classes.
    "fasterrcnn_small": (
        lambda: D.fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None,
                                                        num_classes=11, min_size=160,
                                                        max_size=160, box_score_thresh=0.0,
                                                        box_detections_per_img=20),
        (3, 160, 160), (11, 17)),
    "retinanet_resnet50_fpn": (
        lambda: D.retinanet_resnet50_fpn(weights=None, weights_backbone=None, min_size=320,
                                         max_size=320, score_thresh=0.0,
                                         detections_per_img=40),
        (3, 320, 320), (11, 17)),
}


class Flat(torch.nn.Module):
    """One image in, (boxes, scores, labels) out."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        d = self.net([x])[0]
        return d["boxes"], d["scores"], d["labels"]


def register_roi_align_16():
    from torch.onnx import register_custom_op_symbolic
    from torch.onnx.symbolic_helper import parse_args
    from torch.onnx.symbolic_opset11 import select, squeeze
    from torch.onnx.symbolic_opset9 import _cast_Long

    @parse_args("v", "v", "f", "i", "i", "i", "i")
    def roi_align(g, x, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned):
        def const(v):
            return g.op("Constant", value_t=torch.tensor(v, dtype=torch.long))
        batch = _cast_Long(g, squeeze(g, select(g, rois, 1, const([0])), 1), False)
        rois = select(g, rois, 1, const([1, 2, 3, 4]))
        return g.op("RoiAlign", x, rois, batch, spatial_scale_f=spatial_scale,
                    output_height_i=pooled_height, output_width_i=pooled_width,
                    sampling_ratio_i=max(sampling_ratio, 0),
                    coordinate_transformation_mode_s="half_pixel" if aligned else "output_half_pixel")

    register_custom_op_symbolic("torchvision::roi_align", roi_align, 16)


def stamp():
    with open(os.path.abspath(__file__), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    return f"gen_detection.py {digest} torch {torch.__version__}\n"


def build(name):
    ctor, shape, _ = MODELS[name]
    seed = SEED ^ zlib.crc32(name.encode())
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = ctor()
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(*shape, generator=gen)
    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        net.eval()
        for m in bns:
            m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
            m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
            m.reset_running_stats()
            m.momentum = None
            m.train()
        net([torch.rand(*shape, generator=gen) for _ in range(2)])  # SSD has 1x1 maps
        for m in bns:
            m.momentum = 0.1
    model = Flat(net).eval()
    with torch.no_grad():
        outs = model(x)
    return model, x, outs


def export(model, x, outs, opset, folder):
    tmp = folder + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "test_data_set_0"))
    path = os.path.join(tmp, "model.onnx")
    names = ["boxes", "scores", "labels"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), path, opset_version=opset, input_names=["image"],
                          output_names=names, do_constant_folding=False)
    onnx.checker.check_model(path)
    return write_folder(tmp, folder, (("input", ["image"], [x]), ("output", names, outs)),
                        stamp())


def up_to_date(folder):
    return stamp_matches(folder, stamp())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--opsets", default="")
    ap.add_argument("--skip-existing", action="store_true")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    names = [n for n in a.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")

    def opsets(name):
        return [int(o) for o in a.opsets.split(",")] if a.opsets else MODELS[name][2]

    if a.list:
        print(" ".join(f"{n}_opset{o}" for n in names for o in opsets(n)))
        return 0
    os.makedirs(a.out, exist_ok=True)
    torch.set_grad_enabled(False)
    register_roi_align_16()
    failed = []
    for name in names:
        todo = [o for o in opsets(name)
                if not (a.skip_existing and up_to_date(os.path.join(a.out, f"{name}_opset{o}")))]
        if not todo:
            print(f"{name}: up to date", flush=True)
            continue
        try:
            model, x, outs = build(name)
        except Exception as e:  # noqa: BLE001 -- reported, then the next model
            failed.append((name, f"build/forward: {type(e).__name__}: {e}"))
            traceback.print_exc()
            continue
        for o in todo:
            tag = f"{name}_opset{o}"
            try:
                m = export(model, x, outs, o, os.path.join(a.out, tag))
            except Exception as e:  # noqa: BLE001
                shutil.rmtree(os.path.join(a.out, tag + ".partial"), ignore_errors=True)
                failed.append((tag, f"export: {type(e).__name__}: {e}"))
                traceback.print_exc()
                continue
            ops = sorted({n.op_type for n in m.graph.node})
            print(f"{tag}: {len(m.graph.node)} nodes; {outs[0].shape[0]} detections; "
                  f"ops {', '.join(ops)}", flush=True)
    return export_util.report_failures(failed)


if __name__ == "__main__":
    sys.exit(main())
