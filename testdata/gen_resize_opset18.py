#!/usr/bin/python3
"""Generate Resize-18/19 test folders (antialias, axes, keep_aspect_ratio_policy,
half_pixel_symmetric) into testdata/resize_opset18/<name>/.

ONNX 1.12 (the installed version) predates these attributes and has no test
data for them, so the expected outputs come from the NumPy reference below:
a transcription of the ONNX reference implementation's algorithm
(onnx/reference/ops/op_resize.py of later ONNX releases) - each output
coordinate is interpolated recursively axis by axis, neighbours are found
by sorting distances in an edge-padded copy - which shares no code or
structure with onnorm's table-driven kernel. Two of its results are checked
against numbers published in the ONNX operator documentation before anything
is written.

Run with /usr/bin/python3 (python3-onnx 1.12, numpy 1.24). Idempotent.
"""

import os
import shutil

import numpy as np
import onnx
from onnx import helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resize_opset18")


def cubic_coeffs(ratio, scale, A, antialias):
    if not antialias or scale >= 1.0:
        scale = 1.0

    def k(x):
        x = abs(x)
        if x <= 1:
            return (A + 2) * x**3 - (A + 3) * x**2 + 1
        if x < 2:
            return A * x**3 - 5 * A * x**2 + 8 * A * x - 4 * A
        return 0.0

    i_start = int(np.floor(-2 / scale) + 1)
    c = np.array([k(scale * (i - ratio)) for i in range(i_start, 2 - i_start)])
    return c / c.sum() if antialias else c


def linear_coeffs(ratio, scale, antialias):
    if not antialias or scale >= 1.0:
        return np.array([1 - ratio, ratio])
    start = int(np.floor(-1 / scale) + 1)
    footprint = 2 - 2 * start
    args = (np.arange(start, start + footprint) - ratio) * scale
    c = np.clip(1 - np.abs(args), 0, 1)
    return c / c.sum()


def nearest_coeffs(ratio, mode):
    if float(ratio).is_integer():
        return np.array([0, 1])
    return {"round_prefer_floor": np.array([ratio <= 0.5, ratio > 0.5]),
            "round_prefer_ceil": np.array([ratio < 0.5, ratio >= 0.5]),
            "floor": np.array([1, 0]), "ceil": np.array([0, 1])}[mode]


def neighbors(x, n, data):
    pad = int(np.ceil(n / 2))
    padded = np.pad(data, pad, mode="edge")
    x = x + pad
    idx = sorted(sorted(range(len(padded)), key=lambda i: (abs(x - i), i))[:n])
    return np.array(idx) - pad, padded[idx]


def interp_1d(data, scale, out_int, x, a):
    in_w = len(data)
    out_w = scale * in_w
    ctm = a["ctm"]
    if ctm == "align_corners":
        x_ori = 0.0 if out_w == 1 else x * (in_w - 1) / (out_w - 1)
    elif ctm == "asymmetric":
        x_ori = x / scale
    elif ctm == "tf_crop_and_resize":
        r0, r1 = a["roi"]
        x_ori = (r1 - r0) * (in_w - 1) / 2 if out_w == 1 else x * (r1 - r0) * (in_w - 1) / (out_w - 1)
        x_ori += r0 * (in_w - 1)
        if x_ori < 0 or x_ori > in_w - 1:
            return a["extrapolation_value"]
    elif ctm == "pytorch_half_pixel":
        x_ori = -0.5 if out_w == 1 else (x + 0.5) / scale - 0.5
    elif ctm == "half_pixel":
        x_ori = (x + 0.5) / scale - 0.5
    elif ctm == "half_pixel_symmetric":
        adjustment = out_int / out_w
        center = in_w / 2
        x_ori = center * (1 - adjustment) + (x + 0.5) / scale - 0.5
    x_ori = float(x_ori)
    ratio = 1.0 if x_ori.is_integer() else x_ori - np.floor(x_ori)
    if a["mode"] == "nearest":
        c = nearest_coeffs(ratio, a["nearest_mode"]).astype(np.float64)
    elif a["mode"] == "linear":
        c = linear_coeffs(ratio, scale, a["antialias"])
    else:
        c = cubic_coeffs(ratio, scale, a["cubic_coeff_a"], a["antialias"])
    idx, pts = neighbors(x_ori, len(c), data)
    if a["exclude_outside"]:
        c = np.where((idx < 0) | (idx >= in_w), 0, c)
        c = c / c.sum()
    return float(np.dot(c, pts))


def interp_nd(data, scales, out_size, x, rois, a):
    if data.ndim == 1:
        return interp_1d(data, scales[0], out_size[0], x[0], dict(a, roi=rois[0]))
    inner = np.array([interp_nd(data[i], scales[1:], out_size[1:], x[1:], rois[1:], a)
                      for i in range(data.shape[0])])
    return interp_1d(inner, scales[0], out_size[0], x[0], dict(a, roi=rois[0]))


def reference(data, a, scales=None, sizes=None, roi=None, axes=None):
    r = data.ndim
    axes = list(range(r)) if axes is None else [ax % r for ax in axes]
    full_roi = [(0.0, 1.0)] * r
    if roi is not None:
        for k, ax in enumerate(axes):
            full_roi[ax] = (roi[k], roi[len(axes) + k])
    if sizes is not None:
        full = list(data.shape)
        for k, ax in enumerate(axes):
            full[ax] = sizes[k]
        sc = np.array(full, dtype=np.float64) / np.array(data.shape)
        policy = a.get("keep_aspect_ratio_policy", "stretch")
        if policy != "stretch":
            s = sc[axes].min() if policy == "not_larger" else sc[axes].max()
            sc = np.array([s if i in axes else 1.0 for i in range(r)])
            full = [int(s * data.shape[i] + 0.5) if i in axes else data.shape[i] for i in range(r)]
        out_size = full
    else:
        sc = np.ones(r)
        for k, ax in enumerate(axes):
            sc[ax] = scales[k]
        out_size = [int(np.floor(sc[i] * data.shape[i])) for i in range(r)]
    ret = np.zeros(out_size)
    for x in np.ndindex(*out_size):
        ret[x] = interp_nd(data, sc, out_size, x, full_roi, a)
    return ret


DEFAULTS = dict(mode="nearest", ctm="half_pixel", nearest_mode="round_prefer_floor",
                cubic_coeff_a=-0.75, exclude_outside=0, antialias=0, extrapolation_value=0.0)


def write(name, opset, data, attrs, scales=None, sizes=None, roi=None, axes=None):
    a = dict(DEFAULTS, **attrs)
    y = reference(data, a, scales, sizes, roi, axes).astype(data.dtype)
    node_attrs = {k: v for k, v in attrs.items() if k != "ctm"}
    if "ctm" in attrs:
        node_attrs["coordinate_transformation_mode"] = attrs["ctm"]
    if axes is not None:
        node_attrs["axes"] = axes
    inputs = [("X", data)]
    names = ["X", "", "", ""]
    if roi is not None:
        inputs.append(("roi", np.array(roi, dtype=np.float32)))
        names[1] = "roi"
    if scales is not None:
        inputs.append(("scales", np.array(scales, dtype=np.float32)))
        names[2] = "scales"
    if sizes is not None:
        inputs.append(("sizes", np.array(sizes, dtype=np.int64)))
        names[3] = "sizes"
    while names[-1] == "":
        names.pop()
    node = helper.make_node("Resize", names, ["Y"], **node_attrs)
    elem = onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[data.dtype]
    g = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info(n, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[v.dtype], v.shape)
         for n, v in inputs],
        [helper.make_tensor_value_info("Y", elem, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    d = os.path.join(OUT, name, "test_data_set_0")
    os.makedirs(d)
    onnx.save(m, os.path.join(OUT, name, "model.onnx"))
    for i, (n, v) in enumerate(inputs):
        with open(os.path.join(d, f"input_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(v, n).SerializeToString())
    with open(os.path.join(d, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(y, "Y").SerializeToString())
    print(name, list(y.shape))


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    d16 = np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)
    d4 = np.array([[[[1, 2], [3, 4]]]], dtype=np.float32)
    # numbers published with the ONNX operator documentation
    lin = reference(d16, dict(DEFAULTS, mode="linear", antialias=1), scales=[1, 1, 0.6, 0.6])
    assert np.allclose(lin, [[[[2.875, 4.5], [9.375, 11.0]]]]), lin
    cub = reference(d16, dict(DEFAULTS, mode="cubic", antialias=1), scales=[1, 1, 0.6, 0.6])
    assert np.allclose(cub, [[[[2.5180721, 4.2858863], [9.589329, 11.357142]]]]), cub

    rng = np.random.default_rng(0)
    d36 = rng.standard_normal((1, 2, 6, 7)).astype(np.float32)
    write("downsample_scales_linear_antialias", 18, d16, dict(mode="linear", antialias=1),
          scales=[1, 1, 0.6, 0.6])
    write("downsample_scales_cubic_antialias", 18, d16, dict(mode="cubic", antialias=1),
          scales=[1, 1, 0.6, 0.6])
    write("downsample_sizes_linear_antialias", 18, d36, dict(mode="linear", antialias=1),
          sizes=[1, 2, 3, 2])
    write("downsample_sizes_cubic_antialias_exclude", 18, d36,
          dict(mode="cubic", antialias=1, exclude_outside=1), sizes=[1, 2, 2, 3])
    write("upsample_scales_linear_antialias", 18, d4, dict(mode="linear", antialias=1),
          scales=[1, 1, 2, 2])
    write("upsample_scales_nearest_axes_2_3", 18, d4, dict(mode="nearest"), scales=[2.0, 3.0],
          axes=[2, 3])
    write("upsample_scales_nearest_axes_3_2", 18, d4, dict(mode="nearest"), scales=[3.0, 2.0],
          axes=[3, 2])
    write("upsample_sizes_nearest_axes_neg", 18, d4, dict(mode="nearest"), sizes=[3, 5],
          axes=[-2, -1])
    write("upsample_sizes_nearest_not_larger", 18, d4,
          dict(mode="nearest", keep_aspect_ratio_policy="not_larger"), sizes=[7, 8], axes=[2, 3])
    write("upsample_sizes_nearest_not_smaller", 18, d4,
          dict(mode="nearest", keep_aspect_ratio_policy="not_smaller"), sizes=[7, 8], axes=[2, 3])
    write("downsample_sizes_linear_not_larger", 18, d36,
          dict(mode="linear", keep_aspect_ratio_policy="not_larger"), sizes=[1, 3], axes=[2, 3])
    write("downsample_sizes_cubic_not_smaller", 18, d36,
          dict(mode="cubic", keep_aspect_ratio_policy="not_smaller"), sizes=[1, 3], axes=[2, 3])
    write("tf_crop_and_resize_axes_2_3", 18, d16,
          dict(mode="linear", ctm="tf_crop_and_resize", extrapolation_value=10.0),
          sizes=[3, 3], roi=[0.4, 0.6, 1.4, 0.8], axes=[2, 3])
    write("upsample_scales_linear_half_pixel_symmetric", 19, d4,
          dict(mode="linear", ctm="half_pixel_symmetric"), scales=[1.0, 1.0, 2.3, 2.94])
    write("downsample_scales_linear_half_pixel_symmetric", 19, d16[:, :, :1, :],
          dict(mode="linear", ctm="half_pixel_symmetric"), scales=[1.0, 1.0, 1.0, 0.6])
    write("downsample_scales_cubic_half_pixel_symmetric_3d", 19, d36[0],
          dict(mode="cubic", ctm="half_pixel_symmetric"), scales=[1.0, 0.7, 0.8])
    write("upsample_sizes_cubic_5d_axes", 19, d36.reshape(1, 2, 6, 7, 1),
          dict(mode="cubic", ctm="align_corners"), sizes=[4, 9, 2], axes=[2, 3, 4])


if __name__ == "__main__":
    main()
