"""Counted loops and loop nests built with llvmlite's IRBuilder.

``for_range(b, count, body)`` emits the canonical shape LLVM's loop passes
expect (a header with an induction ``phi`` starting at 0, an exit test
``i < count``, the body, a latch adding 1 with ``nuw nsw``), positions the
builder after the loop and returns nothing.  ``body(i)`` may create blocks
of its own (nested loops, branches); the latch is attached to whatever
block it ends in.

``for_nest(b, counts, body)`` nests one loop per count, outermost first,
and calls ``body(indices)`` innermost; zero counts give a body run once
(the empty product), as a 0-d iteration domain needs.  ``bounds`` limits
the outermost loop to a sub-range (how the runtime splits a launch over
threads).

Values carried from one iteration to the next (reduction accumulators,
error flags) live in ``alloca`` slots created in the function's entry
block; LLVM's SROA/mem2reg pass turns them into ``phi`` nodes, so callers
never thread ``phi`` nodes through nests by hand.
"""

from __future__ import annotations

from typing import Callable, Sequence

from llvmlite import ir

from .irtypes import I64, i64


def for_range(b: ir.IRBuilder, count: ir.Value, body: Callable[[ir.Value], None],
              name: str = "i", start: ir.Value | None = None) -> None:
    func = b.function
    before = b.block
    header = func.append_basic_block(f"{name}.head")
    loop = func.append_basic_block(f"{name}.body")
    done = func.append_basic_block(f"{name}.done")
    b.branch(header)
    b.position_at_end(header)
    index = b.phi(I64, name=name)
    index.add_incoming(i64(0) if start is None else start, before)
    b.cbranch(b.icmp_signed("<", index, count), loop, done)
    b.position_at_end(loop)
    body(index)
    step = b.add(index, i64(1), name=f"{name}.next", flags=("nuw", "nsw"))
    index.add_incoming(step, b.block)
    b.branch(header)
    b.position_at_end(done)


def for_nest(b: ir.IRBuilder, counts: Sequence[ir.Value],
             body: Callable[[tuple[ir.Value, ...]], None], name: str = "i",
             bounds: tuple[ir.Value, ir.Value] | None = None) -> None:
    """``bounds = (lo, hi)`` restricts the outermost loop to ``[lo, min(hi, count))``."""
    def level(k: int, outer: tuple[ir.Value, ...]) -> None:
        if k == len(counts):
            body(outer)
            return
        count, start = counts[k], None
        if k == 0 and bounds is not None:
            start, hi = bounds
            count = b.select(b.icmp_signed("<", hi, count), hi, count)
        for_range(b, count, lambda i: level(k + 1, outer + (i,)), name=f"{name}{k}",
                  start=start)

    level(0, ())


class Slot:
    """A mutable scalar in an entry-block ``alloca`` (promoted to SSA by LLVM).

    ``init`` is stored where ``b`` stands now (inside a loop: every iteration)."""

    def __init__(self, entry: ir.IRBuilder, b: ir.IRBuilder, typ: ir.Type, init: ir.Value,
                 name: str = "slot") -> None:
        self.b = b
        self.ptr = entry.alloca(typ, name=name)
        b.store(init, self.ptr)
        self.typ = typ

    def get(self) -> ir.Value:
        return self.b.load(self.ptr, typ=self.typ)

    def set(self, value: ir.Value) -> None:
        self.b.store(value, self.ptr)
