#!/usr/bin/python3
"""Writes ONNX test folders exported from PyTorch recurrent layers into
testdata/rnn_torch/: nn.LSTM, nn.GRU and nn.RNN (tanh and relu), uni- and
bidirectional, 1 and 2 layers, with and without initial states, batch_first
True and False, at opsets 11 and 14 (at 14 only with initial states and
batch_first both on or both off, which keeps the folder under 1.5 MB). Each folder holds model.onnx and
test_data_set_0/{input,output}_K.pb, the outputs computed by PyTorch.

Run with the system Python (python3-torch, python3-onnx):
    /usr/bin/python3 testdata/gen_rnn_torch.py
"""
import itertools
import os
import shutil

import numpy as np
import onnx
import torch
from onnx import numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rnn_torch")
SEQ, BATCH, INPUT, HIDDEN = 5, 2, 3, 4


class Wrap(torch.nn.Module):
    def __init__(self, rnn, kind, with_init):
        super().__init__()
        self.rnn, self.kind, self.with_init = rnn, kind, with_init

    def forward(self, x, *state):
        if not self.with_init:
            y, s = self.rnn(x)
        elif self.kind == "lstm":
            y, s = self.rnn(x, (state[0], state[1]))
        else:
            y, s = self.rnn(x, state[0])
        if self.kind == "lstm":
            return y, s[0], s[1]
        return y, s


def make(kind, bidir, layers, with_init, batch_first):
    args = dict(input_size=INPUT, hidden_size=HIDDEN, num_layers=layers,
                bidirectional=bidir, batch_first=batch_first)
    if kind == "lstm":
        return torch.nn.LSTM(**args)
    if kind == "gru":
        return torch.nn.GRU(**args)
    return torch.nn.RNN(nonlinearity=kind[4:], **args)


def write(folder, names, arrays, prefix):
    for k, (n, a) in enumerate(zip(names, arrays)):
        t = numpy_helper.from_array(np.ascontiguousarray(a), n)
        with open(os.path.join(folder, "test_data_set_0", f"{prefix}_{k}.pb"), "wb") as f:
            f.write(t.SerializeToString())


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    kinds = ["lstm", "gru", "rnn_tanh", "rnn_relu"]
    seed = 0
    for kind, bidir, layers, with_init, bf, opset in itertools.product(
            kinds, [False, True], [1, 2], [False, True], [False, True], [11, 14]):
        if opset == 14 and with_init != bf:
            continue  # opset 14 exports as 11 does: half its combinations suffice
        seed += 1
        torch.manual_seed(seed)
        m = Wrap(make(kind, bidir, layers, with_init, bf), kind, with_init).eval()
        nd = 2 if bidir else 1
        x = torch.randn(BATCH, SEQ, INPUT) if bf else torch.randn(SEQ, BATCH, INPUT)
        inputs = [x]
        in_names = ["x"]
        if with_init:
            inputs.append(torch.randn(layers * nd, BATCH, HIDDEN))
            in_names.append("h0")
            if kind == "lstm":
                inputs.append(torch.randn(layers * nd, BATCH, HIDDEN))
                in_names.append("c0")
        out_names = ["y", "h_n"] + (["c_n"] if kind == "lstm" else [])
        with torch.no_grad():
            outs = m(*inputs)
        name = "_".join([kind, "bi" if bidir else "uni", f"l{layers}",
                         "init" if with_init else "noinit", "bf" if bf else "sf",
                         f"op{opset}"])
        folder = os.path.join(OUT, name)
        os.makedirs(os.path.join(folder, "test_data_set_0"))
        torch.onnx.export(m, tuple(inputs), os.path.join(folder, "model.onnx"),
                          input_names=in_names, output_names=out_names,
                          opset_version=opset, do_constant_folding=True)
        onnx.checker.check_model(onnx.load(os.path.join(folder, "model.onnx")))
        write(folder, in_names, [t.numpy() for t in inputs], "input")
        write(folder, out_names, [t.numpy() for t in outs], "output")


if __name__ == "__main__":
    main()
