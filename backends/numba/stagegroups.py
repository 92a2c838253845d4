"""Which consecutive stages of a group share one kernel (one outer loop).

Every kernel is a branch of the compiled program and costs compile time
(~0.1 s each), and every launch is one more pass over memory, so stages
that walk the same rows are fused into one loop: ``for i0 in range(lo,
hi)`` runs each stage's work for row ``i0`` in turn (``NestWriter.rows``).
A softmax cross-entropy loss and its gradient -- log_softmax, the per-row
sum, the per-row sum of the gradient and the gradient itself -- then take
two kernels instead of four.

A stage has a *row domain* when its outermost loop runs over axis 0 of a
value whose axis 0 is kept: an elementwise stage of rank >= 1, a row-wise
reduction (axis 0 not reduced) or a softmax not along axis 0.  A stage
joins the run of stages before it when

1. its row domain has the same static extent as the run's (the same int,
   or the same symbol), and
2. it reads the run's outputs only at its own row: every path from what it
   computes to such an output goes through elementwise/broadcast ops only,
   and the output has the stage's rank and the run's extent on axis 0 (so
   the index reaching it keeps ``i0``).  A path through a movement op (a
   transpose, a reshape, a broadcast_to) or to an output of another shape
   could read another row, which this iteration may not have written yet.

Values that are arrays complete before the run (parameters, constants,
earlier kernels' outputs) may be read anywhere.

Stages that run once, not over a range -- reductions to a scalar and
elementwise stages of a single element (a loss: ``-mean(l)``, a count) --
form *serial* runs: their code is simply concatenated, in order, so each
sees everything before it complete.
"""

from __future__ import annotations

from ...ir.core import Func, Value
from ...ir.types import UNKNOWN, Dim, normalize_axes, normalize_axis
from .rules import ELEMENTWISE_RULES
from .stages import Stage


def row_domain(stage: Stage) -> tuple[Value, Dim] | None:
    """(the value whose index the stage's loops run over, its axis-0 extent)."""
    if stage.kind == "elementwise":
        v = stage.values[0]
        return (v, v.type.shape[0]) if v.type.rank >= 1 else None
    if stage.kind not in ("reduce", "row"):
        return None
    node = stage.node
    u = node.inputs[0]
    if u.type.rank < 2:
        return None
    if stage.kind == "row" or node.op.name == "argmax":
        axes = [normalize_axis(node.attrs["axis"], u.type.rank)]
    elif node.attrs["axes"] is None:
        return None
    else:
        axes = list(normalize_axes(node.attrs["axes"], u.type.rank))
    kept = [a for a in range(u.type.rank) if a not in axes]
    if not kept or kept[0] != 0:
        return None
    if stage.kind == "reduce" and kept == [u.type.rank - 1]:
        return None                        # the blocked column form has its own loops
    return u, u.type.shape[0]


def is_serial(stage: Stage) -> bool:
    """A stage with no parallel loop: it runs once over its whole domain."""
    if stage.kind == "reduce" and stage.node.op.name != "argmax":
        u = stage.node.inputs[0]
        axes = stage.node.attrs["axes"]
        return axes is None or len(set(normalize_axes(axes, u.type.rank))) == u.type.rank
    if stage.kind == "elementwise":
        return all(d == 1 for d in stage.values[0].type.shape)
    return False


def _reads_own_rows(func: Func, stage: Stage, run_values: set, extent: Dim,
                    complete: set) -> bool:
    domain, _ = row_domain(stage)
    rank = domain.type.rank
    roots = [stage.node.inputs[0]] if stage.kind != "elementwise" else list(stage.values)
    pending = [(root, True) for root in roots]
    producers = func.producers
    while pending:
        x, row_safe = pending.pop()
        if x in run_values:
            if not (row_safe and x.type.rank == rank and x.type.shape[0] == extent):
                return False
            continue
        if x in complete:
            continue
        node = producers.get(x)
        if node is None or node.op.name == "constant":
            continue
        keeps_index = node.op.name in ELEMENTWISE_RULES
        pending.extend((inp, row_safe and keeps_index) for inp in node.inputs)
    return True


def group_stages(func: Func, stages: list[Stage], complete: set) -> list[list[Stage]]:
    """Consecutive non-matmul stages cut into runs that share a kernel;
    ``complete`` holds the arrays ready before the first stage (updated as
    runs are formed).  Matmul stages stay alone."""
    runs: list[list[Stage]] = []
    for stage in stages:
        run = runs[-1] if runs else None
        if run is not None and is_serial(stage) and all(is_serial(s) for s in run):
            run.append(stage)
            continue
        domain = row_domain(stage)
        if run is not None and domain is not None and run[0].kind != "matmul":
            first = row_domain(run[0])
            if first is not None and first[1] == domain[1] and domain[1] != UNKNOWN:
                run_values = {v for s in run for v in s.values + s.epilogue}
                if _reads_own_rows(func, stage, run_values, domain[1], complete):
                    run.append(stage)
                    continue
        if run is not None:
            complete.update(v for s in run for v in s.values + s.epilogue)
        runs.append([stage])
    return runs
