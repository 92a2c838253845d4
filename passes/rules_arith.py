"""Arithmetic canonicalization rules (used by ``canonicalize``).

Each rule is one line of data: a name, a pattern and an action.  Every rule
in ``ARITH_RULES`` is exact under IEEE arithmetic except that it may turn a
``-0.0`` into ``+0.0`` (``x + 0 -> x``); rules that are exact only for
finite floats (``x - x -> 0``, ``x * 0 -> 0``) apply to integers always and
to floats only in ``FAST_MATH_RULES``.  A rule whose result would change the
type of the value it replaces (broadcasting ``x`` up to the result shape is
how that is avoided) is declined by the driver.
"""

from __future__ import annotations

import numpy as np

from ..ir.core import Value
from ..ir.dtypes import DType
from .rewrite import Match, PatternSet, Rewriter, any_value, const, op, rule

_x, _y, _c = any_value("x"), any_value("y"), any_value("c")


def keep(name: str):
    """Action: the captured value ``name``, broadcast to the root's type if needed."""
    def action(rw: Rewriter, m: Match) -> Value | None:
        return rw.broadcast(m[name], m["root"].type)
    action.__name__ = f"keep_{name}"
    return action


def emit_unary(op_name: str, name: str = "x"):
    """Action: ``op_name(captured)``, broadcast to the root's type if needed."""
    def action(rw: Rewriter, m: Match) -> Value | None:
        return rw.broadcast(rw.emit(op_name, m[name]), m["root"].type)
    return action


def emit_binary(op_name: str, left: str = "x", right: str = "y"):
    def action(rw: Rewriter, m: Match) -> Value | None:
        return rw.broadcast(rw.emit(op_name, m[left], m[right]), m["root"].type)
    return action


def splat_of(scalar: object, *, exact_dtypes: tuple[DType, ...] | None = None):
    """Action: a tensor of the root's type filled with ``scalar``; with
    ``exact_dtypes`` only when the operand ``x`` has one of those dtypes."""
    def action(rw: Rewriter, m: Match) -> Value | None:
        if exact_dtypes is not None and m["x"].type.dtype not in exact_dtypes:
            return None
        return rw.splat(scalar, m["root"].type)
    return action


_INTS = (DType.i32, DType.i64)
_INTS_BOOL = (DType.i32, DType.i64, DType.bool)

# Casts that keep every value exactly, so cast(cast(x, a), b) == cast(x, b).
LOSSLESS_CASTS: frozenset[tuple[DType, DType]] = frozenset({
    (DType.f16, DType.f32), (DType.f16, DType.f64), (DType.f32, DType.f64),
    (DType.i32, DType.i64), (DType.i32, DType.f64),
    (DType.bool, DType.i32), (DType.bool, DType.i64), (DType.bool, DType.f16),
    (DType.bool, DType.f32), (DType.bool, DType.f64),
})


def _cast_same(rw: Rewriter, m: Match) -> Value | None:
    return m["x"] if m["root"].type == m["x"].type else None


def _cast_cast(rw: Rewriter, m: Match) -> Value | None:
    x, middle, target = m["x"], m["inner"].type.dtype, m["root"].type.dtype
    if (x.type.dtype, middle) not in LOSSLESS_CASTS:
        return None
    if not (target.is_float or not x.type.dtype.is_float):  # float->int: keep the path
        return None
    if target == x.type.dtype:
        return x
    return rw.emit("cast", x, dtype=target)


def _where_const(rw: Rewriter, m: Match) -> Value | None:
    cond = rw.const_array(m["cond"])
    if cond is None or cond.size == 0:
        return None
    if bool(np.all(cond)):
        return rw.broadcast(m["x"], m["root"].type)
    if not bool(np.any(cond)):
        return rw.broadcast(m["y"], m["root"].type)
    return None


def _pow_two(rw: Rewriter, m: Match) -> Value | None:
    return rw.broadcast(rw.emit("square", m["x"]), m["root"].type)


def _reduce_nothing(rw: Rewriter, m: Match) -> Value | None:
    node = m.node("root")
    return m["x"] if node.attrs["axes"] == () else None


ARITH_RULES = PatternSet([
    # x + 0 -> x ;  x - 0 -> x ;  0 - x -> -x
    rule("add-zero", op("add", _x, const(splat=0), name="root"), keep("x")),
    rule("sub-zero", op("sub", _x, const(splat=0), name="root"), keep("x")),
    rule("zero-sub", op("sub", const(splat=0), _x, name="root"), emit_unary("neg")),
    # x * 1 -> x ;  x / 1 -> x ;  x * -1 -> -x ;  x ** 1 -> x ;  x ** 2 -> square(x)
    rule("mul-one", op("mul", _x, const(splat=1), name="root"), keep("x")),
    rule("div-one", op("div", _x, const(splat=1), name="root"), keep("x")),
    rule("mul-minus-one", op("mul", _x, const(splat=-1), name="root"), emit_unary("neg")),
    rule("pow-one", op("pow", _x, const(splat=1), name="root"), keep("x")),
    rule("pow-two", op("pow", _x, const(splat=2), name="root"), _pow_two),
    # -(-x) -> x ;  x - (-y) -> x + y ;  x + (-y) -> x - y
    rule("neg-neg", op("neg", op("neg", _x), name="root"), keep("x")),
    rule("sub-neg", op("sub", _x, op("neg", _y), name="root"), emit_binary("add")),
    rule("add-neg", op("add", _x, op("neg", _y), name="root"), emit_binary("sub")),
    # integer x - x -> 0 ;  integer x * 0 -> 0
    rule("sub-self-int", op("sub", _x, _x, name="root"), splat_of(0, exact_dtypes=_INTS)),
    rule("mul-zero-int", op("mul", _x, const(splat=0), name="root"),
         splat_of(0, exact_dtypes=_INTS)),
    # max(x, x) -> x ;  min(x, x) -> x ;  where(c, x, x) -> x ;  where(const c, x, y)
    rule("max-self", op("maximum", _x, _x, name="root"), keep("x")),
    rule("min-self", op("minimum", _x, _x, name="root"), keep("x")),
    rule("where-same", op("where", _c, _x, _x, name="root"), keep("x")),
    rule("where-const", op("where", const("cond"), _x, _y, name="root"), _where_const),
    # integer/bool x == x -> true, x != x -> false, x < x -> false, x <= x -> true
    rule("eq-self", op("eq", _x, _x, name="root"), splat_of(True, exact_dtypes=_INTS_BOOL)),
    rule("ne-self", op("ne", _x, _x, name="root"), splat_of(False, exact_dtypes=_INTS_BOOL)),
    rule("lt-self", op(("lt", "gt"), _x, _x, name="root"), splat_of(False, exact_dtypes=_INTS)),
    rule("le-self", op(("le", "ge"), _x, _x, name="root"), splat_of(True, exact_dtypes=_INTS)),
    # relu(relu(x)) -> relu(x) ;  abs(abs(x)) -> abs(x) ;  abs(-x) -> abs(x)
    rule("relu-relu", op("relu", op("relu", _x, name="inner"), name="root"), keep("inner")),
    rule("abs-abs", op("abs", op("abs", _x, name="inner"), name="root"), keep("inner")),
    rule("abs-neg", op("abs", op("neg", _x), name="root"), emit_unary("abs")),
    # cast to the same dtype -> x ;  cast(cast(x, a), b) -> cast(x, b) when x -> a is lossless
    rule("cast-same", op("cast", _x, name="root"), _cast_same),
    rule("cast-cast", op("cast", op("cast", _x, name="inner"), name="root"), _cast_cast),
    # a reduction over no axes is the identity
    rule("reduce-no-axes", op(("sum", "mean", "max", "min"), _x, name="root"), _reduce_nothing),
])

_FLOATS = (DType.f16, DType.f32, DType.f64)

FAST_MATH_RULES = PatternSet([
    # float x - x -> 0 and x * 0 -> 0: wrong for inf and NaN, hence opt-in
    rule("sub-self-float", op("sub", _x, _x, name="root"), splat_of(0, exact_dtypes=_FLOATS)),
    rule("mul-zero-float", op("mul", _x, const(splat=0), name="root"),
         splat_of(0, exact_dtypes=_FLOATS)),
])
