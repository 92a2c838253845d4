"""The per-op lowering table: one element of an elementwise/broadcast op as
llvmlite IRBuilder instructions.

A rule receives a ``RuleContext`` (builder, math library, result and operand
dtypes) and the operand values already in register form (``i1`` for bool),
and returns the result in register form.  Semantics follow the numpy
references of ``graphc.ir.ops``:

* integer arithmetic wraps (plain ``add``/``mul``, no ``nsw``): numpy's
  fixed-width behaviour; ``abs(INT_MIN)`` stays ``INT_MIN``;
* float arithmetic carries no fast-math flags, so NaN, inf and signed zero
  behave as in numpy; ``maximum``/``minimum``/``relu`` propagate NaN;
* comparisons are ordered, except ``ne`` (true when either side is NaN);
* float -> int casts saturate (``llvm.fptosi.sat``; NaN -> 0) where numpy's
  result is platform-defined; anything -> bool is ``!= 0`` (NaN -> true).

Transcendentals go to ``mathlib.MathLib`` (vectorizable float32 code,
libm for float64).  ``ELEMENTWISE_RULES`` is this backend's declaration of
the elementwise ops it lowers; movement, reduction, matmul and scatter ops
are lowered by ``movement.py``, ``reductions.py`` and ``stages.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from llvmlite import ir

from ...ir.attrs import Attrs
from ...ir.dtypes import DType
from .irtypes import const, register_type
from .mathlib import MathLib


@dataclass(frozen=True)
class RuleContext:
    b: ir.IRBuilder
    math: MathLib
    out: DType
    ins: tuple[DType, ...]

    def c(self, value: float | int, dtype: DType | None = None) -> ir.Constant:
        return const(dtype or self.ins[0], value)

    def intr(self, name: str, *args: ir.Value) -> ir.Value:
        return self.b.call(self.math.intrinsic(name, args[0].type), list(args))

    def call(self, name: str, x: ir.Value) -> ir.Value:
        return self.math.call(self.b, name, self.out, x)


Rule = Callable[[RuleContext, Sequence[ir.Value], Attrs], ir.Value]


def _arith(float_op: str, int_op: str | None) -> Rule:
    """A binary instruction; ``int_op`` None: the op's infer rule admits floats only."""
    def rule(c: RuleContext, a: Sequence[ir.Value], attrs: Attrs) -> ir.Value:
        op = float_op if c.out.is_float or int_op is None else int_op
        return getattr(c.b, op)(a[0], a[1])
    return rule


def _compare(op: str) -> Rule:
    def rule(c: RuleContext, a: Sequence[ir.Value], attrs: Attrs) -> ir.Value:
        x, y = a
        if c.ins[0].is_float:
            if op == "!=":
                return c.b.fcmp_unordered("!=", x, y)
            return c.b.fcmp_ordered(op, x, y)
        if c.ins[0] is DType.bool:
            return c.b.icmp_unsigned(op, x, y)
        return c.b.icmp_signed(op, x, y)
    return rule


def _extremum(float_name: str, int_name: str) -> Rule:
    def rule(c: RuleContext, a: Sequence[ir.Value], attrs: Attrs) -> ir.Value:
        return c.intr(float_name if c.out.is_float else int_name, a[0], a[1])
    return rule


def _neg(c: RuleContext, a, attrs) -> ir.Value:
    return c.b.fneg(a[0]) if c.out.is_float else c.b.sub(c.c(0), a[0])


def _abs(c: RuleContext, a, attrs) -> ir.Value:
    if c.out.is_float:
        return c.intr("llvm.fabs", a[0])
    x = a[0]
    return c.b.select(c.b.icmp_signed("<", x, c.c(0)), c.b.sub(c.c(0), x), x)


def _square(c: RuleContext, a, attrs) -> ir.Value:
    return c.b.fmul(a[0], a[0]) if c.out.is_float else c.b.mul(a[0], a[0])


def _reciprocal(c: RuleContext, a, attrs) -> ir.Value:
    return c.b.fdiv(c.c(1.0), a[0])


def _sqrt(c: RuleContext, a, attrs) -> ir.Value:
    return c.intr("llvm.sqrt", a[0])


def _rsqrt(c: RuleContext, a, attrs) -> ir.Value:
    return c.b.fdiv(c.c(1.0), c.intr("llvm.sqrt", a[0]))


def _relu(c: RuleContext, a, attrs) -> ir.Value:
    x, zero = a[0], c.c(0)
    if c.out.is_float:   # x < 0 is false for NaN, so NaN passes through
        return c.b.select(c.b.fcmp_ordered("<", x, zero), zero, x)
    return c.b.select(c.b.icmp_signed("<", x, zero), zero, x)


def _sign(c: RuleContext, a, attrs) -> ir.Value:
    x, zero, one = a[0], c.c(0), c.c(1)
    b = c.b
    if c.out.is_float:   # NaN and signed zeros pass through, as np.sign
        neg = b.select(b.fcmp_ordered("<", x, zero), c.c(-1.0), x)
        return b.select(b.fcmp_ordered(">", x, zero), one, neg)
    neg = b.select(b.icmp_signed("<", x, zero), c.c(-1), zero)
    return b.select(b.icmp_signed(">", x, zero), one, neg)


def _math(name: str) -> Rule:
    def rule(c: RuleContext, a, attrs) -> ir.Value:
        return c.call(name, a[0])
    return rule


def _gelu(c: RuleContext, a, attrs) -> ir.Value:
    return c.call("gelu_tanh" if attrs["approximate"] else "gelu_erf", a[0])


def _pow(c: RuleContext, a, attrs) -> ir.Value:
    return c.intr("llvm.pow", a[0], a[1])


def _where(c: RuleContext, a, attrs) -> ir.Value:
    return c.b.select(a[0], a[1], a[2])


def _cast(c: RuleContext, a, attrs) -> ir.Value:
    src, dst, x, b = c.ins[0], c.out, a[0], c.b
    target = register_type(dst)
    if src is dst:
        return x
    if dst is DType.bool:
        if src.is_float:
            return b.fcmp_unordered("!=", x, c.c(0.0))
        return b.icmp_signed("!=", x, c.c(0))
    if src is DType.bool:
        return b.uitofp(x, target) if dst.is_float else b.zext(x, target)
    if src.is_float and dst.is_float:
        return b.fpext(x, target) if dst is DType.f64 else b.fptrunc(x, target)
    if src.is_float:
        fn = c.math.module.declare_intrinsic("llvm.fptosi.sat", [target, x.type],
                                             ir.FunctionType(target, [x.type]))
        return b.call(fn, [x])
    if dst.is_float:
        return b.sitofp(x, target)
    return b.sext(x, target) if dst is DType.i64 else b.trunc(x, target)


ELEMENTWISE_RULES: dict[str, Rule] = {
    "neg": _neg, "abs": _abs, "square": _square, "reciprocal": _reciprocal,
    "sqrt": _sqrt, "rsqrt": _rsqrt, "relu": _relu, "sign": _sign,
    "exp": _math("exp"), "log": _math("log"), "tanh": _math("tanh"),
    "sigmoid": _math("sigmoid"), "erf": _math("erf"), "gelu": _gelu, "cast": _cast,
    "add": _arith("fadd", "add"), "sub": _arith("fsub", "sub"), "mul": _arith("fmul", "mul"),
    "div": _arith("fdiv", None), "pow": _pow,
    "maximum": _extremum("llvm.maximum", "llvm.smax"),
    "minimum": _extremum("llvm.minimum", "llvm.smin"),
    "eq": _compare("=="), "ne": _compare("!="), "lt": _compare("<"), "le": _compare("<="),
    "gt": _compare(">"), "ge": _compare(">="), "where": _where,
}

