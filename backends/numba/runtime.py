"""Running a compiled program: input checks, shape plans, buffers, launch.

Per call:

1. ``bind_inputs`` checks count, dtype, rank, sizes and symbol bindings (a
   wrong dtype is rejected with an ``InputError``); an input that is not
   C-contiguous, not aligned or read-only is copied into one that is
   (kernels read flat C-ordered memory, so a strided view is never
   misread).
2. The *shape plan* for the tuple of input shapes is looked up, or built
   once: concrete shapes of every slot and every group-internal value
   (each op's own ``infer`` rule applied to concrete types), each kernel's
   ``D`` vector, and a buffer assignment -- intermediates and group
   temporaries share byte buffers whenever their lifetimes (in group order)
   do not overlap.
3. A *workspace* (the plan's buffers, allocated once) is taken from the
   plan's pool -- a call on another thread gets its own -- and the groups run
   in order: numpy ``matmul(out=...)`` for BLAS steps, the numba kernels for
   the rest (split over the kernel pool when they write at least
   ``min_size`` elements), views for view groups.
4. Results are fresh arrays the caller owns: outputs the kernels wrote
   directly, or copies where a result is an input, a constant, a view or a
   repeat of another result.  Steady-state calls allocate nothing but these.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from graphc.errors import ExecutionError, GraphcError, InputError

from ..base import bind_inputs, resolve_attrs
from ...ir.core import Func, Node, Value
from ...ir.types import TensorType, format_shape
from .kernelgen import KernelFunction, LoweredGroup, MatmulCall, storage_dtype
from .program import Group, Program
from .threads import KernelPool


@dataclass
class CompiledGroup:
    group: Group
    lowered: LoweredGroup | None               # None for view groups
    kernels: dict[str, object] = field(default_factory=dict)   # kernel name -> dispatcher


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
            for dim, size in zip(value.type.shape, t.shape):
                ok = dim == size if isinstance(dim, int) else (
                    dim == "?" or bindings.setdefault(dim, size) == size)
                if not ok:
                    raise InputError(f"op '{node.op.name}' in @{func.name}{_where(node)} gives "
                                     f"shape {format_shape(t.shape)} where the IR records "
                                     f"{value.type}")
            shapes[value] = tuple(t.shape)
    return shapes


@dataclass
class _GroupPlan:
    shapes: dict                       # Value -> concrete shape
    scalars: dict[str, np.ndarray]     # kernel name -> D vector
    temp_buffers: dict[Value, int]     # temp Value -> buffer id
    extents: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (outer, work)


def _evaluate(expr: str, scalars: np.ndarray) -> int:
    names = {f"d{j + 1}": int(x) for j, x in enumerate(scalars)}
    return int(eval(expr, {"__builtins__": {}}, names))  # expr: ints, d-names, * and +


class ShapePlan:
    """Everything about one tuple of input shapes that does not change per call."""

    def __init__(self, program: Program, compiled: list[CompiledGroup],
                 param_shapes: list[tuple], bindings: dict[str, int]) -> None:
        self.program = program
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
                    values = [s.compute(shapes) for s in k.scalars] or [0]
                    scalars[k.name] = np.array(values, dtype=np.int64)
                    extents[k.name] = (_evaluate(k.extent, scalars[k.name]),
                                       _evaluate(k.work, scalars[k.name]))
            self.groups.append(_GroupPlan(shapes, scalars, {}, extents))
        self.sizes: list[int] = []
        self.slot_buffers: dict[int, int] = {}
        self._assign_buffers(compiled)

    def _nbytes(self, type_: TensorType, shape: tuple) -> int:
        return int(np.prod(shape, dtype=np.int64)) * type_.dtype.itemsize

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


class Workspace:
    """The buffers of one ShapePlan, as typed arrays; used by one call at a time."""

    def __init__(self, plan: ShapePlan) -> None:
        raw = [np.empty(max(n, 1), dtype=np.uint8) for n in plan.sizes]
        program = plan.program

        def typed(bid: int, type_: TensorType, shape: tuple) -> np.ndarray:
            nbytes = int(np.prod(shape, dtype=np.int64)) * type_.dtype.itemsize
            return raw[bid][:nbytes].view(type_.dtype.numpy).reshape(shape)

        self.slots: dict[int, np.ndarray] = {
            s: typed(bid, program.slots[s].type, plan.slot_shapes[s])
            for s, bid in plan.slot_buffers.items()}
        self.temps: list[dict[Value, np.ndarray]] = [
            {v: typed(bid, v.type, gp.shapes[v]) for v, bid in gp.temp_buffers.items()}
            for gp in plan.groups]
        self.error_flag = np.zeros(1, dtype=np.int64)


def _flat(array: np.ndarray) -> np.ndarray:
    flat = array.reshape(-1)
    return flat.view(np.uint16) if flat.dtype == np.float16 else flat


class ProgramRunner:
    """Runs a Program of CompiledGroups; safe to call from several threads."""

    def __init__(self, program: Program, compiled: list[CompiledGroup], pool: KernelPool,
                 min_size: int) -> None:
        self.program = program
        self.compiled = compiled
        self.pool = pool
        self.min_size = min_size
        self._plans: dict[tuple, ShapePlan] = {}
        self._pools: dict[tuple, list[Workspace]] = {}
        self._lock = threading.Lock()

    def _plan(self, key: tuple, arrays: list[np.ndarray], bindings: dict[str, int]) -> ShapePlan:
        with self._lock:
            plan = self._plans.get(key)
        if plan is None:
            plan = ShapePlan(self.program, self.compiled, [a.shape for a in arrays],
                             dict(bindings))
            with self._lock:
                plan = self._plans.setdefault(key, plan)
        return plan

    def _acquire(self, key: tuple, plan: ShapePlan) -> Workspace:
        with self._lock:
            pool = self._pools.setdefault(key, [])
            if pool:
                return pool.pop()
        return Workspace(plan)

    def _release(self, key: tuple, ws: Workspace) -> None:
        with self._lock:
            self._pools[key].append(ws)

    def __call__(self, func: Func, arrays: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
        checked, bindings = bind_inputs(func, arrays)
        checked = [a if (a.flags.c_contiguous and a.flags.aligned and a.flags.writeable)
                   else np.array(a, order="C", copy=True) for a in checked]
        key = tuple(a.shape for a in checked)
        plan = self._plan(key, checked, bindings)
        ws = self._acquire(key, plan)
        try:
            return self._run(plan, ws, checked)
        finally:
            ws.error_flag[0] = 0
            self._release(key, ws)

    def _run(self, plan: ShapePlan, ws: Workspace, inputs: list[np.ndarray]):
        program = self.program
        arrays: dict[int, np.ndarray] = dict(ws.slots)
        arrays.update(zip(program.params, inputs))
        for s in program.slots:
            if s.kind == "const":
                arrays[s.index] = s.const
        fresh: set[int] = set()
        for s in program.results:
            slot = program.slots[s]
            if slot.kind == "value" and slot.base is None and s not in fresh:
                arrays[s] = np.empty(plan.slot_shapes[s], dtype=slot.type.dtype.numpy)
                fresh.add(s)
        for cg in self.compiled:
            g = cg.group
            if g.view is not None:
                src = arrays[g.inputs[0]]
                arrays[g.outputs[0]] = (src.reshape(plan.slot_shapes[g.outputs[0]])
                                        if g.view == "reshape" else np.swapaxes(src, -1, -2))
                continue
            self._run_group(cg, plan.groups[g.index], ws, arrays)
        outputs = []
        handed: set[int] = set()
        for s in program.results:
            if s in fresh and s not in handed:
                outputs.append(arrays[s])
                handed.add(s)
            else:
                outputs.append(np.array(arrays[s], copy=True, order="C"))
        return tuple(outputs)

    def _run_group(self, cg: CompiledGroup, gp: _GroupPlan, ws: Workspace,
                   arrays: dict[int, np.ndarray]) -> None:
        g, lowered = cg.group, cg.lowered
        func = g.func
        env: dict[Value, np.ndarray] = {}
        for p, s in zip(func.params, g.inputs):
            env[p] = arrays[s]
        env.update(lowered.constants)
        for res, s in zip(func.results, g.outputs):
            env.setdefault(res, arrays[s])
        env.update(ws.temps[g.index])
        for temp, target in lowered.aliases.items():
            env[temp] = env[target]
        for seg in lowered.segments:
            if isinstance(seg, MatmulCall):
                a = np.swapaxes(env[seg.a_swapped], -1, -2) if seg.a_swapped is not None \
                    else env[seg.a]
                b = np.swapaxes(env[seg.b_swapped], -1, -2) if seg.b_swapped is not None \
                    else env[seg.b]
                np.matmul(a, b, out=env[seg.out])
            else:
                self._launch(cg, seg, gp, ws, env)
        for res, s in zip(func.results, g.outputs):
            target = arrays[s]
            if env[res] is not target:
                np.copyto(target, env[res])

    def _launch(self, cg: CompiledGroup, k: KernelFunction, gp: _GroupPlan, ws: Workspace,
                env: Mapping[Value, np.ndarray]) -> None:
        args = [_flat(env[v]) for v in k.args]
        disp = cg.kernels[k.name]
        scalars, flag = gp.scalars[k.name], ws.error_flag
        extent, work = gp.extents[k.name]
        if work < self.min_size or extent < 2 or self.pool.threads == 1:
            disp(0, extent, *args, scalars, flag)
        else:
            self.pool.run(lambda lo, hi: disp(lo, hi, *args, scalars, flag), extent)
        if k.checks_errors and ws.error_flag[0]:
            ws.error_flag[0] = 0
            nodes = [n for n in cg.group.func.nodes if n.op.name == "gather"]
            where = _where(nodes[0]) if nodes else ""
            raise ExecutionError(f"op 'gather' in @{cg.group.func.name} met an index out of "
                                 f"range{where}")


def arg_dtypes(k: KernelFunction) -> tuple[np.dtype, ...]:
    return tuple(storage_dtype(v.type.dtype) for v in k.args)
