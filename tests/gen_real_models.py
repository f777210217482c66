"""Exports small real models of the families people run (segmentation,
super-resolution, a diffusion-style UNet block, a GPT-style decoder,
recurrent nets, small Swin and ViT transformers) as ONNX test folders,
with PyTorch's outputs as the expected values, for the real_models test
(tests/test_real_models.sh).

For every model and opset, writes OUT/<name>_opset<NN>/:
    model.onnx                      torch.onnx.export of the model in eval mode
    test_data_set_0/input_K.pb      the inputs, named like the graph inputs
    test_data_set_0/output_K.pb     PyTorch's outputs for them
    generator.txt                   what wrote the folder (for --skip-existing)

Weights are random from a fixed seed per model (no downloads). Norm layers
get random affine parameters; BatchNorm running statistics are measured on
random data with only the norm layers in training mode, so folding them is
not the identity and the output still depends on the input.

Usage: /usr/bin/python3 tests/gen_real_models.py --out DIR [--models a,b]
           [--skip-existing] [--list]
Needs python3-torch 1.13, python3-torchvision 0.14 and python3-onnx.
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
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
from gen_cnn import report_failures  # noqa: E402

SEED = 20261130


class SegOut(nn.Module):
    """torchvision segmentation models return a dict; export its 'out'."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)["out"]


class UNetBlock(nn.Module):
    """Conv -> GroupNorm -> SiLU -> nearest upsampling x2 -> Conv, plus a
    skip path: the shape of a diffusion UNet's up block."""

    def __init__(self, c=32, groups=8):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.norm = nn.GroupNorm(groups, c)
        self.conv2 = nn.Conv2d(c, c // 2, 3, padding=1)
        self.skip = nn.Conv2d(c, c // 2, 1)

    def forward(self, x):
        h = F.silu(self.norm(self.conv1(x)))
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        return self.conv2(h) + F.interpolate(self.skip(x), scale_factor=2.0, mode="nearest")


class ESPCN(nn.Module):
    """Efficient sub-pixel CNN: convolutions, then PixelShuffle (DepthToSpace)."""

    def __init__(self, scale=3):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.Tanh(),
                                  nn.Conv2d(32, 16, 3, padding=1), nn.Tanh(),
                                  nn.Conv2d(16, scale * scale, 3, padding=1))
        self.shuffle = nn.PixelShuffle(scale)

    def forward(self, x):
        return self.shuffle(self.body(x))


class Interp(nn.Module):
    """Every F.interpolate form PyTorch exports, summed into one output."""

    def forward(self, x):
        outs = [
            F.interpolate(x, scale_factor=2.0, mode="nearest"),
            F.interpolate(x, size=(13, 11), mode="nearest"),
            F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False),
            F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True),
            F.interpolate(x, size=(13, 11), mode="bilinear", align_corners=False),
            F.interpolate(x, size=(13, 11), mode="bicubic", align_corners=False),
            F.interpolate(x, scale_factor=2.0, mode="bicubic", align_corners=True),
        ]
        return torch.cat([o.flatten(1) for o in outs], 1)


class GPTBlock(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"),
                                 nn.Linear(4 * d, d))

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """A pre-LN causal decoder: token and learned position embeddings, a
    causal mask built in the graph (Trilu), tanh-GELU MLPs, tied head."""

    def __init__(self, vocab=97, d=64, heads=4, layers=2, ctx=32):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList(GPTBlock(d, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(d)

    def forward(self, ids):
        t = ids.shape[1]
        pos = torch.arange(t, device=ids.device)
        x = self.tok(ids) + self.pos(pos)[None]
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        for b in self.blocks:
            x = b(x, mask)
        return self.ln(x) @ self.tok.weight.t()


class RNNNet(nn.Module):
    def __init__(self, cell, **kw):
        super().__init__()
        self.rnn = cell(**kw)

    def forward(self, x, *state):
        # LSTM takes its two initial states as one tuple.
        if len(state) == 2:
            state = (state,)
        y, h = self.rnn(x, *state) if state else self.rnn(x)
        if isinstance(h, tuple):
            return (y,) + h
        return y, h


def lstm_states(layers, dirs, batch, hidden):
    g = torch.Generator().manual_seed(5)
    shape = (layers * dirs, batch, hidden)
    return (torch.randn(*shape, generator=g), torch.randn(*shape, generator=g))


# name: (constructor, example inputs, opsets)
MODELS = {
    "lraspp_mobilenet_v3": (
        lambda: SegOut(torchvision.models.segmentation.lraspp_mobilenet_v3_large(
            weights=None, weights_backbone=None, num_classes=5)),
        lambda g: (torch.randn(1, 3, 160, 128, generator=g),), (13, 17)),
    # A two-stage Swin (shifted windows: Roll, padding to whole windows;
    # attention dropout exported as training-mode Dropout with ratio 0).
    "swin_tiny": (
        lambda: torchvision.models.swin_transformer.SwinTransformer(
            patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4], window_size=[4, 4],
            num_classes=10),
        lambda g: (torch.randn(1, 3, 48, 40, generator=g),), (13, 17)),
    # A two-layer ViT: class token, nn.MultiheadAttention without a mask
    # (exported with autograd on: its no-grad fast path does not export).
    "vit_tiny": (
        lambda: torchvision.models.vision_transformer.VisionTransformer(
            image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
            num_classes=10),
        lambda g: (torch.randn(1, 3, 32, 32, generator=g),), (13, 17)),
    "unet_block": (UNetBlock, lambda g: (torch.randn(1, 32, 12, 10, generator=g),), (13, 17)),
    "espcn": (ESPCN, lambda g: (torch.randn(1, 1, 24, 20, generator=g),), (13, 17)),
    "interpolate": (Interp, lambda g: (torch.randn(2, 3, 7, 5, generator=g),), (11, 13, 17)),
    "gpt_decoder": (GPT, lambda g: (torch.randint(0, 97, (2, 16), generator=g),), (14, 17)),
    "lstm_bi2": (
        lambda: RNNNet(nn.LSTM, input_size=12, hidden_size=16, num_layers=2, bidirectional=True),
        lambda g: (torch.randn(7, 3, 12, generator=g),) + lstm_states(2, 2, 3, 16), (13, 14)),
    "gru_batch_first": (
        lambda: RNNNet(nn.GRU, input_size=10, hidden_size=12, num_layers=2, batch_first=True),
        lambda g: (torch.randn(3, 6, 10, generator=g),), (13, 14)),
    "rnn_relu_bi": (
        lambda: RNNNet(nn.RNN, input_size=8, hidden_size=10, nonlinearity="relu",
                       bidirectional=True),
        lambda g: (torch.randn(5, 2, 8, generator=g),), (13, 14)),
}


def stamp():
    with open(os.path.abspath(__file__), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    return f"gen_real_models.py {digest} torch {torch.__version__}\n"


def randomize_norms(model, inputs, gen):
    norms = [m for m in model.modules()
             if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm))]
    bns = [m for m in norms if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for m in norms:
            if getattr(m, "weight", None) is not None:
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
        if bns:
            model.eval()
            for m in bns:
                m.reset_running_stats()
                m.momentum = None
                m.train()
            model(*inputs)
            for m in bns:
                m.momentum = 0.1
        # Zero-initialized heads (ViT's) would make every output 0.
        for m in model.modules():
            if isinstance(m, nn.Linear) and not m.weight.any():
                m.weight.normal_(0, m.in_features ** -0.5, generator=gen)
    model.eval()


def build(name):
    ctor, make_inputs, _ = MODELS[name]
    seed = SEED ^ zlib.crc32(name.encode())
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ctor()
    gen = torch.Generator().manual_seed(seed)
    inputs = make_inputs(gen)
    with torch.no_grad():
        randomize_norms(model, inputs, gen)
        out = model(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    return model, inputs, outs


def export(model, inputs, outs, opset, folder):
    tmp = folder + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "test_data_set_0"))
    path = os.path.join(tmp, "model.onnx")
    in_names = [f"input_{i}" for i in range(len(inputs))]
    out_names = [f"output_{i}" for i in range(len(outs))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, inputs, path, opset_version=opset, input_names=in_names,
                          output_names=out_names, training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False)
    onnx.checker.check_model(path)
    return write_folder(tmp, folder, (("input", in_names, inputs), ("output", out_names, outs)),
                        stamp())


def write_folder(tmp, folder, data, stamp_text):
    """Finishes a test folder exported into tmp: test_data_set_0/<kind>_<i>.pb
    for each (kind, names, tensors) of data, generator.txt holding
    stamp_text, then tmp renamed to folder (a half-written folder never
    stays). Returns the model."""
    for kind, names, tensors in data:
        for i, (n, t) in enumerate(zip(names, tensors)):
            with open(os.path.join(tmp, "test_data_set_0", f"{kind}_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(t.numpy(), n).SerializeToString())
    with open(os.path.join(tmp, "generator.txt"), "w") as f:
        f.write(stamp_text)
    shutil.rmtree(folder, ignore_errors=True)
    os.rename(tmp, folder)
    return onnx.load(os.path.join(folder, "model.onnx"))


def stamp_matches(folder, stamp_text):
    """The folder was written by a generator with this stamp."""
    try:
        with open(os.path.join(folder, "generator.txt")) as f:
            return f.read() == stamp_text
    except OSError:
        return False


def up_to_date(folder):
    return stamp_matches(folder, stamp())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--skip-existing", action="store_true")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        for name, (_, _, opsets) in MODELS.items():
            print(" ".join(f"{name}_opset{o}" for o in opsets))
        return 0
    names = [n for n in a.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    os.makedirs(a.out, exist_ok=True)
    # Autograd stays on for the export: without it nn.MultiheadAttention takes
    # its fast path (aten::_native_multi_head_attention), which does not
    # export. build() computes the expected outputs under no_grad.
    failed = []
    for name in names:
        todo = [o for o in MODELS[name][2]
                if not (a.skip_existing and up_to_date(os.path.join(a.out, f"{name}_opset{o}")))]
        if not todo:
            print(f"{name}: up to date", flush=True)
            continue
        try:
            model, inputs, outs = build(name)
        except Exception as e:  # noqa: BLE001 -- reported, then the next model
            failed.append((name, f"build/forward: {type(e).__name__}: {e}"))
            traceback.print_exc()
            continue
        for o in todo:
            tag = f"{name}_opset{o}"
            try:
                m = export(model, inputs, outs, o, os.path.join(a.out, tag))
            except Exception as e:  # noqa: BLE001
                shutil.rmtree(os.path.join(a.out, tag + ".partial"), ignore_errors=True)
                failed.append((tag, f"export: {type(e).__name__}: {e}"))
                traceback.print_exc()
                continue
            ops = sorted({n.op_type for n in m.graph.node})
            print(f"{tag}: {len(m.graph.node)} nodes; ops {', '.join(ops)}; "
                  f"max|y| {max(float(np.abs(t.numpy()).max()) for t in outs):.4g}", flush=True)
    return report_failures(failed)


if __name__ == "__main__":
    sys.exit(main())
