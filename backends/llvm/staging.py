"""Plan one primitive Func as stages over buffers (the lowering's first half).

A *stage* is one loop nest of the generated code (or one BLAS call).
Values are evaluated *inline* wherever a stage needs them -- an elementwise
chain is never stored -- except at *boundaries*, which live in buffers:

* parameters and non-scalar constants (read from memory);
* reduction outputs (``sum mean max min argmax``), written by their stage;
* softmax/log_softmax keep two per-row statistics (max, sum of exp) in
  scratch buffers; their output is then an inline formula over those;
* matmul outputs (numpy.matmul into a buffer) and matmul operands that are
  not parameters (materialized by a ``map`` stage first);
* results of the Func.

Stage kinds, in execution order:

``map``     loops over one shape and stores its *sinks* (results or
            materialized values).  ``flat`` when every value it touches
            has that shape (or is a broadcast scalar): one loop over all
            elements instead of a nest.
``row``     loops over the kept axes of a domain ``D``; per row, one pass
            over the reduced axes per reduction *task* (in order, so a task
            may read an earlier task's result of the same row: layer norm),
            then a pass storing the element sinks (shape ``D``), then the
            row sinks (shape of the reduced ``D``).
``accum``   a reduction whose reduced axes exclude ``D``'s last axis (the
            bias gradient, a column sum): one pass over ``D`` in memory
            order accumulating into the output, so the inner loop stays
            contiguous and vectorizes.
``matmul``  numpy.matmul into a buffer (BLAS); not part of the LLVM code.
            In a matmul kernel of the fuse pass (only an elementwise epilogue
            of the product's shape follows), BLAS writes straight into a
            result, which the epilogue's map stage then rewrites in place.
``scatter`` scatter_add: copy, then accumulate updates at gathered indices.

Placement rules: nodes are visited in order.  A reduction joins the last
``row`` stage with the same domain and axes when nothing it reads comes
from a later stage and it reads that stage's own reductions only at the
current row (``alignment.py``); otherwise it opens a new stage.  A result
that depends on reductions is stored by the row stage that computes its
last dependency when its shape fits that stage (an element or a row sink);
every other result goes to a trailing ``map`` stage per distinct shape,
after all stages, when every buffer it reads is complete.

A value becomes a buffer only from the stage that writes it on
(``KernelPlan.in_memory``): a stage placed earlier that needs it -- a
matmul operand materialized after a reduction already read it -- computes
it inline, so no stage ever reads a buffer before it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphc.errors import LoweringError

from ...ir.core import Func, Node, Value
from ...ir.dtypes import DType
from ...ir.opdef import CALL, FusionKind
from ...ir.types import normalize_axes, normalize_axis
from .alignment import (MAP_RULES, AxisMap, identity, operand_maps, reduced_map,
                        same_shape)

ACCUM_OPS = frozenset({"sum", "mean", "max", "min"})
SOFTMAX_OPS = frozenset({"softmax", "log_softmax"})


@dataclass(frozen=True, eq=False)
class Buffer:
    """One array the kernel reads or writes.

    ``role``: ``param``/``result`` (``position`` in the Func's signature),
    ``const`` (``position`` = node index, the array comes from the node) or
    ``scratch`` (kernel-private, allocated by the runtime with the concrete
    shape of value number ``shape_of``, minus axis ``drop_axis`` if set)."""

    index: int
    role: str
    position: int
    dtype: DType
    shape_of: int
    drop_axis: int | None = None
    name: str = ""


@dataclass
class Task:
    """One reduction computed by a row or accum stage."""

    kind: str                  # sum mean max min argmax softmax_max softmax_sumexp
    source: Value              # the reduced operand (evaluated inline)
    axes: tuple[int, ...]
    out: Buffer
    keepdims: bool = False
    stats: Buffer | None = None    # softmax_sumexp: the row maxima


@dataclass
class Sink:
    value: Value
    buffer: Buffer
    keepdims: bool = False     # row sinks: the output keeps the reduced axes as 1


@dataclass
class Stage:
    kind: str                  # map row accum matmul scatter
    domain: Value              # the value whose shape the loops run over
    axes: tuple[int, ...] = ()
    tasks: list[Task] = field(default_factory=list)
    sinks: list[Sink] = field(default_factory=list)
    row_sinks: list[Sink] = field(default_factory=list)
    node: Node | None = None   # matmul / scatter_add
    key: tuple | None = None
    flat: bool = False
    inplace: Buffer | None = None   # matmul: write into this result buffer directly


@dataclass(frozen=True)
class SoftmaxStats:
    max: Buffer
    sum: Buffer
    axis: int
    log: bool


@dataclass
class KernelPlan:
    func: Func
    numbering: dict[Value, int]
    buffers: list[Buffer]
    stages: list[Stage]
    leaf: dict[Value, Buffer]
    softmax: dict[Value, SoftmaxStats]
    producer: dict[Value, Node]
    written_by: dict[Value, int] = field(default_factory=dict)
    """Stage that writes each leaf that is not a parameter or constant."""
    stored_by_map: frozenset = frozenset()
    """Leaves their writer computes inline (materialized by a map stage)."""

    def in_memory(self, value: Value, stage: int) -> bool:
        """Whether ``value`` is read from its buffer while emitting ``stage``: a
        leaf is, once its writer has run -- and inside its writer too when that is
        a row/accum stage (each row's result is stored before later passes read
        it); a stage that has not yet written it computes it inline instead."""
        if value not in self.leaf:
            return False
        writer = self.written_by.get(value, -1)
        return writer < stage or (writer == stage and value not in self.stored_by_map)


def reduce_spec(node: Node) -> tuple[tuple[int, ...], bool]:
    """(normalized reduced axes, keepdims) of a REDUCE node."""
    rank = node.inputs[0].type.rank
    attrs = node.attrs
    if node.op.name in SOFTMAX_OPS:
        return (normalize_axis(attrs["axis"], rank),), True
    if node.op.name == "argmax":
        return (normalize_axis(attrs["axis"], rank),), attrs["keepdims"]
    axes = tuple(range(rank)) if attrs["axes"] is None else normalize_axes(attrs["axes"], rank)
    return tuple(sorted(axes)), attrs["keepdims"]


def is_splat(array) -> bool:
    """True when every element of ``array`` is the same (NaNs compare equal)."""
    if array.size <= 1:
        return True
    flat = array.reshape(-1)
    first = flat[0]
    if first != first:
        return bool((flat != flat).all())
    return bool((flat == first).all())


def shape_key(value: Value) -> tuple:
    shape = value.type.shape
    return ("id", id(value)) if "?" in shape else ("shape", shape)


def kept_shape(shape: tuple, axes: tuple[int, ...], keepdims: bool) -> tuple:
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


class Planner:
    def __init__(self, func: Func) -> None:
        self.func = func
        self.producer = func.producers
        self.numbering: dict[Value, int] = {}
        for v in func.params:
            self.numbering.setdefault(v, len(self.numbering))
        for node in func.nodes:
            for out in node.outputs:
                self.numbering.setdefault(out, len(self.numbering))
        self.buffers: list[Buffer] = []
        self.leaf: dict[Value, Buffer] = {}
        self.stage_of: dict[Value, int] = {}
        self.canonical: dict[Value, AxisMap] = {}
        self.softmax: dict[Value, SoftmaxStats] = {}
        self.stages: list[Stage] = []
        self.claimed: dict[int, Buffer] = {}
        self.node_index = {id(n): i for i, n in enumerate(func.nodes)}
        self._deps: dict[Value, int] = {}
        self.materialized: set[Value] = set()
        self.prebuilt: dict[int, Buffer] = {}     # result buffers made early (in-place matmul)
        self._aligned_memo: dict[tuple, bool] = {}
        for i, p in enumerate(func.params):
            if p not in self.leaf:
                self.leaf[p] = self._buffer("param", i, p, name=p.name or f"arg{i}")
        for node in func.nodes:
            if node.op.name == "constant" and not is_splat(node.attrs["value"].array):
                self._const_leaf(node.output)

    # -- buffers ----------------------------------------------------------------------

    def _buffer(self, role: str, position: int, like: Value, drop_axis: int | None = None,
                name: str = "") -> Buffer:
        buf = Buffer(len(self.buffers), role, position, like.type.dtype, self.numbering[like],
                     drop_axis, name or role)
        self.buffers.append(buf)
        return buf

    def _output_buffer(self, value: Value) -> Buffer:
        """The first unclaimed result position holding ``value``, else a scratch buffer."""
        for p, r in enumerate(self.func.results):
            if r is value and p not in self.claimed:
                self.claimed[p] = self._buffer("result", p, value, name=f"result{p}")
                return self.claimed[p]
        return self._buffer("scratch", -1, value, name=value.name or "tmp")

    def _const_leaf(self, value: Value) -> Buffer:
        node = self.producer[value]
        buf = self._buffer("const", self.node_index[id(node)], value, name="const")
        self.leaf[value] = buf
        return buf

    # -- dependencies and alignment -----------------------------------------------------

    def dep(self, value: Value) -> int:
        """Index of the last stage whose output ``value`` needs (-1: none)."""
        if value in self.stage_of:
            return self.stage_of[value]
        if value in self.leaf:
            return -1
        if value not in self._deps:
            node = self.producer[value]
            self._deps[value] = max((self.dep(u) for u in node.inputs), default=-1)
        return self._deps[value]

    def aligned(self, value: Value, vmap: AxisMap, stage: int) -> bool:
        """True when evaluating ``value`` with axis map ``vmap`` inside row stage
        ``stage`` reads that stage's own results only at the current row."""
        if self.dep(value) < stage:
            return True
        key = (value, vmap, stage)
        if key not in self._aligned_memo:
            self._aligned_memo[key] = self._check_aligned(value, vmap, stage)
        return self._aligned_memo[key]

    def _check_aligned(self, value: Value, vmap: AxisMap, stage: int) -> bool:
        if value in self.softmax:
            axis = self.softmax[value].axis
            rows_ok = all(vmap[i] == i for i in range(len(vmap)) if i != axis)
            return rows_ok and self.aligned(self.producer[value].inputs[0], vmap, stage)
        if value in self.leaf:
            return self.canonical.get(value) == vmap
        node = self.producer[value]
        return all(self.aligned(u, m, stage) for u, m in operand_maps(node, vmap))

    # -- nodes --------------------------------------------------------------------------

    def plan(self) -> KernelPlan:
        for node in self.func.nodes:
            name = node.op.name
            if name == "constant":
                continue
            if name == CALL or node.op.fusion is FusionKind.OPAQUE and name != "scatter_add":
                raise LoweringError(f"backend 'llvm': op '{name}' cannot appear inside the "
                                    f"primitive function @{self.func.name}")
            if name == "matmul":
                self._matmul(node)
            elif name == "scatter_add":
                self._scatter(node)
            elif node.op.fusion is FusionKind.REDUCE:
                self._reduce(node)
        self._results()
        written = {v: s for v, s in self.stage_of.items() if v in self.leaf}
        plan = KernelPlan(self.func, self.numbering, self.buffers, self.stages, self.leaf,
                          self.softmax, self.producer, written, frozenset(self.materialized))
        for index, stage in enumerate(self.stages):
            if stage.kind == "map":
                stage.flat = self._is_flat(plan, stage, index)
        return plan

    def _add_stage(self, stage: Stage, *outputs: Value) -> int:
        self.stages.append(stage)
        index = len(self.stages) - 1
        for v in outputs:
            self.stage_of[v] = index
        return index

    def _materialize(self, value: Value) -> None:
        if value in self.leaf:
            return
        node = self.producer.get(value)
        if node is not None and node.op.name == "constant":
            self._const_leaf(value)
            return
        buf = self._buffer("scratch", -1, value, name=value.name or "tmp")
        self._add_stage(Stage("map", value, sinks=[Sink(value, buf)]), value)
        self.leaf[value] = buf
        self.materialized.add(value)

    def _matmul(self, node: Node) -> None:
        for operand in node.inputs:
            self._materialize(operand)
        out = node.output
        target = self._epilogue_target(node)
        if target is not None:   # BLAS writes a result; the epilogue rewrites it in place
            buf = self.prebuilt[target] = self._buffer("result", target, self.func.results[target],
                                                       name=f"result{target}")
            self.leaf[out] = buf
        else:
            self.leaf[out] = self._output_buffer(out)
        self._add_stage(Stage("matmul", out, node=node), out)

    def _epilogue_target(self, node: Node) -> int | None:
        """A result position the matmul may write directly: when every other node is
        an elementwise/broadcast epilogue of the matmul's shape (the fuse pass's matmul
        kernels), every result is stored by one map stage over that shape, which reads
        the product at the very element it overwrites."""
        out = node.output
        shape = out.type.shape
        if out in self.func.results or "?" in shape:
            return None
        for other in self.func.nodes:
            if other is node or other.op.name == "constant":
                continue
            copied = other.op.name == "broadcast_to" and \
                self.producer.get(other.inputs[0]) is not None and \
                self.producer[other.inputs[0]].op.name == "constant"
            epilogue = other.op.fusion in (FusionKind.ELEMENTWISE, FusionKind.BROADCAST) and \
                same_shape(other.output.type.shape, shape)
            if not (copied or epilogue):
                return None
        for p, r in enumerate(self.func.results):
            if r not in self.leaf and r.type.dtype is out.type.dtype and \
                    same_shape(r.type.shape, shape):
                return p
        return None

    def _scatter(self, node: Node) -> None:
        out = node.output
        self.leaf[out] = self._output_buffer(out)
        self._add_stage(Stage("scatter", out, node=node), out)

    def _reduce(self, node: Node) -> None:
        x, out = node.inputs[0], node.output
        axes, keepdims = reduce_spec(node)
        rank = x.type.rank
        if node.op.name in SOFTMAX_OPS:
            axis = axes[0]
            maxima = self._buffer("scratch", -1, x, drop_axis=axis, name="row_max")
            sums = self._buffer("scratch", -1, x, drop_axis=axis, name="row_sum")
            self.softmax[out] = SoftmaxStats(maxima, sums, axis, node.op.name == "log_softmax")
            tasks = [Task("softmax_max", x, axes, maxima),
                     Task("softmax_sumexp", x, axes, sums, stats=maxima)]
        else:
            buf = self._output_buffer(out)
            self.leaf[out] = buf
            self.canonical[out] = reduced_map(rank, axes, keepdims)
            tasks = [Task(node.op.name, x, axes, buf, keepdims)]
        if node.op.name in ACCUM_OPS and axes and rank - 1 not in axes:
            self._add_stage(Stage("accum", x, axes, tasks=tasks), out)
            return
        key = (shape_key(x), axes)
        first = self.dep(x)
        for s in range(len(self.stages) - 1, -1, -1):
            if s < first:
                break
            stage = self.stages[s]
            if stage.kind == "row" and stage.key == key and self.aligned(x, identity(rank), s):
                stage.tasks.extend(tasks)
                self.stage_of[out] = s
                return
        self._add_stage(Stage("row", x, axes, tasks=tasks, key=key), out)

    # -- results ------------------------------------------------------------------------

    def _results(self) -> None:
        trailing: dict[tuple, Stage] = {}
        for p, value in enumerate(self.func.results):
            if p in self.claimed:
                continue
            buf = self.claimed[p] = self.prebuilt.pop(p, None) or \
                self._buffer("result", p, value, name=f"result{p}")
            if value not in self.leaf and self._row_sink(value, buf):
                continue
            key = shape_key(value)
            if key not in trailing:
                trailing[key] = Stage("map", value)
            trailing[key].sinks.append(Sink(value, buf))
        self.stages.extend(trailing.values())

    def _row_sink(self, value: Value, buf: Buffer) -> bool:
        """Store ``value`` in the row stage of its last dependency, if its shape fits."""
        s = self.dep(value)
        if s < 0 or self.stages[s].kind != "row":
            return False
        stage = self.stages[s]
        shape, rank = stage.domain.type.shape, stage.domain.type.rank
        if same_shape(value.type.shape, shape) and self.aligned(value, identity(rank), s):
            stage.sinks.append(Sink(value, buf))
            return True
        for keep in (False, True):
            if same_shape(value.type.shape, kept_shape(shape, stage.axes, keep)) and \
                    self.aligned(value, reduced_map(rank, stage.axes, keep), s):
                stage.row_sinks.append(Sink(value, buf, keepdims=keep))
                return True
        return False

    # -- flat map stages ----------------------------------------------------------------

    def _is_flat(self, plan: KernelPlan, stage: Stage, index: int) -> bool:
        shape = stage.domain.type.shape
        if "?" in shape:
            return False
        seen: set[Value] = set()

        def ok(v: Value) -> bool:
            if v in seen:
                return True
            seen.add(v)
            fits = same_shape(v.type.shape, shape) or all(d == 1 for d in v.type.shape)
            if plan.in_memory(v, index):
                return fits
            if v in self.softmax:
                return False
            node = self.producer[v]
            if node.op.name == "constant":
                return True                  # a splat (non-splat constants are leaves)
            if node.op.fusion not in (FusionKind.ELEMENTWISE, FusionKind.BROADCAST):
                return False
            if node.op.name in MAP_RULES and node.op.name != "random_uniform":
                return False
            operands = node.inputs[:1] if node.op.name == "random_uniform" else node.inputs
            return fits and all(ok(u) for u in operands)

        return all(ok(s.value) for s in stage.sinks)


def plan_kernel(func: Func) -> KernelPlan:
    return Planner(func).plan()

