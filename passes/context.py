"""``PassContext``: everything a pipeline run is configured with, passed explicitly.

There are no global switches or environment flags: a pass reads its options
from its own fields and anything run-wide from the context.

* ``verify_each`` -- run the verifier on the input and after every pass that
  changed the module (on by default, as in the CLI and the tests);
* ``check_immutable`` -- fail a pass that mutates its input (see
  ``instruments.ImmutabilityCheck``);
* ``instruments`` -- hooks around passes (printing, dumping, timing);
* ``debug_rewrites`` -- the pattern rewriter logs every rule that fires;
* ``bindings`` -- sizes for symbolic dims, used by ``infer-shapes``;
* ``log`` -- where diagnostics go (instrument output, rewrite traces);
  ``None`` means ``sys.stderr`` at the time of writing;
* ``reports`` -- filled by passes that produce a report (``fuse`` stores its
  ``FusionReport`` under ``"fuse"``); the caller decides whether to show it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Mapping, TextIO

from graphc.errors import PassError

from .instruments import Instrument


@dataclass
class PassContext:
    verify_each: bool = True
    check_immutable: bool = True
    instruments: list[Instrument] = field(default_factory=list)
    debug_rewrites: bool = False
    bindings: Mapping[str, int] = field(default_factory=dict)
    log: TextIO | None = None
    reports: dict[str, list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for sym, size in self.bindings.items():
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise PassError(f"binding for symbol {sym} must be a non-negative int, "
                                f"received {size!r}")

    def write(self, text: str) -> None:
        """Write diagnostics (a trailing newline is added when missing)."""
        stream = self.log if self.log is not None else sys.stderr
        stream.write(text if text.endswith("\n") else text + "\n")

    def add_report(self, pass_name: str, report: Any) -> None:
        self.reports.setdefault(pass_name, []).append(report)
