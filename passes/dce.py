"""``dce``: dead-code elimination.

* Within a function: a pure node none of whose outputs is used by a result
  or by a kept node is removed (one backward walk, ``funcutil.live_nodes``).
  Parameters are never removed: they are the function's signature.
* Within the module: a private function that no public function reaches
  through ``call`` (directly or transitively) is removed (a module without
  any public function is left as it is).

Returns the input module itself when nothing is dead.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir.core import Func, Module
from ..ir.opdef import CALL
from .base import FuncPass
from .context import PassContext
from .funcutil import live_nodes


def reachable_funcs(module: Module) -> set[str]:
    """Names of the public functions and of everything they call."""
    stack = [f.name for f in module.funcs if not f.private]
    seen: set[str] = set()
    while stack:
        name = stack.pop()
        if name in seen or name not in module:
            continue
        seen.add(name)
        stack.extend(n.attrs["callee"] for n in module[name].nodes if n.op.name == CALL)
    return seen


@dataclass(frozen=True)
class DCE(FuncPass):
    name = "dce"
    summary = "remove unused pure nodes and unreachable private functions"

    def run_func(self, func: Func, ctx: PassContext) -> Func:
        kept = live_nodes(func.nodes, func.results)
        return func if len(kept) == len(func.nodes) else func.replace(nodes=tuple(kept))

    def run(self, module: Module, ctx: PassContext) -> Module:
        module = super().run(module, ctx)
        if all(f.private for f in module.funcs):  # no entry point: nothing to measure from
            return module
        live = reachable_funcs(module)
        if all(f.name in live for f in module.funcs):
            return module
        return Module(f for f in module.funcs if f.name in live)
