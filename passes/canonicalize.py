"""``canonicalize``: algebraic identities and a canonical operand order.

Runs the pattern rewriter (``rewrite.py``) over every function with the
rule tables of ``rules_arith.py`` (x*1, x+0, x-x for integers, --x, casts,
comparisons of a value with itself, ...) and ``rules_shape.py`` (double
transpose, reshape of reshape, broadcasts, commutative operand order, ...).
Like the rewriter it is built on, it also drops pure nodes left without
users.

Options:

* ``fast-math`` (default false) adds rules that are exact only for finite
  floats (float ``x - x -> 0``, ``x * 0 -> 0``).

Every rule keeps the matched node's ``loc`` on the nodes it builds, and
``graphc opt --debug-rewrites`` shows which rule fired on which node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir.core import Func
from .base import FuncPass
from .context import PassContext
from .rewrite import PatternSet, rewrite_func
from .rules_arith import ARITH_RULES, FAST_MATH_RULES
from .rules_shape import SHAPE_RULES

CANONICAL_RULES: PatternSet = ARITH_RULES + SHAPE_RULES


@dataclass(frozen=True)
class Canonicalize(FuncPass):
    name = "canonicalize"
    summary = "algebraic identities, shape-op compositions, canonical operand order"

    fast_math: bool = field(default=False, metadata={
        "help": "also apply rules exact only for finite floats (x - x -> 0, x * 0 -> 0)"})

    def patterns(self) -> PatternSet:
        return CANONICAL_RULES + FAST_MATH_RULES if self.fast_math else CANONICAL_RULES

    def run_func(self, func: Func, ctx: PassContext) -> Func:
        return rewrite_func(func, self.patterns(), ctx)
