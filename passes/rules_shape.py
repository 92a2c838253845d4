"""Movement-op and operand-order canonicalization rules (used by ``canonicalize``).

* identities: a transpose by the identity permutation, a reshape or
  broadcast_to to the type it already has, a concat of one tensor, a slice
  that takes every element in order;
* compositions: transpose of transpose (one transpose, or none), reshape of
  reshape, broadcast_to of broadcast_to;
* broadcast of an operand: ``add(x, broadcast_to(s))`` reads ``s`` directly
  when the op's own broadcasting gives the same result type -- so a scalar
  is never materialised at full size just to be added;
* operand order of commutative ops (add, mul, maximum, minimum, eq, ne):
  values computed by nodes first, then parameters, then constants, each
  group by definition order (``add(%matmul, %bias)``, ``mul(%x, 2.0)``).
  Equal expressions then print alike.
"""

from __future__ import annotations

from graphc.errors import ShapeError

from ..ir.core import Value
from ..ir.opdef import FusionKind, all_ops
from .rewrite import Match, PatternSet, Rewriter, any_value, op, rule

_x = any_value("x")


def _perm(perm: tuple[int, ...] | None, rank: int) -> tuple[int, ...]:
    return tuple(reversed(range(rank))) if perm is None else tuple(p % rank for p in perm)


def _transpose_identity(rw: Rewriter, m: Match) -> Value | None:
    x = m["x"]
    if _perm(m.node("root").attrs["perm"], x.type.rank) == tuple(range(x.type.rank)):
        return x
    return None


def _transpose_transpose(rw: Rewriter, m: Match) -> Value | None:
    x = m["x"]
    rank = x.type.rank
    inner = _perm(m.node("inner").attrs["perm"], rank)
    outer = _perm(m.node("root").attrs["perm"], rank)
    combined = tuple(inner[j] for j in outer)
    if combined == tuple(range(rank)):
        return x
    return rw.emit("transpose", x, perm=combined)


def _same_type(rw: Rewriter, m: Match) -> Value | None:
    return m["x"] if m["x"].type == m["root"].type else None


def _reshape_reshape(rw: Rewriter, m: Match) -> Value | None:
    return rw.emit("reshape", m["x"], shape=m.node("root").attrs["shape"])


def _broadcast_broadcast(rw: Rewriter, m: Match) -> Value | None:
    return rw.emit("broadcast_to", m["x"], shape=m.node("root").attrs["shape"])


def _concat_single(rw: Rewriter, m: Match) -> Value | None:
    node = m.node("root")
    return node.inputs[0] if len(node.inputs) == 1 else None


def _slice_whole(rw: Rewriter, m: Match) -> Value | None:
    attrs = m.node("root").attrs
    steps = attrs["steps"] or (1,) * len(attrs["axes"])
    whole = all(start in (None, 0) and stop is None and step == 1
                for start, stop, step in zip(attrs["starts"], attrs["stops"], steps))
    return m["x"] if whole and m["x"].type == m["root"].type else None


def _drop_operand_broadcast(rw: Rewriter, m: Match) -> Value | None:
    """Read the source of a ``broadcast_to`` operand when the result type allows it."""
    node = m.node("root")
    inputs = list(node.inputs)
    changed = False
    for i, value in enumerate(inputs):
        producer = rw.producer(value)
        if producer is None or producer.op.name != "broadcast_to":
            continue
        trial = inputs[:i] + [producer.inputs[0]] + inputs[i + 1:]
        try:
            (result,) = node.op.infer_types([v.type for v in trial], node.attrs)
        except ShapeError:
            continue
        if result == node.output.type:
            inputs, changed = trial, True
    if not changed:
        return None
    return rw.emit(node.op.name, *inputs, **node.attrs)


def _order_key(rw: Rewriter, value: Value) -> tuple[int, int]:
    """Computed values, then parameters, then constants; each by definition order."""
    producer = rw.producer(value)
    rank = 1 if producer is None else 2 if rw.const_array(value) is not None else 0
    return (rank, rw.position(value))


def _commute(rw: Rewriter, m: Match) -> Value | None:
    node = m.node("root")
    x, y = node.inputs
    if _order_key(rw, x) <= _order_key(rw, y):
        return None
    return rw.emit(node.op.name, y, x, **node.attrs)


_COMMUTATIVE = sorted(o.name for o in all_ops() if o.is_commutative and o.arity == 2)
_BROADCASTING = sorted(o.name for o in all_ops() if o.fusion is FusionKind.BROADCAST)

SHAPE_RULES = PatternSet([
    # transpose(x, identity) -> x ;  transpose(transpose(x, p), q) -> transpose(x, p.q)
    rule("transpose-identity", op("transpose", _x, name="root"), _transpose_identity),
    rule("transpose-transpose", op("transpose", op("transpose", _x, name="inner"), name="root"),
         _transpose_transpose),
    # reshape(x) to x's own type -> x ;  reshape(reshape(x)) -> reshape(x)
    rule("reshape-identity", op("reshape", _x, name="root"), _same_type),
    rule("reshape-reshape", op("reshape", op("reshape", _x), name="root"), _reshape_reshape),
    # broadcast_to(x) to x's own type -> x ;  broadcast_to(broadcast_to(x)) -> broadcast_to(x)
    rule("broadcast-identity", op("broadcast_to", _x, name="root"), _same_type),
    rule("broadcast-broadcast", op("broadcast_to", op("broadcast_to", _x), name="root"),
         _broadcast_broadcast),
    # expand_dims then squeeze of the same axes -> x (checked by type)
    rule("squeeze-expand", op("squeeze", op("expand_dims", _x), name="root"), _same_type),
    # concat(x) -> x ;  x[:, :] -> x
    rule("concat-single", op("concat", name="root"), _concat_single),
    rule("slice-whole", op("slice", _x, name="root"), _slice_whole),
    # op(x, broadcast_to(s)) -> op(x, s) when the op's broadcasting gives the same type
    rule("operand-broadcast", op(_BROADCASTING, name="root"), _drop_operand_broadcast),
    # commutative ops: computed values, then parameters, then constants
    rule("commute-operands", op(_COMMUTATIVE, name="root"), _commute),
])
