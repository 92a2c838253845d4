"""Loop nests: the statements that compute one materialized value.

A kernel is a sequence of *stages*; each stage is one loop nest that writes
one or more materialized values (see ``kernelgen.py`` for which values are
materialized).  Stage kinds and the loops they emit:

``elementwise``  values of one shape computed by expressions
                 (``exprs.Emitter``).  First tried as a single 1-D loop over
                 the linear index (every read then has the same index, the
                 loop vectorizes); otherwise one loop per axis.
``reduce``       sum / mean / max / min / argmax: loops over the kept axes,
                 an inner nest over the reduced axes with a scalar
                 accumulator (f64 for float sums, so an f32 sum is at least
                 as accurate as numpy's pairwise one; int sums wrap to the
                 dtype like numpy).
``row``          softmax / log_softmax along one axis: for each row, one
                 pass for the max, one for ``sum(exp(x - max))`` (writing
                 ``exp`` for softmax), one to normalize.  Prologue
                 elementwise ops are recomputed inside each pass instead of
                 being stored.

Reductions over every axis but the last (a bias gradient) take a blocked
column form instead (``_reduce_columns``): contiguous row segments added
into a block of stack accumulators, so the inner loop vectorizes.

Each stage (or run of stages sharing a loop, ``rows``) becomes a kernel
whose outermost loop runs over ``range(lo, hi)``: the runtime (``runtime.py``) runs it once over the whole
range, or splits the range across its kernel pool when the stage is large
(``NestWriter.extent`` / ``.work`` say how many outer iterations and
elements it has).  Functions end between stages, so a stage always sees the
previous one complete.  Each loop body is its own scope for the emitter's
subexpression cache.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Iterator

from ...ir.core import Node, Value
from ...ir.dtypes import DType
from ...ir.types import normalize_axes, normalize_axis
from .exprs import Emitter, Flat, NotFlat, SourceWriter, linear, load_expr, product, store_expr
from .rules import COMPUTE_CTOR, RuleContext


@dataclass
class Stage:
    kind: str                      # "elementwise" | "reduce" | "row" | "matmul"
    values: list[Value] = field(default_factory=list)
    node: Node | None = None       # the producer, for reduce / row / matmul
    epilogue: list[Value] = field(default_factory=list)  # reduce: computed per stored element


class NestWriter:
    """Emits the loops of the stages of one kernel."""

    def __init__(self, em: Emitter, outputs: dict[Value, str]) -> None:
        self.em = em
        self.w: SourceWriter = em.w
        self.ctx = em.ctx
        self.outputs = outputs
        self.extent = "1"        # iterations of the outermost loop (a chunkable range)
        self.work = "1"          # elements the stage writes, for the parallel threshold
        self._shared: str | None = None   # the row variable while stages share a loop

    @contextlib.contextmanager
    def loop(self, var: str, extent: str, kind: str = "range") -> Iterator[None]:
        self.w.line(f"for {var} in {kind}({extent}):")
        with self.w.indent():
            self.em.push()
            try:
                yield
            finally:
                self.em.pop()

    def outer(self, var: str, extent: str, total: str, body) -> None:
        """The outermost loop of a stage: ``range(lo, hi)``, a chunk the runtime
        picks -- or, inside ``rows``, the current iteration of the shared loop."""
        if self._shared is not None:
            assert var == self._shared, (var, self._shared)
            body()
            return
        self.extent, self.work = extent, total
        with self.loop(var, "lo, hi"):
            body()

    def rows(self, stages: list[Stage], domains: list[Value], finished) -> None:
        """Several stages in one loop over rows ``i0`` (``stagegroups.py`` says
        when that is valid); ``finished(stage)`` is told when each stage's code
        is written, so later stages read its outputs as arrays."""
        self.extent = self.ctx.dim(domains[0], 0)
        self.work = " + ".join(f"({self.ctx.size(d)})" for d in domains)
        with self.loop("i0", "lo, hi"):
            self._shared = "i0"
            try:
                for stage in stages:
                    if stage.kind == "elementwise":
                        self._elementwise_nest(stage)
                    else:
                        getattr(self, stage.kind)(stage)
                    finished(stage)
            finally:
                self._shared = None

    def store(self, v: Value, pos: str, expr: str) -> None:
        self.w.line(f"{self.outputs[v]}[{pos}] = {store_expr(expr, v.type.dtype)}")

    # -- elementwise ---------------------------------------------------------
    def elementwise(self, stage: Stage) -> None:
        mark = (len(self.w.lines), self.ctx.counter, list(self.ctx.scalars),
                dict(self.ctx.scalar_keys), len(self.w.preamble), dict(self.em.scopes[0]))
        try:
            self._elementwise_flat(stage)
        except NotFlat:
            del self.w.lines[mark[0]:]
            del self.w.preamble[mark[4]:]
            self.ctx.counter, self.ctx.scalars, self.ctx.scalar_keys = mark[1], mark[2], mark[3]
            self.em.scopes[0] = mark[5]
            self._elementwise_nest(stage)

    def _elementwise_flat(self, stage: Stage) -> None:
        ref = stage.values[0]
        total = self.ctx.size(ref)

        def body() -> None:
            for v in stage.values:
                self.store(v, "i", self.em.at(v, Flat("i")))

        self.outer("i", total, total, body)

    def _elementwise_nest(self, stage: Stage) -> None:
        ref = stage.values[0]
        rank = ref.type.rank
        idx = tuple(f"i{a}" for a in range(rank))
        total = self.ctx.size(ref)

        def level(a: int) -> None:
            if a == rank:
                for v in stage.values:
                    pos = linear(idx, self.ctx.strides(v))
                    self.store(v, pos, self.em.at(v, idx))
                return
            with self.loop(idx[a], self.ctx.dim(ref, a)):
                level(a + 1)

        self.outer(idx[0], self.ctx.dim(ref, 0), total, lambda: level(1))

    # -- reductions ----------------------------------------------------------
    def _kept_loops(self, u: Value, kept: list[int], inner) -> None:
        """Loops over ``kept`` axes of ``u`` (the first one outermost/parallel)."""
        names = {a: f"i{a}" for a in kept}
        if not kept:  # a full reduction: one serial pass, chunk (0, 1)
            self.extent, self.work = "1", "1"
            inner(names)
            return
        total = self.ctx.size(u, kept)

        def level(k: int) -> None:
            if k == len(kept):
                inner(names)
                return
            with self.loop(names[kept[k]], self.ctx.dim(u, kept[k])):
                level(k + 1)

        self.outer(names[kept[0]], self.ctx.dim(u, kept[0]), total, lambda: level(1))

    def _reduced_loops(self, u: Value, axes: list[int], body) -> None:
        """Loops ``q<axis>`` over the reduced axes, innermost last."""
        def level(k: int) -> None:
            if k == len(axes):
                body()
                return
            with self.loop(f"q{axes[k]}", self.ctx.dim(u, axes[k])):
                level(k + 1)

        level(0)

    def reduce(self, stage: Stage) -> None:
        node = stage.node
        u, r = node.inputs[0], node.outputs[0]
        op = node.op.name
        if op == "argmax":
            axes = [normalize_axis(node.attrs["axis"], u.type.rank)]
        elif node.attrs["axes"] is None:
            axes = list(range(u.type.rank))
        else:
            axes = sorted(normalize_axes(node.attrs["axes"], u.type.rank))
        kept = [a for a in range(u.type.rank) if a not in axes]
        keep = node.attrs["keepdims"]
        dt = u.type.dtype
        rc = RuleContext(dt, ())
        if op != "argmax" and kept == [u.type.rank - 1] and axes:
            self._reduce_columns(stage, u, r, axes)
            return
        if op in ("sum", "mean"):
            acc_type = "F64" if dt.is_float else "I64"
            init = f"{acc_type}(0)"
        elif op in ("max", "min"):
            init = rc.lit(float("-inf") if op == "max" else float("inf")) if dt.is_float else \
                rc.lit(_int_limit(dt, op == "max"))
        else:
            init = rc.lit(float("-inf")) if dt.is_float else rc.lit(_int_limit(dt, True))

        def inner(names: dict[int, str]) -> None:
            acc = self.ctx.fresh("acc")
            best = self.ctx.fresh("at")
            self.w.line(f"{acc} = {init}")
            if op == "argmax":
                self.w.line(f"{best} = I64(0)")

            def body() -> None:
                x = self.em.at(u, tuple(names[a] if a in names else f"q{a}"
                                        for a in range(u.type.rank)))
                if op in ("sum", "mean"):
                    self.w.line(f"{acc} += {x}")
                elif op == "argmax":
                    nan = f" or ({x} != {x} and {acc} == {acc})" if dt.is_float else ""
                    self.w.line(f"if {x} > {acc}{nan}:")
                    with self.w.indent():
                        self.w.line(f"{acc} = {x}")
                        self.w.line(f"{best} = q{axes[0]}")
                else:
                    cmp = ">" if op == "max" else "<"
                    nan = f" or {x} != {x}" if dt.is_float else ""
                    self.w.line(f"{acc} = {x} if ({x} {cmp} {acc}{nan} ) else {acc}"
                                if dt.is_float else f"{acc} = {x} if {x} {cmp} {acc} else {acc}")

            self._reduced_loops(u, axes, body)
            if op == "mean":
                count = self.ctx.size(u, axes)
                result = f"{COMPUTE_CTOR[dt]}({acc} / {count})"
            elif op == "argmax":
                result = best
            elif op == "sum":
                result = RuleContext(dt, ()).wrap(f"{COMPUTE_CTOR[dt]}({acc})") \
                    if dt.is_float else f"{COMPUTE_CTOR[dt]}({acc})"
            else:
                result = acc
            out_idx = tuple("0" if a in axes else names[a] for a in range(u.type.rank)) \
                if keep else tuple(names[a] for a in kept)
            self._store_with_epilogue(stage, r, out_idx, result)

        self._kept_loops(u, kept, inner)

    def _store_with_epilogue(self, stage: Stage, r: Value, idx: tuple, result: str) -> None:
        """Store a reduction's element, then the stage's epilogue values at the
        same index, reading the reduction from the local just computed."""
        pos = linear(idx, self.ctx.strides(r))
        if not stage.epilogue:
            self.store(r, pos, result)
            return
        value = self.em.bind(result, "r")
        self.store(r, pos, value)
        # an operand read of ``r`` indexes its size-1 dims with "0" (see
        # ``Emitter.broadcast_index``): both spellings name the local
        unit = tuple("0" if d == 1 else i for i, d in zip(idx, r.type.shape))
        for key in {idx, unit}:
            self.em.scopes[-1][(r, key if r.type.rank else ())] = value
        for v in stage.epilogue:
            self.store(v, pos, self.em.at(v, idx))

    def _reduce_columns(self, stage: Stage, u: Value, r: Value, axes: list[int]) -> None:
        """A reduction over every axis but the last (a bias gradient: ``sum``
        over the batch).  Reading a column at a time would stride through
        memory, so each task takes a block of ``COLUMN_BLOCK`` columns, keeps
        their accumulators in a stack array and adds whole row segments into
        it: contiguous loads, a vectorizable inner loop.  Accumulators and
        NaN rules are those of the row-wise form."""
        op, dt = stage.node.op.name, u.type.dtype
        last = u.type.rank - 1
        width = self.ctx.dim(u, last)
        acc_ctor = ("F64" if dt.is_float else "I64") if op in ("sum", "mean") else \
            COMPUTE_CTOR[dt]
        if op in ("sum", "mean"):
            init = f"{acc_ctor}(0)"
        elif dt.is_float:
            init = RuleContext(dt, ()).lit(float("-inf") if op == "max" else float("inf"))
        else:
            init = RuleContext(dt, ()).lit(_int_limit(dt, op == "max"))
        acc = self.ctx.fresh("acc")
        stack = {"F64": "stack_f64", "I64": "stack_i64", "F32": "stack_f32",
                 "I32": "stack_i32"}[acc_ctor]
        self.w.preamble.append(f"{acc} = {stack}({COLUMN_BLOCK})")
        blocks = f"({width} + {COLUMN_BLOCK - 1}) // {COLUMN_BLOCK}"
        self.extent, self.work = blocks, self.ctx.size(u)
        j0, j1 = self.ctx.fresh("j"), self.ctx.fresh("j")
        with self.loop("jb", "lo, hi"):
            self.w.line(f"{j0} = jb * {COLUMN_BLOCK}")
            self.w.line(f"{j1} = min({j0} + {COLUMN_BLOCK}, {width})")
            with self.loop("j", f"{j0}, {j1}"):
                self.w.line(f"{acc}[j - {j0}] = {init}")

            def level(k: int) -> None:
                if k < len(axes):
                    with self.loop(f"q{axes[k]}", self.ctx.dim(u, axes[k])):
                        level(k + 1)
                    return
                with self.loop("j", f"{j0}, {j1}"):
                    x = self.em.at(u, tuple(f"q{a}" for a in axes) + ("j",))
                    slot = f"{acc}[j - {j0}]"
                    if op in ("sum", "mean"):
                        self.w.line(f"{slot} += {x}")
                    else:
                        cmp = ">" if op == "max" else "<"
                        nan = f" or {x} != {x}" if dt.is_float else ""
                        self.w.line(f"{slot} = {x} if ({x} {cmp} {slot}{nan}) else {slot}")

            level(0)
            with self.loop("j", f"{j0}, {j1}"):
                value = f"{acc}[j - {j0}]"
                if op == "mean":
                    result = f"{COMPUTE_CTOR[dt]}({value} / ({self.ctx.size(u, axes)}))"
                elif op == "sum":
                    result = RuleContext(dt, ()).wrap(f"{COMPUTE_CTOR[dt]}({value})")
                else:
                    result = value
                out_idx = tuple("0" for _ in range(r.type.rank - 1)) + ("j",)
                self._store_with_epilogue(stage, r, out_idx, result)

    # -- softmax / log_softmax -----------------------------------------------
    def row(self, stage: Stage) -> None:
        node = stage.node
        u, r = node.inputs[0], node.outputs[0]
        axis = normalize_axis(node.attrs["axis"], u.type.rank)
        kept = [a for a in range(u.type.rank) if a != axis]
        dt = u.type.dtype
        ctor = "F64" if dt is DType.f64 else "F32"
        exp = "math.exp" if dt is DType.f64 else "exp_f32"
        log = "math.log"
        extent = self.ctx.dim(u, axis)
        softmax = node.op.name == "softmax"

        def inner(names: dict[int, str]) -> None:
            m, s = self.ctx.fresh("m"), self.ctx.fresh("s")
            k = f"k{axis}"

            def idx() -> tuple:
                return tuple(k if a == axis else names[a] for a in range(u.type.rank))

            self.w.line(f"{m} = {ctor}(-INF)")
            with self.loop(k, extent):
                x = self.em.at(u, idx())
                self.w.line(f"{m} = {x} if ({x} > {m} or {x} != {x}) else {m}")
            self.w.line(f"{s} = F64(0)")
            with self.loop(k, extent):
                x = self.em.at(u, idx())
                e = self.em.bind(f"{exp}({x} - {m})", "e")
                self.w.line(f"{s} += {e}")
                if softmax:
                    self.store(r, linear(idx(), self.ctx.strides(r)), e)
            if softmax:
                total = self.em.bind(f"{ctor}({s})", "z")
                with self.loop(k, extent):
                    pos = linear(idx(), self.ctx.strides(r))
                    arr = self.outputs[r]
                    self.store(r, pos, f"{load_expr(arr, pos, dt)} / {total}")
            else:
                shift = self.em.bind(f"{m} + {ctor}({log}({s}))", "z")
                with self.loop(k, extent):
                    x = self.em.at(u, idx())
                    self.store(r, linear(idx(), self.ctx.strides(r)), f"{x} - {shift}")

        self._kept_loops(u, kept, inner)


    # -- scatter_add ---------------------------------------------------------------
    def scatter(self, stage: Stage) -> None:
        """``out = x`` then ``out[.., idx[j], ..] += updates[.., j, ..]`` in order
        (serial: two updates may hit one element, as in ``np.add.at``)."""
        node = stage.node
        x, ind, upd = node.inputs
        r = node.outputs[0]
        axis = normalize_axis(node.attrs["axis"], max(x.type.rank, 1)) if x.type.rank else 0
        self.extent, self.work = "1", "1"
        arr = self.outputs[r]
        with self.loop("i", self.ctx.size(x)):
            self.store(r, "i", self.em.at(x, self.em.unravel_flat(x, "i")))
        rank = upd.type.rank
        idx = tuple(f"u{a}" for a in range(rank))
        k = ind.type.rank
        size = self.ctx.dim(x, axis)

        def level(a: int) -> None:
            if a == rank:
                g = self.em.checked_index(self.em.at(ind, idx[axis:axis + k]), size)
                target = idx[:axis] + (g,) + idx[axis + k:]
                pos = self.em.bind(linear(target, self.ctx.strides(r)), "p")
                value = self.em.at(upd, idx)
                old = load_expr(arr, pos, r.type.dtype)
                self.store(r, pos, RuleContext(r.type.dtype, ()).wrap(f"({old} + {value})"))
                return
            with self.loop(idx[a], self.ctx.dim(upd, a)):
                level(a + 1)

        self.w.line("if lo < hi:")
        with self.w.indent():
            level(0)


COLUMN_BLOCK = 64
"""Columns per task of a column reduction (64 f64 accumulators: 512 bytes)."""


def _int_limit(dt: DType, lowest: bool) -> int:
    bits = 32 if dt is DType.i32 else 64
    return -(2 ** (bits - 1)) if lowest else 2 ** (bits - 1) - 1


def total_elements(ctx, v: Value) -> str:
    return product([ctx.dim(v, a) for a in range(v.type.rank)])
