#!/usr/bin/python3
"""Generate ONNX backend-style test folders for the normalization operators.

Writes, for every case, <root>/<case>/model.onnx and
<root>/<case>/test_data_set_0/{input_K.pb, output_K.pb}:

    testdata/norms/<case>/            float32 / float64 outputs; checked with
                                      the runner's defaults (rtol 1e-3,
                                      atol 1e-7)
    testdata/norms_half/f16/<case>/   float16 outputs (suffix _f16)
    testdata/norms_half/bf16/<case>/  bfloat16 outputs, or a mix of bf16 and
                                      f16 tensors (suffix _bf16)

The tolerance each root needs is written to a TOLERANCES file in it (and
printed at the end of a run). Every model is one node; its graph inputs are
the node's present inputs in order (input_K.pb is graph input K, named after
it) and its graph outputs the node's present outputs in order.

Expected outputs come from NumPy references written from the operator specs
(the ONNX operator documentation up to opset 23), NOT from any
runtime. Inputs are drawn from numpy.random.default_rng(crc32(case name)),
rounded to their tensor type; the reference then runs in float64 on those
rounded values and its results are rounded once to the output type
(float16 with numpy's round-to-nearest-even, bfloat16 with a hand-written
round-to-nearest-even). Float attributes are stored as float32 in ONNX, so
the references use the float32-rounded attribute values.

Operators and opsets:
    RMSNormalization 23; MeanVarianceNormalization 9, 13; LpNormalization 1,
    22; LRN 1, 13; BatchNormalization 15 (inference, mixed T/T1/T2 types);
    InstanceNormalization 22; LayerNormalization 17; GroupNormalization 21;
    ai.onnx.ml Scaler 1 and Normalizer 1 (opset imports ai.onnx.ml 1 + ai.onnx
    13); com.microsoft LayerNormalization, SimplifiedLayerNormalization,
    SkipLayerNormalization, SkipSimplifiedLayerNormalization (opset imports
    com.microsoft 1 + ai.onnx 17); SimplifiedLayerNormalization in the default
    domain at opset 17 (simplified_layernorm_default_domain).

Decisions where the spec is silent, loose, or disagrees with other sources:
  * Normalizer, zero row: the ONNX 1.12 doc says "if the divisor is zero,
    Y == X", so a row of zeros gives 0 (that is also what onnorm returns);
    the cases include a zero row in each mode and expect 0.
  * Normalizer L1 divides by sum|X| (the doc writes sum(X); ONNX Runtime and
    the ONNX reference use |X|); L2 is X / sqrt(sum X^2) with the sign of X
    kept (the doc writes sqrt(X^2 / sum X^2), which would drop the sign; ORT
    keeps it). The L1/L2 cases contain negative values.
  * Normalizer MAX: ORT divides by max(X), the ONNX reference by max|X|. The
    MAX data is drawn so that in every non-zero row the largest element is
    also the largest in magnitude, so both readings give the same result.
  * MeanVarianceNormalization: Y = (X - mean) / (sqrt(var) + 1e-9), var the
    two-pass population variance in float64, clamped at 0; a constant slice
    gives exactly 0. No epsilon attribute exists.
  * LpNormalization: p=1 uses |x|; a zero vector gives 0, not NaN (doc since
    ONNX 1.21, applied to both versions).
  * LRN: window [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped to
    [0, C-1]; alpha is divided by the nominal size even where the window is
    clipped.
  * Half types: the spec computes LN/GN/RMS statistics in the stash type and
    the final scale/shift in T (and BN/IN entirely in T); these references
    instead compute everything in float64 and round once. The difference is
    what the looser half-type tolerances absorb.
  * com.microsoft LayerNormalization / SimplifiedLayerNormalization: ORT
    registers these in the default domain; the brief asks for com.microsoft
    here, and one SimplifiedLayerNormalization case in the default domain.
    Mean / inv_std_var outputs are float32 with shape
    X.shape[:axis] + [1] * (rank - axis) ([B, S, 1] for the Skip ops).
  * SkipLayerNormalization: epsilon default 1e-12; skip of shape [1, S, H] is
    broadcast over the batch; mean/var are float64 two-pass (ORT's kernel uses
    E[s^2] - E[s]^2). The output 'mean' of SkipSimplifiedLayerNormalization is
    omitted (empty name).
  * ir_version 8, or 10 when the model imports ai.onnx opset >= 21.
    onnx.checker and strict shape inference run only on models whose ops and
    opsets ONNX 1.12 knows (ai.onnx opset <= 17, domains '' and ai.onnx.ml).

Besides the exact reference, each case is recomputed by two emulated
implementations, only to measure how much slack the tolerances leave (the
results are printed, nothing is written): 'f32' does all arithmetic in
float32; 'literal' (half cases) computes statistics in float32 and rounds to
the half type after the normalization, after the scale multiply and after the
bias add, as the spec's function bodies do.

Run with /usr/bin/python3 (onnx 1.12, numpy 1.24). Idempotent: the three
output roots are deleted and rewritten, then every folder is read back and
verified.
"""

import os
import shutil
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOTS = {
    "norms": os.path.join(HERE, "norms"),
    "f16": os.path.join(HERE, "norms_half", "f16"),
    "bf16": os.path.join(HERE, "norms_half", "bf16"),
}
HALF_PARENT = os.path.join(HERE, "norms_half")

# Tolerances |got - exp| <= atol + rtol * |exp| per root.
TOLERANCES = {
    "norms": (1e-3, 1e-7),
    "f16": (2e-3, 1e-3),
    "bf16": (1e-2, 1e-2),
}

F32, F64, F16, BF16 = TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16
TYPE_NAME = {F32: "float32", F64: "float64", F16: "float16", BF16: "bfloat16"}

MAX_FOLDER_BYTES = 50 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024


# ---------------------------------------------------------------------------
# Type rounding and tensor files
# ---------------------------------------------------------------------------

def bf16_round(a):
    """Round float64 values to the nearest bfloat16 (ties to even), directly
    (no intermediate float32 rounding). Returns float64."""
    a = np.asarray(a, dtype=np.float64)
    assert np.all(np.isfinite(a))
    _, e = np.frexp(a)                    # a = m * 2**e, 0.5 <= |m| < 1
    q = np.maximum(e - 8, -133)           # 8 significant bits; subnormal quantum 2**-133
    r = np.round(a * np.exp2(-q)) * np.exp2(q)   # np.round: half to even
    assert np.all(np.abs(r) <= 3.3895313892515355e38), "bfloat16 overflow"
    return r


def bf16_bits(a):
    """uint16 bfloat16 encodings of values: upper 16 bits of float32 after
    round-to-nearest-even (exact for values that already are bfloat16)."""
    u = np.asarray(a, dtype=np.float64).astype(np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def bf16_decode(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def round_to(a, elem):
    """Round float64 values to tensor type elem; result as float64."""
    a = np.asarray(a, dtype=np.float64)
    if elem == F64:
        return a.copy()
    if elem == F32:
        return a.astype(np.float32).astype(np.float64)
    if elem == F16:
        return a.astype(np.float16).astype(np.float64)
    if elem == BF16:
        return bf16_round(a)
    raise ValueError(elem)


def make_tensor(name, values, elem):
    if elem == BF16:
        t = TensorProto()
        t.name = name
        t.data_type = BF16
        t.dims.extend(values.shape)
        bits = bf16_bits(values)
        assert np.array_equal(bf16_decode(bits), values), name + ": not bfloat16-exact"
        t.raw_data = bits.astype("<u2").tobytes()
        return t
    npt = {F32: np.float32, F64: np.float64, F16: np.float16}[elem]
    arr = values.astype(npt)
    assert np.array_equal(arr.astype(np.float64), values), name + ": not exact in " + TYPE_NAME[elem]
    return numpy_helper.from_array(arr, name)


def read_tensor(path):
    t = TensorProto()
    with open(path, "rb") as fh:
        t.ParseFromString(fh.read())
    if t.data_type == BF16:
        bits = np.frombuffer(t.raw_data, dtype="<u2").reshape(tuple(t.dims))
        return t.name, BF16, bf16_decode(bits)
    return t.name, t.data_type, numpy_helper.to_array(t).astype(np.float64)


# ---------------------------------------------------------------------------
# References. Each takes I (dict name -> array) and a Mode: m.acc is the
# arithmetic dtype, m.rnd the rounding applied at the spec's stage-2 steps
# (identity for the exact reference). Each returns dict name -> array.
# ---------------------------------------------------------------------------

class Mode:
    def __init__(self, name, acc, rnd=None):
        self.name = name
        self.acc = acc
        self.rnd = rnd or (lambda a: a)

    def cast(self, a):
        return np.asarray(a).astype(self.acc)


EXACT = Mode("exact", np.float64)


def f32(v):
    """An attribute value as ONNX stores it (float32)."""
    return float(np.float32(v))


def tail_axes(r, axis):
    return tuple(range(axis % r, r))


def moments(x, axes):
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)   # two-pass, population
    return mu, np.maximum(var, 0)


def ref_rms(I, m, axis, eps):
    x, s = m.cast(I["X"]), m.cast(I["scale"])
    ms = (x * x).mean(axis=tail_axes(x.ndim, axis), keepdims=True)
    return {"Y": m.rnd(m.rnd(x / np.sqrt(ms + eps)) * s)}


def ref_mvn(I, m, axes):
    x = m.cast(I["X"])
    mu, var = moments(x, tuple(axes))
    return {"Y": (x - mu) / (np.sqrt(var) + f32(1e-9))}


def ref_lp(I, m, axis, p):
    x = m.cast(I["X"])
    if p == 1:
        n = np.abs(x).sum(axis=axis, keepdims=True)
    else:
        n = np.sqrt((x * x).sum(axis=axis, keepdims=True))
    zero = n == 0
    return {"Y": np.where(zero, 0, x / np.where(zero, 1, n))}


def ref_lrn(I, m, size, alpha, beta, bias):
    x = m.cast(I["X"])
    c_count = x.shape[1]
    sq = np.zeros_like(x)
    for c in range(c_count):
        lo = max(0, c - (size - 1) // 2)
        hi = min(c_count - 1, c + size // 2)          # ceil((size-1)/2) == size//2
        sq[:, c] = (x[:, lo:hi + 1] ** 2).sum(axis=1)
    return {"Y": x / (bias + (alpha / size) * sq) ** beta}


def chan(a, r):
    return a.reshape((1, -1) + (1,) * (r - 2))


def ref_bn(I, m, eps):
    x = m.cast(I["X"])
    r = x.ndim
    s, b, mu, var = (chan(m.cast(I[k]), r) for k in ("scale", "B", "input_mean", "input_var"))
    xhat = m.rnd((x - mu) / np.sqrt(var + eps))
    return {"Y": m.rnd(m.rnd(xhat * s) + b)}


def ref_in(I, m, eps):
    x = m.cast(I["input"])
    r = x.ndim
    mu, var = moments(x, tuple(range(2, r)))
    xhat = m.rnd((x - mu) / np.sqrt(var + eps))
    s, b = chan(m.cast(I["scale"]), r), chan(m.cast(I["B"]), r)
    return {"output": m.rnd(m.rnd(xhat * s) + b)}


def ref_ln(I, m, axis, eps, names=("X", "Scale", "B", "Y", "Mean", "InvStdDev")):
    kx, ks, kb, ky, kmean, kinv = names
    x = m.cast(I[kx])
    mu, var = moments(x, tail_axes(x.ndim, axis))
    inv = 1 / np.sqrt(var + eps)
    y = m.rnd(m.rnd((x - mu) * inv) * m.cast(I[ks]))
    if I.get(kb) is not None:
        y = m.rnd(y + m.cast(I[kb]))
    return {ky: y, kmean: mu, kinv: inv}


def ref_gn(I, m, groups, eps):
    x = m.cast(I["X"])
    n, c = x.shape[:2]
    xg = x.reshape(n, groups, -1)
    mu, var = moments(xg, (2,))
    xhat = m.rnd(((xg - mu) / np.sqrt(var + eps)).reshape(x.shape))
    s, b = chan(m.cast(I["scale"]), x.ndim), chan(m.cast(I["bias"]), x.ndim)
    return {"Y": m.rnd(m.rnd(xhat * s) + b)}


def ref_simplified_ln(I, m, axis, eps):
    x, s = m.cast(I["X"]), m.cast(I["scale"])
    ms = (x * x).mean(axis=tail_axes(x.ndim, axis), keepdims=True)
    inv = 1 / np.sqrt(ms + eps)
    return {"Y": x * inv * s, "inv_std_var": inv}


def ref_skip_ln(I, m, eps, simplified):
    s = m.cast(I["input"]) + m.cast(I["skip"])       # skip [1,S,H] broadcasts
    if I.get("bias") is not None:
        s = s + m.cast(I["bias"])
    if simplified:
        mu = np.zeros(s.shape[:-1] + (1,), dtype=s.dtype)
        inv = 1 / np.sqrt((s * s).mean(axis=-1, keepdims=True) + eps)
        y = s * inv * m.cast(I["gamma"])
    else:
        mu, var = moments(s, (-1,))
        inv = 1 / np.sqrt(var + eps)
        y = (s - mu) * inv * m.cast(I["gamma"])
        if I.get("beta") is not None:
            y = y + m.cast(I["beta"])
    return {"output": y, "mean": mu, "inv_std_var": inv, "input_skip_bias_sum": s}


def ref_scaler(I, m, offset, scale):
    x = m.cast(I["X"])
    return {"Y": (x - m.cast(np.array(offset))) * m.cast(np.array(scale))}


def ref_normalizer(I, m, norm):
    x = m.cast(I["X"])
    if norm == "MAX":
        d = x.max(axis=1, keepdims=True)
    elif norm == "L1":
        d = np.abs(x).sum(axis=1, keepdims=True)
    else:
        d = np.sqrt((x * x).sum(axis=1, keepdims=True))
    zero = d == 0
    return {"Y": np.where(zero, x, x / np.where(zero, 1, d))}   # divisor 0: Y == X


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

CASES = []


class Case:
    def __init__(self, root, name, op, attrs, inputs, outputs, ref, domain="", opsets=None):
        self.root, self.name, self.op, self.attrs = root, name, op, attrs
        self.inputs = inputs        # [(name, elem, float64 array exact in elem) or None]
        self.outputs = outputs      # [(name, elem) or None]
        self.ref, self.domain = ref, domain
        self.opsets = opsets        # [(domain, version)]
        self.expected = None

    @property
    def dir(self):
        return os.path.join(ROOTS[self.root], self.name)

    def present_inputs(self):
        return [i for i in self.inputs if i is not None]

    def present_outputs(self):
        return [o for o in self.outputs if o is not None]

    def ai_onnx_opset(self):
        return dict(self.opsets).get("", 0)

    def checkable(self):
        return self.domain in ("", "ai.onnx.ml") and self.ai_onnx_opset() <= 17 and \
            self.op != "SimplifiedLayerNormalization"


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def add(root, name, op, attrs, inputs, outputs, ref, domain="", opsets=None):
    assert all(c.name != name for c in CASES), name
    CASES.append(Case(root, name, op, attrs, inputs, outputs, ref, domain, opsets))


def T(name, elem, values):
    return (name, elem, round_to(values, elem))


def root_for(y_elem):
    """Output folder by the type of the case's first output."""
    return {BF16: "bf16", F16: "f16"}.get(y_elem, "norms")


# --- RMSNormalization 23 ---------------------------------------------------

def rms_cases():
    def one(name, shape, axis=None, eps=None, stash=None, kind="normal", elem=F32):
        rng = rng_for(name)
        x = rng.standard_normal(shape)
        r = len(shape)
        a = -1 if axis is None else axis
        if kind == "offset":
            x = 1e4 + x
        elif kind == "zero_row":
            x.reshape(-1, shape[-1])[1] = 0.0
        scale = rng.standard_normal(shape[a % r:])
        attrs = {}
        if axis is not None:
            attrs["axis"] = axis
        if eps is not None:
            attrs["epsilon"] = eps
        if stash is not None:
            attrs["stash_type"] = stash
        e = f32(1e-5 if eps is None else eps)
        add(root_for(elem), name, "RMSNormalization", attrs,
            [T("X", elem, x), T("scale", elem, scale)], [("Y", elem)],
            lambda I, m, a=a, e=e: ref_rms(I, m, a, e), opsets=[("", 23)])

    for ax in (0, 1, -1, -2):
        one("rms23_2d_axis%s" % str(ax).replace("-", "_neg"), (3, 4), ax)
    for ax in (0, 1, 2, -1, -2, -3):
        one("rms23_3d_axis%s_epsilon" % str(ax).replace("-", "_neg"), (2, 3, 5), ax, eps=0.1)
    for ax in (0, 1, 2, 3, -1, -2, -3, -4):
        one("rms23_4d_axis%s" % str(ax).replace("-", "_neg"), (2, 3, 4, 5), ax)
    one("rms23_5d_axis2", (2, 2, 3, 2, 3), 2)
    one("rms23_5d_axis_neg1", (2, 2, 3, 2, 3), -1)
    one("rms23_default_axis", (2, 3, 4, 5))
    one("rms23_tiny_epsilon", (4, 6), -1, eps=1e-12, kind="zero_row")
    one("rms23_stash_type1", (2, 3, 6), 1, stash=1)
    one("rms23_large_offset", (3, 16), -1, kind="offset")
    one("rms23_zero_row", (4, 8), -1, kind="zero_row")
    one("rms23_4d_axis1_f64", (2, 3, 4, 5), 1, elem=F64)
    # half
    one("rms23_axis_neg1_f16", (3, 4, 8), -1, elem=F16)
    one("rms23_axis1_f16", (2, 3, 4, 5), 1, eps=1e-3, elem=F16)
    one("rms23_axis_neg1_bf16", (3, 4, 8), -1, elem=BF16)


# --- MeanVarianceNormalization 9, 13 ----------------------------------------

def mvn_cases():
    def one(name, opset, shape, axes=None, kind="normal", elem=F32):
        rng = rng_for(name)
        x = rng.standard_normal(shape)
        ax = [0, 2, 3] if axes is None else axes
        if kind == "offset":
            x = 1e4 + x
        elif kind == "constant":
            # channel 1 is constant over the default axes (N, H, W)
            x[:, 1] = 3.7
        elif kind == "wide":
            x = x * rng.uniform(0.01, 100.0, size=(1, shape[1]) + (1,) * (len(shape) - 2))
        attrs = {} if axes is None else {"axes": axes}
        add(root_for(elem), name, "MeanVarianceNormalization", attrs,
            [T("X", elem, x)], [("Y", elem)],
            lambda I, m, ax=ax: ref_mvn(I, m, ax), opsets=[("", opset)])

    for op in (9, 13):
        one("mvn%d_default_axes" % op, op, (2, 3, 4, 4))
        one("mvn%d_axes_1" % op, op, (2, 5, 3, 3), [1])
        one("mvn%d_axes_2_3" % op, op, (2, 3, 4, 5), [2, 3])
        one("mvn%d_axes_0_1_2_3" % op, op, (2, 3, 4, 4), [0, 1, 2, 3])
        one("mvn%d_constant_slice" % op, op, (2, 3, 4, 4), kind="constant")
        one("mvn%d_large_offset" % op, op, (2, 3, 6, 6), kind="offset")
        one("mvn%d_channel_scales" % op, op, (3, 4, 3, 3), kind="wide")
    one("mvn13_negative_axes_2_1", 13, (2, 3, 4, 5), [-2, -1])
    one("mvn13_negative_axes_0_2_1", 13, (2, 3, 4, 5), [0, -2, -1])
    one("mvn13_rank3_axes_0_2", 13, (3, 4, 6), [0, 2])
    one("mvn13_rank2_axes_1", 13, (4, 7), [1])
    one("mvn13_default_axes_f64", 13, (2, 3, 4, 4), elem=F64)


# --- LpNormalization 1, 22 ------------------------------------------------------

def lp_cases():
    def one(name, opset, shape, axis, p, zero=None):
        rng = rng_for(name)
        x = rng.standard_normal(shape) * 2.0     # negative values for p=1 too
        if zero is not None:
            x[zero] = 0.0
        attrs = {}
        if axis is not None:
            attrs["axis"] = axis
        if p is not None:
            attrs["p"] = p
        a = -1 if axis is None else axis
        pp = 2 if p is None else p
        add("norms", name, "LpNormalization", attrs, [T("X", F32, x)], [("Y", F32)],
            lambda I, m, a=a, pp=pp: ref_lp(I, m, a, pp), opsets=[("", opset)])

    for op in (1, 22):
        for p in (1, 2):
            for r, shape in ((2, (3, 4)), (3, (2, 3, 4))):
                for ax in (0, 1, -1):
                    one("lp%d_p%d_%dd_axis%s" % (op, p, r, str(ax).replace("-", "_neg")),
                        op, shape, ax, p)
        one("lp%d_default" % op, op, (2, 3, 4), None, None)
        # zero vectors: a zero row along axis -1, a zero fibre along axis 0
        one("lp%d_p1_zero_vector" % op, op, (4, 5), -1, 1, zero=(2, slice(None)))
        one("lp%d_p2_zero_vector" % op, op, (3, 2, 3), 0, 2, zero=(slice(None), 1, 2))


# --- LRN 1, 13 --------------------------------------------------------------------

def lrn_cases():
    def one(name, opset, shape, size, alpha=None, beta=None, bias=None):
        rng = rng_for(name)
        x = rng.standard_normal(shape) * 2.0
        attrs = {"size": size}
        for k, v in (("alpha", alpha), ("beta", beta), ("bias", bias)):
            if v is not None:
                attrs[k] = v
        al = f32(1e-4 if alpha is None else alpha)
        be = f32(0.75 if beta is None else beta)
        bi = f32(1.0 if bias is None else bias)
        add("norms", name, "LRN", attrs, [T("X", F32, x)], [("Y", F32)],
            lambda I, m: ref_lrn(I, m, size, al, be, bi), opsets=[("", opset)])

    for op in (1, 13):
        r4 = (2, 5, 3, 3)
        one("lrn%d_size1" % op, op, r4, 1, 0.4, 0.6, 1.5)
        one("lrn%d_size2" % op, op, r4, 2, 0.4, 0.6, 1.5)
        one("lrn%d_size3" % op, op, r4, 3, 0.3, 0.75, 2.0)
        one("lrn%d_size4" % op, op, r4, 4, 0.5, 0.5, 1.0)
        one("lrn%d_size5" % op, op, r4, 5, 0.6, 0.9, 1.2)
        one("lrn%d_size7_wider_than_c" % op, op, r4, 7, 0.7, 0.75, 1.0)
        one("lrn%d_default_attrs" % op, op, r4, 3)
        one("lrn%d_rank3_size3" % op, op, (2, 6, 5), 3, 0.3, 0.75, 2.0)
        one("lrn%d_rank3_size2" % op, op, (2, 6, 5), 2, 0.4, 0.6, 1.5)
        one("lrn%d_rank5_size3" % op, op, (1, 4, 2, 3, 2), 3, 0.5, 0.7, 1.1)


# --- BatchNormalization 15 (inference), InstanceNormalization 22 ----------------

def bn_cases():
    def one(name, shape, tx, tparams, tstats, eps=None):
        rng = rng_for(name)
        c = shape[1]
        x = rng.standard_normal(shape) * 1.5 + 0.5
        scale = rng.standard_normal(c)
        b = rng.standard_normal(c)
        mean = rng.standard_normal(c) * 0.5 + 0.5
        var = rng.uniform(0.2, 1.5, c)
        attrs = {} if eps is None else {"epsilon": eps}
        e = f32(1e-5 if eps is None else eps)
        add(root_for(tx), name, "BatchNormalization", attrs,
            [T("X", tx, x), T("scale", tparams, scale), T("B", tparams, b),
             T("input_mean", tstats, mean), T("input_var", tstats, var)],
            [("Y", tx)], lambda I, m: ref_bn(I, m, e), opsets=[("", 15)])

    one("batchnorm15_x_f32_scale_f64_mean_f16", (2, 3, 3, 4), F32, F64, F16)
    one("batchnorm15_x_f64_scale_f32_mean_f32", (2, 3, 5), F64, F32, F32, eps=1e-2)
    one("batchnorm15_params_f32_f16", (2, 3, 3, 4), F16, F32, F32)
    one("batchnorm15_scale_f32_mean_f16_bf16", (2, 3, 3, 4), BF16, F32, F16)
    one("batchnorm15_f16", (2, 4, 3, 3), F16, F16, F16)
    one("batchnorm15_epsilon_rank3_f16", (3, 4, 5), F16, F16, F16, eps=1e-2)
    one("batchnorm15_bf16", (2, 4, 3, 3), BF16, BF16, BF16)
    one("batchnorm15_params_bf16_f16", (2, 3, 4), F16, BF16, BF16)


def in_cases():
    def one(name, shape, elem, eps=None):
        rng = rng_for(name)
        c = shape[1]
        x = rng.standard_normal(shape) * 2.0 + 1.0
        scale = rng.standard_normal(c)
        b = rng.standard_normal(c)
        attrs = {} if eps is None else {"epsilon": eps}
        e = f32(1e-5 if eps is None else eps)
        add(root_for(elem), name, "InstanceNormalization", attrs,
            [T("input", elem, x), T("scale", elem, scale), T("B", elem, b)],
            [("output", elem)], lambda I, m: ref_in(I, m, e), opsets=[("", 22)])

    one("instancenorm22_f16", (2, 3, 4, 4), F16)
    one("instancenorm22_rank3_epsilon_f16", (2, 4, 9), F16, eps=1e-2)
    one("instancenorm22_bf16", (2, 3, 4, 4), BF16)
    one("instancenorm22_rank3_bf16", (2, 4, 9), BF16)


# --- LayerNormalization 17, GroupNormalization 21 (half types) ------------------

def ln_cases():
    def one(name, shape, axis, elem, eps=None, bias=True):
        rng = rng_for(name)
        r = len(shape)
        x = rng.standard_normal(shape) * 2.0 + 0.5
        w = rng.standard_normal(shape[axis % r:])
        b = rng.standard_normal(shape[axis % r:])
        attrs = {"axis": axis, "stash_type": 1}
        if eps is not None:
            attrs["epsilon"] = eps
        e = f32(1e-5 if eps is None else eps)
        add(root_for(elem), name, "LayerNormalization", attrs,
            [T("X", elem, x), T("Scale", elem, w), T("B", elem, b) if bias else None],
            [("Y", elem), ("Mean", F32), ("InvStdDev", F32)],
            lambda I, m: ref_ln(I, m, axis, e), opsets=[("", 17)])

    one("layernorm17_axis_neg1_f16", (2, 3, 8), -1, F16)
    one("layernorm17_axis1_epsilon_f16", (2, 3, 4, 2), 1, F16, eps=0.1)
    one("layernorm17_no_bias_f16", (4, 6), -1, F16)
    one("layernorm17_axis_neg1_bf16", (2, 3, 8), -1, BF16)


def gn_cases():
    def one(name, shape, groups, elem, eps=None):
        rng = rng_for(name)
        c = shape[1]
        x = rng.standard_normal(shape) * 2.0 + 0.5
        scale = rng.standard_normal(c)
        bias = rng.standard_normal(c)
        attrs = {"num_groups": groups, "stash_type": 1}
        if eps is not None:
            attrs["epsilon"] = eps
        e = f32(1e-5 if eps is None else eps)
        add(root_for(elem), name, "GroupNormalization", attrs,
            [T("X", elem, x), T("scale", elem, scale), T("bias", elem, bias)],
            [("Y", elem)], lambda I, m: ref_gn(I, m, groups, e), opsets=[("", 21)])

    one("groupnorm21_f16", (2, 6, 3, 3), 3, F16)
    one("groupnorm21_rank3_epsilon_f16", (3, 4, 5), 2, F16, eps=1e-2)
    one("groupnorm21_bf16", (2, 6, 3, 3), 3, BF16)
    one("groupnorm21_rank3_bf16", (3, 4, 5), 2, BF16)


# --- ai.onnx.ml Scaler, Normalizer -------------------------------------------------

ML_OPSETS = [("ai.onnx.ml", 1), ("", 13)]


def ml_cases():
    def scaler(name, shape, elem, per_column):
        rng = rng_for(name)
        x = rng.standard_normal(shape) * 3.0 + 1.0
        n = shape[1] if per_column else 1
        offset = [f32(v) for v in np.round(rng.uniform(-2, 2, n), 3)]
        scale = [f32(v) for v in np.round(rng.uniform(0.25, 3, n), 3)]
        add("norms", name, "Scaler", {"offset": offset, "scale": scale},
            [T("X", elem, x)], [("Y", F32)],
            lambda I, m: ref_scaler(I, m, offset, scale),
            domain="ai.onnx.ml", opsets=ML_OPSETS)

    scaler("scaler_f32_one_value", (4, 3), F32, False)
    scaler("scaler_f32_per_column", (5, 4), F32, True)
    scaler("scaler_f64_one_value", (4, 3), F64, False)
    scaler("scaler_f64_per_column", (5, 4), F64, True)

    def normalizer(name, norm, shape, elem=F32):
        rng = rng_for(name)
        x = rng.uniform(-2, 2, shape)
        if norm == "MAX":
            # largest element of each row is also its largest in magnitude
            for row in x:
                k = np.argmax(np.abs(row))
                row[k] = abs(row[k])
        x[2] = 0.0                                   # a zero row: expect 0
        add("norms", name, "Normalizer", {"norm": norm},
            [T("X", elem, x)], [("Y", F32)],
            lambda I, m: ref_normalizer(I, m, norm),
            domain="ai.onnx.ml", opsets=ML_OPSETS)

    normalizer("normalizer_max", "MAX", (5, 6))
    normalizer("normalizer_l1", "L1", (5, 6))
    normalizer("normalizer_l2", "L2", (5, 6))
    normalizer("normalizer_l2_f64", "L2", (4, 7), F64)


# --- com.microsoft contrib ops ----------------------------------------------------

MS_OPSETS = [("com.microsoft", 1), ("", 17)]


def ms_cases():
    def layernorm(name, shape, axis=None, eps=None, bias=True, stats=True):
        rng = rng_for(name)
        r = len(shape)
        a = -1 if axis is None else axis
        x = rng.standard_normal(shape) * 2.0 + 0.5
        w = rng.standard_normal(shape[a % r:])
        b = rng.standard_normal(shape[a % r:])
        attrs = {}
        if axis is not None:
            attrs["axis"] = axis
        if eps is not None:
            attrs["epsilon"] = eps
        e = f32(1e-5 if eps is None else eps)
        outs = [("Y", F32)] + ([("Mean", F32), ("InvStdDev", F32)] if stats else [])
        add("norms", name, "LayerNormalization", attrs,
            [T("X", F32, x), T("Scale", F32, w), T("B", F32, b) if bias else None],
            outs, lambda I, m: ref_ln(I, m, a, e),
            domain="com.microsoft", opsets=MS_OPSETS)

    layernorm("ms_layernorm_axis_neg1", (2, 3, 8), -1)
    layernorm("ms_layernorm_axis1_epsilon", (2, 3, 4), 1, eps=1e-3)
    layernorm("ms_layernorm_default_attrs", (3, 2, 6))
    layernorm("ms_layernorm_no_bias_y_only", (3, 6), -1, bias=False, stats=False)

    def simplified(name, shape, axis=None, eps=None, inv=True, domain="com.microsoft",
                   opsets=MS_OPSETS):
        rng = rng_for(name)
        r = len(shape)
        a = -1 if axis is None else axis
        x = rng.standard_normal(shape) * 2.0 + 0.5
        w = rng.standard_normal(shape[a % r:])
        attrs = {}
        if axis is not None:
            attrs["axis"] = axis
        if eps is not None:
            attrs["epsilon"] = eps
        e = f32(1e-5 if eps is None else eps)
        outs = [("Y", F32)] + ([("inv_std_var", F32)] if inv else [])
        add("norms", name, "SimplifiedLayerNormalization", attrs,
            [T("X", F32, x), T("scale", F32, w)], outs,
            lambda I, m: ref_simplified_ln(I, m, a, e), domain=domain, opsets=opsets)

    simplified("ms_simplified_layernorm_axis_neg1", (2, 3, 8), -1)
    simplified("ms_simplified_layernorm_axis1_epsilon", (2, 3, 4), 1, eps=1e-3)
    simplified("ms_simplified_layernorm_default_attrs_y_only", (4, 6), inv=False)
    simplified("simplified_layernorm_default_domain", (2, 3, 8), -1, domain="",
               opsets=[("", 17)])

    def skip(name, simplified_form, shape=(2, 3, 8), skip_batch=None, beta=True, bias=True,
             eps=None, outs=("mean", "inv_std_var", "input_skip_bias_sum")):
        rng = rng_for(name)
        b_, s_, h = shape
        x = rng.standard_normal(shape)
        sk = rng.standard_normal((skip_batch or b_, s_, h))
        gamma = rng.standard_normal(h)
        bet = rng.standard_normal(h)
        bia = rng.standard_normal(h) * 0.5
        attrs = {} if eps is None else {"epsilon": eps}
        e = f32(1e-12 if eps is None else eps)
        ins = [T("input", F32, x), T("skip", F32, sk), T("gamma", F32, gamma)]
        if simplified_form:
            ins.append(T("bias", F32, bia) if bias else None)
        else:
            ins += [T("beta", F32, bet) if beta else None, T("bias", F32, bia) if bias else None]
        while ins[-1] is None:
            ins.pop()
        o = [("output", F32)]
        for k, elem in (("mean", F32), ("inv_std_var", F32), ("input_skip_bias_sum", F32)):
            o.append((k, elem) if k in outs else None)
        while o[-1] is None:
            o.pop()
        op = "SkipSimplifiedLayerNormalization" if simplified_form else "SkipLayerNormalization"
        add("norms", name, op, attrs, ins, o,
            lambda I, m: ref_skip_ln(I, m, e, simplified_form),
            domain="com.microsoft", opsets=MS_OPSETS)

    all_but_mean = ("inv_std_var", "input_skip_bias_sum")
    skip("skip_layernorm_all_inputs_all_outputs", False)
    skip("skip_layernorm_broadcast_skip", False, skip_batch=1, bias=False,
         outs=("input_skip_bias_sum",))
    skip("skip_layernorm_gamma_only_epsilon", False, (3, 2, 6), beta=False, bias=False,
         eps=1e-5, outs=())
    skip("skip_layernorm_bias_no_beta", False, beta=False, outs=("input_skip_bias_sum",))
    skip("skip_layernorm_mean_inv_std_var", False, (1, 4, 16), outs=("mean", "inv_std_var"))
    skip("skip_simplified_layernorm_all", True, outs=all_but_mean)
    skip("skip_simplified_layernorm_output_only", True, (3, 2, 6), bias=False, eps=1e-5,
         outs=())
    skip("skip_simplified_layernorm_broadcast_skip", True, skip_batch=1,
         outs=("inv_std_var",))
    skip("skip_simplified_layernorm_sum_only", True, (1, 4, 16), outs=("input_skip_bias_sum",))


# ---------------------------------------------------------------------------
# Build, write, verify
# ---------------------------------------------------------------------------

def build_model(case, in_shapes, out_shapes):
    node_in = [i[0] if i is not None else "" for i in case.inputs]
    node_out = [o[0] if o is not None else "" for o in case.outputs]
    node = helper.make_node(case.op, node_in, node_out, name=case.name,
                            domain=case.domain or None, **case.attrs)
    graph = helper.make_graph(
        [node], "test_" + case.name,
        inputs=[helper.make_tensor_value_info(n, e, list(in_shapes[n]))
                for n, e, _ in case.present_inputs()],
        outputs=[helper.make_tensor_value_info(n, e, list(out_shapes[n]))
                 for n, e in case.present_outputs()])
    model = helper.make_model(graph, producer_name="onnorm-testdata-gen",
                              opset_imports=[helper.make_opsetid(d, v) for d, v in case.opsets])
    model.ir_version = 10 if case.ai_onnx_opset() >= 21 else 8
    return model


def compute(case, mode, cast_inputs):
    I = {n: cast_inputs(v) for n, _, v in case.present_inputs()}
    full = case.ref(I, mode)
    return {n: round_to(np.asarray(full[n], dtype=np.float64), e)
            for n, e in case.present_outputs()}


def write_case(case):
    exp = compute(case, EXACT, lambda a: a)
    for n, a in exp.items():
        assert np.all(np.isfinite(a)), "%s: non-finite expected %s" % (case.name, n)
    case.expected = exp
    in_shapes = {n: v.shape for n, _, v in case.present_inputs()}
    out_shapes = {n: a.shape for n, a in exp.items()}
    model = build_model(case, in_shapes, out_shapes)
    d = case.dir
    ds = os.path.join(d, "test_data_set_0")
    os.makedirs(ds)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for k, (n, e, v) in enumerate(case.present_inputs()):
        with open(os.path.join(ds, "input_%d.pb" % k), "wb") as fh:
            fh.write(make_tensor(n, v, e).SerializeToString())
    for k, (n, e) in enumerate(case.present_outputs()):
        with open(os.path.join(ds, "output_%d.pb" % k), "wb") as fh:
            fh.write(make_tensor(n, exp[n], e).SerializeToString())


def folder_bytes(d):
    return sum(os.path.getsize(os.path.join(p, f)) for p, _, fs in os.walk(d) for f in fs)


EXPECT_ZERO = {
    # case -> function(expected dict) returning the elements that must be 0
    "rms23_zero_row": lambda e: e["Y"].reshape(-1, 8)[1],
    "rms23_tiny_epsilon": lambda e: e["Y"].reshape(-1, 6)[1],
    "mvn9_constant_slice": lambda e: e["Y"][:, 1],
    "mvn13_constant_slice": lambda e: e["Y"][:, 1],
    "lp1_p1_zero_vector": lambda e: e["Y"][2],
    "lp22_p1_zero_vector": lambda e: e["Y"][2],
    "lp1_p2_zero_vector": lambda e: e["Y"][:, 1, 2],
    "lp22_p2_zero_vector": lambda e: e["Y"][:, 1, 2],
    "normalizer_max": lambda e: e["Y"][2],
    "normalizer_l1": lambda e: e["Y"][2],
    "normalizer_l2": lambda e: e["Y"][2],
    "normalizer_l2_f64": lambda e: e["Y"][2],
}


def verify_case(case):
    d = case.dir
    ds = os.path.join(d, "test_data_set_0")
    m = onnx.load(os.path.join(d, "model.onnx"))
    assert [(o.domain, o.version) for o in m.opset_import] == case.opsets
    assert m.ir_version == (10 if case.ai_onnx_opset() >= 21 else 8)
    assert len(m.graph.node) == 1
    node = m.graph.node[0]
    assert node.op_type == case.op and node.domain == case.domain
    if case.checkable():
        # MVN's function body has float32 constants, so ONNX 1.12's strict
        # inference rejects (only) its expansion for float64 input.
        mvn_f64 = case.op == "MeanVarianceNormalization" and case.inputs[0][1] != F32
        onnx.checker.check_model(m, full_check=not mvn_f64)
        if not mvn_f64:
            inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
            assert inferred.graph.output == m.graph.output, case.name + ": inference disagrees"
    assert sorted(os.listdir(ds)) == sorted(
        ["input_%d.pb" % k for k in range(len(case.present_inputs()))] +
        ["output_%d.pb" % k for k in range(len(case.present_outputs()))])
    for kind, vis, specs in (("input", m.graph.input, case.present_inputs()),
                             ("output", m.graph.output, case.present_outputs())):
        assert len(vis) == len(specs)
        for k, vi in enumerate(vis):
            name, elem, vals = read_tensor(os.path.join(ds, "%s_%d.pb" % (kind, k)))
            tt = vi.type.tensor_type
            assert name == vi.name == specs[k][0], (case.name, name, vi.name)
            assert elem == tt.elem_type == specs[k][1], (case.name, name)
            assert list(vals.shape) == [dd.dim_value for dd in tt.shape.dim], (case.name, name)
            assert np.all(np.isfinite(vals)), (case.name, name)
            ref = specs[k][2] if kind == "input" else case.expected[name]
            assert np.array_equal(vals, ref), (case.name, name)
    if case.name in EXPECT_ZERO:
        z = EXPECT_ZERO[case.name](case.expected)
        assert z.size and np.all(z == 0), case.name + ": expected zeros"
    size = folder_bytes(d)
    assert size < MAX_FOLDER_BYTES, "%s: %d bytes" % (case.name, size)
    return size


def check_by_op(case):
    """Op-specific spot checks of the expected data against simple facts."""
    e = case.expected
    if case.op == "Normalizer":
        y = e["Y"]
        norm = case.attrs["norm"]
        nz = [r for r in range(y.shape[0]) if r != 2]
        if norm == "L1":
            assert np.allclose(np.abs(y[nz]).sum(axis=1), 1, rtol=1e-5)
        elif norm == "L2":
            assert np.allclose((y[nz] ** 2).sum(axis=1), 1, rtol=1e-5)
        else:
            assert np.allclose(y[nz].max(axis=1), 1) and np.all(np.abs(y) <= 1 + 1e-6)
    if case.op == "LpNormalization" and "zero" not in case.name:
        a = case.attrs.get("axis", -1)
        p = case.attrs.get("p", 2)
        n = np.abs(e["Y"]).sum(axis=a) if p == 1 else np.sqrt((e["Y"] ** 2).sum(axis=a))
        assert np.allclose(n, 1, rtol=1e-5)
    if case.op == "MeanVarianceNormalization" and "constant" not in case.name:
        ax = tuple(case.attrs.get("axes", [0, 2, 3]))
        y = e["Y"]
        assert np.allclose(y.mean(axis=ax), 0, atol=1e-5)
        assert np.allclose(y.std(axis=ax), 1, rtol=1e-4)


def emulation_modes(case):
    """Alternative implementations used to measure tolerance slack."""
    f32m = Mode("f32", np.float32)
    if case.root == "norms":
        return [(f32m, lambda a: a.astype(np.float32))]
    yelem = case.present_outputs()[0][1]
    lit = Mode("literal", np.float32,
               lambda a: round_to(a, yelem).astype(np.float32))
    return [(f32m, lambda a: a.astype(np.float32)), (lit, lambda a: a.astype(np.float32))]


def slack(case, root):
    """Worst |got-exp| / (atol + rtol |exp|) over emulations; <= 1 passes."""
    rtol, atol = TOLERANCES[root]
    worst = {}
    for mode, cast in emulation_modes(case):
        got = compute(case, mode, cast)
        r = 0.0
        for n, a in got.items():
            x = case.expected[n]
            r = max(r, float(np.max(np.abs(a - x) / (atol + rtol * np.abs(x)))))
        worst[mode.name] = r
    return worst


def main():
    rms_cases()
    mvn_cases()
    lp_cases()
    lrn_cases()
    bn_cases()
    in_cases()
    ln_cases()
    gn_cases()
    ml_cases()
    ms_cases()

    for d in (ROOTS["norms"], HALF_PARENT):
        if os.path.isdir(d):
            shutil.rmtree(d)
    for d in ROOTS.values():
        os.makedirs(d)
    for case in CASES:
        write_case(case)
    write_tolerances()

    total = 0
    by_op = {}
    worst = {}
    over = []
    for case in CASES:
        size = verify_case(case)
        check_by_op(case)
        total += size
        key = (case.root, case.domain or "ai.onnx", case.op)
        by_op.setdefault(key, []).append((case.name, size))
        for mode, r in slack(case, case.root).items():
            w = worst.setdefault((case.root, mode), (0.0, ""))
            if r > w[0]:
                worst[(case.root, mode)] = (r, case.name)
            if r > 1:
                over.append((case.root, mode, r, case.name))
    # every folder on disk is a known case
    on_disk = sorted(os.path.relpath(p, HERE) for p, _, fs in os.walk(HERE)
                     if "model.onnx" in fs and (p.startswith(ROOTS["norms"]) or
                                                p.startswith(HALF_PARENT)))
    assert on_disk == sorted(os.path.relpath(c.dir, HERE) for c in CASES)
    assert total < MAX_TOTAL_BYTES, total

    for (root, dom, op), items in sorted(by_op.items()):
        print("%-5s %-14s %-34s %3d cases, %6d bytes" %
              (root, dom, op, len(items), sum(s for _, s in items)))
    print("total: %d cases, %d bytes" % (len(CASES), total))
    print("tolerance slack (worst |got-exp|/(atol+rtol|exp|) of emulated implementations;"
          " <= 1 passes):")
    for (root, mode), (r, name) in sorted(worst.items()):
        print("  %-5s rtol %g atol %g  %-8s %.3g  (%s)" %
              (root, TOLERANCES[root][0], TOLERANCES[root][1], mode, r, name))
    for root, mode, r, name in over:
        print("  over: %-5s %-8s %8.3g  %s%s" % (root, mode, r, name,
              "  (expected: a float32 mean cannot hold the 1e4 offset; accumulate in double)"
              if "large_offset" in name and mode == "f32" else ""))
    print("all %d folders written and verified" % len(CASES))
    return 0


def write_tolerances():
    text = {
        "norms": "float32/float64 outputs: the runner's defaults.\n",
        "f16": "float16 outputs (some cases also have float32 Mean/InvStdDev outputs).\n",
        "bf16": "bfloat16 outputs (some cases mix bfloat16 and float16 tensors).\n",
    }
    head = "# Written by testdata/gen_norms.py. Pass: |got - exp| <= atol + rtol * |exp|.\n"
    table = "".join("%-22s rtol %-6g atol %-6g # %s" %
                    (os.path.relpath(ROOTS[r], os.path.dirname(HERE)), rt, at, text[r])
                    for r, (rt, at) in TOLERANCES.items())
    cmds = "".join("#   onnorm test %s --rtol %g --atol %g\n" %
                   (os.path.relpath(ROOTS[r], os.path.dirname(HERE)), rt, at)
                   for r, (rt, at) in TOLERANCES.items())
    for root, (rtol, atol) in TOLERANCES.items():
        with open(os.path.join(ROOTS[root], "TOLERANCES"), "w") as fh:
            fh.write(head)
            fh.write("# This folder:\nrtol %g\natol %g\n" % (rtol, atol))
            fh.write("# All groups:\n" + "".join("# " + l + "\n" for l in table.splitlines()))
            fh.write("# Commands (from the project root):\n" + cmds)


if __name__ == "__main__":
    sys.exit(main())
