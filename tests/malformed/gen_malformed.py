#!/usr/bin/python3
"""Writes the malformed-input catalogue (tests/malformed/) and its manifest.

Each case is one small file (a model, or a TensorProto for the tensor
reader) that onnorm must refuse with a clear error: a given exit status and
a given substring of the message, never a crash, an abort or a large
allocation. The manifest (manifest.tsv) has one line per case:

    FILE <TAB> COMMAND <TAB> EXIT <TAB> SUBSTRING

COMMAND is `info` (load only), `run` (load, plan with fixed-size inputs and
run once), `optimize` (load and optimize) or `tensor` (read a TensorProto:
`onnorm run` on a tiny model fed from the file). run_catalogue.sh runs them.
The files are committed; this script regenerates them byte for byte
(python3-onnx 1.12, no randomness).

Decisions where the issue is silent: an allocation bomb that load-time
folding declines is not an error at load (the node stays in the graph and
the model stays valid); it fails when a session plans it, because
run_catalogue.sh gives every session a 256 MiB arena cap. The fuzzer's own
findings live in fuzz_*.onnx / fuzz_*.pb and are added with their lines by
hand (fuzz_findings.tsv, appended to the manifest by this script).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else HERE
F = TensorProto.FLOAT
I64 = TensorProto.INT64
cases = []  # (file, command, exit, substring)


def save(name, m, command, exit_code, substring, check=False):
    if check:
        onnx.checker.check_model(m)
    data = m.SerializeToString() if hasattr(m, "SerializeToString") else m
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    cases.append((name, command, exit_code, substring))


def model(nodes, inputs, outputs, inits=(), opset=17, name="g"):
    g = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def vi(name, dtype=F, shape=(1, 4)):
    return helper.make_tensor_value_info(name, dtype, shape)


def bare(name, dtype, dims):
    """A TensorProto with dims and type but no data (helper.make_tensor checks sizes)."""
    t = TensorProto()
    t.name, t.data_type = name, dtype
    t.dims.extend(dims)
    return t


def i64(name, vals):
    return numpy_helper.from_array(np.array(vals, dtype=np.int64), name)


relu = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x")], [vi("y")])

# ---- protobuf framing -------------------------------------------------------
full = relu.SerializeToString()
save("truncated_model.onnx", full[: len(full) // 2], "info", 1, "not an ONNX model")
save("truncated_one_byte.onnx", full[:-1], "info", 1, "not an ONNX model")
save("not_protobuf.onnx", b"\xff" * 64, "info", 1, "not an ONNX model")
save("empty.onnx", b"", "info", 1, "not an ONNX model")
# A length-delimited field claiming 2^62 bytes.
save("huge_length_prefix.onnx", b"\x3a\xff\xff\xff\xff\xff\xff\xff\xff\x3f", "info", 1,
     "not an ONNX model")

# ---- graph structure ----------------------------------------------------------
cyc = model([helper.make_node("Relu", ["b"], ["a"], name="n1"),
             helper.make_node("Relu", ["a"], ["b"], name="n2"),
             helper.make_node("Add", ["x", "b"], ["y"], name="n3")], [vi("x")], [vi("y")])
save("cycle.onnx", cyc, "info", 1, "cycle")
self_loop = model([helper.make_node("Relu", ["a"], ["a"], name="self"),
                   helper.make_node("Add", ["x", "a"], ["y"])], [vi("x")], [vi("y")])
save("self_loop.onnx", self_loop, "info", 1, "cycle")
dup_out = model([helper.make_node("Relu", ["x"], ["y"], name="r1"),
                 helper.make_node("Neg", ["x"], ["y"], name="r2")], [vi("x")], [vi("y")])
save("duplicate_output.onnx", dup_out, "info", 1, "output 'y' is already defined")
dup_init = model([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x")], [vi("y")],
                 [numpy_helper.from_array(np.ones((1, 4), np.float32), "w"),
                  numpy_helper.from_array(np.zeros((1, 4), np.float32), "w")])
save("duplicate_initializer.onnx", dup_init, "info", 1, "defined twice")
dup_in = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x"), vi("x")], [vi("y")])
save("duplicate_input.onnx", dup_in, "info", 1, "listed twice")
undef = model([helper.make_node("Add", ["x", "nowhere"], ["y"])], [vi("x")], [vi("y")])
save("undefined_input.onnx", undef, "info", 1, "nowhere")
no_out = model([helper.make_node("Relu", ["x"], ["z"])], [vi("x")], [vi("y")])
save("undefined_output.onnx", no_out, "info", 1, "'y'")

# ---- initializers: sizes, dims, types ----------------------------------------
w = numpy_helper.from_array(np.ones((1, 4), np.float32), "w")
w.raw_data = w.raw_data[:-3]
save("raw_data_short.onnx", model([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x")],
                                  [vi("y")], [w]), "info", 1, "raw_data holds 13 bytes")
w = numpy_helper.from_array(np.ones((1, 4), np.float32), "w")
w.raw_data = w.raw_data + b"\0" * 8
save("raw_data_long.onnx", model([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x")],
                                 [vi("y")], [w]), "info", 1, "raw_data holds 24 bytes")
w = bare("w", F, [1 << 40, 1 << 40])
save("dims_overflow.onnx", model([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x")],
                                 [vi("y")], [w]), "info", 1, "overflows")
w = bare("w", F, [1 << 30, 64])
save("typed_data_missing_huge.onnx", model([helper.make_node("Add", ["x", "w"], ["y"])],
                                           [vi("x")], [vi("y")], [w]), "info", 1, "'w'")
w = bare("w", F, [-3])
save("negative_dim.onnx", model([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x")],
                                [vi("y")], [w]), "info", 1, "negative dim")
w = helper.make_tensor("w", F, [4], vals=[1, 2, 3, 4])
w.data_type = 40
save("init_type_40.onnx", model([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x")],
                                [vi("y")], [w]), "info", 1, "element type code 40")
w.data_type = -7
save("init_type_negative.onnx", model([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x")],
                                      [vi("y")], [w]), "info", 1, "element type code -7")
for code in (33, 65, 1000, -1):
    m = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", dtype=code)], [vi("y")])
    save("input_type_%s.onnx" % str(code).replace("-", "neg"), m, "info", 1,
         "'x' has element type code %d" % code)
m = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x")], [vi("y", dtype=99)])
save("output_type_99.onnx", m, "info", 1, "'y' has element type code 99")
m = model([helper.make_node("Cast", ["x"], ["y"], to=77)], [vi("x")], [vi("y")])
save("cast_to_77.onnx", m, "run", 3, "cannot cast to type 77")
m = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", shape=(1 << 40, 1 << 40))], [vi("y")])
save("input_dims_huge.onnx", m, "run", 1, "input 'x': cannot allocate")
# 4 TiB of declared input: the CLI refuses to fill it past --max-arena-bytes.
m = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", shape=(1 << 20, 1 << 20))], [vi("y")])
save("input_dims_4tib.onnx", m, "run", 1, "(past --max-arena-bytes)")
m = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", shape=(-5, 4))], [vi("y")])
save("input_dim_negative.onnx", m, "run", 0, "")

# ---- external data ------------------------------------------------------------
def ext_model(location, offset=None, length=None, dims=(1, 4)):
    t = bare("w", F, list(dims))
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)
    return model([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x")], [vi("y")], [t])


with open(os.path.join(OUT, "ext_weights.bin"), "wb") as f:
    f.write(np.arange(4, dtype=np.float32).tobytes())  # 16 bytes
save("ext_ok.onnx", ext_model("ext_weights.bin"), "run", 0, "")
save("ext_truncated.onnx", ext_model("ext_weights.bin", offset=8), "info", 1, "'w'")
save("ext_length_past_end.onnx", ext_model("ext_weights.bin", length=4096), "info", 1, "'w'")
save("ext_offset_past_end.onnx", ext_model("ext_weights.bin", offset=1 << 40, length=16),
     "info", 1, "'w'")
save("ext_oversized.onnx", ext_model("ext_weights.bin", dims=(1, 2)), "info", 1, "'w'")
save("ext_dotdot.onnx", ext_model("../malformed/ext_weights.bin"), "info", 1,
     "must be relative to the model's directory")
save("ext_absolute.onnx", ext_model("/etc/hostname"), "info", 1,
     "must be relative to the model's directory")
save("ext_missing.onnx", ext_model("no_such_file.bin"), "info", 1, "no_such_file.bin")
save("ext_bad_offset.onnx", ext_model("ext_weights.bin", offset="-1"), "info", 1,
     "not a byte count")

# ---- allocation bombs ---------------------------------------------------------
# Each is a few hundred bytes. Folding declines them (or refuses them past
# the load limit); planning a session refuses them past the arena cap.
huge = [100000, 100000]
m = model([helper.make_node("ConstantOfShape", ["s"], ["c"],
                            value=numpy_helper.from_array(np.array([1], np.float32))),
           helper.make_node("Add", ["x", "c"], ["y"])],
          [vi("x", shape=(1, 1))], [vi("y", shape=None)], [i64("s", huge)])
save("bomb_constant_of_shape.onnx", m, "run", 1, "40000000000 bytes")
m = model([helper.make_node("Expand", ["x", "s"], ["y"])], [vi("x", shape=(1, 1))],
          [vi("y", shape=None)], [i64("s", huge)])
save("bomb_expand.onnx", m, "run", 1, "40000000000 bytes")
m = model([helper.make_node("Tile", ["x", "r"], ["y"])], [vi("x", shape=(1, 1))],
          [vi("y", shape=None)], [i64("r", huge)])
save("bomb_tile.onnx", m, "run", 1, "40000000000 bytes")
m = model([helper.make_node("Pad", ["x", "p"], ["y"])], [vi("x", shape=(1, 1))],
          [vi("y", shape=None)], [i64("p", [0, 0, 99999, 99999])])
save("bomb_pad.onnx", m, "run", 1, "40000000000 bytes")
m = model([helper.make_node("Range", ["a", "b", "d"], ["r"]),
           helper.make_node("Cast", ["r"], ["y"], to=F)],
          [], [vi("y", shape=None)],
          [numpy_helper.from_array(np.array(0, np.int64), "a"),
           numpy_helper.from_array(np.array(1 << 40, np.int64), "b"),
           numpy_helper.from_array(np.array(1, np.int64), "d")])
save("bomb_range.onnx", m, "run", 1, "8796093022208 bytes")
# A Tile of a 1 MiB constant by 4096: folding declines it (over 1 MiB and
# over its inputs); the run-time value is 4 GiB, over the arena cap.
m = model([helper.make_node("Tile", ["w", "r"], ["t"]),
           helper.make_node("ReduceSum", ["t"], ["y"], keepdims=0)], [], [vi("y", shape=None)],
          [numpy_helper.from_array(np.zeros((1, 1), np.float32), "w"), i64("r", [1 << 18, 4096])])
save("bomb_tile_constant.onnx", m, "run", 1, "4294967296 bytes")
# Concat(x, x) doubles, and each step's output equals its inputs' bytes: a
# chain of 40 from a 4-byte constant would fold to 4 TiB without a total
# budget. Folding stops at the load limit; the rest runs (and is refused by
# the arena cap).
nodes, prev = [], "c0"
for k in range(40):
    nodes.append(helper.make_node("Concat", [prev, prev], ["c%d" % (k + 1)], axis=0))
    prev = "c%d" % (k + 1)
nodes.append(helper.make_node("ReduceSum", [prev], ["y"], keepdims=0))
m = model(nodes, [], [vi("y", shape=None)],
          [numpy_helper.from_array(np.ones(1, np.float32), "c0")])
save("bomb_concat_doubling.onnx", m, "run", 1, "(Concat): its outputs")
# Reshape to a huge shape is only a view, but Expand after it is not.
m = model([helper.make_node("Expand", ["x", "s"], ["y"])], [vi("x", shape=(1, 1))],
          [vi("y", shape=None)], [i64("s", [1 << 31, 1 << 31, 1 << 31])])
save("bomb_expand_overflow.onnx", m, "run", 1, "has a size that overflows")

# ---- the tensor reader ---------------------------------------------------------
t = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(1, 6), "x")
tb = t.SerializeToString()
save("tensor_truncated.pb", tb[:-5], "tensor", 1, "not a valid TensorProto")
t2 = bare("x", F, [1 << 30, 64])
save("tensor_typed_missing_huge.pb", t2.SerializeToString(), "tensor", 1, "'x'")
t3 = bare("x", F, [1 << 40, 1 << 40])
save("tensor_dims_overflow.pb", t3.SerializeToString(), "tensor", 1, "overflows")
t4 = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(1, 6), "x")
t4.data_type = 50
save("tensor_type_50.pb", t4.SerializeToString(), "tensor", 1, "element type code 50")
t5 = bare("x", F, [9])
t5.data_location = TensorProto.EXTERNAL
e = t5.external_data.add()
e.key, e.value = "location", "/etc/passwd"
save("tensor_external.pb", t5.SerializeToString(), "tensor", 3, "external")

# The model the `tensor` cases feed (x: float[?, ?] -> Identity).
m = model([helper.make_node("Identity", ["x"], ["y"])], [vi("x", shape=("a", "b"))],
          [vi("y", shape=None)])
with open(os.path.join(OUT, "identity_model.onnx"), "wb") as f:
    f.write(m.SerializeToString())

with open(os.path.join(OUT, "manifest.tsv"), "w") as f:
    f.write("# file\tcommand\texit\tsubstring (written by gen_malformed.py; fuzz_* added by hand)\n")
    for c in cases:
        f.write("%s\t%s\t%d\t%s\n" % c)
    extra = os.path.join(HERE, "fuzz_findings.tsv")
    if os.path.exists(extra):
        f.write(open(extra).read())
print("%d cases written to %s" % (len(cases), OUT))
