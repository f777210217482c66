"""onnorm: ONNX models and normalization operators on onnorm's C kernels.

NumPy arrays in, NumPy arrays out, through ctypes over libonnorm.so (see
_lib.py for where the library is looked for).

    import numpy as np, onnorm
    sess = onnorm.Session(onnorm.Model("model.onnx"), threads=2)
    outputs = sess.run({"x": np.ones((1, 3, 8, 8), np.float32)})   # {name: ndarray}

    y = onnorm.layer_norm(x, scale, bias, axis=-1, epsilon=1e-5)

Every failure raises onnorm.Error carrying the library's message.
"""

import ctypes

import numpy as np

from . import _lib
from ._lib import Error, library_path

__all__ = ["Error", "Model", "Session", "run", "run_op", "layer_norm", "batch_norm",
           "group_norm", "instance_norm", "rms_norm", "lp_norm", "mean_variance_norm", "lrn",
           "supported_ops", "library_path", "__version__"]

__version__ = "0.1.0"

BFLOAT16 = 16

# ONNX TensorProto.DataType codes <-> NumPy dtypes (bfloat16 has no NumPy
# type: see Session.run).
_NP_OF = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32,
          7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64}
_CODE_OF = {np.dtype(v): k for k, v in _NP_OF.items()}


def _dtype_code(arr):
    code = _CODE_OF.get(arr.dtype)
    if code is None:
        raise Error("onnorm: element type %s is not supported" % arr.dtype, "ONNORM_ERR_UNSUPPORTED")
    return code


def _contiguous(arr):
    """A C-contiguous array of the same shape (np.ascontiguousarray would
    turn a 0-d array into a 1-d one)."""
    arr = np.asarray(arr)
    return arr if arr.flags.c_contiguous else np.array(arr, order="C")


def _to_bfloat16_bits(arr):
    """float32 -> bfloat16 bit patterns (uint16), rounding to nearest even."""
    f = np.array(arr, dtype=np.float32, order="C")
    u = f.view(np.uint32)
    nan = np.isnan(f)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    r[nan] = 0x7FC0
    return r


def _from_bfloat16_bits(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _dims(shape):
    if len(shape) > _lib.MAX_RANK:
        raise Error("onnorm: rank %d exceeds %d" % (len(shape), _lib.MAX_RANK), "ONNORM_ERR_SHAPE")
    return (ctypes.c_int64 * _lib.MAX_RANK)(*shape)


def _copy_out(t):
    """A NumPy copy of an onnorm_tensor (bfloat16 as float32)."""
    shape = tuple(t.dims[i] for i in range(t.rank))
    if t.dtype == BFLOAT16:
        np_type = np.uint16
    else:
        np_type = _NP_OF.get(t.dtype)
        if np_type is None:
            raise Error("onnorm: output element type %d has no NumPy type" % t.dtype,
                        "ONNORM_ERR_UNSUPPORTED")
    count = int(np.prod(shape, dtype=np.int64))
    if count == 0 or not t.data:
        out = np.zeros(shape, dtype=np_type)
    else:
        nbytes = count * np.dtype(np_type).itemsize
        buf = (ctypes.c_char * nbytes).from_address(t.data)
        out = np.frombuffer(buf, dtype=np_type).reshape(shape).copy()
    return _from_bfloat16_bits(out) if t.dtype == BFLOAT16 else out


def _info(t):
    dtype = "bfloat16" if t.dtype == BFLOAT16 else (
        np.dtype(_NP_OF[t.dtype]).name if t.dtype in _NP_OF else None)
    shape = None if t.rank < 0 else tuple(
        (None if t.dims[i] < 0 else int(t.dims[i])) for i in range(t.rank))
    return dtype, shape


class Model:
    """A loaded ONNX model: Model(path), or Model(bytes) for a serialized one.

    allow_unsupported: load a model with unsupported nodes (for inspection;
    sessions on it fail). fold_constants: run constant nodes once at load.
    """

    def __init__(self, source, allow_unsupported=False, fold_constants=True, name=None):
        flags = (1 if allow_unsupported else 0) | (0 if fold_constants else 2)
        handle = ctypes.c_void_p()
        err = _lib.new_error()
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            _lib.check(_lib.model_load_buffer(data, len(data), (name or "<buffer>").encode(), flags,
                                              ctypes.byref(handle), ctypes.byref(err)), err)
        else:
            path = str(source)
            _lib.check(_lib.model_load_file(path.encode(), flags, ctypes.byref(handle),
                                            ctypes.byref(err)), err)
        self._h = handle

    def close(self):
        if getattr(self, "_h", None):
            _lib.model_free(self._h)
            self._h = None

    def __del__(self):
        self.close()

    @property
    def input_names(self):
        """The inputs a run must feed (initializer-backed inputs are not listed)."""
        return [_lib.model_input_name(self._h, i).decode()
                for i in range(_lib.model_input_count(self._h))]

    @property
    def output_names(self):
        return [_lib.model_output_name(self._h, i).decode()
                for i in range(_lib.model_output_count(self._h))]

    @property
    def inputs(self):
        """[(name, dtype name, shape with None for unknown dims)]"""
        res = []
        for i in range(_lib.model_input_count(self._h)):
            t = _lib.Tensor()
            _lib.model_input_info(self._h, i, ctypes.byref(t))
            res.append((_lib.model_input_name(self._h, i).decode(),) + _info(t))
        return res

    @property
    def outputs(self):
        """[(name, dtype name, shape or None when the model states none)]"""
        res = []
        for i in range(_lib.model_output_count(self._h)):
            t = _lib.Tensor()
            _lib.model_output_info(self._h, i, ctypes.byref(t))
            res.append((_lib.model_output_name(self._h, i).decode(),) + _info(t))
        return res


class Session:
    """Session(model, threads=0, opt_level=1, disabled_passes=None).

    model: a Model, a path or serialized bytes. threads 0 = OpenMP's default.
    opt_level 0 runs the model's graph as is, 1 applies onnorm's rewrites.
    """

    def __init__(self, model, threads=0, opt_level=1, disabled_passes=None):
        if not isinstance(model, Model):
            model = Model(model)
        self.model = model  # the session reads it: keep it alive
        opts = _lib.SessionOptions()
        _lib.session_options_init(ctypes.byref(opts))
        opts.num_threads = int(threads)
        opts.optimization_level = int(opt_level)
        opts.disabled_passes = disabled_passes.encode() if disabled_passes else None
        handle = ctypes.c_void_p()
        err = _lib.new_error()
        _lib.check(_lib.session_create(model._h, ctypes.byref(opts), ctypes.byref(handle),
                                       ctypes.byref(err)), err)
        self._h = handle
        self._bf16_inputs = {name for name, dtype, _ in model.inputs if dtype == "bfloat16"}

    def close(self):
        if getattr(self, "_h", None):
            _lib.session_free(self._h)
            self._h = None

    def __del__(self):
        self.close()

    @property
    def threads(self):
        return _lib.session_threads(self._h)

    @property
    def input_names(self):
        return self.model.input_names

    @property
    def output_names(self):
        return self.model.output_names

    def run(self, feeds, output_names=None):
        """Runs the model on {input name: array}; returns {output name: array}
        (copies, in graph order). Inputs declared bfloat16 take float32
        arrays (rounded to nearest even); bfloat16 outputs come back as
        float32."""
        err = _lib.new_error()
        keep = []
        for name, value in feeds.items():
            arr = np.asarray(value)
            if name in self._bf16_inputs:
                # uint16 arrays are taken as bfloat16 bit patterns.
                arr = _contiguous(arr) if arr.dtype == np.uint16 else _to_bfloat16_bits(arr)
                code = BFLOAT16
            else:
                arr = _contiguous(arr)
                code = _dtype_code(arr)
            dims = _dims(arr.shape)
            keep += [arr, dims]
            # An empty array may have no buffer; the kernel reads nothing.
            data = arr.ctypes.data if arr.size else ctypes.addressof(dims)
            _lib.check(_lib.session_bind_input(self._h, str(name).encode(), code, dims, arr.ndim,
                                               data, ctypes.byref(err)), err)
        # Every input must be bound afresh on each run: a binding left from an
        # earlier run would point at an array that may be gone.
        missing = [n for n in self.input_names if n not in feeds]
        if missing:
            raise Error("onnorm: missing input%s %s (the model takes %s)"
                        % ("s" if len(missing) > 1 else "", ", ".join(missing),
                           ", ".join(self.input_names)), "ONNORM_ERR_NOT_FOUND")
        _lib.check(_lib.session_run(self._h, ctypes.byref(err)), err)
        out = {}
        for name in (output_names or self.output_names):
            t = _lib.Tensor()
            _lib.check(_lib.session_output(self._h, name.encode(), ctypes.byref(t),
                                           ctypes.byref(err)), err)
            out[name] = _copy_out(t)
        del keep
        return out


def run(model, feeds, **session_options):
    """One-shot: Session(model, **session_options).run(feeds)."""
    return Session(model, **session_options).run(feeds)


# ---- the operator-level API (include/onnorm_ops.h) -------------------------

_DEFAULT_OPSET = {"": 23, "ai.onnx": 23, "com.microsoft": 1, "ai.onnorm": 1, "ai.onnx.ml": 1}


def _make_attrs(attrs):
    arr = (_lib.Attr * max(len(attrs), 1))()
    keep = []
    for k, (name, v) in enumerate(sorted(attrs.items())):
        a = arr[k]
        bname = name.encode()
        keep.append(bname)
        a.name = bname
        if isinstance(v, (bool, int, np.integer)):
            a.type, a.i = _lib.ATTR_INT, int(v)
        elif isinstance(v, (float, np.floating)):
            a.type, a.f = _lib.ATTR_FLOAT, float(v)
        elif isinstance(v, (str, bytes)):
            s = v.encode() if isinstance(v, str) else v
            keep.append(s)
            a.type, a.s = _lib.ATTR_STRING, s
        else:
            vals = list(v)
            if all(isinstance(x, (bool, int, np.integer)) for x in vals):
                buf = (ctypes.c_int64 * max(len(vals), 1))(*[int(x) for x in vals])
                a.type, a.ints = _lib.ATTR_INTS, ctypes.cast(buf, ctypes.POINTER(ctypes.c_int64))
            else:
                buf = (ctypes.c_float * max(len(vals), 1))(*[float(x) for x in vals])
                a.type, a.floats = _lib.ATTR_FLOATS, ctypes.cast(buf, ctypes.POINTER(ctypes.c_float))
            keep.append(buf)
            a.n = len(vals)
    return arr, len(attrs), keep


def run_op(op_type, inputs, opset=None, domain="", num_outputs=1, threads=0, **attrs):
    """Runs one normalization operator of the operator-level API.

    op_type / domain / opset: as a node of a model with that opset import
    (default: the newest opset onnorm knows for the domain). inputs: arrays
    in ONNX order, None for an omitted optional input. attrs: ONNX
    attributes (int, float, str, or lists of ints / floats). num_outputs:
    how many outputs to request (e.g. 3 for BatchNormalization's training
    outputs). Returns one array, or a tuple when num_outputs > 1.
    """
    if opset is None:
        opset = _DEFAULT_OPSET.get(domain or "", 1)
    err = _lib.new_error()
    attr_arr, n_attrs, keep = _make_attrs(attrs)
    op = ctypes.c_void_p()
    _lib.check(_lib.op_create((domain or "").encode(), op_type.encode(), int(opset), attr_arr,
                              n_attrs, ctypes.byref(op), ctypes.byref(err)), err)
    try:
        arrays, in_ts = [], []
        for x in inputs:
            if x is None:
                in_ts.append(None)
                continue
            a = _contiguous(x)
            arrays.append(a)
            t = _lib.Tensor()
            t.dtype, t.rank, t.dims = _dtype_code(a), a.ndim, _dims(a.shape)
            t.data = a.ctypes.data if a.size else ctypes.addressof(t.dims)
            in_ts.append(t)
        out_ts = [_lib.Tensor() for _ in range(num_outputs)]
        TP = ctypes.POINTER(_lib.Tensor)
        in_ptrs = (TP * max(len(in_ts), 1))(*[ctypes.pointer(t) if t is not None else TP()
                                               for t in in_ts])
        out_ptrs = (TP * max(num_outputs, 1))(*[ctypes.pointer(t) for t in out_ts])
        _lib.check(_lib.op_setup(op, len(in_ts), in_ptrs, num_outputs, out_ptrs, int(threads),
                                 ctypes.byref(err)), err)
        results = []
        for t in out_ts:
            shape = tuple(t.dims[i] for i in range(t.rank))
            if t.dtype not in _NP_OF:
                raise Error("onnorm: output element type %d has no NumPy type" % t.dtype,
                            "ONNORM_ERR_UNSUPPORTED")
            results.append(np.empty(shape, dtype=_NP_OF[t.dtype]))
        out_data = (ctypes.c_void_p * max(num_outputs, 1))(
            *[(r.ctypes.data if r.size else ctypes.addressof(t.dims)) for r, t in zip(results, out_ts)])
        _lib.check(_lib.op_bind(op, 0, None, num_outputs, out_data, ctypes.byref(err)), err)
        _lib.check(_lib.op_run(op, ctypes.byref(err)), err)
    finally:
        _lib.op_free(op)
    del keep, arrays
    return results[0] if num_outputs == 1 else tuple(results)


def supported_ops():
    """[(domain, op_type)] that run_op accepts ("" = ai.onnx)."""
    res = []
    for i in range(_lib.op_count()):
        d, t = ctypes.c_char_p(), ctypes.c_char_p()
        if _lib.op_at(i, ctypes.byref(d), ctypes.byref(t)):
            res.append(((d.value or b"").decode(), t.value.decode()))
    return res


def _as_param(p, like, n=None):
    return _contiguous(np.asarray(p, dtype=np.asarray(like).dtype))


def layer_norm(x, scale, bias=None, axis=-1, epsilon=1e-5, threads=0):
    """LayerNormalization-17: normalizes over axes [axis, rank)."""
    x = np.asarray(x)
    return run_op("LayerNormalization",
                  [x, _as_param(scale, x), None if bias is None else _as_param(bias, x)],
                  opset=17, axis=int(axis), epsilon=float(epsilon), threads=threads)


def batch_norm(x, scale, bias, mean, var, epsilon=1e-5, threads=0):
    """BatchNormalization-15 in inference mode (per-channel on axis 1)."""
    x = np.asarray(x)
    return run_op("BatchNormalization", [x] + [_as_param(p, x) for p in (scale, bias, mean, var)],
                  opset=15, epsilon=float(epsilon), threads=threads)


def group_norm(x, scale, bias, num_groups, epsilon=1e-5, threads=0):
    """GroupNormalization-21: scale and bias per channel."""
    x = np.asarray(x)
    return run_op("GroupNormalization", [x, _as_param(scale, x), _as_param(bias, x)], opset=21,
                  num_groups=int(num_groups), epsilon=float(epsilon), threads=threads)


def instance_norm(x, scale, bias, epsilon=1e-5, threads=0):
    """InstanceNormalization-6: per (sample, channel) over the spatial axes."""
    x = np.asarray(x)
    return run_op("InstanceNormalization", [x, _as_param(scale, x), _as_param(bias, x)],
                  opset=6, epsilon=float(epsilon), threads=threads)


def rms_norm(x, scale, axis=-1, epsilon=1e-5, threads=0):
    """RMSNormalization-23: x / sqrt(mean(x^2 over [axis, rank)) + epsilon) * scale."""
    x = np.asarray(x)
    return run_op("RMSNormalization", [x, _as_param(scale, x)], opset=23, axis=int(axis),
                  epsilon=float(epsilon), threads=threads)


def lp_norm(x, axis=-1, p=2, threads=0):
    """LpNormalization-1 (p 1 or 2)."""
    return run_op("LpNormalization", [x], opset=22, axis=int(axis), p=int(p), threads=threads)


def mean_variance_norm(x, axes=(0, 2, 3), threads=0):
    """MeanVarianceNormalization-13."""
    return run_op("MeanVarianceNormalization", [x], opset=13, axes=[int(a) for a in axes],
                  threads=threads)


def lrn(x, size, alpha=1e-4, beta=0.75, bias=1.0, threads=0):
    """LRN-13 across channels."""
    return run_op("LRN", [x], opset=13, size=int(size), alpha=float(alpha), beta=float(beta),
                  bias=float(bias), threads=threads)
