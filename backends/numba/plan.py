"""Shape plans: what one tuple of input shapes fixes for a compiled program.

A ``ShapePlan`` is built once per distinct tuple of input shapes (the
runtime keys plans by it):

* the concrete shape of every slot and of every group-internal value, by
  running each op's own ``infer`` rule on concrete types (a mismatch with
  the shapes the IR records is an ``InputError`` naming the op);
* each kernel's runtime sizes (its ``d1, d2, ...``) and loop extents;
* a buffer assignment: intermediates and group temporaries share byte
  buffers whenever their lifetimes do not overlap.  Lifetimes are intervals
  of group indices (a temporary lives within its group; a slot from the
  group that writes it to the last group that reads it, or through any view
  of it); intervals are packed greedily in start order, reusing the
  smallest free buffer that fits, else growing the largest free one;
* ``fresh``: the result slots that kernels write straight into the arrays
  handed to the caller (allocated per call).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graphc.errors import GraphcError, InputError

from ..base import resolve_attrs, shape_mismatch
from ...ir.core import Func, Node, Value
from ...ir.types import TensorType, format_shape
from .kernelgen import LoweredGroup
from ..program import Group, Program


@dataclass
class CompiledGroup:
    group: Group
    lowered: LoweredGroup | None                   # None for view groups
    kernel_ids: dict[str, int] = field(default_factory=dict)   # kernel name -> program kid


def _where(node: Node) -> str:
    return f" (from {node.loc.describe()})" if node.loc is not None else ""


def concrete_shapes(func: Func, param_shapes: list[tuple], bindings: dict[str, int]) -> dict:
    """Concrete shape of every value of ``func`` for the given parameter shapes."""
    shapes: dict[Value, tuple] = dict(zip(func.params, param_shapes))
    for node in func.nodes:
        types_in = [TensorType(v.type.dtype, shapes[v]) for v in node.inputs]
        try:
            outs = node.op.infer_types(types_in, resolve_attrs(node, bindings))
        except GraphcError as exc:
            raise InputError(f"inputs do not fit op '{node.op.name}' in @{func.name}"
                             f"{_where(node)}: {exc}") from None
        for value, t in zip(node.outputs, outs):
            if shape_mismatch(value.type, t.shape, bindings) is not None:
                raise InputError(f"op '{node.op.name}' in @{func.name}{_where(node)} gives "
                                     f"shape {format_shape(t.shape)} where the IR records "
                                     f"{value.type}")
            shapes[value] = tuple(t.shape)
    return shapes


@dataclass
class _GroupPlan:
    shapes: dict                       # Value -> concrete shape
    scalars: dict[str, list[int]]      # kernel name -> runtime sizes (d1, d2, ...)
    temp_buffers: dict[Value, int]     # temp Value -> buffer id
    extents: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (outer, work)


def _evaluate(expr: str, scalars: list[int]) -> int:
    names = {f"d{j + 1}": int(x) for j, x in enumerate(scalars)}
    return int(eval(expr, {"__builtins__": {}}, names))  # expr: ints, d-names, * and +


class ShapePlan:
    """Everything about one tuple of input shapes that does not change per call."""

    def __init__(self, program: Program, compiled: list[CompiledGroup],
                 param_shapes: list[tuple], bindings: dict[str, int]) -> None:
        self.program = program
        self.compiled = compiled
        self.slot_shapes: dict[int, tuple] = dict(zip(program.params, param_shapes))
        for s in program.slots:
            if s.kind == "const":
                self.slot_shapes[s.index] = tuple(s.const.shape)
        self.groups: list[_GroupPlan] = []
        for cg in compiled:
            g = cg.group
            shapes = concrete_shapes(g.func, [self.slot_shapes[s] for s in g.inputs], bindings)
            for out_slot, res in zip(g.outputs, g.func.results):
                self.slot_shapes[out_slot] = shapes[res]
            scalars, extents = {}, {}
            if cg.lowered is not None:
                for k in cg.lowered.kernels:
                    scalars[k.name] = [int(s.compute(shapes)) for s in k.scalars]
                    extents[k.name] = (_evaluate(k.extent, scalars[k.name]),
                                       _evaluate(k.work, scalars[k.name]))
            self.groups.append(_GroupPlan(shapes, scalars, {}, extents))
        self.sizes: list[int] = []
        self.slot_buffers: dict[int, int] = {}
        self._assign_buffers(compiled)
        self.fresh = self._fresh_results()

    def _nbytes(self, type_: TensorType, shape: tuple) -> int:
        return int(np.prod(shape, dtype=np.int64)) * type_.dtype.itemsize

    def _fresh_results(self) -> list[int]:
        """Result slots the kernels write straight into a fresh array."""
        fresh: list[int] = []
        for s in self.program.results:
            slot = self.program.slots[s]
            if slot.kind == "value" and slot.base is None and s not in fresh:
                fresh.append(s)
        return fresh

    def _assign_buffers(self, compiled: list[CompiledGroup]) -> None:
        program = self.program
        results = set(program.results)
        last_use: dict[int, int] = {}
        for cg in compiled:
            for s in cg.group.inputs:
                root = program.slots[s].base if program.slots[s].base is not None else s
                last_use[root] = cg.group.index
                last_use[s] = cg.group.index
        for s in program.results:
            slot = program.slots[s]
            last_use[slot.base if slot.base is not None else s] = len(compiled)
        intervals = []   # (start, end, kind, key, nbytes)
        for cg in compiled:
            g = cg.group
            for s in g.outputs:
                slot = program.slots[s]
                if g.view is not None or s in results:
                    continue
                intervals.append((g.index, last_use.get(s, g.index), "slot", s,
                                  self._nbytes(slot.type, self.slot_shapes[s])))
            if cg.lowered is not None:
                plan = self.groups[g.index]
                for v in cg.lowered.temps:
                    intervals.append((g.index, g.index, "temp", (g.index, v),
                                      self._nbytes(v.type, plan.shapes[v])))
        free: list[tuple[int, int]] = []   # (end, buffer id) of buffers in use
        available: list[int] = []
        for start, end, kind, key, nbytes in sorted(intervals, key=lambda t: (t[0], t[1])):
            still = []
            for busy_end, bid in free:
                (available.append(bid) if busy_end < start else still.append((busy_end, bid)))
            free = still
            fits = [b for b in available if self.sizes[b] >= nbytes]
            if fits:
                bid = min(fits, key=lambda b: self.sizes[b])
                available.remove(bid)
            elif available:
                bid = max(available, key=lambda b: self.sizes[b])
                available.remove(bid)
                self.sizes[bid] = nbytes
            else:
                bid = len(self.sizes)
                self.sizes.append(nbytes)
            free.append((end, bid))
            if kind == "slot":
                self.slot_buffers[key] = bid
            else:
                self.groups[key[0]].temp_buffers[key[1]] = bid
