#!/usr/bin/python3
"""Generate small look-alikes of OLD model-zoo exports as ONNX test folders.

The ONNX model zoo's classic CNNs (ResNet-50, DenseNet-121, Inception/
GoogLeNet, ShuffleNet, SqueezeNet) are IR version 3 files at opsets 7 to 9
that differ from what a current exporter writes:
  - every initializer is ALSO listed in graph.input (before IR 4 that was
    mandatory; the data input is then "the graph input without an
    initializer", and it is not always the first graph input),
  - some weights are not initializers at all but the output of a
    ConstantOfShape node (fed by a Constant int64 shape),
  - Dropout nodes are left in the inference graph, sometimes with the
    optional mask output,
  - BatchNormalization (opset 7/8) may carry the old `spatial` attribute.

The zoo cannot be downloaded here, so this script builds tiny PyTorch models
of the same architectures, exports them with torch.onnx.export at the old
opsets (keep_initializers_as_inputs=True, training=TrainingMode.PRESERVE,
do_constant_folding=False, eval mode, so BatchNormalization is kept) and
post-processes the files with the onnx Python API into that old form.

Writes testdata/torch/<name>/ (same layout as gen_torch_models.py):
    model.onnx
    test_data_set_0/input_0.pb     the data input (the one graph input with
                                   no initializer), named as in the graph
    test_data_set_0/output_0.pb    PyTorch's output (float32, eval mode)

Models:
    squeezenet_opset7_ir3   Conv/Relu stem, MaxPool, three Fire modules
                            (squeeze 1x1, expand 1x1 + 3x3, Concat) with a
                            MaxPool between, Dropout (inserted, with mask
                            output), final 1x1 Conv, Relu, AveragePool(3),
                            Reshape (shape: Constant -> Cast, as torch
                            writes it at opset 7), Softmax.
                            Input [1,3,32,32]; data input listed LAST.
    resnet_opset9_ir3       TinyResNet from gen_torch_models.py (Conv/BN/Relu,
                            MaxPool, two BasicBlocks, GlobalAveragePool,
                            Flatten, Gemm). layer1.bn1.running_mean and
                            fc.bias are zero and come from ConstantOfShape.
                            Input [1,3,32,32].
    densenet_opset8_ir3     Conv/BN/Relu stem, MaxPool, dense block of 3
                            bottleneck layers (BN-Relu-Conv1x1-BN-Relu-
                            Conv3x3, Concat growth 8), transition (BN-Relu-
                            Conv1x1-AveragePool 2), dense block of 2 layers,
                            BN/Relu, GlobalAveragePool, Flatten, Gemm.
                            BN nodes carry spatial=1. Input [1,3,32,32]; data
                            input listed LAST.
    shufflenet_opset9_ir3   Conv/BN/Relu stem, MaxPool, a stride-2 ShuffleNet
                            unit (group 1x1 conv, channel shuffle as Reshape-
                            Transpose-Reshape, depthwise 3x3 stride 2, group
                            1x1 conv, AveragePool shortcut, Concat) and a
                            stride-1 unit (same, Add shortcut), Relu,
                            GlobalAveragePool, Flatten, Gemm. The stem conv
                            bias and unit2's depthwise BN running_mean are
                            zero and come from ConstantOfShape.
                            Input [1,3,32,32].
    inception_opset9_ir3    Conv/Relu stem, MaxPool, an Inception block
                            (1x1 | 1x1-3x3 | 1x1-5x5 | MaxPool3x3 s1-1x1,
                            Concat), AveragePool(8), Dropout (inserted),
                            Flatten, Gemm, Softmax. The 1x1-branch conv bias
                            and the 5x5 conv bias are zero and come from
                            ConstantOfShape. Input [1,3,32,32].
    googlenet_lrn_opset9_ir3   (OPT-IN: written only when named on the
                            command line, because the runtime has no LRN
                            kernel yet and testdata/torch is run as a whole
                            by ctest) GoogLeNet-v1 stem look-alike: Conv/Relu, MaxPool,
                            LRN(size 5), Conv1x1/Relu, Conv3x3/Relu, LRN,
                            MaxPool, the Inception block, GlobalAveragePool,
                            Flatten, Gemm, Softmax. (LRN is exported as an
                            LRN node via an autograd.Function symbolic; the
                            reference is F.local_response_norm, which equals
                            ONNX LRN for odd sizes.) Input [1,3,32,32].

AveragePool: the AvgPool2d layers use count_include_pad=False. They have
no padding, so the values are the same, but with the default
count_include_pad=True torch 1.13 exports opsets < 11 as a Pad node with
all-zero pads (Pad-2) in front of the AveragePool, an op these tests are not
about.

IR version: every file is written with ir_version 3. torch 1.13 itself
writes IR 3 for opsets 7/8 and IR 4 for opset 9; officially opset 9 arrived
with IR 4 (ONNX 1.4), but the zoo holds IR-3 files with opset-9 imports and
onnx 1.12's checker accepts the pairing, so IR 3 is kept for all.
ConstantOfShape exists only from opset 9, so the opset-7/8 models have none.

Weights to be replaced by ConstantOfShape are set to zero in the PyTorch
model before export and before the expected output is computed, so the
reference stays exact. Only one all-zero tensor per shape is made, so
torch's initializer deduplication cannot turn one into an Identity.

Run with /usr/bin/python3 (Debian 12: python3-torch 1.13, python3-onnx 1.12,
numpy 1.24). Idempotent: each folder is deleted and rewritten, then re-read
and checked (onnx.checker incl. strict shape inference, IR/opset, every
initializer listed as an input, stored tensors equal a second forward pass
bit for bit). Op types and file sizes are printed.
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
from onnx import helper, numpy_helper, TensorProto  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_torch_models import TinyResNet, randomize_norms  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_ROOT = os.path.join(HERE, "torch")
IR_VERSION = 3


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

class Fire(nn.Module):
    def __init__(self, cin, squeeze, e1, e3):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, e1, 1)
        self.expand3x3 = nn.Conv2d(squeeze, e3, 3, padding=1)

    def forward(self, x):
        s = F.relu(self.squeeze(x))
        return torch.cat([F.relu(self.expand1x1(s)),
                          F.relu(self.expand3x3(s))], 1)


class TinySqueezeNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.classes = classes
        self.conv1 = nn.Conv2d(3, 16, 3, 2)          # 32 -> 15
        self.pool1 = nn.MaxPool2d(3, 2)              # 15 -> 7
        self.fire2 = Fire(16, 4, 8, 8)
        self.fire3 = Fire(16, 4, 12, 12)
        self.pool3 = nn.MaxPool2d(3, 2)              # 7 -> 3
        self.fire4 = Fire(24, 6, 16, 16)
        self.drop = nn.Dropout(0.5)                  # dropped by the exporter
        self.final_conv = nn.Conv2d(32, classes, 1)
        self.pool10 = nn.AvgPool2d(3, count_include_pad=False)  # 3 -> 1
        # Larger, mostly positive class scores: with default init most of
        # them are cut by the Relu and the Softmax is nearly uniform, which
        # would make the comparison insensitive.
        with torch.no_grad():
            self.final_conv.weight.mul_(15.0)
            self.final_conv.bias.uniform_(0.5, 1.5)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool3(self.fire3(self.fire2(x)))
        x = self.drop(self.fire4(x))
        x = self.pool10(F.relu(self.final_conv(x)))
        return torch.softmax(x.reshape(1, self.classes), 1)


class DenseLayer(nn.Module):
    def __init__(self, cin, growth, bottleneck):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, bottleneck, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bottleneck)
        self.conv2 = nn.Conv2d(bottleneck, growth, 3, padding=1, bias=False)

    def forward(self, feats):
        x = torch.cat(feats, 1)
        x = self.conv1(F.relu(self.norm1(x)))
        return self.conv2(F.relu(self.norm2(x)))


class DenseBlock(nn.Module):
    def __init__(self, layers, cin, growth):
        super().__init__()
        self.layers = nn.ModuleList(
            DenseLayer(cin + i * growth, growth, 4 * growth)
            for i in range(layers))

    def forward(self, x):
        feats = [x]
        for layer in self.layers:
            feats.append(layer(feats))
        return torch.cat(feats, 1)


class TinyDenseNet(nn.Module):
    def __init__(self, growth=8, classes=10):
        super().__init__()
        self.conv0 = nn.Conv2d(3, 16, 3, 2, 1, bias=False)   # 32 -> 16
        self.norm0 = nn.BatchNorm2d(16)
        self.pool0 = nn.MaxPool2d(3, 2, 1)                   # 16 -> 8
        self.block1 = DenseBlock(3, 16, growth)              # 16 -> 40 ch
        self.trans_norm = nn.BatchNorm2d(40)
        self.trans_conv = nn.Conv2d(40, 20, 1, bias=False)
        self.trans_pool = nn.AvgPool2d(2, 2, count_include_pad=False)
        self.block2 = DenseBlock(2, 20, growth)              # 20 -> 36 ch
        self.norm5 = nn.BatchNorm2d(36)
        self.fc = nn.Linear(36, classes)

    def forward(self, x):
        x = self.pool0(F.relu(self.norm0(self.conv0(x))))
        x = self.block1(x)
        x = self.trans_pool(self.trans_conv(F.relu(self.trans_norm(x))))
        x = F.relu(self.norm5(self.block2(x)))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


class ShuffleUnit(nn.Module):
    """ShuffleNet v1 unit; spatial size and channels are fixed at build time
    so the channel shuffle's Reshape shapes are Constant nodes."""

    def __init__(self, cin, cout, mid, groups, stride, hw):
        super().__init__()
        self.stride, self.groups, self.mid, self.hw = stride, groups, mid, hw
        branch_out = cout - cin if stride == 2 else cout
        self.gconv1 = nn.Conv2d(cin, mid, 1, groups=groups, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.dwconv = nn.Conv2d(mid, mid, 3, stride, 1, groups=mid,
                                bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.gconv2 = nn.Conv2d(mid, branch_out, 1, groups=groups,
                                bias=False)
        self.bn3 = nn.BatchNorm2d(branch_out)
        if stride == 2:
            self.shortcut = nn.AvgPool2d(3, 2, 1, count_include_pad=False)

    def shuffle(self, x):
        g, c, hw = self.groups, self.mid, self.hw
        x = x.reshape(1, g, c // g, hw, hw).transpose(1, 2)
        return x.reshape(1, c, hw, hw)

    def forward(self, x):
        y = self.shuffle(F.relu(self.bn1(self.gconv1(x))))
        y = self.bn3(self.gconv2(self.bn2(self.dwconv(y))))
        if self.stride == 2:
            return F.relu(torch.cat([self.shortcut(x), y], 1))
        return F.relu(x + y)


class TinyShuffleNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, 3, 2, 1, bias=True)     # 32 -> 16
        self.bn1 = nn.BatchNorm2d(24)
        self.pool1 = nn.MaxPool2d(3, 2, 1)                    # 16 -> 8
        self.unit1 = ShuffleUnit(24, 48, 12, 2, 2, 8)         # 8 -> 4
        self.unit2 = ShuffleUnit(48, 48, 12, 2, 1, 4)
        self.fc = nn.Linear(48, classes)

    def forward(self, x):
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))
        x = self.unit2(self.unit1(x))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


class InceptionBlock(nn.Module):
    def __init__(self, cin, c1, c3r, c3, c5r, c5, cp):
        super().__init__()
        self.b1 = nn.Conv2d(cin, c1, 1)
        self.b2_reduce = nn.Conv2d(cin, c3r, 1)
        self.b2 = nn.Conv2d(c3r, c3, 3, padding=1)
        self.b3_reduce = nn.Conv2d(cin, c5r, 1)
        self.b3 = nn.Conv2d(c5r, c5, 5, padding=2)
        self.b4_pool = nn.MaxPool2d(3, 1, 1)
        self.b4 = nn.Conv2d(cin, cp, 1)

    def forward(self, x):
        return torch.cat([
            F.relu(self.b1(x)),
            F.relu(self.b2(F.relu(self.b2_reduce(x)))),
            F.relu(self.b3(F.relu(self.b3_reduce(x)))),
            F.relu(self.b4(self.b4_pool(x)))], 1)


class TinyInception(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 2, 1)                # 32 -> 16
        self.pool1 = nn.MaxPool2d(3, 2, 1)                    # 16 -> 8
        self.inc = InceptionBlock(16, 8, 8, 12, 4, 6, 6)      # -> 32 ch
        self.pool5 = nn.AvgPool2d(8, count_include_pad=False)  # 8 -> 1
        self.drop = nn.Dropout(0.4)                           # dropped
        self.fc = nn.Linear(32, classes)
        with torch.no_grad():   # a Softmax that is not nearly uniform
            self.fc.weight.mul_(20.0)

    def forward(self, x):
        x = self.inc(self.pool1(F.relu(self.conv1(x))))
        x = self.drop(torch.flatten(self.pool5(x), 1))
        return torch.softmax(self.fc(x), 1)


class LRNFunction(torch.autograd.Function):
    """Local response normalization, exported as one ONNX LRN node."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta,
                    bias_f=k)


class LRN(nn.Module):
    def __init__(self, size, alpha, beta, k):
        super().__init__()
        assert size % 2 == 1   # torch and ONNX pad the window alike only then
        self.args = (size, alpha, beta, k)

    def forward(self, x):
        return LRNFunction.apply(x, *self.args)


class TinyGoogLeNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 2, 1)                # 32 -> 16
        self.pool1 = nn.MaxPool2d(3, 2, 1)                    # 16 -> 8
        # alpha larger than GoogLeNet's 1e-4 so the LRN visibly matters
        self.norm1 = LRN(5, 0.02, 0.75, 1.0)
        self.conv2_reduce = nn.Conv2d(16, 16, 1)
        self.conv2 = nn.Conv2d(16, 16, 3, 1, 1)
        self.norm2 = LRN(5, 0.02, 0.75, 2.0)
        self.pool2 = nn.MaxPool2d(3, 1, 1)
        self.inc = InceptionBlock(16, 8, 8, 12, 4, 6, 6)      # -> 32 ch
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.norm1(self.pool1(F.relu(self.conv1(x))))
        x = F.relu(self.conv2(F.relu(self.conv2_reduce(x))))
        x = self.inc(self.pool2(self.norm2(x)))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return torch.softmax(self.fc(x), 1)


# name: model class, input shape, opset, seed, graph input / output names,
#   zero_to_cos: parameters set to zero and produced by ConstantOfShape,
#   dropout:     (weight of the node to insert a Dropout before, ratio,
#                 with mask output?) or None,
#   data_last:   list the data input after the initializer inputs,
#   bn_spatial:  add spatial=1 to BatchNormalization (opset < 9 only).
MODELS = {
    "squeezenet_opset7_ir3": dict(
        cls=TinySqueezeNet, shape=(1, 3, 32, 32), opset=7, seed=21,
        inp="data_0", out="softmaxout_1", zero_to_cos=[],
        dropout=("final_conv.weight", 0.5, True), data_last=True,
        bn_spatial=False),
    "resnet_opset9_ir3": dict(
        cls=TinyResNet, shape=(1, 3, 32, 32), opset=9, seed=22,
        inp="data", out="output",
        zero_to_cos=["layer1.bn1.running_mean", "fc.bias"],
        dropout=None, data_last=False, bn_spatial=False),
    "densenet_opset8_ir3": dict(
        cls=TinyDenseNet, shape=(1, 3, 32, 32), opset=8, seed=23,
        inp="data_0", out="fc6_1", zero_to_cos=[],
        dropout=None, data_last=True, bn_spatial=True),
    "shufflenet_opset9_ir3": dict(
        cls=TinyShuffleNet, shape=(1, 3, 32, 32), opset=9, seed=24,
        inp="gpu_0/data_0", out="gpu_0/pred_1",
        zero_to_cos=["conv1.bias", "unit2.bn2.running_mean"],
        dropout=None, data_last=False, bn_spatial=False),
    "inception_opset9_ir3": dict(
        cls=TinyInception, shape=(1, 3, 32, 32), opset=9, seed=25,
        inp="data_0", out="prob_1",
        zero_to_cos=["inc.b1.bias", "inc.b3.bias"],
        dropout=("fc.weight", 0.4, False), data_last=False,
        bn_spatial=False),
    "googlenet_lrn_opset9_ir3": dict(
        cls=TinyGoogLeNet, shape=(1, 3, 32, 32), opset=9, seed=26,
        inp="data_0", out="prob_1", zero_to_cos=["conv2.bias"],
        dropout=None, data_last=False, bn_spatial=False),
}


# --------------------------------------------------------------------------
# Building and exporting
# --------------------------------------------------------------------------

def build(name):
    spec = MODELS[name]
    torch.manual_seed(spec["seed"])
    model = spec["cls"]()
    randomize_norms(model)
    params = dict(model.named_parameters())
    params.update(model.named_buffers())
    with torch.no_grad():
        for pname in spec["zero_to_cos"]:
            params[pname].zero_()
    model.eval()
    x = torch.randn(*spec["shape"], dtype=torch.float32)
    return model, x


def forward(model, x):
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


def list_initializers_as_inputs(graph):
    """Every initializer must also be a graph input (IR < 4)."""
    listed = {i.name for i in graph.input}
    for init in graph.initializer:
        if init.name not in listed:
            graph.input.append(helper.make_tensor_value_info(
                init.name, init.data_type, list(init.dims)))


def replace_with_constant_of_shape(graph, wname):
    """Turns the all-zero initializer `wname` into
    Constant(int64 shape) -> ConstantOfShape(value=0) -> wname."""
    inits = [t for t in graph.initializer if t.name == wname]
    assert len(inits) == 1, wname + ": not an initializer (deduplicated?)"
    init = inits[0]
    arr = numpy_helper.to_array(init)
    assert not arr.any(), wname + ": not all zero"
    assert init.data_type == TensorProto.FLOAT
    graph.initializer.remove(init)
    inp = [i for i in graph.input if i.name == wname]
    assert len(inp) == 1
    graph.input.remove(inp[0])
    base = wname.replace(".", "_")
    shape_name = base + "_shape"
    const = helper.make_node(
        "Constant", [], [shape_name], name=base + "_shape_const",
        value=numpy_helper.from_array(
            np.array(arr.shape, dtype=np.int64), shape_name))
    cos = helper.make_node(
        "ConstantOfShape", [shape_name], [wname], name=base + "_fill",
        value=numpy_helper.from_array(np.zeros(1, np.float32), "value"))
    graph.node.insert(0, cos)
    graph.node.insert(0, const)


def insert_dropout(graph, weight, ratio, with_mask):
    """Puts an inference Dropout on the data input of the node that uses
    `weight` (the exporter removes Dropout in eval mode)."""
    idx = [k for k, n in enumerate(graph.node) if weight in n.input]
    assert len(idx) == 1, weight
    consumer = graph.node[idx[0]]
    src = consumer.input[0]
    out = src + "_dropout"
    outputs = [out, src + "_dropout_mask"] if with_mask else [out]
    drop = helper.make_node("Dropout", [src], outputs,
                            name=src + "_Dropout", ratio=ratio)
    consumer.input[0] = out
    graph.node.insert(idx[0], drop)


def postprocess(m, spec):
    g = m.graph
    m.ir_version = IR_VERSION
    list_initializers_as_inputs(g)
    for wname in spec["zero_to_cos"]:
        replace_with_constant_of_shape(g, wname)
    if spec["dropout"]:
        insert_dropout(g, *spec["dropout"])
    if spec["bn_spatial"]:
        assert spec["opset"] < 9
        for n in g.node:
            if n.op_type == "BatchNormalization":
                n.attribute.append(helper.make_attribute("spatial", 1))
    if spec["data_last"]:
        data = [i for i in g.input if i.name == spec["inp"]]
        assert len(data) == 1
        copy = onnx.ValueInfoProto()
        copy.CopyFrom(data[0])
        g.input.remove(data[0])
        g.input.append(copy)
    m.producer_name = "onnorm gen_old_models.py (torch %s)" % torch.__version__


def export(name):
    spec = MODELS[name]
    model, x = build(name)
    d = os.path.join(OUT_ROOT, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    ds = os.path.join(d, "test_data_set_0")
    os.makedirs(ds)
    path = os.path.join(d, "model.onnx")
    torch.onnx.export(
        model, (x,), path,
        input_names=[spec["inp"]], output_names=[spec["out"]],
        opset_version=spec["opset"],
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=False,
        keep_initializers_as_inputs=True,
        export_params=True)
    y = forward(model, x)
    m = onnx.load(path)
    assert [o.name for o in m.graph.output] == [spec["out"]]
    postprocess(m, spec)
    onnx.save(m, path)
    save_tensor(os.path.join(ds, "input_0.pb"), x.numpy(), spec["inp"])
    save_tensor(os.path.join(ds, "output_0.pb"), y, spec["out"])


# --------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------

def op_types(graph):
    seen = []
    for node in graph.node:
        if node.op_type not in seen:
            seen.append(node.op_type)
    return seen


def verify(name):
    spec = MODELS[name]
    d = os.path.join(OUT_ROOT, name)
    path = os.path.join(d, "model.onnx")
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    assert m.ir_version == IR_VERSION, m.ir_version
    opset = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")]
    assert opset == [spec["opset"]], opset
    g = m.graph
    inputs = [i.name for i in g.input]
    inits = [t.name for t in g.initializer]
    assert set(inits) <= set(inputs), "initializer not listed as input"
    feeds = [i for i in inputs if i not in inits]
    assert feeds == [spec["inp"]], feeds
    assert (inputs[-1] if spec["data_last"] else inputs[0]) == spec["inp"]
    n_cos = sum(n.op_type == "ConstantOfShape" for n in g.node)
    assert n_cos == len(spec["zero_to_cos"])
    assert all(n.op_type != "Identity" for n in g.node)

    ds = os.path.join(d, "test_data_set_0")
    in_name, x = load_tensor(os.path.join(ds, "input_0.pb"))
    out_name, y = load_tensor(os.path.join(ds, "output_0.pb"))
    assert in_name == spec["inp"] and out_name == g.output[0].name
    assert x.dtype == np.float32 and y.dtype == np.float32

    model, x2 = build(name)
    assert np.array_equal(x, x2.numpy()), name + ": input differs"
    y2 = forward(model, torch.from_numpy(x.copy()))
    assert np.array_equal(y, y2), name + ": output differs from torch"

    counts = {}
    for node in g.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    sizes = {os.path.relpath(os.path.join(r, f), d):
             os.path.getsize(os.path.join(r, f))
             for r, _, fs in os.walk(d) for f in fs}
    assert sizes["model.onnx"] < 300 * 1024
    return (op_types(g), counts, sizes, x.shape, y.shape, len(inputs),
            len(inits), n_cos)


# Not written unless named on the command line.
OPT_IN = {"googlenet_lrn_opset9_ir3"}


def main():
    names = sys.argv[1:] or [n for n in MODELS if n not in OPT_IN]
    for name in names:
        export(name)
    for name in names:
        ops, counts, sizes, xs, ys, n_in, n_init, n_cos = verify(name)
        print("%s: IR %d, opset %d, input %s -> output %s, %d nodes, "
              "%d graph inputs (%d initializers), %d ConstantOfShape" %
              (name, IR_VERSION, MODELS[name]["opset"], list(xs), list(ys),
               sum(counts.values()), n_in, n_init, n_cos))
        print("  ops: " + ", ".join("%s x%d" % (o, counts[o]) for o in ops))
        print("  sizes: " + ", ".join("%s %d B" % kv
                                      for kv in sorted(sizes.items())))
    print("all %d folders verified" % len(names))


if __name__ == "__main__":
    main()
