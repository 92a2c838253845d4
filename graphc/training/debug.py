"""Finding where a NaN or an infinity was born.

``locate_nonfinite(func, arrays)`` re-runs ``func`` on the reference
interpreter node by node (the Func as traced, before any pass, so every node
still has its own ``loc``) and returns a ``NonFiniteReport`` for the first
node that produced a non-finite float value *from finite inputs* -- the op
that created it, rather than the many that merely propagated it.  When a
parameter already holds one, the report names that parameter instead.

``fit(..., debug_nans=True)`` calls it on the batch whose loss was not
finite, with the exact arrays (random key included) of that call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from graphc.errors import GraphcError

from ..backends.base import bind_inputs, resolve_attrs
from ..ir.core import Func, Node
from ..ir.printer import NameScope, format_node


@dataclass
class NonFiniteReport:
    node: Node | None
    param: str | None
    text: str

    def __str__(self) -> str:
        return self.text


def _bad(array: np.ndarray) -> bool:
    return array.dtype.kind == "f" and not np.all(np.isfinite(array))


def _what(array: np.ndarray) -> str:
    kinds = []
    if np.any(np.isnan(array)):
        kinds.append("NaN")
    if np.any(np.isinf(array)):
        kinds.append("inf")
    return " and ".join(kinds)


def locate_nonfinite(func: Func, arrays: Sequence[np.ndarray]) -> NonFiniteReport | None:
    """The first source of a non-finite value in ``func`` run on ``arrays`` (None if
    every value is finite)."""
    checked, bindings = bind_inputs(func, list(arrays))
    for param, array in zip(func.params, checked):
        if _bad(array):
            return NonFiniteReport(None, param.name, f"input '{param.name}' already holds "
                                   f"{_what(array)} values")
    env = dict(zip(func.params, checked))
    names = NameScope(func)
    for node in func.nodes:
        inputs = [env[v] for v in node.inputs]
        try:
            outputs = node.op.evaluate(inputs, resolve_attrs(node, bindings))
        except GraphcError as exc:
            return NonFiniteReport(node, None, f"op '{node.op.name}' failed: {exc}")
        env.update(zip(node.outputs, outputs))
        if any(_bad(o) for o in outputs) and not any(_bad(i) for i in inputs):
            where = f" at {node.loc.describe()}" if node.loc is not None else ""
            bad = next(o for o in outputs if _bad(o))
            finite = [np.asarray(i)[np.isfinite(i)] if i.dtype.kind == "f" else i for i in inputs]
            ranges = ", ".join(f"[{f.min():.4g}, {f.max():.4g}]" if f.size else "[]"
                               for f in finite)
            return NonFiniteReport(node, None, (
                f"the first non-finite value ({_what(bad)}) was produced by op "
                f"'{node.op.name}'{where} from finite inputs (ranges {ranges}):\n"
                f"  {format_node(node, names)}"))
    return None
