"""One kernel under construction: argument names, the body text, values at indices.

``KernelBuilder`` owns what a single generated kernel needs: a
``SourceWriter`` for its body, a ``KernelContext`` (runtime sizes ``d1``,
``d2``, ... that become trailing scalar parameters) and a ``CudaEmitter``
that writes the value of any IR value at any index.  Array parameters are
named ``a0``, ``a1``, ... in first-use order; ``E`` is the error flag a
gather or scatter sets for an out-of-range index.  ``finish`` assembles::

    def <name>(a0, a1, ..., E, d1, d2, ...):
        <shared-memory declarations>
        <body>

``CudaEmitter`` extends the numba backend's index-arithmetic ``Emitter``
(imported, not copied) with *locals*: values whose element at the current
point of the kernel is already in a variable -- the accumulator of a matmul
tile, the reduced value of the current row.  A local is valid at exactly
one index, its *canonical* index; reading it anywhere else raises
``NotLocal``, which makes the caller fall back to a lowering that writes the
value to memory.  Comparisons ignore axes of static size 1 (their only
valid index is 0, whatever expression names it).  Softmax / log_softmax
outputs whose row statistics are locals are computed by formula at any
index of the current row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from ...ir.core import Func, Node, Value
from ...ir.dtypes import DType
from ...ir.types import normalize_axis
from ..numba.exprs import (Emitter, Flat, Index, KernelContext, RuntimeScalar, SourceWriter,
                           linear, load_expr, product, store_expr)
from ..numba.rules import COMPUTE_CTOR, RuleContext


class NotLocal(Exception):
    """A local value was read away from its canonical index."""


@dataclass(frozen=True)
class RowStats:
    """Locals holding one row's max and sum of exp(x - max) for a softmax node."""

    axis: int
    kept: tuple[str, ...]       # canonical index of the row over the kept axes
    max_name: str
    sum_name: str


def _as_tuple(v: Value, idx: Index) -> Index:
    if isinstance(idx, Flat) and v.type.rank <= 1:
        return (idx.expr,) if v.type.rank == 1 else ()
    return idx


def same_index(ctx: KernelContext, v: Value, idx: Index, canonical: Sequence[str]) -> bool:
    """True when ``idx`` names the element ``canonical`` names (a flat index must be
    the very expression ``linear(canonical)`` -- e.g. after an expand_dims)."""
    idx = _as_tuple(v, idx)
    if isinstance(idx, Flat):
        return idx.expr == linear(canonical, ctx.strides(v))
    if len(idx) != len(canonical):
        return False
    return all(d == 1 or i == c for d, i, c in zip(v.type.shape, idx, canonical))


class CudaEmitter(Emitter):
    def __init__(self, ctx: KernelContext, w: SourceWriter, leaves) -> None:
        super().__init__(ctx, w, leaves)
        self.locals: dict[Value, tuple[tuple[str, ...], str]] = {}
        self.stats: dict[Value, RowStats] = {}

    def at(self, v: Value, idx: Index) -> str:
        if v in self.locals:
            canonical, name = self.locals[v]
            if not same_index(self.ctx, v, idx, canonical):
                raise NotLocal(v)
            return name
        return super().at(v, idx)

    def _compute(self, node: Node, v: Value, idx: Index) -> str:
        if v in self.stats:
            return self._softmax(node, v, idx, self.stats[v])
        return super()._compute(node, v, idx)

    def _move_concat(self, node: Node, v: Value, idx: Index) -> str:
        if len(node.inputs) == 1:  # the shared emitter writes a bare `else:` for one piece
            return self.at(node.inputs[0], idx)
        return super()._move_concat(node, v, idx)

    def _softmax(self, node: Node, v: Value, idx: Index, stats: RowStats) -> str:
        idx = _as_tuple(v, idx)
        kept = tuple(i for a, i in enumerate(idx) if a != stats.axis) \
            if not isinstance(idx, Flat) else None
        shape = tuple(d for a, d in enumerate(v.type.shape) if a != stats.axis)
        if kept is None or not all(d == 1 or i == c
                                   for d, i, c in zip(shape, kept, stats.kept)):
            raise NotLocal(v)
        x = self.at(node.inputs[0], idx)
        dtype = v.type.dtype
        rc = RuleContext(dtype, ())
        if node.op.name == "softmax":
            return rc.wrap(f"({exp_name(dtype)}({x} - {stats.max_name}) / {stats.sum_name})")
        return rc.wrap(f"(({x} - {stats.max_name}) - math.log({stats.sum_name}))")


def exp_name(dtype: DType) -> str:
    return "math.exp" if dtype is DType.f64 else "exp_f32"


def compute_ctor(dtype: DType) -> str:
    return COMPUTE_CTOR[dtype]


class _Leaves(dict):
    """Arrays the kernel reads: ``v in leaves`` asks whether ``v`` is in memory."""

    def __init__(self, done: set[Value], name_of: Callable[[Value], str]) -> None:
        super().__init__()
        self.done = done
        self.name_of = name_of

    def __contains__(self, v: object) -> bool:
        return v in self.done

    def __getitem__(self, v: Value) -> str:
        return self.name_of(v)


@dataclass
class CudaKernel:
    """A generated kernel and what the runtime needs to launch it.

    ``units(shapes)`` is the number of work units for concrete shapes
    (elements, rows or tiles); the grid is ``ceil(units / per_block)``
    blocks, capped by the launch config; ``threads`` is the block shape."""

    name: str
    source: str
    args: list[Value]
    scalars: list[RuntimeScalar]
    writes: list[Value]
    kind: str
    units: Callable[[dict], int]
    per_block: int
    threads: tuple[int, ...]
    uses_error_flag: bool = False
    note: str = ""
    shared_lines: int = 0          # shared-memory declarations right after the def line

    def simulator_source(self) -> str:
        """The source with its shared-memory declarations under ``SHARED_LOCK``: the
        simulator looks each shared array up in a dict without a lock, so two
        simulated threads declaring it at once could get two different arrays."""
        if not self.shared_lines:
            return self.source
        lines = self.source.splitlines()
        declared = lines[1:1 + self.shared_lines]
        body = lines[1 + self.shared_lines:]
        return "\n".join([lines[0], "    with SHARED_LOCK:"] + ["    " + d for d in declared]
                         + body) + "\n"


@dataclass
class KernelBuilder:
    func: Func
    done: set[Value]
    name: str
    args: list[Value] = field(default_factory=list)
    names: dict[Value, str] = field(default_factory=dict)
    shared: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ctx = KernelContext(self.func)
        self.w = SourceWriter()
        self.em = CudaEmitter(self.ctx, self.w, _Leaves(self.done, self.arg))

    def arg(self, v: Value) -> str:
        if v not in self.names:
            self.names[v] = f"a{len(self.names)}"
            self.args.append(v)
        return self.names[v]

    def line(self, text: str) -> None:
        self.w.line(text)

    def store(self, v: Value, pos: str, expr: str) -> None:
        self.w.line(f"{self.arg(v)}[{pos}] = {store_expr(expr, v.type.dtype)}")

    def load(self, v: Value, pos: str) -> str:
        return load_expr(self.arg(v), pos, v.type.dtype)

    def shared_array(self, name: str, shape: str, dtype: DType) -> str:
        self.shared[name] = f"{name} = cuda.shared.array({shape}, {compute_ctor(dtype)})"
        return name

    def size(self, v: Value, axes: Sequence[int] | None = None) -> str:
        return self.ctx.size(v, axes)

    def unravel(self, lin: str, v: Value, axes: Sequence[int], prefix: str) -> dict[int, str]:
        """Bind ``<prefix><axis>`` to the C-order position of ``lin`` over ``axes`` of ``v``."""
        names: dict[int, str] = {}
        sizes = [self.ctx.dim(v, a) for a in axes]
        for k, axis in enumerate(axes):
            inner = product(sizes[k + 1:])
            q = lin if inner == "1" else f"({lin} // ({inner}))"
            names[axis] = f"{prefix}{axis}"
            self.w.line(f"{names[axis]} = {q if k == 0 else f'{q} % ({sizes[k]})'}")
        return names

    @property
    def preamble(self) -> list[str]:
        """Loads the emitter hoists out of every loop (loop-invariant leaf reads)."""
        return getattr(self.w, "preamble", [])

    def mark(self) -> tuple:
        """A point to return to when an attempt (a flat loop) turns out impossible."""
        return (len(self.w.lines), self.ctx.counter, list(self.ctx.scalars),
                dict(self.ctx.scalar_keys), dict(self.shared), self.w.depth,
                len(self.preamble), dict(self.em.scopes[0]), len(self.args), dict(self.names))

    def rollback(self, mark: tuple) -> None:
        del self.w.lines[mark[0]:]
        self.ctx.counter, self.ctx.scalars, self.ctx.scalar_keys = mark[1], mark[2], mark[3]
        self.shared, self.w.depth = mark[4], mark[5]
        del self.preamble[mark[6]:]
        self.em.scopes[0] = mark[7]
        del self.args[mark[8]:]
        self.names = mark[9]

    def finish(self, kind: str, units: Callable[[dict], int], per_block: int,
               threads: tuple[int, ...], writes: list[Value], note: str = "") -> CudaKernel:
        params = [self.names[v] for v in self.args] + ["E"] + \
            [f"d{j + 1}" for j in range(len(self.ctx.scalars))]
        head = [f"def {self.name}({', '.join(params)}):"]
        head += ["    " + text for text in self.shared.values()]
        head += ["    " + text for text in self.preamble]
        source = "\n".join(head + self.w.lines) + "\n"
        return CudaKernel(self.name, source, list(self.args), list(self.ctx.scalars),
                          list(writes), kind, units, per_block, threads,
                          self.ctx.uses_error_flag, note, len(self.shared))


def reduced_axes(node: Node) -> tuple[int, ...]:
    """The sorted axes a REDUCE or ROW node reduces (``axes``/``axis`` attributes)."""
    rank = node.inputs[0].type.rank
    attrs = node.attrs
    if node.op.name in ("softmax", "log_softmax", "argmax"):
        return (normalize_axis(attrs["axis"], rank),)
    if attrs["axes"] is None:
        return tuple(range(rank))
    return tuple(sorted(a % rank for a in attrs["axes"])) if rank else ()
