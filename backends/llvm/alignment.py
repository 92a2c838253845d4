"""Axis maps: which loop index reaches each axis of a value (a static analysis).

A stage of a kernel iterates over a domain ``D`` (one loop per axis).  When
a value is evaluated inside that loop nest, each of its axes is indexed by
one domain axis, by the constant 0 (a size-1 axis that broadcasts), or by
something else (an offset, a division, a gathered index).  The *axis map*
of the value records that: a tuple with one entry per axis of the value,
each a domain axis number, ``None`` (index 0) or ``SCRAMBLED``.

``operand_maps(node, out_map)`` pushes a map from a node's output to its
operands, one rule per op kind (the table ``MAP_RULES`` plus the broadcast
rule shared by every elementwise/broadcast op).  The planner uses it to
prove that a value reads a reduction computed in the *same* row stage only
at the row being computed (the reduction's *canonical* map): otherwise the
value must wait for a later stage, when every row of the reduction is done.

Dims compare equal when they are the same int or the same named symbol;
``?`` never equals anything (two ``?`` are unrelated sizes).
"""

from __future__ import annotations

from typing import Callable, Sequence

from ...ir.core import Node, Value
from ...ir.opdef import FusionKind
from ...ir.types import Dim, Shape, normalize_axes, normalize_axis

SCRAMBLED = "scrambled"
AxisMap = tuple


def same_dim(a: Dim, b: Dim) -> bool:
    return a == b and a != "?"


def same_shape(a: Shape, b: Shape) -> bool:
    return len(a) == len(b) and all(same_dim(x, y) for x, y in zip(a, b))


def broadcast_map(operand: Shape, out: Shape, out_map: AxisMap) -> AxisMap:
    """Map of an operand read with numpy broadcasting against ``out``."""
    shift = len(out) - len(operand)
    result = []
    for j, d in enumerate(operand):
        if d == 1:
            result.append(None)
        elif same_dim(d, out[j + shift]):
            result.append(out_map[j + shift])
        else:
            result.append(SCRAMBLED)   # decided at run time (a symbol that may be 1)
    return tuple(result)


def _squeezed_axes(node: Node) -> tuple[int, ...]:
    x = node.inputs[0].type
    axes = node.attrs["axes"]
    if axes is None:
        return tuple(i for i, d in enumerate(x.shape) if d == 1)
    return normalize_axes(axes, x.rank)


def _expand_dims(node: Node, m: AxisMap) -> list[tuple[Value, AxisMap]]:
    inserted = set(normalize_axes(node.attrs["axes"], node.output.type.rank))
    return [(node.inputs[0], tuple(a for i, a in enumerate(m) if i not in inserted))]


def _squeeze(node: Node, m: AxisMap) -> list[tuple[Value, AxisMap]]:
    dropped = set(_squeezed_axes(node))
    it = iter(m)
    rank = node.inputs[0].type.rank
    return [(node.inputs[0], tuple(None if i in dropped else next(it) for i in range(rank)))]


def _reshape(node: Node, m: AxisMap) -> list[tuple[Value, AxisMap]]:
    src, dst = node.inputs[0].type.shape, node.output.type.shape
    big_src = [i for i, d in enumerate(src) if d != 1]
    big_dst = [i for i, d in enumerate(dst) if d != 1]
    if len(big_src) == len(big_dst) and all(same_dim(src[i], dst[j])
                                            for i, j in zip(big_src, big_dst)):
        result: list = [None] * len(src)
        for i, j in zip(big_src, big_dst):
            result[i] = m[j]
        return [(node.inputs[0], tuple(result))]
    prefix = 0
    while prefix < min(len(src), len(dst)) and same_dim(src[prefix], dst[prefix]):
        prefix += 1
    return [(node.inputs[0], tuple(m[:prefix]) + (SCRAMBLED,) * (len(src) - prefix))]


def _transpose(node: Node, m: AxisMap) -> list[tuple[Value, AxisMap]]:
    rank = node.inputs[0].type.rank
    perm = node.attrs["perm"]
    perm = tuple(reversed(range(rank))) if perm is None else normalize_axes(perm, rank)
    result: list = [None] * rank
    for i, p in enumerate(perm):
        result[p] = m[i]
    return [(node.inputs[0], tuple(result))]


def _broadcast_to(node: Node, m: AxisMap) -> list[tuple[Value, AxisMap]]:
    return [(node.inputs[0], broadcast_map(node.inputs[0].type.shape,
                                           node.output.type.shape, m))]


def _slice(node: Node, m: AxisMap) -> list[tuple[Value, AxisMap]]:
    x = node.inputs[0].type
    touched = set()
    steps = node.attrs["steps"] or (1,) * len(node.attrs["axes"])
    for ax, start, stop, step in zip(node.attrs["axes"], node.attrs["starts"],
                                     node.attrs["stops"], steps):
        if not (start in (None, 0) and stop is None and step == 1):
            touched.add(normalize_axis(ax, x.rank))
    return [(node.inputs[0], tuple(SCRAMBLED if i in touched else a for i, a in enumerate(m)))]


def _gather(node: Node, m: AxisMap) -> list[tuple[Value, AxisMap]]:
    x, indices = node.inputs
    ax = normalize_axis(node.attrs["axis"], x.type.rank)
    q = indices.type.rank
    return [(x, tuple(m[:ax]) + (SCRAMBLED,) + tuple(m[ax + q:])),
            (indices, tuple(m[ax:ax + q]))]


def _concat(node: Node, m: AxisMap) -> list[tuple[Value, AxisMap]]:
    ax = normalize_axis(node.attrs["axis"], node.output.type.rank)
    inner = tuple(SCRAMBLED if i == ax else a for i, a in enumerate(m))
    return [(v, inner) for v in node.inputs]


def _random_uniform(node: Node, m: AxisMap) -> list[tuple[Value, AxisMap]]:
    return [(node.inputs[0], ())]           # `like` only lends its shape: never read


MAP_RULES: dict[str, Callable[[Node, AxisMap], list[tuple[Value, AxisMap]]]] = {
    "expand_dims": _expand_dims, "squeeze": _squeeze, "reshape": _reshape,
    "transpose": _transpose, "broadcast_to": _broadcast_to, "slice": _slice,
    "gather": _gather, "concat": _concat, "random_uniform": _random_uniform,
}


def operand_maps(node: Node, out_map: AxisMap) -> list[tuple[Value, AxisMap]]:
    """(operand, its axis map) for every operand ``node`` reads, given its output's map."""
    rule = MAP_RULES.get(node.op.name)
    if rule is not None:
        return rule(node, out_map)
    if node.op.fusion in (FusionKind.ELEMENTWISE, FusionKind.BROADCAST):
        out = node.output.type.shape
        return [(v, broadcast_map(v.type.shape, out, out_map)) for v in node.inputs]
    raise KeyError(node.op.name)


def identity(rank: int) -> AxisMap:
    return tuple(range(rank))


def reduced_map(rank: int, axes: Sequence[int], keepdims: bool) -> AxisMap:
    """Canonical map of a reduction's output inside its own row stage."""
    if keepdims:
        return tuple(None if i in axes else i for i in range(rank))
    return tuple(i for i in range(rank) if i not in axes)
