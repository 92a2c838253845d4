"""Running a compiled program: input checks, plans, workspaces, launch.

Per call:

1. ``bind_inputs`` checks count, dtype, rank, sizes and symbol bindings (a
   wrong dtype is rejected with an ``InputError``); an input that is not
   C-contiguous, not aligned or read-only is copied into one that is
   (kernels read flat C-ordered memory, so a strided view is never
   misread).
2. The *shape plan* (``plan.py``) for the tuple of input shapes is looked
   up, or built once.  Inputs that are C-contiguous ndarrays of the right
   dtypes and of a shape already planned skip ``bind_inputs`` (a few
   attribute reads instead of the full check, which only ever passes for
   them).
3. A *workspace* (``workspace.py``: the plan's buffers, allocated once, and
   the program bound to them as a list of steps) is taken from the plan's
   pool -- a call on another thread gets its own.  Per call only the
   addresses of new inputs and of the fresh outputs are written into the
   kernel tables.
4. The steps run in order: ``numpy.matmul(out=...)`` for BLAS steps, the
   program entry for kernels (split over the kernel pool when they write
   at least ``min_size`` elements; the pool is parked before every BLAS
   call and at the end), copies where a group passes a value through.  Views cost nothing: a reshape keeps its base's address, a
   swapped view only reaches BLAS.
5. Results are fresh arrays the caller owns: outputs the kernels wrote
   directly, or copies where a result is an input, a constant, a view or a
   repeat of another result.  Steady-state calls allocate nothing but these.
"""

from __future__ import annotations

import ctypes
import threading
import time
from typing import Any

import numpy as np

from graphc.errors import ExecutionError

from ..base import bind_inputs
from ...ir.core import Func
from .plan import CompiledGroup, ShapePlan, _where, concrete_shapes
from ..program import Program
from .workspace import Workspace, _KernelStep, _MatmulStep, _label

__all__ = ["CompiledGroup", "ProgramRunner", "concrete_shapes"]


def _operand(arrays: dict[int, np.ndarray], held: tuple) -> np.ndarray:
    arr = held[0]
    if arr is None:
        arr = arrays[held[1]]
        if len(held) > 2 and held[2]:
            arr = np.swapaxes(arr, -1, -2)
    return arr


def _checked_inputs(func: Func, arrays: tuple[Any, ...]) -> tuple[list[np.ndarray], dict]:
    """``bind_inputs``, then a C-contiguous, aligned copy of any input that is
    not (kernels read raw C-ordered memory; they never write an input)."""
    checked, bindings = bind_inputs(func, arrays)
    return [a if (a.flags.c_contiguous and a.flags.aligned)
            else np.array(a, order="C", copy=True) for a in checked], bindings


class ProgramRunner:
    """Runs a Program of CompiledGroups; safe to call from several threads."""

    def __init__(self, program: Program, compiled: list[CompiledGroup], entry,
                 pool, min_size: int) -> None:
        self.program = program
        self.compiled = compiled
        self.entry = entry
        self.entry_address = ctypes.cast(entry, ctypes.c_void_p).value if entry else 0
        self.pool = pool
        self.min_size = min_size
        self.param_dtypes = tuple(program.slots[s].type.dtype.numpy for s in program.params)
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

    def _known_inputs(self, arrays: tuple[Any, ...]):
        """``(inputs, key, plan)`` when the arrays are C-contiguous ndarrays (or
        numpy scalars) of the expected dtypes and shapes already planned: the
        checks ``bind_inputs`` would pass, done in a few attribute reads.
        Anything else (a new shape, a list, a wrong dtype) takes the full path,
        which also reports errors."""
        if len(arrays) != len(self.param_dtypes):
            return None
        checked = []
        for a, dtype in zip(arrays, self.param_dtypes):
            if type(a) is not np.ndarray:
                if not isinstance(a, np.generic):
                    return None
                a = np.asarray(a)
            if a.dtype != dtype:
                return None
            flags = a.flags
            if not (flags.c_contiguous and flags.aligned):
                return None
            checked.append(a)
        key = tuple(a.shape for a in checked)
        plan = self._plans.get(key)
        return None if plan is None else (checked, key, plan)

    def __call__(self, func: Func, arrays: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
        known = self._known_inputs(arrays)
        if known is not None:
            checked, key, plan = known
        else:
            checked, bindings = _checked_inputs(func, arrays)
            key = tuple(a.shape for a in checked)
            plan = self._plan(key, checked, bindings)
        ws = self._acquire(key, plan)
        try:
            return self._run(ws, checked)
        finally:
            ws.error_flag[0] = 0
            self._release(key, ws)

    def profile(self, func: Func, arrays: tuple[Any, ...], repeat: int) -> list[tuple]:
        """Run ``repeat`` times; (step label, seconds of each run) per step."""
        checked, bindings = _checked_inputs(func, arrays)
        key = tuple(a.shape for a in checked)
        plan = self._plan(key, checked, bindings)
        ws = self._acquire(key, plan)
        try:
            runs = []
            for _ in range(repeat):
                timings: list[float] = []
                self._run(ws, checked, timings)
                runs.append(timings)
        finally:
            self._release(key, ws)
        return [(_label(step), [run[i] for run in runs]) for i, step in enumerate(ws.steps)]

    def _run(self, ws: Workspace, inputs: list[np.ndarray],
             timings: list[float] | None = None) -> tuple[np.ndarray, ...]:
        arrays = ws.bind_call(inputs)
        clock = time.perf_counter
        for step in ws.steps:
            if timings is not None:
                timings.append(-clock())
            if type(step) is _KernelStep:
                self._launch(step, ws)
            elif type(step) is _MatmulStep:
                a, b, out = (_operand(arrays, op) for op in step.operands)
                self.pool.park()
                np.matmul(a, b, out=out)
            else:
                np.copyto(_operand(arrays, step.target), _operand(arrays, step.source))
            if timings is not None:
                timings[-1] += clock()
        self.pool.park()
        outputs = []
        handed: set[int] = set()
        fresh = set(ws.plan.fresh)
        for s in self.program.results:
            if s in fresh and s not in handed:
                outputs.append(arrays[s])
                handed.add(s)
                ws.handed_out(s, arrays[s])
            else:
                held = arrays[s] if s in arrays else ws.fixed[s]
                outputs.append(np.array(held, copy=True, order="C"))
        return tuple(outputs)

    def _launch(self, step: _KernelStep, ws: Workspace) -> None:
        entry, kid, address, extent = self.entry, step.kid, step.address, step.extent
        if step.work < self.min_size or extent < 2 or self.pool.threads == 1:
            entry(kid, 0, extent, address)
        else:
            self.pool.launch(self.entry_address, entry, kid, extent, address, step.work)
        if step.checks_errors and ws.error_flag[0]:
            ws.error_flag[0] = 0
            nodes = [n for n in step.group.func.nodes if n.op.name == "gather"]
            where = _where(nodes[0]) if nodes else ""
            raise ExecutionError(f"op 'gather' in @{step.group.func.name} met an index out of "
                                 f"range{where}")
