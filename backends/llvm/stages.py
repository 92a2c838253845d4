"""Loop nests of the stage kinds (see ``staging.py``), emitted through an Evaluator.

``map`` and ``row`` stages accept ``bounds``: a sub-range of their
outermost loop (``split_axes`` says which axes that loop covers), so the
runtime can run one launch as independent chunks on several threads.

Every stage stores what it computes: ``map`` its sinks, ``row`` its task
results per row plus its element and row sinks, ``accum`` one reduction
accumulated in its output buffer, ``scatter`` a copy of ``x`` plus the
updates.  All values of one iteration are computed before any is stored,
so a sink may overwrite a buffer that the same iteration reads.
"""

from __future__ import annotations

from typing import Callable, Sequence

from llvmlite import ir

from .evaluator import Evaluator, Flat
from .irtypes import I64, register_type
from .loops import Slot, for_nest, for_range
from .movement import checked_index
from .reductions import ARGMAX_IDENTITY, REDUCTIONS, argmax_step
from .staging import Stage, Task
from ...ir.types import normalize_axis


def _store_all(ev: Evaluator, sinks, index: tuple, offset_of: Callable) -> None:
    values = [ev.at(s.value, index) for s in sinks]
    for sink, value in zip(sinks, values):
        ev.store(sink.buffer, offset_of(sink), value)


def emit_map(ev: Evaluator, stage: Stage, bounds=None) -> None:
    dims = ev.dims(stage.domain)
    if stage.flat:
        def flat_body(index: tuple) -> None:
            with ev.scope():
                _store_all(ev, stage.sinks, Flat(index), lambda s: index[0])
        for_nest(ev.b, [ev.product(dims)], flat_body, "flat", bounds)
        return

    def body(index: tuple) -> None:
        with ev.scope():
            off = ev.offset(dims, index)
            _store_all(ev, stage.sinks, index, lambda s: off)
    for_nest(ev.b, dims, body, "map", bounds)


def split_axes(stage: Stage) -> tuple[int, ...] | None:
    """Axes of ``stage.domain`` whose sizes multiply to the outermost loop's count
    when the stage can run as independent sub-ranges of that loop (None: it cannot)."""
    rank = stage.domain.type.rank
    if stage.kind == "map":
        return tuple(range(rank)) if stage.flat else ((0,) if rank else None)
    if stage.kind == "row":
        kept = [a for a in range(rank) if a not in stage.axes]
        return (kept[0],) if kept else None
    return None


def _merge(rank: int, axes: Sequence[int], kept: tuple, reduced: tuple) -> tuple:
    k, r = iter(kept), iter(reduced)
    return tuple(next(r) if a in axes else next(k) for a in range(rank))


def _out_index(ev: Evaluator, rank: int, axes: Sequence[int], kept: tuple,
               keepdims: bool) -> tuple:
    if not keepdims:
        return kept
    it = iter(kept)
    return tuple(ev.const(0) if a in axes else next(it) for a in range(rank))


def _task_value(ev: Evaluator, task: Task, full: tuple, kept: tuple) -> ir.Value:
    x = ev.at(task.source, full)
    if task.kind != "softmax_sumexp":
        return x
    dims = ev.buffer_dims(task.stats)
    row_max = ev.load(task.stats, ev.offset(dims, kept))
    return ev.math.call(ev.b, "exp", task.source.type.dtype, ev.b.fsub(x, row_max))


def _row_task(ev: Evaluator, task: Task, rank: int, reduced_dims: list, kept: tuple) -> None:
    b, dtype = ev.b, task.source.type.dtype
    if task.kind == "argmax":
        best = Slot(ev.entry, b, register_type(dtype), ARGMAX_IDENTITY(dtype), "best")
        where = Slot(ev.entry, b, I64, ev.const(0), "argmax")

        def step(reduced: tuple) -> None:
            with ev.scope():
                v = _task_value(ev, task, _merge(rank, task.axes, kept, reduced), kept)
                old = best.get()
                take = argmax_step(b, dtype, old, v)
                best.set(b.select(take, v, old))
                where.set(b.select(take, reduced[0], where.get()))
        for_nest(b, reduced_dims, step, "arg")
        result = where.get()
    else:
        rule = REDUCTIONS[task.kind]
        acc = Slot(ev.entry, b, register_type(dtype), rule.identity(dtype), "acc")

        def step(reduced: tuple) -> None:
            with ev.scope():
                v = _task_value(ev, task, _merge(rank, task.axes, kept, reduced), kept)
                acc.set(rule.combine(b, ev.math, dtype, acc.get(), v))
        for_nest(b, reduced_dims, step, "red")
        result = acc.get()
        if rule.mean:
            result = b.fdiv(result, b.sitofp(ev.product(reduced_dims), result.type))
    out_dims = ev.buffer_dims(task.out)
    index = kept if task.out.drop_axis is not None else \
        _out_index(ev, rank, task.axes, kept, task.keepdims)
    ev.store(task.out, ev.offset(out_dims, index), result)


def emit_row(ev: Evaluator, stage: Stage, bounds=None) -> None:
    rank = stage.domain.type.rank
    dims = ev.dims(stage.domain)
    kept_dims = [d for a, d in enumerate(dims) if a not in stage.axes]
    reduced_dims = [dims[a] for a in stage.axes]

    def row(kept: tuple) -> None:
        with ev.scope():
            for task in stage.tasks:
                _row_task(ev, task, rank, reduced_dims, kept)
            if stage.sinks:
                def element(reduced: tuple) -> None:
                    with ev.scope():
                        full = _merge(rank, stage.axes, kept, reduced)
                        off = ev.offset(dims, full)
                        _store_all(ev, stage.sinks, full, lambda s: off)
                for_nest(ev.b, reduced_dims, element, "elem")
            for sink in stage.row_sinks:
                index = _out_index(ev, rank, stage.axes, kept, sink.keepdims)
                value = ev.at(sink.value, index)
                ev.store(sink.buffer, ev.offset(ev.dims(sink.value), index), value)
    for_nest(ev.b, kept_dims, row, "row", bounds)


def emit_accum(ev: Evaluator, stage: Stage, bounds=None) -> None:
    task = stage.tasks[0]
    b, dtype = ev.b, task.source.type.dtype
    rule = REDUCTIONS[task.kind]
    rank = stage.domain.type.rank
    out_dims = ev.buffer_dims(task.out)
    total = ev.product(out_dims)
    for_range(b, total, lambda i: ev.store(task.out, i, rule.identity(dtype)), "init")

    def body(index: tuple) -> None:
        with ev.scope():
            v = ev.at(task.source, index)
            kept = tuple(i for a, i in enumerate(index) if a not in stage.axes)
            off = ev.offset(out_dims, _out_index(ev, rank, stage.axes, kept, task.keepdims))
            ev.store(task.out, off, rule.combine(b, ev.math, dtype, ev.load(task.out, off), v))
    for_nest(b, ev.dims(stage.domain), body, "acc")
    if rule.mean:
        count = b.sitofp(ev.product([ev.dim(stage.domain, a) for a in stage.axes]),
                         register_type(dtype))
        for_range(b, total, lambda i: ev.store(task.out, i, b.fdiv(ev.load(task.out, i), count)),
                  "mean")


def emit_scatter(ev: Evaluator, stage: Stage, bounds=None) -> None:
    node = stage.node
    x, indices, updates = node.inputs
    out = ev.plan.leaf[node.output]
    b = ev.b
    dims = ev.dims(x)
    ax = normalize_axis(node.attrs["axis"], x.type.rank)
    q = indices.type.rank

    def copy(index: tuple) -> None:
        with ev.scope():
            ev.store(out, ev.offset(dims, index), ev.at(x, index))
    for_nest(b, dims, copy, "copy")

    def add(index: tuple) -> None:
        with ev.scope():
            k = checked_index(ev, ev.at(indices, tuple(index[ax:ax + q])), dims[ax],
                              "scatter_add", node, ax)
            target = tuple(index[:ax]) + (k,) + tuple(index[ax + q:])
            off = ev.offset(dims, target)
            u = ev.at(updates, index)
            old = ev.load(out, off)
            ev.store(out, off, b.fadd(old, u) if x.type.dtype.is_float else b.add(old, u))
    for_nest(b, ev.dims(updates), add, "upd")


STAGE_EMITTERS: dict[str, Callable[..., None]] = {
    "map": emit_map, "row": emit_row, "accum": emit_accum, "scatter": emit_scatter,
}
