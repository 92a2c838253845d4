"""``PassManager``: runs a pipeline of passes over a Module.

For each pass, in order:

1. instruments' ``before_pass`` hooks run (printing, snapshots);
2. the pass runs; any exception becomes a ``PassError`` that names the pass,
   its position in the pipeline, the message, and -- when the pass tagged
   the exception with ``base.at_node`` -- the node, its source location and
   a window of the function's IR around it (the original exception is kept
   as ``__cause__``);
3. with ``ctx.verify_each`` the verifier checks the result whenever it is a
   new module; a failure is reported as the pass producing invalid IR;
4. instruments' ``after_pass`` hooks run (``ImmutabilityCheck`` is added
   automatically when ``ctx.check_immutable`` is set).

The input is verified first (with ``verify_each``) so that an invalid input
is never blamed on a pass.
"""

from __future__ import annotations

import time
from typing import Sequence

from graphc.errors import GraphcError, PassError, VerifyError

from ..ir.core import Func, Module, Node
from ..ir.printer import func_lines
from ..ir.verifier import verify_module
from .base import Pass
from .context import PassContext
from .instruments import ImmutabilityCheck, Instrument, PassStep
from .pipeline import format_pipeline, parse_pipeline

WINDOW = 4


def ir_window(func: Func, node: Node | None) -> str:
    """The node (with its loc) and a few lines of IR around it, marked ``>>``."""
    lines = func_lines(func)
    index = next((i for i, (_, n) in enumerate(lines) if n is node), None)
    out = []
    if index is not None:
        out.append(f"  at node: {lines[index][0].strip()}")
        if node is not None and node.loc is not None:
            out.append(f"  from source: {node.loc.describe()}")
    out.append(f"  in function @{func.name}:")
    center = index if index is not None else 0
    lo, hi = max(0, center - WINDOW), min(len(lines), center + WINDOW + 1)
    if lo > 0:
        out.append("      ...")
    for i in range(lo, hi):
        marker = ">>  " if i == index else "    "
        out.append(f"  {marker}{lines[i][0]}")
    if hi < len(lines):
        out.append("      ...")
    return "\n".join(out)


def pass_failure(step: PassStep, exc: Exception) -> PassError:
    """Wrap an exception raised by a pass with the pass name and IR context."""
    func, node = getattr(exc, "ir_func", None), getattr(exc, "ir_node", None)
    if isinstance(exc, GraphcError):
        head = f"pass {step.label} failed: {exc}"
    else:
        head = (f"internal error in pass {step.label}: {type(exc).__name__}: {exc}\n"
                "  (this is a bug in the pass; rerun with --traceback for details)")
    already_shown = isinstance(exc, VerifyError) and exc.context
    context = ir_window(func, node) if isinstance(func, Func) and not already_shown else ""
    error = PassError(head + ("\n" + context if context else ""))
    error.pass_name = step.pass_.name  # type: ignore[attr-defined]
    error.node = node  # type: ignore[attr-defined]
    error.func = func  # type: ignore[attr-defined]
    return error


class PassManager:
    """Run ``pipeline`` (text or Pass objects) under ``ctx``."""

    def __init__(self, pipeline: str | Sequence[Pass | str] = "default",
                 ctx: PassContext | None = None) -> None:
        self.passes: list[Pass] = parse_pipeline(pipeline)
        self.ctx = ctx if ctx is not None else PassContext()

    @property
    def pipeline(self) -> str:
        return format_pipeline(self.passes)

    def _instruments(self) -> list[Instrument]:
        extra: list[Instrument] = [ImmutabilityCheck()] if self.ctx.check_immutable else []
        return list(self.ctx.instruments) + extra

    def run(self, module: Module | Func) -> Module:
        if isinstance(module, Func):
            module = Module([module])
        if not isinstance(module, Module):
            raise PassError(f"a pass pipeline runs on an ir.Module, received "
                            f"{type(module).__name__}")
        ctx = self.ctx
        if ctx.verify_each:
            verify_module(module)
        instruments = self._instruments()
        for inst in instruments:
            inst.before_pipeline(module, ctx, self.passes)
        total = len(self.passes)
        for index, pass_ in enumerate(self.passes, start=1):
            step = PassStep(index, total, pass_)
            for inst in instruments:
                inst.before_pass(step, module, ctx)
            start = time.perf_counter()
            try:
                result = pass_.run(module, ctx)
            except Exception as exc:
                raise pass_failure(step, exc) from exc
            seconds = time.perf_counter() - start
            if not isinstance(result, Module):
                raise PassError(f"pass {step.label} returned {type(result).__name__}, "
                                "expected an ir.Module")
            if ctx.verify_each and result is not module:
                try:
                    verify_module(result)
                except VerifyError as exc:
                    raise PassError(f"pass {step.label} produced invalid IR: {exc}") from exc
            for inst in instruments:
                inst.after_pass(step, module, result, seconds, ctx)
            module = result
        for inst in instruments:
            inst.after_pipeline(module, ctx)
        return module


def run_pipeline(module: Module | Func, pipeline: str | Sequence[Pass | str] = "default",
                 ctx: PassContext | None = None) -> Module:
    """Run ``pipeline`` over ``module`` and return the result (the entry point
    ``graphc.compile`` uses)."""
    return PassManager(pipeline, ctx).run(module)
