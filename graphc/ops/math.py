"""Arithmetic, comparisons, reductions and matmul for ``graphc.ops``.

Each public function maps to one IR op (or a short composition) and follows
the Keras name and signature.  The tables below are the whole mapping;
``operands`` applies the dtype rules (one common dtype, weakly typed
constants) and ``floating`` casts integers to f32 for float-only ops, as
Keras does (``exp`` of an int tensor is a float tensor).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ..ir.dtypes import DType, dtype_of
from ..tracing import Traced
from .dispatch import graphc_op
from .operands import cast as cast_to
from .operands import find_tracer, floating, operand, operands


def _unary(name: str, ir_op: str, float_only: bool, doc: str) -> Callable[..., Any]:
    def fn(x: Any) -> Traced:
        x = operand(x)
        return x.tracer.emit(ir_op, floating(x) if float_only else x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return graphc_op(name)(fn)


negative = _unary("negative", "neg", False, "-x")
abs = _unary("abs", "abs", False, "|x|")  # noqa: A001 - Keras name
exp = _unary("exp", "exp", True, "e ** x")
log = _unary("log", "log", True, "natural logarithm")
sqrt = _unary("sqrt", "sqrt", True, "square root")
rsqrt = _unary("rsqrt", "rsqrt", True, "1 / sqrt(x)")
square = _unary("square", "square", False, "x * x")
reciprocal = _unary("reciprocal", "reciprocal", True, "1 / x")
tanh = _unary("tanh", "tanh", True, "hyperbolic tangent")
sigmoid = _unary("sigmoid", "sigmoid", True, "1 / (1 + exp(-x))")
relu = _unary("relu", "relu", False, "max(x, 0)")
erf = _unary("erf", "erf", True, "the error function")
sign = _unary("sign", "sign", False, "-1, 0 or 1 by the sign of x")


def _binary(name: str, ir_op: str, float_only: bool, doc: str) -> Callable[..., Any]:
    def fn(x1: Any, x2: Any) -> Traced:
        a, b = operands(x1, x2)
        if float_only:
            a, b = floating(a), floating(b)
        return a.tracer.emit(ir_op, a, b)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return graphc_op(name)(fn)


add = _binary("add", "add", False, "x1 + x2 (broadcasting)")
subtract = _binary("subtract", "sub", False, "x1 - x2")
multiply = _binary("multiply", "mul", False, "x1 * x2")
divide = _binary("divide", "div", True, "x1 / x2, true division (ints give f32)")
power = _binary("power", "pow", True, "x1 ** x2")
maximum = _binary("maximum", "maximum", False, "elementwise max")
minimum = _binary("minimum", "minimum", False, "elementwise min")
equal = _binary("equal", "eq", False, "x1 == x2 (bool)")
not_equal = _binary("not_equal", "ne", False, "x1 != x2 (bool)")
less = _binary("less", "lt", False, "x1 < x2 (bool)")
less_equal = _binary("less_equal", "le", False, "x1 <= x2 (bool)")
greater = _binary("greater", "gt", False, "x1 > x2 (bool)")
greater_equal = _binary("greater_equal", "ge", False, "x1 >= x2 (bool)")
true_divide = divide


@graphc_op("matmul")
def matmul(x1: Any, x2: Any) -> Traced:
    """Matrix product with numpy semantics (batched, 1-D operands allowed)."""
    a, b = operands(x1, x2)
    return a.tracer.emit("matmul", a, b)


dot = matmul


@graphc_op("where")
def where(condition: Any, x1: Any, x2: Any) -> Traced:
    """``x1`` where ``condition`` else ``x2`` (a non-bool condition means ``!= 0``)."""
    tracer = find_tracer(condition, x1, x2)   # the condition may be a constant
    (cond,) = operands(condition, tracer=tracer)
    if cond.dtype != DType.bool:
        cond = cond.tracer.emit("ne", *operands(cond, 0))
    a, b = operands(x1, x2, tracer=tracer)
    return a.tracer.emit("where", cond, a, b)


@graphc_op("clip")
def clip(x: Any, x_min: Any, x_max: Any) -> Traced:
    """``min(max(x, x_min), x_max)``."""
    x, lo = operands(x, x_min)
    x, hi = operands(x, x_max)
    return x.tracer.emit("minimum", x.tracer.emit("maximum", x, lo), hi)


@graphc_op("cast")
def cast(x: Any, dtype: object) -> Traced:
    """``x`` converted to ``dtype`` (numpy ``astype`` semantics)."""
    return cast_to(operand(x), dtype_of(dtype))


@graphc_op("gelu")
def gelu(x: Any, approximate: bool = False) -> Traced:
    """``x * Phi(x)``; ``approximate=True`` uses the tanh formula."""
    x = floating(operand(x))
    return x.tracer.emit("gelu", x, approximate=bool(approximate))


def _axes(axis: Any) -> Any:
    """``axis`` as the IR's ``axes`` attribute; the attribute schema rejects bad values."""
    return tuple(axis) if isinstance(axis, list) else axis


def _reduction(name: str, ir_op: str, float_only: bool, doc: str) -> Callable[..., Any]:
    def fn(x: Any, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Traced:
        x = operand(x)
        if float_only:
            x = floating(x)
        return x.tracer.emit(ir_op, x, axes=_axes(axis), keepdims=bool(keepdims))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return graphc_op(name)(fn)


sum = _reduction("sum", "sum", False, "sum over axis (None = all axes)")  # noqa: A001
mean = _reduction("mean", "mean", True, "mean over axis (None = all axes)")
max = _reduction("max", "max", False, "maximum over axis")  # noqa: A001
min = _reduction("min", "min", False, "minimum over axis")  # noqa: A001


@graphc_op("var")
def var(x: Any, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Traced:
    """Population variance ``mean((x - mean(x))**2)`` over axis."""
    x = floating(operand(x))
    centered = x.tracer.emit("sub", x, x.tracer.emit("mean", x, axes=_axes(axis), keepdims=True))
    return x.tracer.emit("mean", x.tracer.emit("square", centered), axes=_axes(axis),
                         keepdims=bool(keepdims))


@graphc_op("std")
def std(x: Any, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Traced:
    """Population standard deviation over axis."""
    v = var(x, axis=axis, keepdims=keepdims)
    return v.tracer.emit("sqrt", v)


@graphc_op("argmax")
def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Traced:
    """Index (i64) of the first maximum along axis; None = over the flattened tensor."""
    x = operand(x)
    if axis is None:
        x = x.tracer.emit("reshape", x, shape=(-1,))
        axis = 0
    return x.tracer.emit("argmax", x, axis=axis, keepdims=bool(keepdims))


@graphc_op("softmax")
def softmax(x: Any, axis: int = -1) -> Traced:
    """``exp(x) / sum(exp(x))`` along axis, computed without overflow."""
    x = floating(operand(x))
    return x.tracer.emit("softmax", x, axis=axis)


@graphc_op("log_softmax")
def log_softmax(x: Any, axis: int = -1) -> Traced:
    """``x - log(sum(exp(x)))`` along axis."""
    x = floating(operand(x))
    return x.tracer.emit("log_softmax", x, axis=axis)
