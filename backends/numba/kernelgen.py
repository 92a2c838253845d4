"""Lower one primitive Func (a fused group) to kernel source plus BLAS calls.

Algorithm:

1. *Materialize* the values that need memory: the group's results, the
   results of reductions/softmax (a consumer would otherwise recompute them
   per element) and of matmul (BLAS writes them), and matmul operands that
   are not already arrays.  Non-scalar constants become array arguments;
   scalar constants are inlined as typed literals.
2. Walk the nodes in order and cut the materialized values into *stages*
   (``stages.Stage``): consecutive elementwise values of one shape share a
   nest; each reduction / softmax / matmul is a stage of its own.
3. Consecutive non-matmul stages are cut into runs (``stagegroups.py``:
   stages over the same rows share one row loop; scalar stages share one
   serial body); each run becomes one kernel over a ``lo:hi`` chunk of its
   outer loop, so the runtime can split it across threads.  An elementwise
   stage of the shape of the reduction just before it is computed in that
   reduction's store loop (``_epilogue_of``).  A matmul stage is a
   ``MatmulCall`` that the runtime runs
   with ``numpy.matmul(out=...)`` (BLAS for f32/f64).  A matmul operand that
   is ``transpose`` of the last two axes of an array is passed as a
   transposed view, which BLAS reads with its transpose flag.
4. *Epilogue in place*: when the matmul result is read only by the very
   next nest, at that nest's own index, and that nest writes a single result
   of the same shape and dtype, BLAS writes straight into the result's
   buffer and the epilogue rewrites it in one pass.  The kernel is then
   generated again with one pointer for both (see ``_kernel``), and the
   in-place form is skipped when the epilogue may store the matmul value
   unchanged (``_SELECT_OPS``).

The result, ``LoweredGroup``, names arrays by the group Func's Values, so the
same primitive Func called twice shares its kernels.  A kernel is the body
of ``kernel(lo, hi, P)``: ``lo:hi`` is its share of the outer loop and ``P``
an int64 table -- the addresses of its arrays (C-ordered, in storage
types: f16 as uint16 bits, bool as uint8), the address of an int64 error
flag (set by a gather that meets an out-of-range index), then runtime sizes
``d1, d2, ...``; the runtime fills it (``workspace.py``).  Loads that are
the same in every iteration are hoisted before the loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graphc.errors import LoweringError

from ...ir.core import Func, Value
from ...ir.dtypes import DType
from .exprs import Emitter, KernelContext, RuntimeScalar, SourceWriter, same_shape
from .rules import BLAS_OPS, REDUCTION_OPS, ROW_OPS, SCATTER_OPS, SUPPORTED_OPS
from .stagegroups import group_stages, is_serial, row_domain
from .stages import NestWriter, Stage


POINTER_CAST = {DType.f32: "ptr_f32", DType.f64: "ptr_f64", DType.i32: "ptr_i32",
                DType.i64: "ptr_i64", DType.bool: "ptr_u8", DType.f16: "ptr_u16"}
"""The ``pointers.py`` cast that views an array of each IR dtype in its storage type."""


@dataclass
class KernelFunction:
    """One stage as a function ``name(lo, hi, P)`` over its table ``P``."""

    name: str
    body: str                      # the function body, indented one level
    args: list[Value]              # arrays, in table order
    writes: list[Value]
    scalars: list[RuntimeScalar]
    extent: str                    # outer iterations, an expression over d1, d2, ...
    work: str                      # elements written, same form
    checks_errors: bool
    kind: str = "elementwise"

    @property
    def source(self) -> str:
        return f"def {self.name}(lo, hi, P):\n{self.body}"

    @property
    def table_size(self) -> int:
        """Entries of ``P``: array addresses, the error flag's address, sizes."""
        return len(self.args) + 1 + len(self.scalars)

    @property
    def splittable(self) -> bool:
        return self.extent != "1"


@dataclass
class MatmulCall:
    a: Value
    b: Value
    out: Value
    a_swapped: Value | None = None   # read a as swapaxes(-1, -2) of this value
    b_swapped: Value | None = None


@dataclass
class LoweredGroup:
    func: Func
    segments: list = field(default_factory=list)      # KernelFunction | MatmulCall
    temps: list[Value] = field(default_factory=list)  # materialized, not results
    aliases: dict[Value, Value] = field(default_factory=dict)   # temp -> result buffer
    constants: dict[Value, np.ndarray] = field(default_factory=dict)

    @property
    def kernels(self) -> list[KernelFunction]:
        return [s for s in self.segments if isinstance(s, KernelFunction)]


def _check_ops(func: Func) -> None:
    for node in func.nodes:
        if node.op.name not in SUPPORTED_OPS:
            where = f" (from {node.loc.describe()})" if node.loc is not None else ""
            raise LoweringError(f"backend 'numba' cannot lower op '{node.op.name}' in "
                                f"@{func.name}{where}")


def _swapped_source(func: Func, v: Value, arrays: set[Value]) -> Value | None:
    """``x`` when ``v = transpose(x)`` swaps the last two axes of an array ``x``."""
    node = func.producers.get(v)
    if node is None or node.op.name != "transpose" or node.inputs[0] not in arrays:
        return None
    rank = v.type.rank
    perm = node.attrs["perm"]
    want = list(range(rank - 2)) + [rank - 1, rank - 2]
    if rank < 2 or (perm is None and rank != 2):
        return None
    if perm is not None and [p % rank for p in perm] != want:
        return None
    return node.inputs[0]


class _GroupLowering:
    def __init__(self, func: Func) -> None:
        self.func = func
        self.out = LoweredGroup(func)
        self.arrays: set[Value] = set(func.params)
        self.materialized: list[Value] = []

    def run(self) -> LoweredGroup:
        _check_ops(self.func)
        self._collect_arrays()
        stages = self._stages()
        self._segments(stages)
        results = set(self.func.results)
        self.out.temps = [v for v in self.materialized if v not in results
                          and v not in self.out.aliases]
        return self.out

    # -- step 1 ---------------------------------------------------------------
    def _collect_arrays(self) -> None:
        func = self.func
        need: set[Value] = set(func.results)
        for node in func.nodes:
            name = node.op.name
            if name == "constant":
                if node.attrs["value"].array.size != 1 or node.output in need:
                    self.out.constants[node.output] = np.ascontiguousarray(
                        node.attrs["value"].array).copy()
                    self.arrays.add(node.output)
                continue
            if name in REDUCTION_OPS or name in ROW_OPS or name in BLAS_OPS or \
                    name in SCATTER_OPS:
                need.update(node.outputs)
            if name in BLAS_OPS:
                for operand in node.inputs:
                    if operand not in self.arrays and \
                            _swapped_source(func, operand, self.arrays) is None:
                        need.add(operand)
        for node in func.nodes:
            for v in node.outputs:
                if v in need and v not in self.arrays:
                    self.materialized.append(v)
        # results that are params or constants are copied by the runtime
        for r in func.results:
            if r in self.arrays and r not in self.materialized:
                pass

    # -- step 2 ---------------------------------------------------------------
    def _stages(self) -> list[Stage]:
        stages: list[Stage] = []
        wanted = set(self.materialized)
        for node in self.func.nodes:
            for v in node.outputs:
                if v not in wanted:
                    continue
                name = node.op.name
                if name in BLAS_OPS:
                    stages.append(Stage("matmul", [v], node))
                elif name in REDUCTION_OPS:
                    stages.append(Stage("reduce", [v], node))
                elif name in ROW_OPS:
                    stages.append(Stage("row", [v], node))
                elif name in SCATTER_OPS:
                    stages.append(Stage("scatter", [v], node))
                elif stages and stages[-1].kind == "elementwise" and \
                        same_shape(stages[-1].values[0], v):
                    stages[-1].values.append(v)
                elif stages and self._epilogue_of(stages, v):
                    stages[-1].epilogue.append(v)
                else:
                    stages.append(Stage("elementwise", [v]))
        return stages

    def _epilogue_of(self, stages: list[Stage], v: Value) -> bool:
        """Whether ``v`` can be computed right after the reduction that the
        last stage stores, at each element it stores: ``v`` has the
        reduction's shape and reads nothing but the reduction's result, its
        own epilogue's values, and arrays complete before the reduction
        (``b - lr * sum(g)``, ``-mean(l)``): one kernel instead of two."""
        last = stages[-1]
        if last.kind != "reduce" or not same_shape(last.values[0], v):
            return False
        r = last.values[0]
        before = set(self.arrays)
        for stage in stages[:-1]:
            before.update(stage.values)
            before.update(stage.epilogue)
        allowed = before | {r} | set(last.epilogue)
        materialized = set(self.materialized)
        producers = self.func.producers
        pending, seen = [v], set()
        while pending:
            u = pending.pop()
            if u in seen or u in allowed:
                continue
            seen.add(u)
            node = producers.get(u)
            if node is None or (u is not v and u in materialized):
                return False
            if node.op.name != "constant":
                pending.extend(node.inputs)
        return True

    # -- step 3 / 4 -------------------------------------------------------------
    def _segments(self, stages: list[Stage]) -> None:
        done: set[Value] = set(self.arrays)
        count = 0
        # segment -> what generated its kernel (stages, arrays done before, number)
        self._inputs: dict[int, tuple[list[Stage], frozenset, int]] = {}
        for run in group_stages(self.func, stages, set(self.arrays)):
            if run[0].kind == "matmul":
                self.out.segments.append(self._matmul(run[0], done))
                done.update(run[0].values)
                continue
            count += 1
            self._inputs[len(self.out.segments)] = (run, frozenset(done), count)
            self.out.segments.append(self._kernel(run, set(done), count))
            for stage in run:
                done.update(stage.values)
                done.update(stage.epilogue)
        self._alias_epilogue()

    def _matmul(self, stage: Stage, done: set[Value]) -> MatmulCall:
        a, b = stage.node.inputs
        call = MatmulCall(a, b, stage.values[0])
        if a not in done:
            call.a_swapped = _swapped_source(self.func, a, done)
        if b not in done:
            call.b_swapped = _swapped_source(self.func, b, done)
        if (a not in done and call.a_swapped is None) or (b not in done and call.b_swapped is None):
            raise LoweringError(f"backend 'numba': matmul operand in @{self.func.name} "
                                "was not materialized (internal lowering error)")
        return call

    def _kernel(self, run: list[Stage], done: set[Value], number: int,
                shared: dict[Value, Value] | None = None) -> KernelFunction:
        """Stages (one, or a run sharing its row loop) -> kernel.  ``shared`` maps a value to the one whose buffer it
        occupies (an epilogue rewriting a matmul result in place): both get one
        pointer, so LLVM sees a read and a write of the same element and needs
        no overlap check (which two equal pointers would fail, leaving the loop
        scalar)."""
        ctx = KernelContext(self.func)
        w = SourceWriter()
        leaves = {}
        args: list[Value] = []
        names: dict[Value, str] = {}
        shared = shared or {}

        def name_for(v: Value) -> str:
            if v in shared:
                return name_for(shared[v])
            if v not in names:
                names[v] = f"a{len(names)}"
                args.append(v)
            return names[v]

        class _Leaves(dict):
            def __contains__(self, v: object) -> bool:
                return v in done

            def __getitem__(self, v: Value) -> str:
                return name_for(v)

        leaves = _Leaves()
        writes = [v for stage in run for v in stage.values + stage.epilogue]
        em = Emitter(ctx, w, leaves, frozenset(writes))
        outputs = {v: name_for(v) for v in writes}
        nests = NestWriter(em, outputs)
        if len(run) == 1:
            getattr(nests, run[0].kind)(run[0])
        elif all(is_serial(stage) for stage in run):
            for stage in run:              # each runs once; later ones read earlier arrays
                getattr(nests, stage.kind)(stage)
                done.update(stage.values + stage.epilogue)
            nests.extent = nests.work = "1"
        else:
            nests.rows(run, [row_domain(stage)[0] for stage in run],
                       lambda stage: done.update(stage.values + stage.epilogue))
        header = [f"    {names[v]} = {POINTER_CAST[v.type.dtype]}(P[{j}])"
                  for j, v in enumerate(args)]
        if ctx.uses_error_flag:
            header.append(f"    E = ptr_i64(P[{len(args)}])")
        for j, _ in enumerate(ctx.scalars):
            header.append(f"    d{j + 1} = P[{len(args) + 1 + j}]")
        body = "\n".join(header + ["    " + line for line in w.preamble] + w.lines) + "\n"
        return KernelFunction(f"kernel_{number}", body, args, writes,
                              list(ctx.scalars), nests.extent, nests.work,
                              ctx.uses_error_flag, run[0].kind if len(run) == 1 else "rows")

    def _alias_epilogue(self) -> None:
        segs = self.out.segments
        results = set(self.func.results)
        for pos, seg in enumerate(segs[:-1]):
            nxt = segs[pos + 1]
            if not isinstance(seg, MatmulCall) or not isinstance(nxt, KernelFunction):
                continue
            m = seg.out
            if m in results or len(nxt.writes) != 1:
                continue
            r = nxt.writes[0]
            if r not in results or r.type != m.type or not same_shape(m, r):
                continue
            if any(m in k.args for k in self.out.kernels if k is not nxt):
                continue
            if not _reads_only_at_own_index(nxt, m, r):
                continue
            if any(u.op.name in _SELECT_OPS for u in self.func.users.get(m, ())):
                continue
            self.out.aliases[m] = r
            run, done, number = self._inputs[pos + 1]
            segs[pos + 1] = self._kernel(run, set(done), number, {m: r})


_SELECT_OPS = frozenset({"where", "relu", "maximum", "minimum"})
"""Ops that may store their operand unchanged: run in place (``x[i] = c ? x[i]
: 0``) LLVM turns that into a conditional store, vectorized as a masked
store (``vmaskmovps``), which is slow on AMD CPUs; such an epilogue writes a
separate buffer instead."""


def _reads_only_at_own_index(kernel: KernelFunction, m: Value, r: Value) -> bool:
    """True when the kernel reads ``m`` only at the element it writes of ``r``."""
    names = {v: f"a{i}" for i, v in enumerate(kernel.args)}
    m_name, r_name = names[m], names[r]
    reads, writes = set(), set()
    for line in kernel.source.splitlines():
        text = line.strip()
        for arr, bucket in ((m_name, reads), (r_name, writes)):
            start = text.find(f"{arr}[")
            while start != -1:
                end = text.index("]", start)
                index = text[start + len(arr) + 1:end]
                if bucket is writes and text.startswith(f"{arr}["):
                    bucket.add(index)
                elif bucket is reads:
                    bucket.add(index)
                start = text.find(f"{arr}[", end)
    return len(writes) == 1 and reads <= writes


def lower_group(func: Func) -> LoweredGroup:
    """Lower a primitive Func (see the module docstring)."""
    return _GroupLowering(func).run()


def storage_dtype(dtype: DType) -> np.dtype:
    """The numpy dtype a kernel sees for an IR dtype (f16 travels as uint16)."""
    return np.dtype(np.uint16) if dtype is DType.f16 else dtype.numpy
