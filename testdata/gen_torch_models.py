#!/usr/bin/python3
"""Generate ONNX backend-style test folders from small PyTorch models.

Writes testdata/torch/<name>/, each holding:
    model.onnx                      the model as exported by torch.onnx.export
    test_data_set_0/input_<i>.pb    the graph inputs (names as in the graph)
    test_data_set_0/output_<i>.pb   the expected outputs (names as in the graph)

Models (small channel counts, random weights from fixed seeds):
    resnet_opset13              Conv/BN/ReLU stem, MaxPool, two BasicBlocks
                                (second with a stride-2 1x1 conv + BN
                                downsample), global average pool, Flatten,
                                Linear (Gemm). Input [1,3,32,32].
    mobile_opset13              Conv/BN/ReLU6 (Clip), depthwise Conv/BN/ReLU6,
                                pointwise Conv/BN, ConvTranspose2d(stride 2)/
                                BN/ReLU. Input [1,8,16,16].
    transformer_opset14         nn.TransformerEncoderLayer(d_model=32, nhead=4,
                                dim_feedforward=64, batch_first=True) + final
                                nn.LayerNorm(32); LayerNorm is exported as
                                ReduceMean/Sub/Pow/Sqrt/Div arithmetic.
                                Input [2,5,32].
    transformer_opset17         the same model at opset 17
                                (LayerNormalization nodes).
    unet_groupnorm_opset17      Conv/GroupNorm(4,16)/SiLU x2 with a residual
                                Add, stride-2 downsample Conv, ConvTranspose
                                upsample, GroupNorm; GroupNorm is exported as
                                Reshape/InstanceNormalization/Reshape/Mul/Add.
                                Input [1,8,16,16].
    instancenorm_style_opset13  style-transfer residual block: Conv/
                                InstanceNorm2d(affine)/ReLU/Conv/InstanceNorm2d
                                + residual Add. Input [1,3,24,24].
    mlp_opset14                 Linear/BatchNorm1d/ReLU/Linear/LayerNorm/GELU/
                                Linear (GELU exported as Erf arithmetic).
                                Input [8,16].
    mlp_opset17                 the same model at opset 17.

Normalization layers are not left at identity: BatchNorm running_mean is
randn*0.5, running_var is rand+0.5, and every BN/LN/GN/IN affine weight and
bias is random.

Models are put in eval mode and exported with
training=TrainingMode.PRESERVE and do_constant_folding=False, so the
BatchNormalization nodes are kept (not folded into the convolutions).

The expected outputs are PyTorch's own outputs of the float32 model in eval
mode (computed with autograd enabled, so nn.TransformerEncoderLayer takes its
ordinary, non-fused path, the same computation that is exported). They are
not produced by any ONNX runtime, so a runtime's results are expected to
agree with them only to float32 rounding.

Run with /usr/bin/python3 (Debian 12: python3-torch 1.13, python3-onnx 1.12,
numpy 1.24). Idempotent: each model folder is deleted and rewritten. After
writing, every folder is re-read and checked: onnx.checker passes and the
stored tensors equal a second forward pass bit for bit. The op types of each
exported graph and the file sizes are printed.
"""

import os
import shutil
import sys

import numpy as np

# onnx 1.12 still refers to the NumPy aliases removed in NumPy 1.24.
for _alias, _type in (("float", float), ("int", int), ("bool", bool),
                      ("object", object), ("complex", complex)):
    if _alias not in np.__dict__:
        setattr(np, _alias, _type)

import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_ROOT = os.path.join(HERE, "torch")


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

class BasicBlock(nn.Module):
    """ResNet basic block: conv-bn-relu-conv-bn + shortcut, then ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False),
                nn.BatchNorm2d(cout))
        else:
            self.downsample = None

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + identity)


class TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, 1))
        self.layer1 = BasicBlock(16, 16, 1)
        self.layer2 = BasicBlock(16, 32, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(self.flatten(self.pool(x)))


class TinyMobile(nn.Module):
    def __init__(self):
        super().__init__()
        self.expand = nn.Sequential(
            nn.Conv2d(8, 16, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.depthwise = nn.Sequential(
            nn.Conv2d(16, 16, 3, 2, 1, groups=16, bias=False),
            nn.BatchNorm2d(16), nn.ReLU6())
        self.project = nn.Sequential(
            nn.Conv2d(16, 12, 1, bias=False), nn.BatchNorm2d(12))
        self.up = nn.Sequential(
            nn.ConvTranspose2d(12, 8, 4, 2, 1, bias=True),
            nn.BatchNorm2d(8), nn.ReLU())

    def forward(self, x):
        return self.up(self.project(self.depthwise(self.expand(x))))


class TinyTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(
            d_model=32, nhead=4, dim_feedforward=64, dropout=0.0,
            batch_first=True)
        self.norm = nn.LayerNorm(32)

    def forward(self, x):
        return self.norm(self.layer(x))


class TinyUNetBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_in = nn.Conv2d(8, 16, 3, 1, 1)
        self.gn1 = nn.GroupNorm(4, 16)
        self.conv1 = nn.Conv2d(16, 16, 3, 1, 1)
        self.gn2 = nn.GroupNorm(4, 16)
        self.conv2 = nn.Conv2d(16, 16, 3, 1, 1)
        self.act = nn.SiLU()
        self.down = nn.Conv2d(16, 16, 3, 2, 1)
        self.gn3 = nn.GroupNorm(4, 16)
        self.up = nn.ConvTranspose2d(16, 8, 2, 2)

    def forward(self, x):
        h = self.conv_in(x)
        r = self.act(self.gn1(h))
        r = self.conv1(r)
        r = self.act(self.gn2(r))
        r = self.conv2(r)
        h = h + r
        h = self.act(self.gn3(self.down(h)))
        return self.up(h)


class StyleBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_in = nn.Conv2d(3, 8, 3, 1, 1)
        self.conv1 = nn.Conv2d(8, 8, 3, 1, 1)
        self.in1 = nn.InstanceNorm2d(8, affine=True)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, 3, 1, 1)
        self.in2 = nn.InstanceNorm2d(8, affine=True)

    def forward(self, x):
        h = self.conv_in(x)
        r = self.relu(self.in1(self.conv1(h)))
        r = self.in2(self.conv2(r))
        return h + r


class TinyMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.bn = nn.BatchNorm1d(32)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(32, 32)
        self.ln = nn.LayerNorm(32)
        self.gelu = nn.GELU()
        self.fc3 = nn.Linear(32, 4)

    def forward(self, x):
        x = self.relu(self.bn(self.fc1(x)))
        x = self.gelu(self.ln(self.fc2(x)))
        return self.fc3(x)


# name: (model class, input shape, opset, seed)
MODELS = {
    "resnet_opset13": (TinyResNet, (1, 3, 32, 32), 13, 1),
    "mobile_opset13": (TinyMobile, (1, 8, 16, 16), 13, 2),
    "transformer_opset14": (TinyTransformer, (2, 5, 32), 14, 3),
    "transformer_opset17": (TinyTransformer, (2, 5, 32), 17, 3),
    "unet_groupnorm_opset17": (TinyUNetBlock, (1, 8, 16, 16), 17, 4),
    "instancenorm_style_opset13": (StyleBlock, (1, 3, 24, 24), 13, 5),
    "mlp_opset14": (TinyMLP, (8, 16), 14, 6),
    "mlp_opset17": (TinyMLP, (8, 16), 17, 6),
}


# --------------------------------------------------------------------------
# Building, exporting, writing
# --------------------------------------------------------------------------

def randomize_norms(model):
    """Give every normalization layer non-trivial statistics and affine."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn_like(m.running_mean) * 0.5)
                m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
            if isinstance(m, (nn.modules.batchnorm._BatchNorm,
                              nn.modules.instancenorm._InstanceNorm,
                              nn.GroupNorm)) and m.affine:
                m.weight.copy_(torch.rand_like(m.weight) + 0.5)
                m.bias.copy_(torch.randn_like(m.bias) * 0.3)
            if isinstance(m, nn.LayerNorm) and m.elementwise_affine:
                m.weight.copy_(torch.rand_like(m.weight) + 0.5)
                m.bias.copy_(torch.randn_like(m.bias) * 0.3)


def build(name):
    cls, shape, _opset, seed = MODELS[name]
    torch.manual_seed(seed)
    model = cls()
    randomize_norms(model)
    model.eval()
    x = torch.randn(*shape, dtype=torch.float32)
    return model, x


def forward(model, x):
    # Autograd stays enabled on purpose: under no_grad, TransformerEncoderLayer
    # switches to a fused fast path that is not what the exporter traces.
    with torch.enable_grad():
        return model(x).detach().numpy().astype(np.float32)


def save_tensor(path, arr, name):
    with open(path, "wb") as fh:
        fh.write(numpy_helper.from_array(arr, name).SerializeToString())


def load_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as fh:
        t.ParseFromString(fh.read())
    return t.name, numpy_helper.to_array(t)


def export(name):
    model, x = build(name)
    opset = MODELS[name][2]
    d = os.path.join(OUT_ROOT, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    ds = os.path.join(d, "test_data_set_0")
    os.makedirs(ds)
    path = os.path.join(d, "model.onnx")
    torch.onnx.export(
        model, (x,), path,
        input_names=["input"], output_names=["output"],
        opset_version=opset,
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=False,
        export_params=True)
    y = forward(model, x)
    m = onnx.load(path)
    in_names = [i.name for i in m.graph.input]
    out_names = [o.name for o in m.graph.output]
    assert in_names == ["input"], in_names
    assert out_names == ["output"], out_names
    save_tensor(os.path.join(ds, "input_0.pb"), x.numpy(), "input")
    save_tensor(os.path.join(ds, "output_0.pb"), y, "output")


def op_types(model):
    """Op types in graph order, without repeats (subgraphs included)."""
    seen = []

    def walk(graph):
        for node in graph.node:
            key = node.op_type if node.domain in ("", "ai.onnx") else \
                node.domain + "::" + node.op_type
            if key not in seen:
                seen.append(key)
            for attr in node.attribute:
                if attr.g is not None and attr.g.node:
                    walk(attr.g)
                for g in attr.graphs:
                    walk(g)

    walk(model.graph)
    return seen


def verify(name):
    d = os.path.join(OUT_ROOT, name)
    path = os.path.join(d, "model.onnx")
    m = onnx.load(path)
    onnx.checker.check_model(m)
    opset = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")]
    assert opset == [MODELS[name][2]], opset

    ds = os.path.join(d, "test_data_set_0")
    in_name, x = load_tensor(os.path.join(ds, "input_0.pb"))
    out_name, y = load_tensor(os.path.join(ds, "output_0.pb"))
    assert in_name == m.graph.input[0].name
    assert out_name == m.graph.output[0].name
    assert x.dtype == np.float32 and y.dtype == np.float32

    model, x2 = build(name)
    assert np.array_equal(x, x2.numpy()), name + ": input differs"
    y2 = forward(model, torch.from_numpy(x.copy()))
    assert np.array_equal(y, y2), name + ": output differs from torch"

    counts = {}
    for node in m.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    sizes = {os.path.relpath(os.path.join(r, f), d):
             os.path.getsize(os.path.join(r, f))
             for r, _, fs in os.walk(d) for f in fs}
    return op_types(m), counts, sizes, x.shape, y.shape


def main():
    names = sys.argv[1:] or list(MODELS)
    for name in names:
        export(name)
    union = set()
    for name in names:
        ops, counts, sizes, xs, ys = verify(name)
        union.update(ops)
        print("%s: input %s -> output %s, %d nodes" %
              (name, list(xs), list(ys), sum(counts.values())))
        print("  ops: " + ", ".join("%s x%d" % (o, counts[o]) for o in ops))
        print("  sizes: " + ", ".join("%s %d B" % kv
                                      for kv in sorted(sizes.items())))
    print("union of op types: " + ", ".join(sorted(union)))
    print("all %d folders verified" % len(names))


if __name__ == "__main__":
    main()
