"""Unary elementwise ops and ``cast``.

Each op maps every element independently and keeps the input's type (``cast``
changes only the dtype).  References compute in the input dtype, except that
f16 is evaluated in f32 and rounded back (as every practical backend does),
and ``erf``/exact ``gelu`` go through f64 ``math.erf`` so the oracle is
correctly rounded.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..attrs import BOOL, DTYPE, AttrSpec
from ..dtypes import dtype_of
from ..opdef import FusionKind, OpDef, define_ops
from ..types import TensorType
from .common import require_dtype

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_erf_f64 = np.vectorize(math.erf, otypes=[np.float64])


def _in_precision(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """Run ``fn`` in at least f32 and return the input's dtype."""

    def run(x: np.ndarray) -> np.ndarray:
        work = x.astype(np.float32) if x.dtype == np.float16 else x
        return np.asarray(fn(work)).astype(x.dtype, copy=False)

    run.__name__ = fn.__name__
    return run


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp(-|x|) never overflows; pick the form that avoids cancellation.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype)


def _erf(x: np.ndarray) -> np.ndarray:
    return _erf_f64(x.astype(np.float64))


def _gelu(x: np.ndarray, *, approximate: bool) -> np.ndarray:
    work = x.astype(np.float32) if x.dtype == np.float16 else x
    if approximate:
        inner = _SQRT_2_OVER_PI * (work + 0.044715 * work * work * work)
        out = 0.5 * work * (1.0 + np.tanh(inner))
    else:
        wide = work.astype(np.float64)
        out = 0.5 * wide * (1.0 + _erf_f64(wide / math.sqrt(2.0)))
    return np.asarray(out).astype(x.dtype, copy=False)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, np.zeros((), x.dtype))


def _unary(name: str, dtype_class: str, fn: Callable[..., np.ndarray], doc: str,
           attrs: tuple[AttrSpec, ...] = (), differentiable: bool = True) -> OpDef:
    def infer(x: TensorType, **_: object) -> TensorType:
        require_dtype(name, x, dtype_class)
        return x

    return OpDef(name=name, arity=1, input_names=("x",), attrs=attrs, infer=infer, reference=fn,
                 fusion=FusionKind.ELEMENTWISE, category="elementwise", doc=doc,
                 differentiable=differentiable)


def _infer_cast(x: TensorType, *, dtype: object) -> TensorType:
    return x.with_dtype(dtype)


def _cast(x: np.ndarray, *, dtype: object) -> np.ndarray:
    return x.astype(dtype_of(dtype).numpy)


define_ops([
    _unary("neg", "numeric", np.negative, "-x"),
    _unary("abs", "numeric", np.abs, "|x|"),
    _unary("exp", "float", _in_precision(np.exp), "e**x"),
    _unary("log", "float", _in_precision(np.log), "natural logarithm"),
    _unary("sqrt", "float", _in_precision(np.sqrt), "square root"),
    _unary("rsqrt", "float", _in_precision(lambda x: 1.0 / np.sqrt(x)), "1 / sqrt(x)"),
    _unary("square", "numeric", np.square, "x * x"),
    _unary("reciprocal", "float", _in_precision(np.reciprocal), "1 / x"),
    _unary("tanh", "float", _in_precision(np.tanh), "hyperbolic tangent"),
    _unary("sigmoid", "float", _in_precision(_sigmoid), "1 / (1 + exp(-x)), overflow-free"),
    _unary("relu", "numeric", _relu, "max(x, 0)"),
    _unary("gelu", "float", _gelu, "x * Phi(x); approximate=true uses the tanh formula",
           attrs=(AttrSpec("approximate", BOOL, False),)),
    _unary("erf", "float", _in_precision(_erf), "the error function"),
    _unary("sign", "numeric", np.sign, "-1, 0 or 1 by the sign of x (NaN stays NaN)",
           differentiable=False),
    OpDef(name="cast", arity=1, input_names=("x",), attrs=(AttrSpec("dtype", DTYPE),),
          infer=_infer_cast, reference=_cast, fusion=FusionKind.ELEMENTWISE,
          category="elementwise", doc="convert to another dtype (numpy astype semantics)"),
])
