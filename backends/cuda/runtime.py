"""Running a compiled cuda program: inputs, device buffers, launches, results.

Per call:

1. ``bind_inputs`` checks count, dtype, rank, sizes and symbol bindings
   (an ``InputError`` names the offending input).
2. The *shape plan* for the tuple of input shapes is looked up, or built
   once: the concrete shape of every value (each op's own ``infer`` rule on
   concrete types), each kernel's runtime sizes and grid, and one device
   buffer per intermediate or result slot, per group temporary and per
   non-kept input.  Buffers are allocated once per plan and reused by every
   later call with the same shapes.
3. Inputs go to the device: kept parameters through ``Residency`` (see
   ``residency.py``), the others are copied into the plan's buffers.
   Constants were placed on the device once, when first needed.
4. Kernels launch in program order on the default stream (a launch writing
   nothing is skipped); ``reshape``-like groups cost nothing, because every
   array is a flat C-ordered buffer and a reshape only renames it.
5. Results come back as fresh host arrays (copying a device buffer to the
   host waits for the kernels).  A kernel that met an out-of-range gather or
   scatter index set its error flag, and the call raises ``ExecutionError``.

Bool arrays travel as uint8, f16 as float16; 0-d arrays as one element;
size-0 arrays never reach the device (a placeholder of one element stands
in for them in kernel arguments).  Calls are serialized per executable.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphc.errors import ExecutionError

from ..base import bind_inputs
from ..program import Group, Program
from ..numba.runtime import concrete_shapes
from ...ir.core import Func, Value
from .compiler import storage_dtype
from .emitter import CudaKernel
from .lowering import LoweredGroup
from .residency import Residency
from .target import CudaTarget


@dataclass
class GroupExec:
    group: Group
    lowered: LoweredGroup | None           # None for zero-copy reshape groups


@dataclass
class _Launch:
    launcher: Any
    kernel: CudaKernel
    group: Group
    blocks: int
    threads: tuple[int, ...]
    args: list                             # device arrays, or ("param", slot)
    flag: Any                              # the kernel's error flag (a 1-element view)
    scalars: list[int]


@dataclass
class _Copy:
    source: Any                            # device array or ("param", slot)
    target: Any


def _flat_size(shape: tuple) -> int:
    return math.prod(shape)


def host_storage(array: np.ndarray) -> np.ndarray:
    """``array`` as the flat C-ordered storage a kernel reads."""
    flat = np.ascontiguousarray(array).reshape(-1)
    return flat.view(np.uint8) if flat.dtype == np.bool_ else flat


class ShapePlan:
    """Everything about one tuple of input shapes that does not change per call."""

    def __init__(self, runner: "ProgramRunner", param_shapes: list[tuple],
                 bindings: dict[str, int]) -> None:
        self.runner = runner
        program, target = runner.program, runner.target
        self.slot_shapes: dict[int, tuple] = dict(zip(program.params, param_shapes))
        for slot in program.slots:
            if slot.kind == "const":
                self.slot_shapes[slot.index] = tuple(slot.const.shape)
        self.buffers: dict[int, Any] = {}
        self.steps: list[_Launch | _Copy] = []
        flag_kernels = [(ge, k) for ge in runner.groups if ge.lowered
                        for k in ge.lowered.kernels if k.uses_error_flag]
        self.flags = target.to_device(np.zeros(max(1, len(flag_kernels)), np.int64))
        self.flag_groups: list[tuple[Group, CudaKernel]] = []
        for ge in runner.groups:
            g = ge.group
            shapes = concrete_shapes(g.func, [self.slot_shapes[s] for s in g.inputs],
                                     dict(bindings))
            for slot, res in zip(g.outputs, g.func.results):
                self.slot_shapes[slot] = shapes[res]
            if ge.lowered is not None:
                self._bind_group(ge, shapes)
        self.param_buffers = {
            s: target.device_array(_flat_size(self.slot_shapes[s]),
                                   storage_dtype(program.slots[s].type.dtype))
            for s in runner.uploaded_params if _flat_size(self.slot_shapes[s])}

    def device_for(self, slot: int) -> Any:
        """What holds ``slot`` during a call: a device array or ("param", root)."""
        runner = self.runner
        root = runner.roots[slot]
        kind = runner.program.slots[root].kind
        if kind == "param":
            return ("param", root)
        if kind == "const":
            return runner.const_device(root)
        if root not in self.buffers:
            slot_type = runner.program.slots[root].type
            self.buffers[root] = runner.target.device_array(
                _flat_size(self.slot_shapes[root]), storage_dtype(slot_type.dtype))
        return self.buffers[root]

    def _bind_group(self, ge: GroupExec, shapes: dict) -> None:
        g, lowered, func = ge.group, ge.lowered, ge.group.func
        runner = self.runner
        params = dict(zip(func.params, g.inputs))
        outputs: dict[Value, int] = {}
        for res, slot in zip(func.results, g.outputs):
            outputs.setdefault(res, slot)
        temps = {v: runner.target.device_array(_flat_size(shapes[v]),
                                               storage_dtype(v.type.dtype))
                 for v in lowered.temps}

        def source(v: Value) -> Any:
            if v in params:
                return self.device_for(params[v])
            if v in lowered.constants:
                return runner.group_const(func, v, lowered.constants[v])
            if v in outputs:
                return self.device_for(outputs[v])
            return temps[v]

        for kernel in lowered.kernels:
            units = int(kernel.units(shapes))
            if units == 0:
                continue
            blocks = min(-(-units // kernel.per_block), runner.target.launch.max_blocks)
            flag = 0
            if kernel.uses_error_flag:
                flag = len(self.flag_groups)
                self.flag_groups.append((g, kernel))
            scalars = [int(s.compute(shapes)) for s in kernel.scalars]
            args = [source(v) for v in kernel.args]
            self.steps.append(_Launch(runner.launchers[kernel.name], kernel, g, blocks,
                                      kernel.threads, args, self.flags[flag:flag + 1],
                                      scalars))
        for res, slot in zip(func.results, g.outputs):
            held, target = source(res), self.device_for(slot)
            if held is not target and _flat_size(shapes[res]):
                self.steps.append(_Copy(held, target))


class ProgramRunner:
    """Runs a Program's groups on a target; calls are serialized."""

    def __init__(self, target: CudaTarget, program: Program, groups: list[GroupExec],
                 launchers: dict[str, Any], residency: Residency) -> None:
        self.target = target
        self.program = program
        self.groups = groups
        self.launchers = launchers
        self.residency = residency
        self.roots: dict[int, int] = {s.index: s.index for s in program.slots}
        for ge in groups:
            if ge.lowered is None:
                self.roots[ge.group.outputs[0]] = self.roots[ge.group.inputs[0]]
        used = {self.roots[s] for ge in groups if ge.lowered for s in ge.group.inputs}
        self.uploaded_params = [s for s in program.params if s in used]
        self.param_position = {s: i for i, s in enumerate(program.params)}
        self._consts: dict[Any, Any] = {}
        self._plans: dict[tuple, ShapePlan] = {}
        self._lock = threading.Lock()

    # -- device-resident constants -------------------------------------------------
    def const_device(self, slot: int) -> Any:
        if slot not in self._consts:
            self._consts[slot] = self._upload(host_storage(self.program.slots[slot].const), None)
        return self._consts[slot]

    def group_const(self, func: Func, value: Value, array: np.ndarray) -> Any:
        key = (id(func), value)
        if key not in self._consts:
            self._consts[key] = self._upload(host_storage(array), None)
        return self._consts[key]

    def _upload(self, flat: np.ndarray, reuse: Any) -> Any:
        if flat.size == 0:
            return reuse if reuse is not None else self.target.device_array(1, flat.dtype)
        if reuse is not None:
            reuse.copy_to_device(flat)
            return reuse
        return self.target.to_device(flat)

    # -- a call ----------------------------------------------------------------------
    def __call__(self, func: Func, arrays: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
        checked, bindings = bind_inputs(func, arrays)
        key = tuple(a.shape for a in checked)
        with self._lock:
            plan = self._plans.get(key)
            if plan is None:
                plan = self._plans[key] = ShapePlan(self, [a.shape for a in checked],
                                                    bindings)
            with self.target.launch_scope():
                return self._run(plan, checked)

    def _params(self, plan: ShapePlan, inputs: list[np.ndarray]) -> dict[int, Any]:
        device: dict[int, Any] = {}
        for slot in self.uploaded_params:
            index = self.param_position[slot]
            host = inputs[index]
            flat = host_storage(host)
            if self.residency.is_kept(index):
                device[slot] = self.residency.device_copy(index, host, flat, self._upload)
            else:
                device[slot] = self._upload(flat, plan.param_buffers.get(slot))
        return device

    def _run(self, plan: ShapePlan, inputs: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        params = self._params(plan, inputs)

        def resolve(item: Any) -> Any:
            return params[item[1]] if isinstance(item, tuple) else item

        for step in plan.steps:
            if isinstance(step, _Copy):
                resolve(step.target).copy_to_device(resolve(step.source))
                continue
            args = [resolve(a) for a in step.args]
            step.launcher[step.blocks, step.threads](*args, step.flag, *step.scalars)
        self._check_flags(plan)
        return tuple(self._result(plan, s, inputs) for s in self.program.results)

    def _check_flags(self, plan: ShapePlan) -> None:
        if not plan.flag_groups:
            return
        raised = plan.flags.copy_to_host()
        if not raised.any():
            return
        plan.flags.copy_to_device(np.zeros_like(raised))
        group, _ = plan.flag_groups[int(np.flatnonzero(raised)[0])]
        ops = [n for n in group.func.nodes if n.op.name in ("gather", "scatter_add")]
        where = f" (from {ops[0].loc.describe()})" if ops and ops[0].loc is not None else ""
        name = ops[0].op.name if ops else "gather"
        raise ExecutionError(f"op '{name}' in @{group.func.name} met an index out of "
                             f"range{where}")

    def _result(self, plan: ShapePlan, slot: int, inputs: list[np.ndarray]) -> np.ndarray:
        shape = plan.slot_shapes[slot]
        root = self.roots[slot]
        info = self.program.slots[root]
        dtype = info.type.dtype.numpy
        if info.kind == "param":
            host = inputs[self.param_position[root]]
            return np.array(host.reshape(shape), dtype=dtype, copy=True)
        if info.kind == "const":
            return np.array(info.const.reshape(shape), dtype=dtype, copy=True)
        if _flat_size(shape) == 0:
            return np.empty(shape, dtype=dtype)
        host = plan.device_for(root).copy_to_host()
        return host.view(dtype).reshape(shape)
