"""Kernel writers: the four shapes of generated cuda kernel.

``elementwise_kernel``
    one thread per output element, grid-stride: ``for i in range(cuda.grid(1),
    n, cuda.gridsize(1))``.  Several outputs of one shape share a loop; each
    further shape gets its own loop in the same kernel and recomputes what it
    needs (nothing computed in one loop is read by another, so no barrier is
    needed).  The loop first tries the flat index (``exprs.Flat``), else it
    unravels ``i`` into per-axis indices.

``row_kernel``
    one block per *row* -- an index over the kept axes of a domain value --
    with blocks striding over rows (a row of static size n gets the smallest
    power of two >= n threads, at most the launch's block).  Each *phase* reduces the row: every
    thread folds a strided share of the reduced elements into a running
    value, a shared-memory tree combines the threads' values
    (``log2(block)`` halvings, a barrier after each), and every thread keeps
    the row's result in a local (``CudaEmitter.locals``).  Softmax phases
    compute the row max, then the sum of ``exp(x - max)``; their outputs are
    then a formula of ``x`` and these two locals.  After the phases, the
    threads stride over the row again to store full-shaped results, and
    thread 0 stores row-shaped ones.

``matmul_kernel``
    a ``tile x tile`` block computes one tile of ``C[..., m, n] = sum_k
    A[..., m, k] B[..., k, n]`` (batch dims broadcast, 1-D operands promoted
    as numpy does): per step of ``k`` the block stages a tile of A and one of
    B in shared memory, then each thread accumulates its dot product.  The
    epilogue -- every output of the group, computed from the accumulator as
    a local at the thread's own element -- runs before the single store.
    Blocks stride over (batch, tile row, tile column).

``scatter_kernels``
    ``out = x`` (elementwise), then one thread per update element adds it at
    its target with ``cuda.atomic.add`` -- or, for f16 (no f16 atomics), a
    single thread adds them in order, rounding after each add as
    ``np.add.at`` does.  Out-of-range indices set the error flag.

Accumulators follow ``rules.accumulator``: f16 in f32, integer sums and
integer matmuls in i64 (wrapped to the dtype at the end, which gives the
same bits as wrapping after every step).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from ...ir.core import Func, Node, Value
from ...ir.dtypes import DType
from ...ir.types import UNKNOWN
from ..numba.exprs import Flat, NotFlat, linear
from ..numba.rules import RuleContext
from .emitter import CudaKernel, KernelBuilder, RowStats, compute_ctor, exp_name
from .rules import ARGMAX_NO_INDEX, REDUCERS, accumulator
from .target import LaunchConfig


def _count(shape: Sequence[int], axes: Sequence[int] | None = None) -> int:
    picked = shape if axes is None else [shape[a] for a in axes]
    return math.prod(picked)


def _scoped(kb: KernelBuilder, header: str, body: Callable[[], None]) -> None:
    kb.line(header)
    with kb.w.indent():
        kb.em.push()
        try:
            body()
        finally:
            kb.em.pop()


# -- elementwise ------------------------------------------------------------------------

def _elementwise_loop(kb: KernelBuilder, values: list[Value]) -> None:
    ref = values[0]
    header = f"for i in range(cuda.grid(1), {kb.size(ref)}, cuda.gridsize(1)):"

    def flat() -> None:
        for v in values:
            kb.store(v, "i", kb.em.at(v, Flat("i")))

    def nest() -> None:
        idx = kb.em.unravel_flat(ref, "i")
        for v in values:
            kb.store(v, "i", kb.em.at(v, idx))

    mark = kb.mark()
    try:
        _scoped(kb, header, flat)
    except NotFlat:
        kb.rollback(mark)
        _scoped(kb, header, nest)


def elementwise_kernel(func: Func, done: set[Value], name: str, classes: list[list[Value]],
                       launch: LaunchConfig) -> CudaKernel:
    kb = KernelBuilder(func, done, name)
    for values in classes:
        _elementwise_loop(kb, values)
    refs = [values[0] for values in classes]

    def units(shapes: dict) -> int:
        return max(_count(shapes[v]) for v in refs)

    writes = [v for values in classes for v in values]
    return kb.finish("elementwise", units, launch.block, (launch.block,), writes)


# -- rows -------------------------------------------------------------------------------

def _tree(kb: KernelBuilder, block: int, acc: str, acc_type: DType,
          best: str | None = None, step: Callable[..., str] | None = None) -> None:
    """Combine every thread's ``acc`` (and ``best``) into all threads' ``acc``."""
    shm = kb.shared_array(f"shm_{acc_type.short}", str(block), acc_type)
    shi = kb.shared_array("shm_index", str(block), DType.i64) if best else None
    kb.line(f"{shm}[tid] = {acc}")
    if shi:
        kb.line(f"{shi}[tid] = {best}")
    kb.line("cuda.syncthreads()")
    kb.line(f"half = {block // 2}")
    kb.line("while half > 0:")
    with kb.w.indent():
        kb.line("if tid < half:")
        with kb.w.indent():
            a, b = f"{shm}[tid]", f"{shm}[tid + half]"
            if shi:
                kb.line(f"if {step(a, b, f'{shi}[tid]', f'{shi}[tid + half]')}:")
                with kb.w.indent():
                    kb.line(f"{shm}[tid] = {b}")
                    kb.line(f"{shi}[tid] = {shi}[tid + half]")
            else:
                kb.line(f"{shm}[tid] = {step(a, b)}")
        kb.line("cuda.syncthreads()")
        kb.line("half //= 2")
    kb.line(f"{acc} = {shm}[0]")
    if shi:
        kb.line(f"{best} = {shi}[0]")
    kb.line("cuda.syncthreads()")


class _Row:
    """The loop variables of one row kernel: ``row`` indices and the reduced axes."""

    def __init__(self, kb: KernelBuilder, domain: Value, axes: Sequence[int], block: int):
        self.kb, self.domain, self.axes, self.block = kb, domain, tuple(axes), block
        self.kept = [a for a in range(domain.type.rank) if a not in self.axes]
        self.rows: dict[int, str] = {}
        self.rsize = kb.size(domain, self.axes)

    def index(self, cols: dict[int, str]) -> tuple[str, ...]:
        return tuple(self.rows[a] if a in self.rows else cols[a]
                     for a in range(self.domain.type.rank))

    def over_columns(self, body: Callable[[tuple[str, ...]], None]) -> None:
        def inner() -> None:
            cols = self.kb.unravel("col", self.domain, self.axes, "q")
            body(self.index(cols))
        _scoped(self.kb, f"for col in range(tid, {self.rsize}, {self.block}):", inner)

    def reduced_index(self, keepdims: bool) -> tuple[str, ...]:
        """The index of the current row in a reduction's output."""
        if keepdims:
            return tuple("0" if a in self.axes else self.rows[a]
                         for a in range(self.domain.type.rank))
        return tuple(self.rows[a] for a in self.kept)

    def canonical(self, v: Value) -> tuple[str, ...] | None:
        """The index of ``v`` at the current row, when ``v`` is row-shaped (a phase's
        output, or a value whose shape is provably a reduction's)."""
        if v in self.kb.em.locals:
            return self.kb.em.locals[v][0]
        d, rank = self.domain.type.shape, self.domain.type.rank
        if UNKNOWN in v.type.shape or UNKNOWN in d:
            return None
        if v.type.shape == tuple(1 if a in self.axes else d[a] for a in range(rank)):
            return tuple("0" if a in self.axes else self.rows[a] for a in range(rank))
        if v.type.shape == tuple(d[a] for a in self.kept):
            return tuple(self.rows[a] for a in self.kept)
        return None


def _row_block(domain: Value, axes: Sequence[int], block: int) -> int:
    """Threads per row: the launch's block, or fewer for a short row of static size."""
    sizes = [domain.type.shape[a] for a in axes]
    if all(isinstance(d, int) for d in sizes):
        return min(block, 1 << max(0, math.prod(sizes) - 1).bit_length())
    return block


def _reduce_phase(row: _Row, node: Node) -> None:
    kb, op = row.kb, node.op.name
    u, out = node.inputs[0], node.output
    reducer = REDUCERS[op]
    acc_type = accumulator(op, u.type.dtype)
    acc = kb.ctx.fresh("acc")
    best = kb.ctx.fresh("at") if op == "argmax" else None
    kb.line(f"{acc} = {reducer.init(acc_type)}")
    if best:
        kb.line(f"{best} = I64({ARGMAX_NO_INDEX})")

    def fold(idx: tuple[str, ...]) -> None:
        x = kb.em.at(u, idx)
        if best:
            kb.line(f"if {reducer.step(acc_type, acc, x, best, 'col')}:")
            with kb.w.indent():
                kb.line(f"{acc} = {x}")
                kb.line(f"{best} = col")
        else:
            kb.line(f"{acc} = {reducer.step(acc_type, acc, x)}")

    row.over_columns(fold)
    _tree(kb, row.block, acc, acc_type, best,
          lambda a, b, ia="", ib="": reducer.step(acc_type, a, b, ia, ib))
    result = kb.ctx.fresh("red")
    kb.line(f"{result} = {reducer.finish(acc, best or '', out.type.dtype, row.rsize)}")
    keepdims = node.attrs["keepdims"]
    kb.em.locals[out] = (row.reduced_index(keepdims), result)


def _softmax_phase(row: _Row, node: Node) -> None:
    kb = row.kb
    u, out = node.inputs[0], node.output
    acc_type = accumulator("max", u.type.dtype)
    rc = RuleContext(acc_type, ())
    high, total = kb.ctx.fresh("m"), kb.ctx.fresh("s")
    kb.line(f"{high} = {rc.lit(float('-inf'))}")
    row.over_columns(lambda idx: kb.line(
        f"{high} = {REDUCERS['max'].step(acc_type, high, kb.em.at(u, idx))}"))
    _tree(kb, row.block, high, acc_type, step=lambda a, b: REDUCERS["max"].step(acc_type, a, b))
    kb.line(f"{total} = {rc.lit(0)}")
    row.over_columns(lambda idx: kb.line(
        f"{total} = {total} + {exp_name(u.type.dtype)}({kb.em.at(u, idx)} - {high})"))
    _tree(kb, row.block, total, acc_type, step=lambda a, b: f"({a} + {b})")
    kept = tuple(row.rows[a] for a in row.kept)
    kb.em.stats[out] = RowStats(row.axes[0], kept, high, total)


def row_kernel(func: Func, done: set[Value], name: str, domain: Value, axes: Sequence[int],
               phases: list[Node], row_results: list[Value], full_results: list[Value],
               launch: LaunchConfig) -> CudaKernel:
    """Raises ``emitter.NotLocal`` when a value cannot be computed row by row."""
    kb = KernelBuilder(func, done, name)
    row = _Row(kb, domain, axes, _row_block(domain, axes, launch.block))
    kb.line("tid = cuda.threadIdx.x")

    def body() -> None:
        row.rows = kb.unravel("row", domain, row.kept, "r")
        for node in phases:
            (_reduce_phase if node.op.name in REDUCERS else _softmax_phase)(row, node)
        if full_results:
            row.over_columns(lambda idx: [
                kb.store(v, linear(idx, kb.ctx.strides(v)), kb.em.at(v, idx))
                for v in full_results])
        if row_results:
            def first_thread() -> None:
                for v in row_results:
                    kb.store(v, "row", kb.em.at(v, row.canonical(v)))
            _scoped(kb, "if tid == 0:", first_thread)

    _scoped(kb, f"for row in range(cuda.blockIdx.x, {kb.size(domain, row.kept)}, "
                "cuda.gridDim.x):", body)
    kept = row.kept

    def units(shapes: dict) -> int:
        return _count(shapes[domain], kept)

    ops = ", ".join(n.op.name for n in phases)
    return kb.finish("rows", units, 1, (row.block,), row_results + full_results,
                     note=f"one block per row of {domain.type}, reducing axes "
                          f"{list(axes)} ({ops})")


# -- matmul -----------------------------------------------------------------------------

def _operand_batch(kb: KernelBuilder, operand: Value, batch_rank: int, out: Value,
                   out_batch: int, z: dict[int, str]) -> list[str]:
    idx = []
    for k in range(batch_rank):
        axis = k + out_batch - batch_rank
        d_in, d_out = operand.type.shape[k], out.type.shape[axis]
        if d_in == 1:
            idx.append("0")
        elif d_in == d_out and d_in != UNKNOWN:
            idx.append(z[axis])
        else:
            idx.append(f"({z[axis]} if {kb.ctx.dim(operand, k)} != 1 else 0)")
    return idx


def matmul_kernel(func: Func, done: set[Value], name: str, node: Node, outputs: list[Value],
                  launch: LaunchConfig) -> CudaKernel:
    """``outputs``: the values stored per element (the matmul's result and/or its
    epilogue); raises ``emitter.NotLocal`` when the epilogue is not elementwise."""
    a, b = node.inputs
    o = node.output
    tile = launch.tile
    kb = KernelBuilder(func, done, name)
    a_vec, b_vec = a.type.rank == 1, b.type.rank == 1
    m = "1" if a_vec else kb.ctx.dim(a, a.type.rank - 2)
    k = kb.ctx.dim(a, a.type.rank - 1)
    n = "1" if b_vec else kb.ctx.dim(b, b.type.rank - 1)
    out_batch = o.type.rank - (0 if a_vec else 1) - (0 if b_vec else 1)
    acc_type = accumulator("sum", o.type.dtype)
    acc_ctor = compute_ctor(acc_type)
    sa = kb.shared_array("tile_a", f"({tile}, {tile})", acc_type)
    sb = kb.shared_array("tile_b", f"({tile}, {tile})", acc_type)
    zero = f"{acc_ctor}(0)"
    for text in ("tx = cuda.threadIdx.x", "ty = cuda.threadIdx.y",
                 f"tiles_m = ({m} + {tile - 1}) // {tile}",
                 f"tiles_n = ({n} + {tile - 1}) // {tile}"):
        kb.line(text)
    count = kb.size(o, range(out_batch))

    def load(operand: Value, idx: tuple[str, ...], cond: str, target: str) -> None:
        same = compute_ctor(operand.type.dtype) == acc_ctor
        _scoped(kb, f"if {cond}:", lambda: kb.line(
            f"{target}[ty, tx] = " + (kb.em.at(operand, idx) if same
                                      else f"{acc_ctor}({kb.em.at(operand, idx)})")))
        _scoped(kb, "else:", lambda: kb.line(f"{target}[ty, tx] = {zero}"))

    def per_tile() -> None:
        kb.line("bz = tile // (tiles_m * tiles_n)")
        kb.line("rest = tile % (tiles_m * tiles_n)")
        kb.line(f"mi = (rest // tiles_n) * {tile} + ty")
        kb.line(f"nj = (rest % tiles_n) * {tile} + tx")
        z = kb.unravel("bz", o, range(out_batch), "z")
        a_batch = _operand_batch(kb, a, 0 if a_vec else a.type.rank - 2, o, out_batch, z)
        b_batch = _operand_batch(kb, b, 0 if b_vec else b.type.rank - 2, o, out_batch, z)
        kb.line(f"acc = {zero}")

        def steps() -> None:
            kb.line("ka = k0 + tx")
            load(a, tuple(a_batch + ([] if a_vec else ["mi"]) + ["ka"]),
                 f"mi < {m} and ka < {k}", sa)
            kb.line("kb = k0 + ty")
            load(b, tuple(b_batch + ["kb"] + ([] if b_vec else ["nj"])),
                 f"kb < {k} and nj < {n}", sb)
            kb.line("cuda.syncthreads()")
            kb.line(f"for kk in range({tile}):")
            with kb.w.indent():
                kb.line(f"acc += {sa}[ty, kk] * {sb}[kk, tx]")
            kb.line("cuda.syncthreads()")

        _scoped(kb, f"for k0 in range(0, {k}, {tile}):", steps)

        def store() -> None:
            kb.line(f"mm = {RuleContext(o.type.dtype, ()).wrap('acc')}")
            o_idx = tuple([z[x] for x in range(out_batch)] + ([] if a_vec else ["mi"])
                          + ([] if b_vec else ["nj"]))
            kb.em.locals[o] = (o_idx, "mm")
            for v in outputs:
                kb.store(v, linear(o_idx, kb.ctx.strides(v)), kb.em.at(v, o_idx))

        _scoped(kb, f"if mi < {m} and nj < {n}:", store)

    _scoped(kb, f"for tile in range(cuda.blockIdx.x, {count} * tiles_m * tiles_n, "
                "cuda.gridDim.x):", per_tile)
    a_rank, b_rank = a.type.rank, b.type.rank

    def units(shapes: dict) -> int:
        rows = 1 if a_vec else shapes[a][a_rank - 2]
        cols = 1 if b_vec else shapes[b][b_rank - 1]
        return _count(shapes[o][:out_batch]) * -(-rows // tile) * -(-cols // tile)

    epilogue = [n.op.name for n in func.nodes if n is not node and n.op.name != "constant"]
    note = f"{tile}x{tile} tiles" + (f", epilogue: {', '.join(epilogue)}" if epilogue and
                                     outputs != [o] else "")
    return kb.finish("matmul", units, 1, (tile, tile), outputs, note)


# -- scatter_add ------------------------------------------------------------------------

def scatter_kernels(func: Func, done: set[Value], name: str, node: Node,
                    launch: LaunchConfig) -> list[CudaKernel]:
    x, ind, upd = node.inputs
    out = node.output
    copy = KernelBuilder(func, done, f"{name}_copy")
    _scoped(copy, f"for i in range(cuda.grid(1), {copy.size(x)}, cuda.gridsize(1)):",
            lambda: copy.store(out, "i", copy.em.at(x, Flat("i"))))
    first = copy.finish("elementwise", lambda shapes: _count(shapes[x]), launch.block,
                        (launch.block,), [out], "out = x")
    kb = KernelBuilder(func, done, f"{name}_add")
    axis = node.attrs["axis"] % x.type.rank
    serial = x.type.dtype is DType.f16
    k = ind.type.rank

    def body() -> None:
        u = kb.unravel("i", upd, range(upd.type.rank), "u")
        idx = tuple(u[a] for a in range(upd.type.rank))
        size = kb.ctx.dim(x, axis)
        kb.ctx.uses_error_flag = True
        kb.line(f"g = I64({kb.em.at(ind, idx[axis:axis + k])})")
        kb.line("if g < 0:")
        kb.line(f"    g += {size}")
        kb.line(f"if g < 0 or g >= {size}:")
        kb.line("    E[0] = 1")
        kb.line("    g = 0")
        pos = linear(idx[:axis] + ("g",) + idx[axis + k:], kb.ctx.strides(out))
        value = kb.em.at(upd, idx)
        if serial:
            kb.store(out, pos, f"({kb.load(out, pos)} + {value})")
        else:
            kb.line(f"cuda.atomic.add({kb.arg(out)}, {pos}, "
                    f"{compute_ctor(out.type.dtype)}({value}))")

    _scoped(kb, f"for i in range(cuda.grid(1), {kb.size(upd)}, cuda.gridsize(1)):", body)
    if serial:
        second = kb.finish("scatter", lambda shapes: min(1, _count(shapes[upd])), 1, (1,),
                           [out], "one thread adds the updates in order (f16 has no atomics)")
    else:
        second = kb.finish("scatter", lambda shapes: _count(shapes[upd]), launch.block,
                           (launch.block,), [out], "atomic adds")
    return [first, second]
