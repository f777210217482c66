#!/usr/bin/python3
"""Generate ONNX test folders for Resize from PyTorch's F.interpolate.

Writes testdata/resize_torch/<name>/ (model.onnx, test_data_set_0/input_0.pb,
test_data_set_0/output_0.pb), one folder per combination of
    mode           nearest, bilinear, bicubic
    align_corners  False, True (bilinear and bicubic only)
    target         scale_factor=(2, 1.5) ("scale") or size=(7, 4) ("size",
                   upsampling one axis and downsampling the other)
    opset          11, 13, 17 (and 9, 10 for nearest: Upsample-9, Resize-10)
on a [1, 3, 5, 6] float32 input (seed 0), and seghead_<mode>_opset<11|17>:
a stride-2 conv upsampled back to the input's size (x.shape[-2:]) plus a
1x1 projection, on a [1, 3, 9, 11] input. The expected output is PyTorch's
own forward pass, so runtimes agree with it only to float32 rounding (the
conformance list compares at rtol 1e-4, atol 1e-5).

It also writes testdata/gridsample_torch/<name>/ from F.grid_sample (opset
16): modes bilinear, nearest, bicubic x padding zeros, border, reflection x
align_corners False, True, on a [1, 2, 4, 5] input and a [1, 3, 4, 2] grid
drawn from [-1.6, 1.6], so every padding rule is exercised; and 3d_<mode>_*:
GridSample-20 models built by hand on a [1, 2, 3, 4, 5] input (bilinear and
nearest: PyTorch has no 3-D bicubic), expected values from F.grid_sample.

Run with /usr/bin/python3 (python3-torch 1.13, python3-onnx 1.12).
Idempotent: the output folder is deleted and rewritten.
"""

import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "resize_torch")
OUT_GS = os.path.join(HERE, "gridsample_torch")


class Interp(torch.nn.Module):
    def __init__(self, mode, align_corners, scale, size):
        super().__init__()
        self.mode, self.align_corners, self.scale, self.size = mode, align_corners, scale, size

    def forward(self, x):
        return F.interpolate(x, size=self.size, scale_factor=self.scale, mode=self.mode,
                             align_corners=self.align_corners)


class SegHead(torch.nn.Module):
    """An FPN / DeepLab-style head: a stride-2 conv, upsampled back to the
    input's own size (read with x.shape, as segmentation models do) and
    added to a 1x1 projection of the input."""

    def __init__(self, mode):
        super().__init__()
        self.mode = mode
        self.down = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.proj = torch.nn.Conv2d(3, 4, 1)

    def forward(self, x):
        y = self.down(x)
        ac = None if self.mode == "nearest" else False
        y = F.interpolate(y, size=x.shape[-2:], mode=self.mode, align_corners=ac)
        return y + self.proj(x)


class GridSample(torch.nn.Module):
    def __init__(self, mode, padding, align_corners):
        super().__init__()
        self.mode, self.padding, self.align_corners = mode, padding, align_corners

    def forward(self, x, grid):
        return F.grid_sample(x, grid, mode=self.mode, padding_mode=self.padding,
                             align_corners=self.align_corners)


def write(name, model, x, opset, out=OUT, grid=None):
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    path = os.path.join(d, "model.onnx")
    with torch.no_grad():
        args = (x,) if grid is None else (x, grid)
        names = ["x"] if grid is None else ["x", "grid"]
        y = model(*args)
        torch.onnx.export(model, args, path, opset_version=opset, input_names=names,
                          output_names=["y"])
    onnx.checker.check_model(onnx.load(path))
    files = [("input_%d" % i, t, n) for i, (t, n) in enumerate(zip(args, names))]
    for fname, t, n in files + [("output_0", y, "y")]:
        tp = numpy_helper.from_array(t.numpy().astype(np.float32), n)
        with open(os.path.join(d, "test_data_set_0", fname + ".pb"), "wb") as f:
            f.write(tp.SerializeToString())
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    print(name, list(y.shape), ops)


def write_gs_nd(name, x, grid, mode, pad, ac):
    """GridSample-20 on a 5-D input, built by hand (PyTorch 1.13 exports only
    opset 16), expected values from F.grid_sample."""
    with torch.no_grad():
        y = F.grid_sample(x, grid, mode=mode, padding_mode=pad, align_corners=ac)
    node = helper.make_node("GridSample", ["x", "grid"], ["y"],
                            mode="linear" if mode == "bilinear" else mode,
                            padding_mode=pad, align_corners=int(ac))
    vi = [helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, list(t.shape))
          for n, t in (("x", x), ("grid", grid))]
    g = helper.make_graph([node], name, vi,
                          [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, list(y.shape))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 20)])
    m.ir_version = 8
    d = os.path.join(OUT_GS, name)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(m, os.path.join(d, "model.onnx"))
    for fname, t, n in (("input_0", x, "x"), ("input_1", grid, "grid"), ("output_0", y, "y")):
        with open(os.path.join(d, "test_data_set_0", fname + ".pb"), "wb") as f:
            f.write(numpy_helper.from_array(t.numpy().astype(np.float32), n).SerializeToString())
    print(name, list(y.shape), "GridSample-20")


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    torch.manual_seed(0)
    x = torch.randn(1, 3, 5, 6)
    for opset in (9, 10, 11, 13, 17):
        # before 11 only nearest means what PyTorch computes (Upsample-9 and
        # Resize-10 map coordinates asymmetrically)
        for mode in ("nearest", "bilinear", "bicubic") if opset >= 11 else ("nearest",):
            for ac in ((None,) if mode == "nearest" else (False, True)):
                for target in ("scale", "size"):
                    scale = (2.0, 1.5) if target == "scale" else None
                    size = (7, 4) if target == "size" else None
                    tag = "" if ac is None else ("_ac" if ac else "_hp")
                    name = f"{mode}{tag}_{target}_opset{opset}"
                    write(name, Interp(mode, ac, scale, size).eval(), x, opset)
    for opset in (11, 17):
        for mode in ("nearest", "bilinear"):
            torch.manual_seed(1)
            write(f"seghead_{mode}_opset{opset}", SegHead(mode).eval(), torch.randn(1, 3, 9, 11),
                  opset)
    shutil.rmtree(OUT_GS, ignore_errors=True)
    torch.manual_seed(2)
    x = torch.randn(1, 2, 4, 5)
    grid = torch.rand(1, 3, 4, 2) * 3.2 - 1.6
    for mode in ("bilinear", "nearest", "bicubic"):
        for pad in ("zeros", "border", "reflection"):
            for ac in (False, True):
                name = f"{mode}_{pad}{'_ac' if ac else ''}"
                write(name, GridSample(mode, pad, ac).eval(), x, 16, OUT_GS, grid)
    x = torch.randn(1, 2, 3, 4, 5)
    grid = torch.rand(1, 2, 3, 2, 3) * 3.2 - 1.6
    for mode in ("bilinear", "nearest"):
        for pad in ("zeros", "border", "reflection"):
            for ac in (False, True):
                write_gs_nd(f"3d_{mode}_{pad}{'_ac' if ac else ''}", x, grid, mode, pad, ac)


if __name__ == "__main__":
    main()
