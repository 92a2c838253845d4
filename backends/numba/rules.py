"""The per-op lowering table: how each elementwise op becomes a scalar
Python expression inside a generated kernel.

A rule receives a ``RuleContext`` (the node's dtypes and helpers for typed
literals) and the already-lowered operand expressions, and returns one
expression string.  Conventions every rule keeps:

* an expression has the *compute type* of its result: f32 for f16 (kernels
  hold f16 values widened to f32 and round after every op, so each op
  matches numpy's per-op f16 rounding), otherwise the dtype itself;
* integer results are wrapped back to their width (``I32(a + b)``) because
  numba widens i32 arithmetic to i64; this reproduces numpy's wrap-around;
* float literals are typed (``F32(0.5)``) so nothing silently widens to f64;
* NaN behaves as in numpy (``maximum``/``relu`` propagate it).

Ops that are not elementwise (movement, reductions, matmul) are lowered by
``exprs.py`` (index arithmetic) and ``stages.py`` (loops), not here.
``ELEMENTWISE_RULES`` plus the op sets at the bottom are the backend's
declaration of what it can lower; ``supported_ops`` is derived from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from ...ir.attrs import Attrs
from ...ir.dtypes import DType

COMPUTE_CTOR = {DType.f16: "F32", DType.f32: "F32", DType.f64: "F64", DType.i32: "I32",
                DType.i64: "I64", DType.bool: "bool"}


@dataclass(frozen=True)
class RuleContext:
    out: DType
    ins: tuple[DType, ...]

    def lit(self, value: float | int | bool, dtype: DType | None = None) -> str:
        """A literal of ``dtype`` (default: the result dtype) in its compute type."""
        dtype = dtype or self.out
        if dtype is DType.bool:
            return "True" if value else "False"
        if dtype.is_int:
            return f"{COMPUTE_CTOR[dtype]}({int(value)})"
        value = float(value)
        if value != value:
            text = "NAN"
        elif value in (float("inf"), float("-inf")):
            text = "INF" if value > 0 else "-INF"
        else:
            text = repr(value)
        return f"{COMPUTE_CTOR[dtype]}({text})"

    def wrap(self, expr: str) -> str:
        """Bring an arithmetic result back to the result's width/precision."""
        if self.out is DType.f16:
            return f"round_f16({expr})"
        if self.out is DType.i32:
            return f"I32({expr})"
        return expr

    def fn(self, f32_name: str, f64_name: str) -> str:
        return f64_name if self.out is DType.f64 else f32_name


Rule = Callable[[RuleContext, Sequence[str], Attrs], str]


def _arith(op: str) -> Rule:
    def rule(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
        return c.wrap(f"({a[0]} {op} {a[1]})")
    return rule


def _call(f32_name: str, f64_name: str) -> Rule:
    def rule(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
        return c.wrap(f"{c.fn(f32_name, f64_name)}({a[0]})")
    return rule


def _compare(op: str) -> Rule:
    def rule(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
        return f"({a[0]} {op} {a[1]})"
    return rule


def _maximum(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    x, y = a
    if c.out.is_float:  # NaN in either operand propagates, as np.maximum
        return f"({x} if ({x} >= {y} or {x} != {x}) else {y})"
    return f"({x} if {x} >= {y} else {y})"


def _minimum(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    x, y = a
    if c.out.is_float:
        return f"({x} if ({x} <= {y} or {x} != {x}) else {y})"
    return f"({x} if {x} <= {y} else {y})"


def _relu(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    x, zero = a[0], c.lit(0)
    if c.out.is_float:
        return f"({x} if ({x} >= {zero} or {x} != {x}) else {zero})"
    return f"({x} if {x} >= {zero} else {zero})"


def _neg(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    return c.wrap(f"(-{a[0]})")


def _abs(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    return c.wrap(f"abs({a[0]})")


def _square(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    return c.wrap(f"({a[0]} * {a[0]})")


def _reciprocal(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    return c.wrap(f"({c.lit(1.0)} / {a[0]})")


def _rsqrt(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    return c.wrap(f"({c.lit(1.0)} / math.sqrt({a[0]}))")


def _sqrt(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    return c.wrap(f"math.sqrt({a[0]})")


def _log(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    return c.wrap(f"math.log({a[0]})")


def _gelu(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    kind = "tanh" if attrs["approximate"] else "erf"
    return c.wrap(f"{c.fn(f'gelu_{kind}_f32', f'gelu_{kind}_f64')}({a[0]})")


def _sign(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    x, one, zero = a[0], c.lit(1), c.lit(0)
    if c.out.is_float:  # NaN and signed zeros pass through, as np.sign
        return f"({one} if {x} > {zero} else (-{one} if {x} < {zero} else {x}))"
    return f"({one} if {x} > {zero} else (-{one} if {x} < {zero} else {zero}))"


def _cast(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    src, dst, x = c.ins[0], c.out, a[0]
    if dst is DType.bool:
        return f"({x} != {RuleContext(src, ()).lit(0)})"
    if dst is DType.f16:
        return f"round_f16(F32({x}))"
    if src is DType.bool:
        return f"({c.lit(1)} if {x} else {c.lit(0)})"
    return f"{COMPUTE_CTOR[dst]}({x})"


def _where(c: RuleContext, a: Sequence[str], attrs: Attrs) -> str:
    return f"({a[1]} if {a[0]} else {a[2]})"


ELEMENTWISE_RULES: dict[str, Rule] = {
    "neg": _neg, "abs": _abs, "square": _square, "reciprocal": _reciprocal,
    "exp": _call("exp_f32", "math.exp"), "tanh": _call("tanh_f32", "math.tanh"),
    "sigmoid": _call("sigmoid_f32", "sigmoid_f64"), "erf": _call("erf_f32", "math.erf"),
    "log": _log, "sqrt": _sqrt, "rsqrt": _rsqrt, "relu": _relu, "gelu": _gelu, "sign": _sign,
    "cast": _cast,
    "add": _arith("+"), "sub": _arith("-"), "mul": _arith("*"), "div": _arith("/"),
    "pow": _arith("**"), "maximum": _maximum, "minimum": _minimum,
    "eq": _compare("=="), "ne": _compare("!="), "lt": _compare("<"), "le": _compare("<="),
    "gt": _compare(">"), "ge": _compare(">="), "where": _where,
}

MOVEMENT_OPS = frozenset({"reshape", "transpose", "broadcast_to", "concat", "slice", "gather",
                          "expand_dims", "squeeze"})
REDUCTION_OPS = frozenset({"sum", "mean", "max", "min", "argmax"})
ROW_OPS = frozenset({"softmax", "log_softmax"})
SCATTER_OPS = frozenset({"scatter_add"})
BLAS_OPS = frozenset({"matmul"})
OTHER_OPS = frozenset({"constant"})
INDEXED_OPS = frozenset({"random_uniform"})
"""Ops computed from the element's own position (``exprs.Emitter._move_<op>``)."""

SUPPORTED_OPS = frozenset(ELEMENTWISE_RULES) | MOVEMENT_OPS | REDUCTION_OPS | ROW_OPS | \
    SCATTER_OPS | BLAS_OPS | OTHER_OPS | INDEXED_OPS
"""Every op this backend lowers (``call`` is handled by the program flattener)."""
