#!/usr/bin/python3
"""Exports transformer models from PyTorch as ONNX test folders for
bench/transformers.sh (the transformer counterpart of bench/gen_cnn.py).

For every model and opset, writes OUT/<name>_opset<NN>/ in the same format
as gen_cnn.py, so bench/cnn_bench.py and bench/compare.py check and time the
folders unchanged:
    model.onnx                     torch.onnx.export of the model in eval mode
    test_data_set_0/input_0.pb     the input (TensorProto named like the graph input)
    test_data_set_0/output_0.pb    PyTorch's own output for that input
    generator.txt                  what wrote the folder (for --skip-existing)

The models (issue 12):
  bert_l6_w384_s128[_b8]  torch.nn.TransformerEncoder: 6 post-LN layers,
                          d_model 384, 6 heads, FFN 1536, exact (erf) GELU,
                          batch_first, dropout 0. The input is the embedding
                          sequence [B, 128, 384] (no token/position embedding
                          lookup in the graph: the encoder is what is timed);
                          B = 1, and 8 for _b8.
  gpt_l4_w256_s128        a GPT-style causal decoder written out here (class
                          TinyGPT): input token embeddings [1, 128, 256] plus a
                          learned position embedding, 4 pre-LN blocks with
                          explicit 4-head causal attention and tanh-GELU MLP,
                          final LayerNorm. Output [1, 128, 256] (no LM head).
  vit_small_l4_w256       torchvision VisionTransformer, 224x224, patch 16,
                          4 layers, 4 heads, width 256, MLP 1024.
  vit_b_16                torchvision.models.vit_b_16.
  convnext_tiny           torchvision.models.convnext_tiny.
  swin_t                  torchvision.models.swin_t.
Opsets: 14 (LayerNorm decomposed into ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add)
and 17 (LayerNormalization). Every model is generated at both (all of them
export at 14 with torch 1.13); --opsets picks others.

Decisions where the issue is silent:
  - Weights are random (weights=None, nothing downloaded) from a fixed seed
    per model (SEED ^ crc32(name)), so a folder does not depend on which
    other models are generated with it, and both opsets get the same weights.
  - nn.TransformerEncoder deep-copies its layer, so all 6 layers would start
    with the same weights; each layer's Linear and attention weights are
    re-initialized (PyTorch's own initializers, seeded) so they differ.
  - Every LayerNorm (including torchvision's LayerNorm2d in ConvNeXt) gets
    weight ~ U(0.5, 1.5) and bias ~ N(0, 0.1), so that a wrong fusion or a
    dropped affine cannot hide behind 1/0.
  - torchvision initializes ViT's classifier to zero (the output would not
    depend on the input) and ConvNeXt's layer scale to 1e-6 (the blocks
    would add nearly nothing to the residual stream, so a wrong block kernel
    would hide). Those get ViT head weight ~ N(0, 0.02) and bias ~ N(0, 0.02),
    and ConvNeXt layer scale ~ U(0.1, 0.3).
  - Every model is checked to depend on its input: the output for a second
    random input must differ from the first by more than 1% (relative to
    max|y|); otherwise the model is reported as failed.
  - torch 1.13's TransformerEncoder and MultiheadAttention have a "fast path"
    (fused kernels, nested tensors) in eval mode under no_grad. The encoder is
    built with enable_nested_tensor=False, and the export runs with autograd
    enabled (parameters require grad, which disables the fast path), so the
    graph is made of plain ONNX ops. The expected output is computed the
    same way (slow path, then detached). The export is checked: only ops of
    the default ONNX domain, one LayerNormalization node per LayerNorm module
    at opset >= 17 and none below.
  - do_constant_folding=True (the default of torch.onnx.export): unlike the
    CNNs there is no BatchNorm to keep, and folding removes the shape
    arithmetic that tracing leaves behind.
  - A model that fails to build, run or export (e.g. an op the exporter lacks
    at an opset) is reported with its error; the script exits 1 after
    trying the rest.

Usage:
    /usr/bin/python3 bench/gen_transformers.py [--out DIR] [--models NAME,...]
                                               [--opsets 14,17] [--skip-existing] [--list]
The output directory defaults to bench/models-tf/ (ignored by git). Needs
python3-torch 1.13, python3-torchvision 0.14 and python3-onnx (Debian 12);
run with /usr/bin/python3.
"""

import hashlib
import math
import os
import shutil
import sys
import warnings
import zlib

import numpy as np
import torch
import torchvision
from onnx import numpy_helper

from torch import nn

import export_util  # bench/: the command line and the export loop

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261130
IMAGE = (1, 3, 224, 224)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention written out op by op."""

    def __init__(self, width, heads, seq):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        # True above the diagonal: position t must not see t' > t.
        self.register_buffer("mask", torch.triu(torch.ones(seq, seq, dtype=torch.bool), diagonal=1))

    def forward(self, x):
        b, t, c = x.shape
        d = c // self.heads
        q, k, v = self.qkv(x).split(c, dim=2)
        q = q.reshape(b, t, self.heads, d).transpose(1, 2)  # [b, h, t, d]
        k = k.reshape(b, t, self.heads, d).transpose(1, 2)
        v = v.reshape(b, t, self.heads, d).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d)
        att = att.masked_fill(self.mask[:t, :t], float("-inf"))
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, t, c)
        return self.out(y)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


class Block(nn.Module):
    """Pre-LN GPT block: x + attn(ln1(x)), then x + mlp(ln2(x))."""

    def __init__(self, width, heads, seq):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads, seq)
        self.ln2 = nn.LayerNorm(width)
        self.fc = nn.Linear(width, 4 * width)
        self.proj = nn.Linear(4 * width, width)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.proj(gelu_tanh(self.fc(self.ln2(x))))


class TinyGPT(nn.Module):
    """GPT-style decoder on given token embeddings [B, seq, width]."""

    def __init__(self, layers=4, width=256, heads=4, seq=128):
        super().__init__()
        self.pos = nn.Parameter(torch.randn(1, seq, width) * 0.02)
        self.blocks = nn.ModuleList(Block(width, heads, seq) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)

    def forward(self, x):
        x = x + self.pos[:, : x.shape[1]]
        for blk in self.blocks:
            x = blk(x)
        return self.ln_f(x)


def bert_encoder():
    layer = nn.TransformerEncoderLayer(d_model=384, nhead=6, dim_feedforward=1536, dropout=0.0,
                                       activation="gelu", batch_first=True, norm_first=False)
    enc = nn.TransformerEncoder(layer, num_layers=6, enable_nested_tensor=False)
    # TransformerEncoder deep-copies one layer: every layer would have the same
    # weights (and the exporter would share them). Each gets its own.
    for m in enc.modules():
        if hasattr(m, "_reset_parameters"):  # MultiheadAttention
            m._reset_parameters()
        elif isinstance(m, nn.Linear):
            m.reset_parameters()
    return enc


def vit_small():
    return torchvision.models.VisionTransformer(image_size=224, patch_size=16, num_layers=4, num_heads=4,
                                                hidden_dim=256, mlp_dim=1024)


# name -> (constructor, input shape).
MODELS = {
    "bert_l6_w384_s128": (bert_encoder, (1, 128, 384)),
    "bert_l6_w384_s128_b8": (bert_encoder, (8, 128, 384)),
    "gpt_l4_w256_s128": (TinyGPT, (1, 128, 256)),
    "vit_small_l4_w256": (vit_small, IMAGE),
    "vit_b_16": (lambda: torchvision.models.vit_b_16(weights=None), IMAGE),
    "convnext_tiny": (lambda: torchvision.models.convnext_tiny(weights=None), IMAGE),
    "swin_t": (lambda: torchvision.models.swin_t(weights=None), IMAGE),
}
OPSETS = (14, 17)


def stamp():
    """Identifies the generator and the PyTorch that wrote a folder."""
    with open(os.path.abspath(__file__), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    return f"gen_transformers.py {digest} torch {torch.__version__} torchvision {torchvision.__version__}\n"


def randomize(model, gen):
    """LayerNorm weight ~ U(0.5, 1.5), bias ~ N(0, 0.1); a zero-initialized
    ViT head and ConvNeXt's 1e-6 layer scales made to matter. Returns the
    number of LayerNorm modules."""
    lns = [m for m in model.modules() if isinstance(m, nn.LayerNorm)]
    with torch.no_grad():
        for m in lns:
            if m.elementwise_affine:
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
        if isinstance(model, torchvision.models.VisionTransformer):
            head = model.heads.head
            head.weight.copy_(torch.randn(head.weight.shape, generator=gen) * 0.02)
            head.bias.copy_(torch.randn(head.bias.shape, generator=gen) * 0.02)
        for m in model.modules():
            if isinstance(m, torchvision.models.convnext.CNBlock):
                m.layer_scale.copy_(torch.rand(m.layer_scale.shape, generator=gen) * 0.2 + 0.1)
    model.eval()
    return len(lns)


def forward(model, x):
    """The model's output on the plain (non-fast) path: autograd enabled and
    parameters requiring grad keep 1.13's fused transformer kernels out."""
    with torch.enable_grad():
        return model(x).detach()


def build(name):
    """The model in eval mode, its input, PyTorch's output and its LayerNorm count."""
    ctor, shape = MODELS[name]
    seed = SEED ^ zlib.crc32(name.encode())
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ctor()
    gen = torch.Generator().manual_seed(seed)
    n_ln = randomize(model, gen)
    x = torch.randn(*shape, generator=gen)
    y = forward(model, x)
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name}: forward returned {type(y).__name__}, not a tensor")
    y2 = forward(model, torch.randn(*shape, generator=gen))
    scale = float(y.abs().max())
    spread = float((y - y2).abs().max()) / scale if scale > 0 else 0.0
    if not np.isfinite(scale) or spread < 0.01:
        raise RuntimeError(f"{name}: output barely depends on the input (max|y| {scale:.3g}, "
                           f"change for another input {spread:.3g} of it)")
    return model, x, y, n_ln


def export(model, x, y, n_ln, opset, folder):
    """Writes one test folder atomically (a half-written folder never stays)."""
    tmp = folder + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "test_data_set_0"))
    path = os.path.join(tmp, "model.onnx")
    with warnings.catch_warnings(), torch.enable_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"],
                          output_names=["output"])
    m, in_name, out_name = export_util.load_checked(path)
    ops = {}
    for node in m.graph.node:
        if node.domain not in ("", "ai.onnx"):
            raise RuntimeError(f"node {node.name} is {node.domain}::{node.op_type}, not a standard ONNX op")
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    want = n_ln if opset >= 17 else 0
    if ops.get("LayerNormalization", 0) != want:
        raise RuntimeError(f"{n_ln} LayerNorm modules but {ops.get('LayerNormalization', 0)} "
                           f"LayerNormalization nodes at opset {opset}")
    for arr, nm, fn in ((x, in_name, "input_0.pb"), (y, out_name, "output_0.pb")):
        t = numpy_helper.from_array(np.ascontiguousarray(arr.numpy().astype(np.float32)), nm)
        with open(os.path.join(tmp, "test_data_set_0", fn), "wb") as f:
            f.write(t.SerializeToString())
    with open(os.path.join(tmp, "generator.txt"), "w") as f:
        f.write(stamp())
    shutil.rmtree(folder, ignore_errors=True)
    os.rename(tmp, folder)
    return ops, os.path.getsize(os.path.join(folder, "model.onnx"))


def up_to_date(folder):
    return export_util.folder_current(folder, stamp())


def main():
    a, names, opsets = export_util.parse(__doc__, MODELS, OPSETS, os.path.join(HERE, "models-tf"))
    if names is None:
        return 0
    torch.set_grad_enabled(False)
    return export_util.generate(names, opsets, a.out, a.skip_existing, up_to_date, build, export,
                                "LayerNorm")


if __name__ == "__main__":
    sys.exit(main())
