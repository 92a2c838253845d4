"""Pass instruments: hooks the PassManager calls around every pass.

``Instrument`` has four hooks, all optional:

* ``before_pipeline(module, ctx, passes)`` and ``after_pipeline(module, ctx)``;
* ``before_pass(step, module, ctx)``;
* ``after_pass(step, before, after, seconds, ctx)`` -- ``after is before``
  exactly when the pass changed nothing.

Built-ins:

* ``PrintIR`` prints the module before and/or after selected passes
  (``"*"`` selects all), optionally only when the pass changed it.  Each
  block starts with a header line naming the pass and its position;
* ``DumpIR`` writes ``00-input.gir`` and then one numbered file per pass
  (``03-cse.gir``) into a directory -- each is valid ``.gir``;
* ``PassTiming`` measures each pass and prints a table at the end;
* ``ImmutabilityCheck`` fingerprints the input (object identities, types,
  attributes, names, locations) before a pass and fails the pass if the
  fingerprint changed afterwards.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from graphc.errors import PassError

from ..ir.core import Module
from ..ir.printer import print_module

if TYPE_CHECKING:  # pragma: no cover
    from .base import Pass
    from .context import PassContext

ALL = "*"


@dataclass(frozen=True)
class PassStep:
    """The ``index``-th (1-based) of ``total`` passes of a pipeline run."""

    index: int
    total: int
    pass_: "Pass"

    @property
    def label(self) -> str:
        return f"{self.pass_.spec()} (pass {self.index}/{self.total})"


class Instrument:
    def before_pipeline(self, module: Module, ctx: "PassContext",
                        passes: Sequence["Pass"]) -> None:
        pass

    def before_pass(self, step: PassStep, module: Module, ctx: "PassContext") -> None:
        pass

    def after_pass(self, step: PassStep, before: Module, after: Module, seconds: float,
                   ctx: "PassContext") -> None:
        pass

    def after_pipeline(self, module: Module, ctx: "PassContext") -> None:
        pass


def _selected(selection: frozenset[str], step: PassStep) -> bool:
    return ALL in selection or step.pass_.name in selection


def ir_header(when: str, step: PassStep, note: str = "") -> str:
    return f"// ----- IR {when} {step.label}{note} -----"


@dataclass
class PrintIR(Instrument):
    """Print IR around selected passes; ``before``/``after`` hold pass names or ``"*"``."""

    before: frozenset[str] = frozenset()
    after: frozenset[str] = frozenset()
    only_changed: bool = False

    def before_pass(self, step: PassStep, module: Module, ctx: "PassContext") -> None:
        if _selected(self.before, step):
            ctx.write(ir_header("before", step) + "\n" + print_module(module))

    def after_pass(self, step: PassStep, before: Module, after: Module, seconds: float,
                   ctx: "PassContext") -> None:
        if not _selected(self.after, step):
            return
        changed = after is not before
        if self.only_changed and not changed:
            return
        note = "" if changed else " (unchanged)"
        ctx.write(ir_header("after", step, note) + "\n" + print_module(after))


@dataclass
class DumpIR(Instrument):
    """Write the input and the IR after every pass into ``directory``."""

    directory: str
    written: list[str] = field(default_factory=list)

    def _write(self, filename: str, header: str, module: Module) -> None:
        path = os.path.join(self.directory, filename)
        try:
            os.makedirs(self.directory, exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(header + "\n" + print_module(module))
        except OSError as exc:
            raise PassError(f"cannot write the IR dump {path}: {exc.strerror}") from None
        self.written.append(path)

    def before_pipeline(self, module: Module, ctx: "PassContext",
                        passes: Sequence["Pass"]) -> None:
        self.width = max(2, len(str(len(passes))))
        self._write(f"{0:0{self.width}d}-input.gir", "// ----- IR input -----", module)

    def after_pass(self, step: PassStep, before: Module, after: Module, seconds: float,
                   ctx: "PassContext") -> None:
        note = "" if after is not before else " (unchanged)"
        self._write(f"{step.index:0{self.width}d}-{step.pass_.name}.gir",
                    ir_header("after", step, note), after)


@dataclass
class PassTiming(Instrument):
    """Wall-clock seconds per pass, printed as a table after the pipeline."""

    records: list[tuple[str, float]] = field(default_factory=list)

    def after_pass(self, step: PassStep, before: Module, after: Module, seconds: float,
                   ctx: "PassContext") -> None:
        self.records.append((step.pass_.spec(), seconds))

    def report(self) -> str:
        total = sum(s for _, s in self.records)
        lines = [f"// ----- pass timing: {len(self.records)} passes, {total:.4f} s total -----",
                 f"//   {'seconds':>9}  {'share':>6}  pass"]
        for spec, seconds in self.records:
            share = 100.0 * seconds / total if total > 0 else 0.0
            lines.append(f"//   {seconds:9.4f}  {share:5.1f}%  {spec}")
        return "\n".join(lines)

    def after_pipeline(self, module: Module, ctx: "PassContext") -> None:
        ctx.write(self.report())


def module_snapshot(module: Module) -> tuple:
    """Everything a pass could change in place, by object identity and value."""
    funcs = []
    for func in module.funcs:
        nodes = tuple((id(n), n.op.name, n.attrs, n.loc, tuple(id(v) for v in n.inputs),
                       tuple((id(o), o.type, o.name) for o in n.outputs)) for n in func.nodes)
        funcs.append((id(func), func.name, func.private, func.primitive,
                      tuple((id(p), p.type, p.name) for p in func.params), nodes,
                      tuple(id(r) for r in func.results)))
    return (id(module.funcs), tuple(funcs))


@dataclass
class ImmutabilityCheck(Instrument):
    """Fail any pass that mutates the module it was given."""

    _snapshot: tuple | None = None

    def before_pass(self, step: PassStep, module: Module, ctx: "PassContext") -> None:
        self._snapshot = module_snapshot(module)

    def after_pass(self, step: PassStep, before: Module, after: Module, seconds: float,
                   ctx: "PassContext") -> None:
        if self._snapshot is not None and module_snapshot(before) != self._snapshot:
            raise PassError(f"pass '{step.pass_.name}' mutated its input module; a pass must "
                            "build new Funcs/Nodes and leave its input untouched")
        self._snapshot = None
