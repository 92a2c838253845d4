"""The globals generated cuda kernels run in: dtype constructors, math, device helpers.

The scalar lowering rules (shared with the numba backend, see ``rules.py``)
emit calls by name -- ``exp_f32(x)``, ``gelu_tanh_f64(x)``, ``round_f16(x)``,
``random_uniform_f32(key, i)`` -- and plain ``math.*`` calls.  This module
defines every such helper once, as ordinary Python over the names of the
kernel namespace, and builds that namespace per target:

* GPU: ``math`` is the real module (numba.cuda maps ``math.exp`` on f32 to
  libdevice's ``expf`` and so on) and each helper is a copy of the function
  below whose globals are the namespace, compiled with
  ``numba.cuda.jit(device=True)``;
* simulator: kernels run as Python, so ``math`` is ``SIMULATOR_MATH``, whose
  functions follow IEEE-754 like the GPU (``exp(1000)`` is inf, ``log(0)``
  is -inf, ``sqrt(-1)`` is NaN) where Python's ``math`` would raise, and
  keep numpy scalar dtypes (an f32 in, an f32 out).

Float16 values are stored as f16 and computed as f32 (``f16_to_f32``,
``f32_to_f16``, and ``round_f16`` after each op, the convention of the
scalar rules).  ``random_uniform_f32`` repeats the integer steps of
``graphc.ir.ops.random`` exactly, so random numbers are bit-identical to the
reference on every target.  The namespace is built once per process and
target (``helper_namespace``) and copied for each compiled program.
"""

from __future__ import annotations

import math
import types
from typing import Any, Callable

import numpy as np

F16, F32, F64 = np.float16, np.float32, np.float64
I32, I64, U8 = np.int32, np.int64, np.uint8
INF, NAN = np.inf, np.nan


def _same_type(x: Any, y: float) -> Any:
    return x.dtype.type(y) if isinstance(x, np.generic) else np.float64(y)


SIMULATOR_MATH = types.SimpleNamespace(
    exp=np.exp, log=np.log, sqrt=np.sqrt, tanh=np.tanh,
    erf=lambda x: _same_type(x, math.erf(x)), erfc=lambda x: _same_type(x, math.erfc(x)),
)
"""``math`` as simulated kernels see it (see the module docstring)."""


# -- helpers (their globals are replaced by the kernel namespace) --------------------

def exp_f32(x):
    return math.exp(x)


def tanh_f32(x):
    return math.tanh(x)


def erf_f32(x):
    return math.erf(x)


def erfc_f32(x):
    return math.erfc(x)


def sigmoid_f32(x):
    e = math.exp(-abs(x))
    d = F32(1.0) + e
    return F32(1.0) / d if x >= F32(0.0) else e / d


def sigmoid_f64(x):
    e = math.exp(-abs(x))
    d = F64(1.0) + e
    return F64(1.0) / d if x >= F64(0.0) else e / d


def gelu_erf_f32(x):
    return F32(0.5) * x * math.erfc(-x * F32(0.7071067811865476))


def gelu_erf_f64(x):
    return F64(0.5) * x * math.erfc(-x * F64(0.7071067811865476))


def gelu_tanh_f32(x):
    inner = F32(0.7978845608028654) * (x + F32(0.044715) * x * x * x)
    return F32(0.5) * x * (F32(1.0) + math.tanh(inner))


def gelu_tanh_f64(x):
    inner = F64(0.7978845608028654) * (x + F64(0.044715) * x * x * x)
    return F64(0.5) * x * (F64(1.0) + math.tanh(inner))


def f16_to_f32(h):
    return F32(h)


def f32_to_f16(x):
    return F16(x)


def round_f16(x):
    return F32(F16(x))


def mix32(x):
    x = x ^ (x >> I64(16))
    x = (x * I64(0x21F0AAAD)) & I64(0xFFFFFFFF)
    x = x ^ (x >> I64(15))
    x = (x * I64(0x735A2D97)) & I64(0xFFFFFFFF)
    return x ^ (x >> I64(15))


def random_uniform_f32(key, index):
    m = I64(0xFFFFFFFF)
    k1 = mix32((key & m) ^ mix32((key >> I64(32)) & m))
    k2 = mix32(k1 ^ I64(0x9E3779B9))
    h = mix32((mix32((index & m) ^ k1) + ((index >> I64(32)) & m) + k2) & m)
    return F32(h >> I64(8)) * F32(5.9604644775390625e-08)


HELPERS: dict[str, Callable[..., Any]] = {f.__name__: f for f in (
    exp_f32, tanh_f32, erf_f32, erfc_f32, sigmoid_f32, sigmoid_f64, gelu_erf_f32,
    gelu_erf_f64, gelu_tanh_f32, gelu_tanh_f64, f16_to_f32, f32_to_f16, round_f16, mix32,
    random_uniform_f32)}
"""Every helper a kernel may call, by the name it calls."""

CONSTANTS: dict[str, Any] = {"np": np, "F16": F16, "F32": F32, "F64": F64, "I32": I32,
                             "I64": I64, "U8": U8, "INF": INF, "NAN": NAN}


def build_namespace(simulated: bool) -> dict[str, Any]:
    """A new namespace with freshly made helpers (see the module docstring)."""
    from numba import cuda

    namespace: dict[str, Any] = dict(CONSTANTS)
    namespace["cuda"] = cuda
    namespace["math"] = SIMULATOR_MATH if simulated else math
    for name, fn in HELPERS.items():
        bound = types.FunctionType(fn.__code__, namespace, name, fn.__defaults__)
        namespace[name] = bound if simulated else cuda.jit(device=True)(bound)
    return namespace


_NAMESPACES: dict[bool, dict[str, Any]] = {}


def helper_namespace(simulated: bool) -> dict[str, Any]:
    """The process-wide namespace for a target kind (do not modify; copy it)."""
    if simulated not in _NAMESPACES:
        _NAMESPACES[simulated] = build_namespace(simulated)
    return _NAMESPACES[simulated]
