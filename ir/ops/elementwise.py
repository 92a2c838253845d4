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
from .grad_util import scalar

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


# -- gradients: vjp(b, node, g) -> (dx,) with x = node.inputs[0], y = node.output --------

def _mul(b, *values):
    out = values[0]
    for v in values[1:]:
        out = b.emit("mul", out, v)
    return out


def _c(b, value, like):
    return scalar(b, value, like.type.dtype)


def _neg_vjp(b, node, g):
    return (b.emit("neg", g),)


def _abs_vjp(b, node, g):
    return (b.emit("mul", g, b.emit("sign", node.inputs[0])),)


def _exp_vjp(b, node, g):
    return (b.emit("mul", g, node.output),)


def _log_vjp(b, node, g):
    return (b.emit("div", g, node.inputs[0]),)


def _sqrt_vjp(b, node, g):  # 0.5 / sqrt(x)
    return (b.emit("div", _mul(b, g, _c(b, 0.5, g)), node.output),)


def _rsqrt_vjp(b, node, g):  # -0.5 * x**-1.5 = -0.5 * y**3
    y = node.output
    return (_mul(b, g, _c(b, -0.5, g), y, y, y),)


def _square_vjp(b, node, g):
    return (_mul(b, g, _c(b, 2.0, g), node.inputs[0]),)


def _reciprocal_vjp(b, node, g):  # -1/x**2 = -y*y
    y = node.output
    return (b.emit("neg", _mul(b, g, y, y)),)


def _tanh_vjp(b, node, g):
    y = node.output
    return (b.emit("mul", g, b.emit("sub", _c(b, 1.0, g), b.emit("mul", y, y))),)


def _sigmoid_vjp(b, node, g):
    y = node.output
    return (_mul(b, g, y, b.emit("sub", _c(b, 1.0, g), y)),)


def _relu_vjp(b, node, g):
    x = node.inputs[0]
    return (b.emit("where", b.emit("gt", x, _c(b, 0, x)), g, _c(b, 0, g)),)


def _erf_vjp(b, node, g):  # 2/sqrt(pi) * exp(-x**2)
    x = node.inputs[0]
    bell = b.emit("exp", b.emit("neg", b.emit("mul", x, x)))
    return (_mul(b, g, _c(b, 2.0 / math.sqrt(math.pi), g), bell),)


def _gelu_vjp(b, node, g):
    x = node.inputs[0]
    if node.attrs["approximate"]:
        # d/dx 0.5 x (1 + t), t = tanh(u), u = c (x + k x^3):
        # 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3k x^2)
        k = 0.044715
        x2 = b.emit("mul", x, x)
        u = _mul(b, _c(b, _SQRT_2_OVER_PI, x), b.emit("add", x, _mul(b, _c(b, k, x), x2, x)))
        t = b.emit("tanh", u)
        half_one_plus_t = _mul(b, _c(b, 0.5, x), b.emit("add", _c(b, 1.0, x), t))
        du = _mul(b, _c(b, _SQRT_2_OVER_PI, x),
                  b.emit("add", _c(b, 1.0, x), _mul(b, _c(b, 3 * k, x), x2)))
        rest = _mul(b, _c(b, 0.5, x), x, b.emit("sub", _c(b, 1.0, x), b.emit("mul", t, t)), du)
        return (b.emit("mul", g, b.emit("add", half_one_plus_t, rest)),)
    # Phi(x) + x phi(x), Phi = 0.5 (1 + erf(x / sqrt 2)), phi = exp(-x^2/2) / sqrt(2 pi)
    cdf = _mul(b, _c(b, 0.5, x), b.emit("add", _c(b, 1.0, x),
                                         b.emit("erf", _mul(b, x, _c(b, 1 / math.sqrt(2), x)))))
    pdf = _mul(b, _c(b, 1 / math.sqrt(2 * math.pi), x),
               b.emit("exp", _mul(b, _c(b, -0.5, x), x, x)))
    return (b.emit("mul", g, b.emit("add", cdf, b.emit("mul", x, pdf))),)


def _cast_vjp(b, node, g):
    x = node.inputs[0]
    if not (x.type.dtype.is_float and g.type.dtype.is_float):
        return (None,)
    return (b.emit("cast", g, dtype=x.type.dtype),)


def _unary(name: str, dtype_class: str, fn: Callable[..., np.ndarray], doc: str,
           attrs: tuple[AttrSpec, ...] = (), differentiable: bool = True,
           vjp: Callable[..., tuple] | None = None) -> OpDef:
    def infer(x: TensorType, **_: object) -> TensorType:
        require_dtype(name, x, dtype_class)
        return x

    return OpDef(name=name, arity=1, input_names=("x",), attrs=attrs, infer=infer, reference=fn,
                 fusion=FusionKind.ELEMENTWISE, category="elementwise", doc=doc,
                 differentiable=differentiable, vjp=vjp)


def _infer_cast(x: TensorType, *, dtype: object) -> TensorType:
    return x.with_dtype(dtype)


def _cast(x: np.ndarray, *, dtype: object) -> np.ndarray:
    return x.astype(dtype_of(dtype).numpy)


define_ops([
    _unary("neg", "numeric", np.negative, "-x", vjp=_neg_vjp),
    _unary("abs", "numeric", np.abs, "|x|", vjp=_abs_vjp),
    _unary("exp", "float", _in_precision(np.exp), "e**x", vjp=_exp_vjp),
    _unary("log", "float", _in_precision(np.log), "natural logarithm", vjp=_log_vjp),
    _unary("sqrt", "float", _in_precision(np.sqrt), "square root", vjp=_sqrt_vjp),
    _unary("rsqrt", "float", _in_precision(lambda x: 1.0 / np.sqrt(x)), "1 / sqrt(x)",
           vjp=_rsqrt_vjp),
    _unary("square", "numeric", np.square, "x * x", vjp=_square_vjp),
    _unary("reciprocal", "float", _in_precision(np.reciprocal), "1 / x", vjp=_reciprocal_vjp),
    _unary("tanh", "float", _in_precision(np.tanh), "hyperbolic tangent", vjp=_tanh_vjp),
    _unary("sigmoid", "float", _in_precision(_sigmoid), "1 / (1 + exp(-x)), overflow-free",
           vjp=_sigmoid_vjp),
    _unary("relu", "numeric", _relu, "max(x, 0)", vjp=_relu_vjp),
    _unary("gelu", "float", _gelu, "x * Phi(x); approximate=true uses the tanh formula",
           attrs=(AttrSpec("approximate", BOOL, False),), vjp=_gelu_vjp),
    _unary("erf", "float", _in_precision(_erf), "the error function", vjp=_erf_vjp),
    _unary("sign", "numeric", np.sign, "-1, 0 or 1 by the sign of x (NaN stays NaN)",
           differentiable=False),
    OpDef(name="cast", arity=1, input_names=("x",), attrs=(AttrSpec("dtype", DTYPE),),
          infer=_infer_cast, reference=_cast, fusion=FusionKind.ELEMENTWISE,
          category="elementwise", doc="convert to another dtype (numpy astype semantics)",
          vjp=_cast_vjp),
])
