"""The fusion report: each kernel, its ops and layers, and why neighbours stayed apart.

Built by ``fuse`` for every function it fused and stored in
``PassContext.reports["fuse"]``; ``graphc opt --fusion-report`` prints it.
Value names are the printer's names in the function *after* fusion (what
``graphc opt`` prints when ``fuse`` ends the pipeline); a value that exists
only inside kernels (a copied constant, a recomputed value) keeps its name
from the function before fusion, marked ``(before fuse)``::

    fusion report for @mlp: 4 kernels
      @fused_1: matmul, add, relu
        layers: dense_1 (model.py:14)
        reads:  %h: f32[N,64], %w1: f32[64,64], %b1: f32[64]
        writes: %h1: f32[N,64]
        not fused with its producers:
          'relu' in @fused_0 -> 'matmul': 'matmul' reads its operands from memory, ...
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir.core import Func, Value
from ..ir.printer import NameScope
from .funcutil import describe_node
from .fusion_groups import Grouping
from .fusion_outline import Kernel


@dataclass(frozen=True)
class KernelEntry:
    name: str
    ops: tuple[str, ...]
    layers: tuple[str, ...]
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    copied: tuple[str, ...]
    kept_apart: tuple[str, ...]

    def format(self) -> list[str]:
        lines = [f"  @{self.name}: {', '.join(self.ops)}",
                 f"    layers: {', '.join(self.layers) or '(no source locations)'}",
                 f"    reads:  {', '.join(self.reads) or '(nothing)'}",
                 f"    writes: {', '.join(self.writes)}"]
        if self.copied:
            lines.append(f"    copies: {', '.join(self.copied)}  (cheaper to recompute than "
                         "to read)")
        if self.kept_apart:
            lines.append("    not fused with its producers:")
            lines += [f"      {line}" for line in self.kept_apart]
        return lines


@dataclass(frozen=True)
class FusionReport:
    func: str
    kernels: tuple[KernelEntry, ...]
    left: tuple[str, ...]

    def format(self) -> str:
        count = len(self.kernels)
        lines = [f"fusion report for @{self.func}: {count} kernel{'s' if count != 1 else ''}"]
        for kernel in self.kernels:
            lines += kernel.format()
        if self.left:
            lines.append(f"  left in @{self.func}:")
            lines += [f"    {line}" for line in self.left]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


class _ReportNames:
    """Printed names after fusion, else (values only kernels hold) before it."""

    def __init__(self, after: Func, before: Func) -> None:
        self.after = NameScope(after)
        self.before = NameScope(before)
        self.names = {**self.before.names, **self.after.names}   # every value named

    def __getitem__(self, value: Value) -> str:
        if value in self.after.names:
            return self.after[value]
        return f"{self.before[value]} (before fuse)"


def _typed(names: _ReportNames, v: Value) -> str:
    return f"{names[v]}: {v.type}"


def build_report(func: Func, grouping: Grouping, kernels: list[Kernel],
                 caller: Func) -> FusionReport:
    """The report of fusing ``func`` into ``caller`` (its form after fusion)."""
    names = _ReportNames(caller, func)
    nodes = func.nodes
    kernel_of = {i: k.func.name for k in kernels for i in k.members}
    entries = []
    for kernel in kernels:
        layers: list[str] = []
        for i in kernel.members:
            loc = nodes[i].loc
            for part in (loc.parts if loc is not None else ()):
                if part.describe() not in layers:
                    layers.append(part.describe())
        members = set(kernel.members)
        apart = []
        for (p, c), why in sorted(grouping.reasons.items()):
            if c in members and p not in members:
                where = f"@{kernel_of[p]}" if p in kernel_of else f"@{func.name}"
                apart.append(f"'{nodes[p].op.name}' in {where} -> '{nodes[c].op.name}': {why}")
        entries.append(KernelEntry(
            kernel.func.name, tuple(nodes[i].op.name for i in kernel.members), tuple(layers),
            tuple(_typed(names, v) for v in kernel.call.inputs),
            tuple(_typed(names, v) for v in kernel.call.outputs),
            tuple(_typed(names, nodes[i].outputs[0]) for i in kernel.inlined),
            tuple(apart)))
    remaining = {id(n) for n in caller.nodes}
    left = tuple(f"{describe_node(nodes[i], names)}: {why}"
                 for i, why in sorted(grouping.excluded.items())
                 if why != "constant" and id(nodes[i]) in remaining)
    return FusionReport(func.name, tuple(entries), left)
