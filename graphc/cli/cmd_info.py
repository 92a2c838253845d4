"""``graphc backends`` and ``graphc ops``: what this installation can do."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from graphc.errors import BackendError

from ..backends import checked_call, list_backends
from ..ir import all_ops


def register(sub: argparse._SubParsersAction) -> None:
    backends = sub.add_parser("backends", help="list backends and whether they are available")
    backends.set_defaults(handler=run_backends)
    ops = sub.add_parser("ops", help="list every op with its signature and backend coverage")
    ops.add_argument("--backend", action="append", default=[], metavar="NAME",
                     help="only show coverage for these backends")
    ops.set_defaults(handler=run_ops)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain left-aligned columns; stable for tests and pipes."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def run_backends(args: argparse.Namespace) -> int:
    rows, notes = [], []
    for source, backend, status in list_backends():
        short, _, reason = status.partition(": ")
        rows.append([source.name, short, source.origin,
                     backend.description if backend is not None else ""])
        if reason:
            notes.append(f"{source.name}: {reason}")
    print(format_table(["backend", "status", "origin", "description"], rows))
    if notes:
        print()
        print("\n".join(notes))
    return 0


def run_ops(args: argparse.Namespace) -> int:
    loaded = [(s.name, b) for s, b, _ in list_backends() if b is not None]
    if args.backend:
        loaded = [(n, b) for n, b in loaded if n in args.backend]
        missing = sorted(set(args.backend) - {n for n, _ in loaded})
        if missing:
            raise BackendError(f"unknown or unloadable backend(s): {', '.join(missing)}")
    supported, broken = {}, []
    for name, backend in loaded:
        try:
            supported[name] = checked_call(backend, "supported_ops()", backend.supported_ops)
        except BackendError as exc:      # listed below the table, the rest still shown
            broken.append(str(exc))
    loaded = [(n, b) for n, b in loaded if n in supported]
    rows = []
    for op in all_ops():
        marks = ["yes" if op.name in supported[name] else "-" for name, _ in loaded]
        rows.append([op.category, op.signature(), op.fusion.value, *marks])
    print(format_table(["category", "op", "fusion", *[n for n, _ in loaded]], rows))
    total = len(rows)
    for name, _ in loaded:
        print(f"{name}: {len(supported[name] & {o.name for o in all_ops()})}/{total} ops lowered")
    for message in broken:
        print(f"not shown: {message}", file=sys.stderr)
    return 0
