#!/usr/bin/python3
"""Writes ONNX test folders for RNN, GRU and LSTM into testdata/rnn_ref/,
covering what the official folders and the PyTorch exports leave out:
activation lists with alpha/beta, clip, sequence_lens with reverse and
bidirectional runs, layout 1, linear_before_reset 0 and 1, input_forget,
peepholes, omitted outputs, float64, float16 and bfloat16. The expected outputs come from the
NumPy reference below, written from the ONNX spec's equations one batch
entry and one step at a time (float64 math).

Run with the system Python (python3-onnx):  /usr/bin/python3 testdata/gen_rnn_ref.py
"""
import os
import shutil

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rnn_ref")

DEFAULTS = {"lstm": ["Sigmoid", "Tanh", "Tanh"], "gru": ["Sigmoid", "Tanh"], "rnn": ["Tanh"]}
ALPHA = {"LeakyRelu": 0.01, "ThresholdedRelu": 1.0, "HardSigmoid": 0.2, "Elu": 1.0,
         "ScaledTanh": 1.0, "Affine": 1.0}
BETA = {"HardSigmoid": 0.5, "ScaledTanh": 1.0, "Affine": 0.0}


def act(name, x, a, b):
    if name == "Sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "Tanh":
        return np.tanh(x)
    if name == "Relu":
        return np.maximum(x, 0)
    if name == "HardSigmoid":
        return np.clip(a * x + b, 0, 1)
    if name == "LeakyRelu":
        return np.where(x >= 0, x, a * x)
    if name == "ThresholdedRelu":
        return np.where(x >= a, x, 0)
    if name == "ScaledTanh":
        return a * np.tanh(b * x)
    if name == "Affine":
        return a * x + b
    if name == "Elu":
        return np.where(x >= 0, x, a * (np.exp(x) - 1))
    if name == "Softsign":
        return x / (1 + np.abs(x))
    if name == "Softplus":
        return np.log(1 + np.exp(x))
    raise ValueError(name)


def functions(kind, nd, names, alphas, betas):
    """[(name, alpha, beta)] per direction; alpha/beta lists are consumed in
    order by the functions that take them."""
    per = len(DEFAULTS[kind])
    names = names or DEFAULTS[kind] * nd
    if len(names) == per:
        names = names * nd
    alphas, betas = list(alphas or []), list(betas or [])
    out = []
    for n in names:
        a = alphas.pop(0) if n in ALPHA and alphas else ALPHA.get(n, 0.0)
        b = betas.pop(0) if n in BETA and betas else BETA.get(n, 0.0)
        out.append((n, a, b))
    return [out[d * per:(d + 1) * per] for d in range(nd)]


def reference(kind, X, W, R, B, lens, h0, c0, P, direction="forward", acts=None, alphas=None,
              betas=None, clip=None, lbr=0, input_forget=0, layout=0):
    X = X.astype(np.float64)
    if layout:
        X = X.transpose(1, 0, 2)
        h0 = None if h0 is None else h0.transpose(1, 0, 2)
        c0 = None if c0 is None else c0.transpose(1, 0, 2)
    S, NB, _ = X.shape
    nd, GH = W.shape[0], W.shape[1]
    H = R.shape[2]
    fns = functions(kind, nd, acts, alphas, betas)
    cl = (lambda v: np.clip(v, -clip, clip)) if clip else (lambda v: v)
    Y = np.zeros((S, nd, NB, H))
    Yh = np.zeros((nd, NB, H))
    Yc = np.zeros((nd, NB, H))
    for d in range(nd):
        rev = direction == "reverse" or d == 1
        f = lambda v, k: act(fns[d][k][0], cl(v), fns[d][k][1], fns[d][k][2])
        w, r = W[d].astype(np.float64), R[d].astype(np.float64)
        wb = B[d, :GH].astype(np.float64) if B is not None else np.zeros(GH)
        rb = B[d, GH:].astype(np.float64) if B is not None else np.zeros(GH)
        p = P[d].astype(np.float64) if P is not None else np.zeros(3 * H)
        for b in range(NB):
            L = S if lens is None else int(lens[b])
            h = h0[d, b].astype(np.float64) if h0 is not None else np.zeros(H)
            c = c0[d, b].astype(np.float64) if c0 is not None else np.zeros(H)
            for t in (range(L - 1, -1, -1) if rev else range(L)):
                x = X[t, b]
                if kind == "rnn":
                    h = f(x @ w.T + h @ r.T + wb + rb, 0)
                elif kind == "gru":
                    sl = lambda k: slice(k * H, (k + 1) * H)
                    z = f(x @ w[sl(0)].T + h @ r[sl(0)].T + wb[sl(0)] + rb[sl(0)], 0)
                    rr = f(x @ w[sl(1)].T + h @ r[sl(1)].T + wb[sl(1)] + rb[sl(1)], 0)
                    if lbr:
                        hh = f(x @ w[sl(2)].T + rr * (h @ r[sl(2)].T + rb[sl(2)]) + wb[sl(2)], 1)
                    else:
                        hh = f(x @ w[sl(2)].T + (rr * h) @ r[sl(2)].T + rb[sl(2)] + wb[sl(2)], 1)
                    h = (1 - z) * hh + z * h
                else:
                    g = x @ w.T + h @ r.T + wb + rb
                    gi, go, gf, gc = g[:H], g[H:2 * H], g[2 * H:3 * H], g[3 * H:]
                    i = f(gi + p[:H] * c, 0)
                    ft = 1 - i if input_forget else f(gf + p[2 * H:] * c, 0)
                    cc = f(gc, 1)
                    c = ft * c + i * cc
                    o = f(go + p[H:2 * H] * c, 0)
                    h = o * f(c, 2)
                Y[t, d, b] = h
            if L > 0:
                Yh[d, b], Yc[d, b] = h, c
    if layout:
        Y, Yh, Yc = Y.transpose(2, 0, 1, 3), Yh.transpose(1, 0, 2), Yc.transpose(1, 0, 2)
    return Y, Yh, Yc


ONNX_TYPE = {np.float16: TensorProto.FLOAT16, np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE,
             np.int32: TensorProto.INT32}


def bf16_bits(a):
    """float32 -> bfloat16 bits, rounding to nearest even."""
    u = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_round(a):
    return (bf16_bits(a).astype(np.uint32) << 16).view(np.float32)


def tensor(v, name, bf):
    """A TensorProto; float32 arrays become bfloat16 when bf."""
    if bf and v.dtype == np.float32:
        t = TensorProto(name=name, data_type=TensorProto.BFLOAT16, dims=v.shape)
        t.raw_data = bf16_bits(v).tobytes()
        return t
    return numpy_helper.from_array(v, name)


def case(name, kind, opset=14, S=4, NB=3, I=3, H=5, dtype=np.float32, direction="forward",
         bias=True, lens=None, init=False, peep=False, outputs=(1, 1, 1), fed=("X",),
         seed=0, **attrs):
    rng = np.random.default_rng(seed)
    bf = dtype == "bf16"
    dtype = np.float32 if bf else dtype
    G = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    nd = 2 if direction == "bidirectional" else 1
    layout = attrs.get("layout", 0)
    X = rng.standard_normal((NB, S, I) if layout else (S, NB, I)).astype(dtype)
    W = (0.6 * rng.standard_normal((nd, G * H, I))).astype(dtype)
    R = (0.6 * rng.standard_normal((nd, G * H, H))).astype(dtype)
    B = (0.5 * rng.standard_normal((nd, 2 * G * H))).astype(dtype) if bias else None
    L = np.array(lens, dtype=np.int32) if lens is not None else None
    sshape = (NB, nd, H) if layout else (nd, NB, H)
    h0 = rng.standard_normal(sshape).astype(dtype) if init else None
    c0 = rng.standard_normal(sshape).astype(dtype) if init and kind == "lstm" else None
    P = (0.5 * rng.standard_normal((nd, 3 * H))).astype(dtype) if peep else None
    if bf:
        X, W, R, B, h0, c0, P = [None if a is None else bf16_round(a)
                                 for a in (X, W, R, B, h0, c0, P)]
    Y, Yh, Yc = reference(kind, X, W, R, B, L, h0, c0, P, direction=direction,
                          acts=attrs.get("activations"), alphas=attrs.get("activation_alpha"),
                          betas=attrs.get("activation_beta"), clip=attrs.get("clip"),
                          lbr=attrs.get("linear_before_reset", 0),
                          input_forget=attrs.get("input_forget", 0), layout=layout)
    ins = [("X", X), ("W", W), ("R", R), ("B", B), ("sequence_lens", L), ("initial_h", h0)]
    if kind == "lstm":
        ins += [("initial_c", c0), ("P", P)]
    while ins[-1][1] is None:
        ins.pop()
    outs = [("Y", Y), ("Y_h", Yh)] + ([("Y_c", Yc)] if kind == "lstm" else [])
    outs = [(n if want else "", v) for (n, v), want in zip(outs, outputs)]
    while outs[-1][0] == "":
        outs.pop()
    node = helper.make_node({"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}[kind],
                            [n if v is not None else "" for n, v in ins],
                            [n for n, _ in outs], hidden_size=H, direction=direction, **attrs)
    graph_in, inits, feeds = [], [], []
    for n, v in ins:
        if v is None:
            continue
        if n in fed:
            et = TensorProto.BFLOAT16 if bf and v.dtype == np.float32 else ONNX_TYPE[v.dtype.type]
            graph_in.append(helper.make_tensor_value_info(n, et, v.shape))
            feeds.append((n, v))
        else:
            inits.append(tensor(v, n, bf))
    ot = TensorProto.BFLOAT16 if bf else ONNX_TYPE[dtype]
    graph_out = [helper.make_tensor_value_info(n, ot, None) for n, _ in outs if n]
    graph = helper.make_graph([node], name, graph_in, graph_out, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    folder = os.path.join(OUT, name)
    os.makedirs(os.path.join(folder, "test_data_set_0"))
    with open(os.path.join(folder, "model.onnx"), "wb") as fp:
        fp.write(model.SerializeToString())
    k = 0
    for n, v in feeds:
        with open(os.path.join(folder, "test_data_set_0", f"input_{k}.pb"), "wb") as fp:
            fp.write(tensor(v, n, bf).SerializeToString())
        k += 1
    k = 0
    for n, v in outs:
        if not n:
            continue
        with open(os.path.join(folder, "test_data_set_0", f"output_{k}.pb"), "wb") as fp:
            fp.write(tensor(v.astype(dtype), n, bf).SerializeToString())
        k += 1


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    # RNN
    case("rnn_bidir_acts_lens", "rnn", direction="bidirectional", lens=[4, 2, 0],
         fed=("X", "sequence_lens"), activations=["LeakyRelu", "Affine"],
         activation_alpha=[0.2, 0.5], activation_beta=[0.3], seed=1)
    case("rnn_bidir_one_list", "rnn", opset=7, direction="bidirectional", init=True,
         activations=["Relu"], seed=2)
    case("rnn_reverse_thresh_f64", "rnn", dtype=np.float64, direction="reverse", lens=[1, 4, 3],
         outputs=(0, 1), activations=["ThresholdedRelu"], activation_alpha=[0.1], seed=3)
    case("rnn_layout1_clip", "rnn", layout=1, init=True, clip=0.7, lens=[2, 4, 3],
         fed=("X", "initial_h"), activations=["Softsign"], seed=4)
    case("rnn_elu_softplus_bidir", "rnn", direction="bidirectional", bias=False,
         activations=["Elu", "Softplus"], activation_alpha=[0.7], seed=5)
    # GRU
    case("gru_reverse_lens_clip", "gru", direction="reverse", lens=[3, 4, 1], init=True,
         clip=0.8, fed=("X", "initial_h"), seed=11)
    case("gru_lbr_bidir_layout1", "gru", layout=1, direction="bidirectional",
         linear_before_reset=1, lens=[4, 1, 3],
         activations=["HardSigmoid", "Softsign", "Sigmoid", "ScaledTanh"],
         activation_alpha=[0.3, 0.8], activation_beta=[0.4, 1.5], seed=12)
    case("gru_lbr_lens_f64", "gru", opset=7, dtype=np.float64, linear_before_reset=1,
         direction="bidirectional", lens=[2, 0, 4], init=True, seed=13)
    case("gru_layout1_f64_only_yh", "gru", dtype=np.float64, layout=1, outputs=(0, 1), seed=14)
    # LSTM
    case("lstm_bidir_peep_lens_clip", "lstm", direction="bidirectional", peep=True, init=True,
         lens=[4, 3, 1], clip=1.5, fed=("X", "sequence_lens", "initial_h", "initial_c"),
         activations=["Sigmoid", "Tanh", "Tanh", "HardSigmoid", "Elu", "Softplus"],
         activation_alpha=[0.25, 0.9], activation_beta=[0.45], seed=21)
    case("lstm_input_forget_layout1", "lstm", layout=1, input_forget=1, init=True,
         lens=[2, 4, 3], outputs=(0, 1, 1), seed=22)
    case("lstm_reverse_f64_peep", "lstm", opset=7, dtype=np.float64, direction="reverse",
         peep=True, lens=[4, 0, 2], seed=23)
    case("lstm_bidir_layout1_only_y", "lstm", layout=1, direction="bidirectional", peep=True,
         outputs=(1, 0, 0), seed=24)
    case("lstm_only_yc", "lstm", opset=7, init=True, outputs=(0, 0, 1), bias=False, seed=25)
    # float16 (the reference reads the float16 inputs in float64)
    case("lstm_bidir_lens_f16", "lstm", dtype=np.float16, direction="bidirectional", init=True,
         peep=True, lens=[3, 4, 2], fed=("X", "initial_h"), seed=31)
    case("gru_lbr_layout1_f16", "gru", dtype=np.float16, layout=1, linear_before_reset=1,
         outputs=(1, 1), seed=32)
    case("rnn_reverse_f16", "rnn", opset=7, dtype=np.float16, direction="reverse", seed=33)
    # opset 6: RNN-1, GRU-3, LSTM-1
    case("rnn_op6_bidir", "rnn", opset=6, direction="bidirectional", init=True, seed=51)
    case("gru_op6_lbr", "gru", opset=6, linear_before_reset=1, lens=[2, 4, 1], seed=52)
    case("lstm_op6_peep", "lstm", opset=6, peep=True, init=True, seed=53)
    # bfloat16 (opset 22)
    case("lstm_bidir_bf16", "lstm", opset=22, dtype="bf16", direction="bidirectional", init=True,
         lens=[4, 2, 3], fed=("X", "initial_h"), seed=41)
    case("gru_bf16", "gru", opset=22, dtype="bf16", seed=42)


if __name__ == "__main__":
    main()
