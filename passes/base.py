"""``Pass``: the unit of the pipeline, and ``FuncPass`` for per-function passes.

Contract of every pass:

* a pass is a frozen dataclass; ``name`` (a ClassVar) is its pipeline
  spelling and its dataclass fields are its options (``options.py``);
* ``run(module, ctx)`` returns a Module and never mutates its input.  When
  nothing changes it returns *the input object itself*: "changed" means
  ``new is not old`` everywhere (instruments, fixed-point loops, tests);
* a failure is raised as an exception; ``at_node`` tags it with the function
  and node being processed so the PassManager can show the IR around it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Iterator

from graphc.errors import PassError

from ..ir.core import Func, Module, Node
from .options import OptionSpec, option_specs

if TYPE_CHECKING:  # pragma: no cover
    from .context import PassContext


@contextlib.contextmanager
def at_node(func: Func, node: Node | None = None) -> Iterator[None]:
    """Tag any exception escaping the block with ``func``/``node`` (innermost wins)."""
    try:
        yield
    except Exception as exc:
        if getattr(exc, "ir_func", None) is None:
            exc.ir_func = func  # type: ignore[attr-defined]
            exc.ir_node = node  # type: ignore[attr-defined]
        raise


@dataclass(frozen=True)
class Pass:
    """Base class of all passes (see the module docstring for the contract)."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def run(self, module: Module, ctx: "PassContext") -> Module:  # pragma: no cover
        raise NotImplementedError

    @classmethod
    def options(cls) -> tuple[OptionSpec, ...]:
        return option_specs(cls)

    def spec(self) -> str:
        """Pipeline text for this pass, listing options that differ from the default."""
        parts = []
        for opt in self.options():
            value = getattr(self, opt.field)
            if value != opt.default:
                parts.append(f"{opt.name}={opt.kind.format(value)}")
        return self.name + ("{" + " ".join(parts) + "}" if parts else "")

    def __str__(self) -> str:
        return self.spec()


@dataclass(frozen=True)
class FuncPass(Pass):
    """A pass that rewrites each function on its own.

    Subclasses implement ``run_func``; ``skip_primitive`` keeps fused kernels
    untouched.  The module is rebuilt only if some function changed.
    """

    skip_primitive: ClassVar[bool] = False

    def run(self, module: Module, ctx: "PassContext") -> Module:
        funcs, changed = [], False
        for func in module.funcs:
            if self.skip_primitive and func.primitive:
                funcs.append(func)
                continue
            with at_node(func):
                new = self.run_func(func, ctx)
            if not isinstance(new, Func):
                raise PassError(f"pass '{self.name}' returned {type(new).__name__} for "
                                f"@{func.name}, expected a Func")
            changed |= new is not func
            funcs.append(new)
        return Module(funcs) if changed else module

    def run_func(self, func: Func, ctx: "PassContext") -> Func:  # pragma: no cover
        raise NotImplementedError
