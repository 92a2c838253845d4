"""``fuse``: group nodes into kernels and outline each group as a primitive Func.

Overview (in the manner of TVM's FuseOps, simplified to what graphc needs)
--------------------------------------------------------------------------

Every op declares a fusion kind (``OpDef.fusion``):

  ELEMENTWISE  out[i] = f(in[i])               neg, exp, relu, cast, ...
  BROADCAST    elementwise after broadcasting  add, mul, where, ...
  INJECTIVE    each output reads one input     reshape, transpose, slice, ...
  REDUCE       reduces along axes              sum, mean, max, softmax, ...
  OUT_FUSABLE  heavy op, fusible epilogue      matmul
  OPAQUE       never fused                     call (constant is special)

The pass runs per non-primitive function in three steps:

1. **Dead code** -- pure nodes nothing needs are dropped first, so no kernel
   computes unused values.
2. **Grouping** (``fusion_groups.py``) -- nodes are visited in topological
   order; each fusible node merges into the groups of its producers when the
   merge rules allow it.  The resulting kernels are:

   * matmul + its elementwise/broadcast epilogue (bias, activation,
     residual add) -- one matmul per kernel, operands read from memory;
   * a reduction with its elementwise producers and consumers over one
     nested iteration domain -- softmax, layer norm (two reductions along
     the same axes), a loss (row reductions, then the mean over rows);
   * chains of elementwise, broadcast and movement ops.

   A merge never duplicates work, so fusion never adds memory traffic: a
   value needed outside its kernel becomes an extra kernel output.  The one
   exception is where recomputing is cheaper than reading: a constant of at
   most ``max-inline-constant`` elements, or a ``broadcast_to`` of one, is
   copied into every kernel that reads it.
3. **Outlining** (``fusion_outline.py``) -- each group becomes
   ``func private @fused_K(...) -> (...) attributes {primitive = true}`` and
   is replaced by ``call @fused_K(...)``; the call's ``loc`` is the union of
   the group's locations, the kernel's nodes keep their own.

A ``FusionReport`` per function (``fusion_report.py``) goes into
``ctx.reports["fuse"]``: kernels, their ops and layers, and the rule that
kept each pair of neighbouring ops apart.  Running ``fuse`` again finds
nothing to group (a caller holds only calls, constants, opaque ops and
nodes that no kernel could bind), so the pass is idempotent.

Contract: what a primitive Func may contain
-------------------------------------------

Every backend must accept any Func that passes the verifier with
``primitive = true`` (invariant 6):

* parameters and results are tensors (any dtype, rank 0 included, any dim
  0 or symbolic); a result may be a parameter;
* nodes are any registered ops whose fusion kind is not OPAQUE, plus
  ``constant`` nodes; no ``call``;
* shape attributes only name symbols that appear in parameter types.

Kernels produced by this pass also satisfy, and a backend may exploit:

* copied nodes -- constants of at most ``max-inline-constant`` elements and
  ``broadcast_to`` nodes of those -- come first in the body; the rules below
  are about the nodes after them;
* at most one OUT_FUSABLE node; its operands are kernel parameters (or
  copied nodes); when present, every other node is ELEMENTWISE or
  BROADCAST and produces the matmul's output shape;
* every node's domain (input shape for a reduction, else output shape)
  nests in one kernel domain D; reductions over all of D share one axis set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir.core import Func, Module
from .base import Pass, at_node
from .context import PassContext
from .funcutil import live_nodes
from .fusion_groups import group_nodes
from .fusion_outline import Kernel, KernelNames, outline
from .fusion_report import FusionReport, build_report


@dataclass(frozen=True)
class Fuse(Pass):
    name = "fuse"
    summary = "group elementwise/reduce/matmul-epilogue nodes into primitive kernels"

    max_ops: int = field(default=256, metadata={"help": "most nodes in one kernel"})
    max_inline_constant: int = field(default=32, metadata={
        "help": "constants of at most this many elements are copied into kernels"})

    def __post_init__(self) -> None:
        if self.max_ops < 1:
            raise ValueError(f"max-ops must be >= 1, received {self.max_ops}")
        if self.max_inline_constant < 0:
            raise ValueError(f"max-inline-constant must be >= 0, received "
                             f"{self.max_inline_constant}")

    def fuse_func(self, func: Func, names: KernelNames) -> tuple[Func, list[Kernel],
                                                                 FusionReport]:
        kept = live_nodes(func.nodes, func.results)
        if len(kept) != len(func.nodes):
            func = func.replace(nodes=tuple(kept))
        grouping = group_nodes(func, max_ops=self.max_ops)
        kernels: list[Kernel] = []
        caller = func
        if grouping.result:
            caller, kernels = outline(func, grouping.result,
                                      max_inline=self.max_inline_constant, names=names)
        return caller, kernels, build_report(func, grouping, kernels, caller)

    def run(self, module: Module, ctx: PassContext) -> Module:
        names = KernelNames(f.name for f in module.funcs)
        funcs: list[Func] = []
        changed = False
        for func in module.funcs:
            if func.primitive:
                funcs.append(func)
                continue
            with at_node(func):
                caller, kernels, report = self.fuse_func(func, names)
            changed |= caller is not func or bool(kernels)
            funcs.append(caller)
            funcs.extend(k.func for k in kernels)
            if kernels or report.left:
                ctx.add_report(self.name, report)
        return Module(funcs) if changed else module
