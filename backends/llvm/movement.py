"""Index rules of movement ops, and the other ops computed from an index.

A rule ``rule(ev, node, index) -> value`` returns the element of
``node``'s output at ``index`` by evaluating its input at the index the op
maps it to (``ev.at``); nothing is copied.  One rule per op:

``reshape``       axes equal on both sides up to the first difference pass
                  through; the rest is linearized in the output shape and
                  de-linearized in the input shape (udiv/urem, which LLVM
                  strength-reduces for static sizes);
``transpose``     permutes the index;  ``broadcast_to`` reads with
                  broadcasting;  ``expand_dims``/``squeeze`` drop/insert 0s;
``slice``         ``start + i * step`` per sliced axis (``start``
                  normalized by the runtime when the axis is symbolic);
``gather``        reads the index tensor, wraps negatives, checks the range
                  (an out-of-range index makes the kernel return an error
                  code; the access itself is clamped so it stays in bounds);
``concat``        branches on the position along the axis (each branch
                  evaluates one input in its own memo scope; a phi joins);
``random_uniform``  hashes (key, C-order position), exactly as the op's
                  reference (``graphc.ir.ops.random``).

``softmax_value`` is the output of softmax/log_softmax from its row
statistics: ``exp(x - max) / sum`` or ``(x - max) - log(sum)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from llvmlite import ir

from ...ir.core import Node, Value
from ...ir.dtypes import DType
from ...ir.ops.random import KEY_SALT, MASK32, MIX_MUL1, MIX_MUL2, UNIT
from ...ir.types import normalize_axes, normalize_axis
from .alignment import same_dim
from .irtypes import I64, const, register_type

if TYPE_CHECKING:  # pragma: no cover
    from .evaluator import Evaluator


def typed_const(dtype: DType, value) -> ir.Constant:
    if dtype is DType.bool:
        return const(dtype, bool(value))
    if dtype.is_int:
        return const(dtype, int(value))
    return const(dtype, float(value))


def _reshape(ev: "Evaluator", node: Node, index: tuple) -> ir.Value:
    x = node.inputs[0]
    src, dst = x.type.shape, node.output.type.shape
    prefix = 0
    while prefix < min(len(src), len(dst)) and same_dim(src[prefix], dst[prefix]):
        prefix += 1
    b = ev.b
    flat = ev.offset(ev.dims(node.output)[prefix:], tuple(index[prefix:]))
    src_dims = ev.dims(x)[prefix:]
    rest = []
    for d in reversed(src_dims[1:]):
        rest.append(b.urem(flat, d))
        flat = b.udiv(flat, d)
    if src_dims:
        rest.append(flat)
    return ev.at(x, tuple(index[:prefix]) + tuple(reversed(rest)))


def _transpose(ev: "Evaluator", node: Node, index: tuple) -> ir.Value:
    x = node.inputs[0]
    rank = x.type.rank
    perm = node.attrs["perm"]
    perm = tuple(reversed(range(rank))) if perm is None else normalize_axes(perm, rank)
    src: list = [None] * rank
    for i, p in enumerate(perm):
        src[p] = index[i]
    return ev.at(x, tuple(src))


def _broadcast_to(ev: "Evaluator", node: Node, index: tuple) -> ir.Value:
    x = node.inputs[0]
    return ev.at(x, ev.broadcast_index(x, node.output, index))


def _expand_dims(ev: "Evaluator", node: Node, index: tuple) -> ir.Value:
    inserted = set(normalize_axes(node.attrs["axes"], node.output.type.rank))
    return ev.at(node.inputs[0], tuple(i for k, i in enumerate(index) if k not in inserted))


def _squeeze(ev: "Evaluator", node: Node, index: tuple) -> ir.Value:
    x = node.inputs[0]
    axes = node.attrs["axes"]
    if axes is None:
        dropped = {i for i, d in enumerate(x.type.shape) if d == 1}
    else:
        dropped = set(normalize_axes(axes, x.type.rank))
    it = iter(index)
    return ev.at(x, tuple(ev.const(0) if k in dropped else next(it)
                          for k in range(x.type.rank)))


def slice_start(dim: int, start, stop, step: int) -> int:
    """The first source position of a python slice of an axis of size ``dim``."""
    return slice(start, stop, step).indices(dim)[0]


def _slice(ev: "Evaluator", node: Node, index: tuple) -> ir.Value:
    x = node.inputs[0]
    attrs = node.attrs
    steps = attrs["steps"] or (1,) * len(attrs["axes"])
    src = list(index)
    out_number = ev.plan.numbering[node.output]
    for ax, start, stop, step in zip(attrs["axes"], attrs["starts"], attrs["stops"], steps):
        a = normalize_axis(ax, x.type.rank)
        d = x.type.shape[a]
        if isinstance(d, int):
            first = ev.const(slice_start(d, start, stop, step))
        else:
            first = ev.scalar(("slice", out_number, a))
        moved = ev.b.mul(index[a], ev.const(step)) if step != 1 else index[a]
        src[a] = ev.b.add(first, moved)
    return ev.at(x, tuple(src))


def _to_i64(ev: "Evaluator", v: ir.Value) -> ir.Value:
    return v if v.type == I64 else ev.b.sext(v, I64)


def checked_index(ev: "Evaluator", k: ir.Value, size: ir.Value, kind: str, node: Node,
                  axis: int) -> ir.Value:
    """``k`` wrapped if negative; an out-of-range value records an error and reads 0."""
    b = ev.b
    k = _to_i64(ev, k)
    k = b.select(b.icmp_signed("<", k, ev.const(0)), b.add(k, size), k)
    bad = b.icmp_unsigned(">=", k, size)
    ev.fail_if(bad, kind, ev.node_index[id(node)], axis)
    return b.select(bad, ev.const(0), k)


def _gather(ev: "Evaluator", node: Node, index: tuple) -> ir.Value:
    x, indices = node.inputs
    ax = normalize_axis(node.attrs["axis"], x.type.rank)
    q = indices.type.rank
    k = checked_index(ev, ev.at(indices, tuple(index[ax:ax + q])), ev.dim(x, ax), "gather",
                      node, ax)
    return ev.at(x, tuple(index[:ax]) + (k,) + tuple(index[ax + q:]))


def _concat(ev: "Evaluator", node: Node, index: tuple) -> ir.Value:
    ax = normalize_axis(node.attrs["axis"], node.output.type.rank)
    b = ev.b
    position = index[ax]
    merge = b.function.append_basic_block("concat.join")
    incoming = []
    start = ev.const(0)
    for k, x in enumerate(node.inputs):
        end = b.add(start, ev.dim(x, ax))
        last = k == len(node.inputs) - 1
        if not last:
            here = b.function.append_basic_block(f"concat.in{k}")
            after = b.function.append_basic_block(f"concat.after{k}")
            b.cbranch(b.icmp_signed("<", position, end), here, after)
            b.position_at_end(here)
        with ev.scope():
            shifted = tuple(b.sub(i, start) if a == ax else i for a, i in enumerate(index))
            incoming.append((ev.at(x, shifted), b.block))
        b.branch(merge)
        if not last:
            b.position_at_end(after)
        start = end
    b.position_at_end(merge)
    phi = b.phi(register_type(node.output.type.dtype))
    for value, block in incoming:
        phi.add_incoming(value, block)
    return phi


def _mix(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    mask = ir.Constant(I64, MASK32)
    x = b.xor(x, b.lshr(x, ir.Constant(I64, 16)))
    x = b.and_(b.mul(x, ir.Constant(I64, MIX_MUL1)), mask)
    x = b.xor(x, b.lshr(x, ir.Constant(I64, 15)))
    x = b.and_(b.mul(x, ir.Constant(I64, MIX_MUL2)), mask)
    return b.xor(x, b.lshr(x, ir.Constant(I64, 15)))


def _random_uniform(ev: "Evaluator", node: Node, index: tuple) -> ir.Value:
    b = ev.b
    mask = ir.Constant(I64, MASK32)
    key = ev.at(node.inputs[0], ())
    k1 = _mix(b, b.xor(b.and_(key, mask),
                       _mix(b, b.and_(b.ashr(key, ir.Constant(I64, 32)), mask))))
    k2 = _mix(b, b.xor(k1, ir.Constant(I64, KEY_SALT)))
    pos = ev.offset(ev.dims(node.output), index)
    low = _mix(b, b.xor(b.and_(pos, mask), k1))
    h = _mix(b, b.and_(b.add(b.add(low, b.lshr(pos, ir.Constant(I64, 32))), k2), mask))
    out = register_type(node.output.type.dtype)
    return b.fmul(b.sitofp(b.lshr(h, ir.Constant(I64, 8)), out), ir.Constant(out, UNIT))


def softmax_value(ev: "Evaluator", value: Value, index: tuple) -> ir.Value:
    stats = ev.plan.softmax[value]
    x = ev.plan.producer[value].inputs[0]
    row = tuple(i for a, i in enumerate(index) if a != stats.axis)
    dims = ev.buffer_dims(stats.max)
    b = ev.b
    shifted = b.fsub(ev.at(x, index), ev.load(stats.max, ev.offset(dims, row)))
    total = ev.load(stats.sum, ev.offset(dims, row))
    dtype = value.type.dtype
    if stats.log:
        return b.fsub(shifted, ev.math.call(b, "log", dtype, total))
    return b.fdiv(ev.math.call(b, "exp", dtype, shifted), total)


MOVEMENT_RULES: dict[str, Callable[["Evaluator", Node, tuple], ir.Value]] = {
    "reshape": _reshape, "transpose": _transpose, "broadcast_to": _broadcast_to,
    "expand_dims": _expand_dims, "squeeze": _squeeze, "slice": _slice, "gather": _gather,
    "concat": _concat, "random_uniform": _random_uniform,
}
