"""Workspaces: a shape plan's buffers with the program bound to them.

A ``Workspace`` allocates the plan's byte buffers once and turns the
program into a flat list of steps:

* ``_KernelStep``: one kernel launch; it owns the kernel's table ``P``
  (array addresses, then the error flag's address, then runtime sizes);
  addresses of workspace buffers and constants are written once, here;
* ``_MatmulStep``: ``numpy.matmul(a, b, out=...)``; an operand that is a
  swapped view is handed to BLAS as ``swapaxes`` (its transpose flag);
* ``_CopyStep``: a group result that is one of its inputs or constants.

Fresh results are recycled: a result array of at least ``RECYCLE_BYTES``
that the caller has dropped -- its only reference is the workspace's own
(``sys.getrefcount``), so no view, buffer export or other object can see
it -- is handed out again instead of a new allocation.  Each call's
results stay fresh to the caller (nothing else alive shares their memory),
and a steady loop that drops its results no longer pays page faults for
new memory each call (~1 ms for W1's 16 MB).  At most ``RECYCLE_DEPTH``
arrays per result are kept; only CPython (reference counts) recycles.

Arrays that change per call -- the inputs, the fresh results and reshape
views of them -- are resolved by ``bind_call``, which writes their
addresses into the tables (``patches``, grouped by the root slot whose
memory they are).  Invariant: every address a table holds points into an
array this workspace references (``buffers``, ``pinned``, ``error_flag``)
or into a per-call array held for the duration of the call, so no buffer
can be freed while a kernel may still write to it.  A workspace serves one
call at a time; the runner pools them per plan.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from ...ir.core import Value
from ...ir.types import TensorType
from .kernelgen import KernelFunction, MatmulCall
from .plan import CompiledGroup, ShapePlan, _GroupPlan
from ..program import Group


def _address(array: np.ndarray) -> int:
    return array.ctypes.data


def _label(step) -> str:
    if type(step) is _KernelStep:
        return f"@{step.group.func.name} kernel {step.kid} ({step.work} elements)"
    if type(step) is _MatmulStep:
        return "matmul (BLAS)"
    return "copy"


@dataclass
class _KernelStep:
    kid: int
    extent: int
    work: int
    table: np.ndarray        # addresses (arrays, then the error flag), then sizes
    address: int
    checks_errors: bool
    group: Group
    addresses: int           # how many leading table entries are addresses


@dataclass
class _MatmulStep:
    operands: tuple       # three (fixed array or None, slot, swapped) triples: a, b, out


@dataclass
class _CopyStep:
    source: tuple         # (fixed array or None, slot)
    target: tuple


class Workspace:
    """The buffers of one ShapePlan and the program bound to them; used by
    one call at a time (see the module docstring, step 3)."""

    def __init__(self, plan: ShapePlan) -> None:
        raw = [np.empty(max(n, 1), dtype=np.uint8) for n in plan.sizes]
        program = plan.program
        self.plan = plan
        self.buffers = raw          # the tables hold raw addresses: keep the memory alive
        self.error_flag = np.zeros(1, dtype=np.int64)

        def typed(bid: int, type_: TensorType, shape: tuple) -> np.ndarray:
            nbytes = int(np.prod(shape, dtype=np.int64)) * type_.dtype.itemsize
            return raw[bid][:nbytes].view(type_.dtype.numpy).reshape(shape)

        fixed: dict[int, np.ndarray] = {
            s: typed(bid, program.slots[s].type, plan.slot_shapes[s])
            for s, bid in plan.slot_buffers.items()}
        for s in program.slots:
            if s.kind == "const":
                fixed[s.index] = s.const
        dynamic = set(program.params) | set(plan.fresh)
        self.roots: dict[int, int] = {s: s for s in dynamic}
        self.views: list[tuple[int, int, str]] = []    # (out slot, source slot, how)
        for cg in plan.compiled:
            g = cg.group
            if g.view is None:
                continue
            src, out = g.inputs[0], g.outputs[0]
            if src in dynamic:
                dynamic.add(out)
                self.roots[out] = self.roots[src]
                self.views.append((out, src, g.view))
            else:
                fixed[out] = _view(fixed[src], g.view, plan.slot_shapes[out])
        self.fixed = fixed
        self.dynamic = dynamic
        # per-call arrays: root slot (an input or a fresh result) -> (table, entry)
        # pairs holding its address; a reshape view shares its root's address
        self.patches: dict[int, list[tuple[np.ndarray, int]]] = {}
        self.last_inputs: dict[int, np.ndarray] = {}
        self.recycled: dict[int, list[np.ndarray]] = {}   # result slot -> dropped results
        self.pinned: list[np.ndarray] = []    # every fixed array a table points into
        self.steps: list = []
        for cg in plan.compiled:
            if cg.lowered is not None:
                self._bind_group(cg, plan.groups[cg.group.index], typed)

    # -- binding -------------------------------------------------------------
    def _bind_group(self, cg: CompiledGroup, gp: _GroupPlan, typed) -> None:
        g, lowered, func = cg.group, cg.lowered, cg.group.func
        temps = {v: typed(bid, v.type, gp.shapes[v]) for v, bid in gp.temp_buffers.items()}
        params = dict(zip(func.params, g.inputs))
        outputs: dict[Value, int] = {}
        for res, s in zip(func.results, g.outputs):
            outputs.setdefault(res, s)

        def source(v: Value) -> tuple:
            """(fixed array or None, slot) holding ``v`` during this group."""
            v = lowered.aliases.get(v, v)
            if v in params:
                s = params[v]
            elif v in lowered.constants:
                return lowered.constants[v], -1
            elif v in outputs:
                s = outputs[v]
            else:
                return temps[v], -1
            return (None, s) if s in self.dynamic else (self.fixed[s], s)

        for seg in lowered.segments:
            if isinstance(seg, MatmulCall):
                ops = []
                for v, swapped in ((seg.a, seg.a_swapped), (seg.b, seg.b_swapped), (seg.out, None)):
                    arr, s = source(swapped if swapped is not None else v)
                    if arr is not None and swapped is not None:
                        arr = np.swapaxes(arr, -1, -2)
                    ops.append((arr, s, swapped is not None))
                self.steps.append(_MatmulStep(tuple(ops)))
            else:
                self.steps.append(self._bind_kernel(cg, seg, gp, source))
        for res, s in zip(func.results, g.outputs):
            held = source(res)
            if held[1] != s:       # a param or constant passed through: copy it
                target = (None, s) if s in self.dynamic else (self.fixed[s], s)
                self.steps.append(_CopyStep(held, target))

    def _bind_kernel(self, cg: CompiledGroup, k: KernelFunction, gp: _GroupPlan,
                     source) -> _KernelStep:
        table = np.zeros(k.table_size, dtype=np.int64)
        for j, v in enumerate(k.args):
            arr, s = source(v)
            if arr is None:
                self.patches.setdefault(self.roots[s], []).append((table, j))
            else:
                table[j] = _address(arr)
        table[len(k.args)] = _address(self.error_flag)
        self.pinned.extend(arr for arr, _ in map(source, k.args) if arr is not None)
        table[len(k.args) + 1:] = gp.scalars[k.name]
        extent, work = gp.extents[k.name]
        return _KernelStep(cg.kernel_ids[k.name], extent, work, table, _address(table),
                           k.checks_errors, cg.group, len(k.args) + 1)

    # -- running -------------------------------------------------------------
    def bind_call(self, inputs: list[np.ndarray]) -> dict[int, np.ndarray]:
        """The per-call arrays (inputs, fresh outputs, their views), with their
        addresses written into the kernel tables.  An input that is the very
        object of the previous call on this workspace keeps its entries (an
        ndarray's data never moves while a reference is held; ``last_inputs``
        holds one)."""
        plan = self.plan
        program = plan.program
        arrays: dict[int, np.ndarray] = dict(zip(program.params, inputs))
        for s in plan.fresh:
            arrays[s] = self._fresh(s)
        for out, src, how in self.views:
            arrays[out] = _view(arrays[src], how, plan.slot_shapes[out])
        last = self.last_inputs
        for root, entries in self.patches.items():
            array = arrays[root]
            if last.get(root) is array:
                continue
            address = _address(array)
            for table, entry in entries:
                table[entry] = address
        self.last_inputs = dict(zip(program.params, inputs))
        return arrays


    def _fresh(self, slot: int) -> np.ndarray:
        ring = self.recycled.get(slot)
        if ring:
            for i in range(len(ring)):
                if sys.getrefcount(ring[i]) == 2:       # the ring and the call's argument
                    return ring.pop(i)
        plan = self.plan
        return np.empty(plan.slot_shapes[slot], dtype=plan.program.slots[slot].type.dtype.numpy)

    def handed_out(self, slot: int, array: np.ndarray) -> None:
        """``array`` was returned as result ``slot``: remember it for reuse."""
        if _RECYCLING and array.nbytes >= RECYCLE_BYTES:
            ring = self.recycled.setdefault(slot, [])
            ring.append(array)
            del ring[:-RECYCLE_DEPTH]


RECYCLE_BYTES = 1 << 16
RECYCLE_DEPTH = 2
_RECYCLING = hasattr(sys, "getrefcount")


def _view(array: np.ndarray, how: str, shape: tuple) -> np.ndarray:
    return array.reshape(shape) if how == "reshape" else np.swapaxes(array, -1, -2)
