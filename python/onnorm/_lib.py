"""ctypes bindings to libonnorm.so (include/onnorm.h and include/onnorm_ops.h).

The library is looked for, in order, at:
  1. $ONNORM_LIBRARY (a path to the .so);
  2. next to this package: the library directory of the install the
     package belongs to (_libdir.py, written by cmake --install), then
     libonnorm.so* in the package's directory or its parent;
  3. ../build/ relative to the repository (the default build directory);
  4. ctypes.util.find_library("onnorm") (the system's library path).
"""

import ctypes
import ctypes.util
import glob
import os

MAX_RANK = 8


class Error(Exception):
    """An onnorm call failed. `code` is the onnorm_status name
    (e.g. "ONNORM_ERR_SHAPE"), str() the library's message."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * 1024)]


class Tensor(ctypes.Structure):
    _fields_ = [
        ("dtype", ctypes.c_int),
        ("rank", ctypes.c_int),
        ("dims", ctypes.c_int64 * MAX_RANK),
        ("data", ctypes.c_void_p),
        ("name", ctypes.c_char_p),
    ]


class SessionOptions(ctypes.Structure):
    _fields_ = [
        ("num_threads", ctypes.c_int),
        ("optimization_level", ctypes.c_int),
        ("disabled_passes", ctypes.c_char_p),
        ("max_arena_bytes", ctypes.c_size_t),  # must mirror onnorm.h (init writes it)
    ]


class Attr(ctypes.Structure):
    # onnorm_attr: the onnorm_attr_* helpers are static inline, so the
    # struct is filled here field by field.
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("type", ctypes.c_int),
        ("f", ctypes.c_float),
        ("i", ctypes.c_int64),
        ("s", ctypes.c_char_p),
        ("floats", ctypes.POINTER(ctypes.c_float)),
        ("ints", ctypes.POINTER(ctypes.c_int64)),
        ("n", ctypes.c_int),
    ]


ATTR_FLOAT, ATTR_INT, ATTR_STRING, ATTR_FLOATS, ATTR_INTS = 1, 2, 3, 6, 7


def _candidates():
    env = os.environ.get("ONNORM_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = [here, os.path.dirname(here)]
    try:  # an install: _libdir.py (written by cmake --install) locates the library
        from . import _libdir
        dirs.insert(0, os.path.normpath(os.path.join(here, _libdir.LIBDIR)))
    except ImportError:
        pass
    for d in dirs:
        for path in [os.path.join(d, "libonnorm.so")] + sorted(
                glob.glob(os.path.join(d, "libonnorm.so.*"))):
            yield path
    repo = os.path.dirname(os.path.dirname(here))
    yield os.path.join(repo, "build", "libonnorm.so")
    found = ctypes.util.find_library("onnorm")
    if found:
        yield found


def _load():
    tried = []
    for path in _candidates():
        if os.path.sep in path and not os.path.exists(path):
            tried.append(path + " (missing)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError("onnorm: libonnorm.so not found; set ONNORM_LIBRARY to its path. Tried: "
                      + "; ".join(tried or ["nothing"]))


lib, library_path = _load()

_P = ctypes.c_void_p
_E = ctypes.POINTER(_Error)
_S = ctypes.c_char_p


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


status_str = _fn("onnorm_status_str", _S, ctypes.c_int)
model_load_file = _fn("onnorm_model_load_file", ctypes.c_int, _S, ctypes.c_uint,
                      ctypes.POINTER(_P), _E)
model_load_buffer = _fn("onnorm_model_load_buffer", ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t,
                        _S, ctypes.c_uint, ctypes.POINTER(_P), _E)
model_free = _fn("onnorm_model_free", None, _P)
model_input_count = _fn("onnorm_model_input_count", ctypes.c_int, _P)
model_input_name = _fn("onnorm_model_input_name", _S, _P, ctypes.c_int)
model_input_info = _fn("onnorm_model_input_info", ctypes.c_int, _P, ctypes.c_int,
                       ctypes.POINTER(Tensor))
model_output_count = _fn("onnorm_model_output_count", ctypes.c_int, _P)
model_output_name = _fn("onnorm_model_output_name", _S, _P, ctypes.c_int)
model_output_info = _fn("onnorm_model_output_info", ctypes.c_int, _P, ctypes.c_int,
                        ctypes.POINTER(Tensor))
session_options_init = _fn("onnorm_session_options_init", None, ctypes.POINTER(SessionOptions))
session_create = _fn("onnorm_session_create", ctypes.c_int, _P, ctypes.POINTER(SessionOptions),
                     ctypes.POINTER(_P), _E)
session_threads = _fn("onnorm_session_threads", ctypes.c_int, _P)
session_bind_input = _fn("onnorm_session_bind_input", ctypes.c_int, _P, _S, ctypes.c_int,
                         ctypes.POINTER(ctypes.c_int64), ctypes.c_int, _P, _E)
session_run = _fn("onnorm_session_run", ctypes.c_int, _P, _E)
session_output = _fn("onnorm_session_output", ctypes.c_int, _P, _S, ctypes.POINTER(Tensor), _E)
session_free = _fn("onnorm_session_free", None, _P)

op_create = _fn("onnorm_op_create", ctypes.c_int, _S, _S, ctypes.c_int, ctypes.POINTER(Attr),
                ctypes.c_int, ctypes.POINTER(_P), _E)
op_setup = _fn("onnorm_op_setup", ctypes.c_int, _P, ctypes.c_int,
               ctypes.POINTER(ctypes.POINTER(Tensor)), ctypes.c_int,
               ctypes.POINTER(ctypes.POINTER(Tensor)), ctypes.c_int, _E)
op_bind = _fn("onnorm_op_bind", ctypes.c_int, _P, ctypes.c_int, ctypes.POINTER(_P), ctypes.c_int,
              ctypes.POINTER(_P), _E)
op_run = _fn("onnorm_op_run", ctypes.c_int, _P, _E)
op_free = _fn("onnorm_op_free", None, _P)
op_version = _fn("onnorm_op_version", ctypes.c_int, _P)
op_count = _fn("onnorm_op_count", ctypes.c_int)
op_at = _fn("onnorm_op_at", ctypes.c_int, ctypes.c_int, ctypes.POINTER(_S), ctypes.POINTER(_S))


STATUS_NAMES = {1: "ONNORM_ERR_IO", 2: "ONNORM_ERR_PARSE", 3: "ONNORM_ERR_INVALID",
                4: "ONNORM_ERR_UNSUPPORTED", 5: "ONNORM_ERR_SHAPE", 6: "ONNORM_ERR_DTYPE",
                7: "ONNORM_ERR_NOMEM", 8: "ONNORM_ERR_NOT_FOUND"}


def new_error():
    return _Error()


def check(status, err):
    """Raises Error with the library's message when status is not ONNORM_OK."""
    if status != 0:
        msg = err.message.decode("utf-8", "replace") or status_str(status).decode()
        raise Error(msg, STATUS_NAMES.get(status, str(status)))
