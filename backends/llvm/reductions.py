"""The reduction table: identity, combine and finish of each reduction kind.

``REDUCTIONS[kind]`` drives both the row passes and the accumulate stages
of ``stages.py``.  Float sums combine with ``fadd reassoc``: the only
fast-math freedom this backend takes, so the loop vectorizer may keep one
partial sum per vector lane (numpy itself sums pairwise; results differ in
the last bits, more so for long float32 rows).  ``max``/``min`` use
``llvm.maximum``/``llvm.minimum``, which propagate NaN as numpy does.

``argmax`` carries (best value, its position) and is handled in
``stages.py``: the first maximum wins and the first NaN beats everything,
as ``np.argmax``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from llvmlite import ir

from ...ir.dtypes import DType
from .irtypes import const, register_type
from .mathlib import MathLib

INT_LIMITS = {DType.i32: (-(2 ** 31), 2 ** 31 - 1), DType.i64: (-(2 ** 63), 2 ** 63 - 1)}


@dataclass(frozen=True)
class Reduction:
    identity: Callable[[DType], ir.Constant]
    combine: Callable[[ir.IRBuilder, MathLib, DType, ir.Value, ir.Value], ir.Value]
    mean: bool = False


def _zero(dtype: DType) -> ir.Constant:
    return const(dtype, 0)


def _lowest(dtype: DType) -> ir.Constant:
    return const(dtype, -math.inf) if dtype.is_float else const(dtype, INT_LIMITS[dtype][0])


def _highest(dtype: DType) -> ir.Constant:
    return const(dtype, math.inf) if dtype.is_float else const(dtype, INT_LIMITS[dtype][1])


def _add(b: ir.IRBuilder, lib: MathLib, dtype: DType, acc: ir.Value, v: ir.Value) -> ir.Value:
    return b.fadd(acc, v, flags=("reassoc",)) if dtype.is_float else b.add(acc, v)


def _extremum(float_name: str, int_name: str):
    def combine(b: ir.IRBuilder, lib: MathLib, dtype: DType, acc: ir.Value,
                v: ir.Value) -> ir.Value:
        name = float_name if dtype.is_float else int_name
        return b.call(lib.intrinsic(name, register_type(dtype)), [acc, v])
    return combine


REDUCTIONS: dict[str, Reduction] = {
    "sum": Reduction(_zero, _add),
    "mean": Reduction(_zero, _add, mean=True),
    "max": Reduction(_lowest, _extremum("llvm.maximum", "llvm.smax")),
    "min": Reduction(_highest, _extremum("llvm.minimum", "llvm.smin")),
    "softmax_max": Reduction(_lowest, _extremum("llvm.maximum", "llvm.smax")),
    "softmax_sumexp": Reduction(_zero, _add),
}

ARGMAX_IDENTITY = _lowest


def argmax_step(b: ir.IRBuilder, dtype: DType, best: ir.Value, v: ir.Value) -> ir.Value:
    """True when ``v`` replaces ``best`` (strictly greater, or the first NaN)."""
    if not dtype.is_float:
        return b.icmp_signed(">", v, best)
    greater = b.fcmp_ordered(">", v, best)
    first_nan = b.and_(b.fcmp_unordered("uno", v, v), b.fcmp_ordered("ord", best, best))
    return b.or_(greater, first_nan)
