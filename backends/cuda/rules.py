"""The cuda backend's lowering table: how each op of the registry becomes kernel code.

``LOWERING`` maps every lowered op to its *strategy*; the strategies and
where their code lives:

=========  ==============================================================
SCALAR     one expression per element, from the numba backend's scalar
           table (``graphc.backends.numba.rules.ELEMENTWISE_RULES``,
           imported, not copied); its helper names are device functions of
           ``mathlib.py``
INDEXED    index arithmetic: movement ops, gather, random_uniform
           (``graphc.backends.numba.exprs.Emitter._move_<op>``)
REDUCE     one block per output row, a shared-memory tree (``REDUCERS``)
ROW        softmax / log_softmax: per-row max and sum-of-exp, then a formula
MATMUL     a tiled shared-memory kernel, epilogue applied before the store
SCATTER    copy, then atomic adds (one serial thread for f16: no f16 atomics)
CONSTANT   a literal (one element) or a device-resident array
=========  ==============================================================

``UNSUPPORTED`` names ops the backend declares it cannot lower, with the
reason; an op in neither table is a gap a test reports.  ``supported_ops()``
is derived from ``LOWERING`` (plus ``call``).  ``REDUCERS`` describes each reduction as
data: accumulator type, identity, the combine step (used both for a
thread's running value and for every level of the tree) and the final
conversion.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphc.errors import LoweringError

from ...ir.core import Func
from ...ir.dtypes import DType
from ...ir.opdef import CALL
from ..numba.rules import COMPUTE_CTOR, ELEMENTWISE_RULES, RuleContext

SCALAR, INDEXED, REDUCE, ROW, MATMUL, SCATTER, CONSTANT = (
    "scalar", "indexed", "reduce", "row", "matmul", "scatter", "constant")

_INDEXED_OPS = ("reshape", "transpose", "broadcast_to", "concat", "slice", "gather",
                "expand_dims", "squeeze", "random_uniform")

LOWERING: dict[str, str] = {
    **{name: SCALAR for name in ELEMENTWISE_RULES},
    **{name: INDEXED for name in _INDEXED_OPS},
    **{name: REDUCE for name in ("sum", "mean", "max", "min", "argmax")},
    "softmax": ROW, "log_softmax": ROW,
    "matmul": MATMUL, "scatter_add": SCATTER, "constant": CONSTANT,
}
"""op name -> strategy (``call`` is resolved by the program flattener)."""

UNSUPPORTED: dict[str, str] = {}
"""op name -> why this backend cannot lower it (compile raises LoweringError)."""


def supported_ops() -> frozenset[str]:
    """The lowered ops, plus ``call`` (the program flattener runs callees)."""
    return frozenset(LOWERING) | {CALL}


def check_func(func: Func) -> None:
    """LoweringError naming the first node of ``func`` this backend cannot lower
    (``call`` is resolved by the program flattener)."""
    for node in func.nodes:
        name = node.op.name
        if name in LOWERING or name == CALL:
            continue
        where = f" (from {node.loc.describe()})" if node.loc is not None else ""
        why = UNSUPPORTED.get(name, "it has no entry in the cuda lowering table")
        raise LoweringError(f"backend 'cuda' cannot lower op '{name}' in @{func.name}{where}: "
                            f"{why}; `graphc ops` shows which backends support it")


# -- reductions as data ---------------------------------------------------------------

def accumulator(op: str, dtype: DType) -> DType:
    """The dtype a reduction accumulates in (f16 in f32, integer sums in i64)."""
    if op in ("sum", "mean") and dtype.is_int:
        return DType.i64
    return DType.f32 if dtype is DType.f16 else dtype


def _int_limit(dtype: DType, lowest: bool) -> int:
    bits = 32 if dtype is DType.i32 else 64
    return -(2 ** (bits - 1)) if lowest else 2 ** (bits - 1) - 1


@dataclass(frozen=True)
class Reducer:
    """How one reduction op accumulates.

    ``step`` combines two partial results ``{a}`` and ``{b}`` (a running
    value and a new element, or two threads' partials); for argmax each
    partial is a (value, index) pair and ``step`` is the predicate "take b"."""

    identity: str          # "zero" | "lowest" | "highest"
    float_step: str
    int_step: str
    final: str             # "sum" | "mean" | "same" | "index"

    def init(self, acc: DType) -> str:
        rc = RuleContext(acc, ())
        if self.identity == "zero":
            return rc.lit(0)
        lowest = self.identity == "lowest"
        if acc.is_float:
            return rc.lit(float("-inf") if lowest else float("inf"))
        return rc.lit(_int_limit(acc, lowest))

    def step(self, acc: DType, a: str, b: str, ia: str = "", ib: str = "") -> str:
        template = self.float_step if acc.is_float else self.int_step
        return template.format(a=a, b=b, ia=ia, ib=ib)

    def finish(self, acc_name: str, index_name: str, dtype: DType, count: str) -> str:
        """The result in the output's compute type."""
        out = RuleContext(dtype, ())
        if self.final == "index":
            return index_name
        if self.final == "mean":
            ctor = COMPUTE_CTOR[accumulator("mean", dtype)]
            return out.wrap(f"({acc_name} / {ctor}({count}))")
        if self.final == "sum":
            return out.wrap(acc_name) if dtype.is_float else f"{COMPUTE_CTOR[dtype]}({acc_name})"
        return acc_name


_SUM = "({a} + {b})"
REDUCERS: dict[str, Reducer] = {
    "sum": Reducer("zero", _SUM, _SUM, "sum"),
    "mean": Reducer("zero", _SUM, _SUM, "mean"),
    # NaN propagates: b wins when it is NaN; a NaN a is never replaced.
    "max": Reducer("lowest", "({b} if ({b} > {a} or {b} != {b}) else {a})",
                   "({b} if {b} > {a} else {a})", "same"),
    "min": Reducer("highest", "({b} if ({b} < {a} or {b} != {b}) else {a})",
                   "({b} if {b} < {a} else {a})", "same"),
    # argmax: the first maximum; the first NaN counts as the maximum (numpy's rule).
    "argmax": Reducer("lowest",
                      "({b} > {a} or ({b} == {a} and {ib} < {ia}) or "
                      "({b} != {b} and ({a} == {a} or {ib} < {ia})))",
                      "({b} > {a} or ({b} == {a} and {ib} < {ia}))", "index"),
}

ARGMAX_NO_INDEX = 2 ** 62
"""The index a thread reports before it has seen an element (larger than any index)."""
