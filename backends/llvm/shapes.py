"""Concrete shapes for one input signature, and the kernels' run-time scalars.

Kernels are compiled once for symbolic shapes; each new signature of input
shapes is *planned* once: ``func_shapes`` re-runs every node's ``infer``
rule on concrete types (with symbolic shape attributes resolved from the
bindings), which gives the size of every value -- ``?`` dims included --
and re-checks what only run time can tell (a symbol bound inconsistently,
``?`` sizes that do not broadcast, a max over an axis that turned out
empty, a gather from an empty axis).  Such failures raise ``ExecutionError``
naming the op, the kernel and the source location.

``scalar_values`` turns a kernel's scalar keys into the i64 array it
receives: ``("sym", N)`` the size bound to N, ``("dim", v, a)`` axis a of
value number v, ``("slice", v, a)`` the normalized start of the slice that
produces value number v along axis a.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from graphc.errors import ExecutionError, GraphcError

from ...ir.core import Func
from ...ir.types import TensorType, format_shape, normalize_axis
from ..base import resolve_attrs, shape_mismatch
from .movement import slice_start


def _where(node) -> str:
    return f" (from {node.loc.describe()})" if node.loc is not None else ""


def bind_shapes(func: Func, shapes: Sequence[tuple[int, ...]]) -> dict[str, int]:
    """Symbol -> size from the parameters' concrete shapes (ExecutionError on a conflict)."""
    bindings: dict[str, int] = {}
    for p, shape in zip(func.params, shapes):
        for axis, (dim, size) in enumerate(zip(p.type.shape, shape)):
            if isinstance(dim, int):
                if dim != size:
                    raise ExecutionError(f"kernel @{func.name} expects {p.type} for its parameter "
                                         f"%{p.name or '?'}, received shape {format_shape(shape)}")
            elif dim != "?":
                if bindings.setdefault(dim, size) != size:
                    raise ExecutionError(
                        f"kernel @{func.name}: symbol {dim} is bound to {bindings[dim]} and to "
                        f"{size} (axis {axis} of %{p.name or '?'}, shape {format_shape(shape)})")
    return bindings


def func_shapes(func: Func, numbering: dict, shapes: Sequence[tuple[int, ...]],
                outer: dict[str, int] | None = None
                ) -> tuple[list[tuple[int, ...]], dict[str, int]]:
    """Concrete shape of every value (by number) when the params have ``shapes``;
    ``outer`` binds symbols no parameter carries (a wrapped node's enclosing function)."""
    bindings = {**(outer or {}), **bind_shapes(func, shapes)}
    out: list = [None] * len(numbering)
    for p, shape in zip(func.params, shapes):
        out[numbering[p]] = tuple(shape)
    for node in func.nodes:
        types = [TensorType(v.type.dtype, out[numbering[v]]) for v in node.inputs]
        try:
            results = node.op.infer_types(types, resolve_attrs(node, bindings))
        except GraphcError as exc:
            raise ExecutionError(f"op '{node.op.name}' in kernel @{func.name} cannot run on "
                                 f"these shapes: {exc}{_where(node)}") from None
        for value, t in zip(node.outputs, results):
            problem = shape_mismatch(value.type, t.shape, bindings)
            if problem is not None:
                raise ExecutionError(f"op '{node.op.name}' in kernel @{func.name} gives "
                                     f"{problem} where the IR records {value.type}"
                                     f"{_where(node)}")
            out[numbering[value]] = t.shape
    return out, bindings


def scalar_values(func: Func, keys: Sequence[tuple], shapes: list, bindings: dict[str, int],
                  numbering: dict) -> np.ndarray:
    values = np.zeros(max(1, len(keys)), dtype=np.int64)
    producer = {numbering[o]: n for n in func.nodes for o in n.outputs}
    for k, key in enumerate(keys):
        kind = key[0]
        if kind == "sym":
            if key[1] in bindings:
                values[k] = bindings[key[1]]
            else:   # a symbol no parameter carries: read it off a value that has it
                values[k] = next(shapes[numbering[v]][a] for v in numbering
                                 for a, d in enumerate(v.type.shape) if d == key[1])
        elif kind == "dim":
            values[k] = shapes[key[1]][key[2]]
        elif kind == "slice":
            node = producer[key[1]]
            x = node.inputs[0]
            dim = shapes[numbering[x]][key[2]]
            attrs = node.attrs
            steps = attrs["steps"] or (1,) * len(attrs["axes"])
            for ax, start, stop, step in zip(attrs["axes"], attrs["starts"], attrs["stops"],
                                             steps):
                if normalize_axis(ax, x.type.rank) == key[2]:
                    values[k] = slice_start(dim, start, stop, step)
        else:  # pragma: no cover - keys are made by evaluator.py
            raise GraphcError(f"unknown kernel scalar {key!r}")
    return values
