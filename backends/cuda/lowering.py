"""Lower one primitive Func (a fused group) to cuda kernels.

A group becomes *one* kernel when its shape allows, else a sequence of
*staged* kernels (each launch completes before the next starts, so a stage
may read anything an earlier one wrote):

* **fused elementwise** -- no reduction, matmul or scatter: one
  ``elementwise_kernel`` with a grid-stride loop per result shape;
* **fused rows** -- reductions / softmax that all reduce the same axes of
  one domain (softmax, layer norm, a per-row loss), and every result either
  row-shaped or domain-shaped: one ``row_kernel`` whose phases are the
  reductions in node order;
* **fused matmul** -- one matmul and results of its output shape (the
  epilogue: bias, activation, residual): one ``matmul_kernel``;
* **staged** -- anything else (and any fused attempt that meets a value it
  cannot compute locally, ``NotLocal``): like the numba backend, the
  results, every reduction/softmax output and every matmul/scatter output
  are materialized; consecutive elementwise values of one shape share a
  kernel, each reduction/softmax is a one-phase ``row_kernel``, each matmul
  a ``matmul_kernel`` without epilogue, each scatter two kernels.

Constants: one-element constants are inlined as literals (the emitter
does it); larger ones, and any constant that is a result, become arrays
the runtime places on the device once.  Results that are parameters or
constants are copied by the runtime, not by a kernel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from graphc.errors import LoweringError

from ...ir.core import Func, Node, Value
from ...ir.types import UNKNOWN
from ..numba.exprs import same_shape
from .emitter import CudaKernel, NotLocal, reduced_axes
from .rules import MATMUL, REDUCE, ROW, SCATTER, LOWERING, check_func
from .target import LaunchConfig
from .writers import elementwise_kernel, matmul_kernel, row_kernel, scatter_kernels


@dataclass
class LoweredGroup:
    func: Func
    kernels: list[CudaKernel] = field(default_factory=list)
    temps: list[Value] = field(default_factory=list)          # materialized, not results
    constants: dict[Value, np.ndarray] = field(default_factory=dict)
    strategy: str = ""


class _NotFusable(Exception):
    """The group does not have the shape of any one-kernel lowering."""


def _strategy(node: Node) -> str:
    return LOWERING[node.op.name]


def _shape_classes(values: list[Value]) -> list[list[Value]]:
    classes: list[list[Value]] = []
    for v in values:
        for cls in classes:
            if same_shape(cls[0], v):
                cls.append(v)
                break
        else:
            classes.append([v])
    return classes


class _Lowering:
    def __init__(self, func: Func, name: str, launch: LaunchConfig) -> None:
        self.func = func
        self.name = re.sub(r"\W", "_", name)
        self.launch = launch
        self.out = LoweredGroup(func)
        self.arrays: set[Value] = set(func.params)
        self.count = 0

    def kernel_name(self) -> str:
        self.count += 1
        return f"{self.name}_k{self.count}"

    def run(self) -> LoweredGroup:
        check_func(self.func)
        self._constants()
        results = []
        for r in self.func.results:
            if r not in self.arrays and r not in results:
                results.append(r)
        try:
            self._fused(results)
        except (_NotFusable, NotLocal):
            self.count = 0
            self.out.kernels = []
            self._staged(results)
        return self.out

    def _constants(self) -> None:
        results = set(self.func.results)
        for node in self.func.nodes:
            if node.op.name == "constant":
                array = node.attrs["value"].array
                if array.size != 1 or node.output in results:
                    self.out.constants[node.output] = np.ascontiguousarray(array).copy()
                    self.arrays.add(node.output)

    # -- one kernel ------------------------------------------------------------------
    def _fused(self, results: list[Value]) -> None:
        kinds = [_strategy(n) for n in self.func.nodes]
        if not results:
            self.out.strategy = "no kernel"
            return
        if SCATTER in kinds or kinds.count(MATMUL) > 1 or \
                (MATMUL in kinds and (REDUCE in kinds or ROW in kinds)):
            raise _NotFusable
        if MATMUL in kinds:
            node = self.func.nodes[kinds.index(MATMUL)]
            if not all(same_shape(v, node.output) for v in results):
                raise _NotFusable
            self.out.kernels = [matmul_kernel(self.func, set(self.arrays), self.kernel_name(),
                                              node, results, self.launch)]
            self.out.strategy = "fused matmul"
        elif REDUCE in kinds or ROW in kinds:
            self._fused_rows(results)
        else:
            self.out.kernels = [elementwise_kernel(self.func, set(self.arrays),
                                                   self.kernel_name(),
                                                   _shape_classes(results), self.launch)]
            self.out.strategy = "fused elementwise"

    def _fused_rows(self, results: list[Value]) -> None:
        phases = [n for n in self.func.nodes if _strategy(n) in (REDUCE, ROW)]
        domain, axes = phases[0].inputs[0], reduced_axes(phases[0])
        for node in phases:
            if not same_shape(node.inputs[0], domain) or reduced_axes(node) != axes:
                raise _NotFusable
        phase_outputs = {n.output for n in phases if _strategy(n) == REDUCE}
        full = [v for v in results if same_shape(v, domain)]
        rows = [v for v in results if v not in full]
        rank = domain.type.rank
        shape = domain.type.shape
        row_shapes = (tuple(1 if a in axes else shape[a] for a in range(rank)),
                      tuple(shape[a] for a in range(rank) if a not in axes))
        for v in rows:
            if v not in phase_outputs and (UNKNOWN in v.type.shape
                                           or v.type.shape not in row_shapes):
                raise _NotFusable
        self.out.kernels = [row_kernel(self.func, set(self.arrays), self.kernel_name(), domain,
                                       axes, phases, rows, full, self.launch)]
        self.out.strategy = "fused rows"

    # -- staged ----------------------------------------------------------------------
    def _staged(self, results: list[Value]) -> None:
        need = set(results)
        for node in self.func.nodes:
            if _strategy(node) in (REDUCE, ROW, MATMUL, SCATTER):
                need.update(node.outputs)
        stages: list[tuple[str, list[Value], Node | None]] = []
        for node in self.func.nodes:
            for v in node.outputs:
                if v not in need or v in self.arrays:
                    continue
                kind = _strategy(node)
                if kind in (REDUCE, ROW, MATMUL, SCATTER):
                    stages.append((kind, [v], node))
                elif stages and stages[-1][0] == "elementwise" and \
                        same_shape(stages[-1][1][0], v):
                    stages[-1][1].append(v)
                else:
                    stages.append(("elementwise", [v], None))
        done = set(self.arrays)
        for kind, values, node in stages:
            self.out.kernels += self._stage(kind, values, node, done)
            done.update(values)
        self.out.temps = [v for _, values, _ in stages for v in values if v not in results]
        self.out.strategy = f"staged ({len(self.out.kernels)} kernels)"

    def _stage(self, kind: str, values: list[Value], node: Node | None,
               done: set[Value]) -> list[CudaKernel]:
        name = self.kernel_name()
        try:
            if kind == "elementwise":
                return [elementwise_kernel(self.func, set(done), name, [values], self.launch)]
            if kind == MATMUL:
                return [matmul_kernel(self.func, set(done), name, node, values, self.launch)]
            if kind == SCATTER:
                return scatter_kernels(self.func, set(done), name, node, self.launch)
            full = values if kind == ROW else []
            rows = values if kind == REDUCE else []
            return [row_kernel(self.func, set(done), name, node.inputs[0], reduced_axes(node),
                               [node], rows, full, self.launch)]
        except NotLocal as exc:
            raise LoweringError(f"backend 'cuda': internal lowering error in @{self.func.name}: "
                                f"value {exc.args[0]} read away from its own element") from None


def lower_group(func: Func, name: str, launch: LaunchConfig) -> LoweredGroup:
    """Lower the primitive Func ``func``; kernels are named ``<name>_k<n>``."""
    return _Lowering(func, name, launch).run()
