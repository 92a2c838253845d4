"""Running a compiled program: input checks, buffer plans, kernel calls.

Per call: ``bind_inputs`` checks the arrays against the entry signature
(count, dtype, rank, sizes, symbols) -- once per (dtype, shape) signature:
ndarrays matching a signature that passed before skip the re-check.
Inputs that are not C-contiguous are copied once (generated loops assume
C order; the only non-contiguous arrays the program makes itself, swapped
views, are only ever read by numpy.matmul, see ``program.py``); then every
group runs in order:

* a view group reshapes or swaps the axes of its input (no copy);
* a kernel group fills its pointer array (parameters and outputs change
  per call; scratch and constants are fixed by the plan) and runs its
  steps: generated functions through ctypes (``CFUNCTYPE(i32, ptr, ptr,
  i64, i64)``;
  ctypes releases the GIL for the call), ``numpy.matmul(..., out=...)``
  for matmul steps.  A non-zero return is a failed run-time check and
  raises ``ExecutionError`` naming the op, the axis and its size.

Buffer plans: the first call with a new signature of input shapes computes
every slot's shape (``shapes.py``) and allocates, once, the scratch buffers
of each kernel and the arrays of intermediate slots.  Intermediates share
memory when their lifetimes do not overlap (a slot's memory is released
after its last reader, blocks of equal size are reused).  Results are
always fresh arrays, never views of inputs, of each other or of planned
memory.

Threads: plans are kept per thread (``threading.local``), so concurrent
calls from several threads never share a buffer; each thread pays the
planning cost once per signature.  Within one call, a large map or row
launch may run as chunks on a ``WorkerPool`` (``pool.py``).
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from graphc.errors import ExecutionError

from ...ir.core import Func
from ..base import bind_inputs
from .compiler import JitModule
from .kernelgen import CallStep, KernelInfo
from .pool import INT64_MAX, WorkerPool
from ..program import Group, Program
from .shapes import bind_shapes, func_shapes, scalar_values

KERNEL_TYPE = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p,
                               ctypes.c_int64, ctypes.c_int64)


def numbering(func: Func) -> dict:
    """Values by structural position: params, then node outputs (as staging.py numbers them)."""
    order: dict = {}
    for v in func.params:
        order.setdefault(v, len(order))
    for node in func.nodes:
        for out in node.outputs:
            order.setdefault(out, len(order))
    return order


@dataclass
class CompiledKernel:
    info: KernelInfo
    jit: JitModule
    calls: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for symbol in self.info.symbols:
            self.calls[symbol] = KERNEL_TYPE(self.jit.address(symbol))


@dataclass
class GroupPlan:
    scalars: np.ndarray
    pointers: Any                    # ctypes array of one data pointer per buffer
    arrays: list                     # planned arrays (scratch, constants) by buffer index
    out_shapes: list[tuple[int, ...]]
    shapes: list
    pointers_address: int = 0
    scalars_address: int = 0
    extents: list = field(default_factory=list)   # per step: outer-loop extent to split, or 0


class GroupRunner:
    """Runs one kernel group; its plans are built per input shapes."""

    def __init__(self, group: Group, kernel: CompiledKernel, pool: WorkerPool | None = None,
                 min_size: int = 1 << 20) -> None:
        self.group, self.kernel = group, kernel
        self.pool, self.min_size = pool, min_size
        self.func = group.func
        self.numbering = numbering(group.func)
        self.info = kernel.info
        self._params = [(b.index, b.position) for b in self.info.buffers if b.role == "param"]
        self._results = [(b.index, b.position) for b in self.info.buffers
                         if b.role == "result"]
        self._steps = [(self.kernel.calls[step.symbol], None) if isinstance(step, CallStep)
                       else (None, step) for step in self.info.steps]

    def plan(self, in_shapes: Sequence[tuple[int, ...]],
             outer: dict[str, int] | None = None) -> GroupPlan:
        shapes, bindings = func_shapes(self.func, self.numbering, in_shapes, outer)
        scalars = scalar_values(self.func, self.info.scalar_keys, shapes, bindings,
                                self.numbering)
        arrays: list = [None] * len(self.info.buffers)
        pointers = (ctypes.c_void_p * max(1, len(arrays)))()
        for buf in self.info.buffers:
            if buf.role == "scratch":
                shape = list(shapes[buf.shape_of])
                if buf.drop_axis is not None:
                    del shape[buf.drop_axis]
                arrays[buf.index] = np.empty(shape, dtype=buf.dtype.numpy)
            elif buf.role == "const":
                value = self.func.nodes[buf.position].attrs["value"].array
                arrays[buf.index] = np.ascontiguousarray(value, dtype=buf.dtype.numpy)
            if arrays[buf.index] is not None:
                pointers[buf.index] = arrays[buf.index].ctypes.data
        out_shapes = [shapes[self.numbering[r]] for r in self.func.results]
        extents = []
        for step in self.info.steps:
            split = getattr(step, "split", None)
            extent = 0
            if split is not None and self.pool is not None and self.pool.threads > 1:
                domain = shapes[split[0]]
                if int(np.prod(domain, dtype=np.int64)) >= self.min_size:
                    extent = int(np.prod([domain[a] for a in split[1]], dtype=np.int64))
            extents.append(extent)
        return GroupPlan(scalars, pointers, arrays, out_shapes, shapes,
                         ctypes.addressof(pointers), scalars.ctypes.data, extents)

    def run(self, plan: GroupPlan, inputs: Sequence[np.ndarray],
            outputs: Sequence[np.ndarray]) -> None:
        pointers = plan.pointers
        for index, position in self._params:
            pointers[index] = inputs[position].ctypes.data
        for index, position in self._results:
            pointers[index] = outputs[position].ctypes.data
        for (call, matmul), extent in zip(self._steps, plan.extents):
            if call is not None:
                if extent > 1:
                    code = self.pool.run(call, plan.pointers_address, plan.scalars_address,
                                         extent)
                else:
                    code = call(plan.pointers_address, plan.scalars_address, 0, INT64_MAX)
                if code:
                    raise self._failure(code, plan, inputs)
            else:
                np.matmul(self._array(matmul.a, plan, inputs, outputs),
                          self._array(matmul.b, plan, inputs, outputs),
                          out=self._array(matmul.out, plan, inputs, outputs))

    @staticmethod
    def _array(buf, plan: GroupPlan, inputs, outputs) -> np.ndarray:
        if buf.role == "param":
            return inputs[buf.position]
        if buf.role == "result":
            return outputs[buf.position]
        return plan.arrays[buf.index]

    def _failure(self, code: int, plan: GroupPlan, inputs: Sequence[np.ndarray]) -> ExecutionError:
        kind, node_index, axis = self.info.error_sites[code - 1]
        node = self.func.nodes[node_index]
        x, indices = node.inputs[0], node.inputs[1]
        size = plan.shapes[self.numbering[x]][axis]
        detail = "an index"
        if indices in self.func.params:
            values = np.asarray(inputs[self.func.params.index(indices)])
            bad = values[(values < -size) | (values >= size)]
            if bad.size:
                detail = f"index {bad.flat[0]}"
        where = f" (from {node.loc.describe()})" if node.loc is not None else ""
        return ExecutionError(f"op '{kind}' failed: {detail} is out of range for axis {axis} "
                              f"of size {size} (valid: {-size} .. {size - 1}){where}")


@dataclass
class ProgramPlan:
    shapes: list
    group_plans: dict[int, GroupPlan]
    memory: dict[int, np.ndarray]          # intermediate slot -> its planned array


class ProgramRunner:
    def __init__(self, program: Program, runners: dict[int, GroupRunner]) -> None:
        self.program = program
        self.runners = runners
        self.entry = program.entry
        self._local = threading.local()
        self._result_set = set(program.results)

    def plans(self) -> dict:
        plans = getattr(self._local, "plans", None)
        if plans is None:
            plans = self._local.plans = {}
        return plans

    def __call__(self, arrays: Sequence[Any]) -> tuple[np.ndarray, ...]:
        plans = self.plans()
        plan = None
        if all(type(a) is np.ndarray for a in arrays):
            # a (dtype, shape) signature seen before passed bind_inputs then
            plan = plans.get(tuple((a.dtype, a.shape) for a in arrays))
        if plan is None:
            checked, _ = bind_inputs(self.entry, arrays)
            arrays = checked
            key = tuple((a.dtype, a.shape) for a in checked)
            plan = plans.get(key)
            if plan is None:
                plan = plans[key] = self._plan(tuple(a.shape for a in checked))
        inputs = [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in arrays]
        program = self.program
        values: list = [None] * len(program.slots)
        for slot, a in zip(program.params, inputs):
            values[slot] = a
        for slot in program.slots:
            if slot.kind == "const":
                values[slot.index] = slot.const
        for g in program.groups:
            if g.view is not None:
                source = values[g.inputs[0]]
                values[g.outputs[0]] = source.reshape(plan.shapes[g.outputs[0]]) \
                    if g.view == "reshape" else np.swapaxes(source, -1, -2)
                continue
            outs = []
            for s in g.outputs:
                out = plan.memory.get(s)
                if out is None:
                    out = np.empty(plan.shapes[s], dtype=program.slots[s].type.dtype.numpy)
                values[s] = out
                outs.append(out)
            self.runners[g.index].run(plan.group_plans[g.index], [values[s] for s in g.inputs],
                                      outs)
        return self._results(values)

    def _results(self, values: list) -> tuple[np.ndarray, ...]:
        out, seen = [], set()
        for s in self.program.results:
            slot = self.program.slots[s]
            owned = slot.kind == "value" and slot.base is None and s not in seen
            out.append(values[s] if owned else np.array(values[s], copy=True))
            seen.add(s)
        return tuple(out)

    def _plan(self, signature: tuple) -> ProgramPlan:
        program = self.program
        shapes: list = [None] * len(program.slots)
        for slot, shape in zip(program.params, signature):
            shapes[slot] = shape
        for slot in program.slots:
            if slot.kind == "const":
                shapes[slot.index] = slot.const.shape
        group_plans: dict[int, GroupPlan] = {}
        for g in program.groups:
            in_shapes = [shapes[s] for s in g.inputs]
            outer = None
            if g.scope is not None:
                scope_func, scope_slots = g.scope
                outer = bind_shapes(scope_func, [shapes[s] for s in scope_slots])
            if g.view is not None:
                order = numbering(g.func)
                node_shapes, _ = func_shapes(g.func, order, in_shapes, outer)
                shapes[g.outputs[0]] = node_shapes[order[g.func.results[0]]]
                continue
            gp = group_plans[g.index] = self.runners[g.index].plan(in_shapes, outer)
            for s, shape in zip(g.outputs, gp.out_shapes):
                shapes[s] = shape
        return ProgramPlan(shapes, group_plans, self._memory(shapes))

    def _memory(self, shapes: list) -> dict[int, np.ndarray]:
        """Arrays for intermediate slots, sharing blocks between disjoint lifetimes."""
        program = self.program
        last_use: dict[int, int] = {}
        for g in program.groups:
            for s in g.inputs:
                root = program.root(s)
                last_use[root] = max(last_use.get(root, -1), g.index)
        for s in program.results:     # results are copied at the very end: never reuse them
            last_use[program.root(s)] = len(program.groups)
        free: dict[int, list[np.ndarray]] = {}
        memory: dict[int, np.ndarray] = {}
        releases: dict[int, list[tuple[int, np.ndarray]]] = {}
        for g in program.groups:
            if g.view is None:
                for s in g.outputs:
                    if s in self._result_set or program.slots[s].base is not None:
                        continue
                    dtype = program.slots[s].type.dtype.numpy
                    size = int(np.prod(shapes[s], dtype=np.int64)) * dtype.itemsize
                    pool = free.get(size)
                    block = pool.pop() if pool else np.empty(size, dtype=np.uint8)
                    memory[s] = block.view(dtype).reshape(shapes[s])
                    end = max(last_use.get(s, g.index), g.index)
                    releases.setdefault(end, []).append((size, block))
            for size, block in releases.pop(g.index, []):
                free.setdefault(size, []).append(block)
        return memory
