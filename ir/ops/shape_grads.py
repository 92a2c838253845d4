"""Gradient (vjp) rules of the movement ops in ``shape.py``.

Each rule moves the cotangent back to its input's layout: reshape and
transpose invert themselves, broadcast_to sums, concat slices, slice and
gather scatter into zeros (``scatter_add``, whose own gradient is a gather),
expand_dims and squeeze swap roles.  Rules that need a static size (slice
offsets along a symbolic axis, concat of symbolic pieces) raise a
``GraphcError`` naming what is missing rather than guess.
"""

from __future__ import annotations

import numpy as np

from graphc.errors import GraphcError

from ..types import UNKNOWN, TensorType, normalize_axes
from .grad_util import unbroadcast, zeros


def reshape_vjp(b, node, g):
    x = node.inputs[0].type
    unknown = x.shape.count(UNKNOWN)
    if unknown > 1:
        raise GraphcError(f"cannot differentiate reshape of {x}: more than one '?' dimension")
    return (b.emit("reshape", g, shape=tuple(-1 if d == UNKNOWN else d for d in x.shape)),)


def transpose_vjp(b, node, g):
    perm = node.attrs["perm"]
    if perm is None:
        return (b.emit("transpose", g, perm=None),)
    norm = normalize_axes(perm, len(perm))
    inverse = tuple(int(i) for i in np.argsort(norm))
    return (b.emit("transpose", g, perm=inverse),)


def broadcast_to_vjp(b, node, g):
    return (unbroadcast(b, g, node.inputs[0].type),)


def concat_vjp(b, node, g):
    axis = node.attrs["axis"] % g.type.rank
    pieces, offset = [], 0
    for x in node.inputs:
        size = x.type.shape[axis]
        if not isinstance(size, int):
            raise GraphcError(f"cannot differentiate concat along axis {axis}: input {x.type} "
                              "has a symbolic size there, so its offset is unknown")
        pieces.append(b.emit("slice", g, axes=(axis,), starts=(offset,), stops=(offset + size,)))
        offset += size
    return tuple(pieces)


def slice_vjp(b, node, g):
    x = node.inputs[0].type
    steps = node.attrs["steps"] or (1,) * len(node.attrs["axes"])
    axes = normalize_axes(node.attrs["axes"], x.rank)
    current = g
    for ax, start, stop, step in zip(axes, node.attrs["starts"], node.attrs["stops"], steps):
        dim = x.shape[ax]
        if current.type.shape[ax] == dim and step in (None, 1):
            continue  # the whole axis was taken, in order
        if current.type.shape[ax] == dim and step == -1:
            # the whole axis reversed: reversing the cotangent puts it back in place
            current = b.emit("slice", current, axes=(ax,), starts=(None,), stops=(None,),
                             steps=(-1,))
            continue
        if not isinstance(dim, int):
            raise GraphcError(f"cannot differentiate a partial slice of the symbolic axis {ax} "
                              f"of {x}: its positions are unknown until run time")
        positions = np.arange(dim)[slice(start, stop, step)].astype(np.int64)
        target = TensorType(x.dtype, current.type.shape[:ax] + (dim,) + current.type.shape[ax + 1:])
        current = b.emit("scatter_add", zeros(b, target), b.constant(positions), current, axis=ax)
    return (current,)


def gather_vjp(b, node, g):
    x, indices = node.inputs
    return (b.emit("scatter_add", zeros(b, x.type), indices, g, axis=node.attrs["axis"]), None)


def scatter_add_vjp(b, node, g):
    _, indices, _ = node.inputs
    return (g, None, b.emit("gather", g, indices, axis=node.attrs["axis"]))


def expand_dims_vjp(b, node, g):
    axes = normalize_axes(node.attrs["axes"], g.type.rank)
    return (b.emit("squeeze", g, axes=axes),)


def squeeze_vjp(b, node, g):
    x = node.inputs[0].type
    axes = node.attrs["axes"]
    removed = (tuple(i for i, d in enumerate(x.shape) if d == 1) if axes is None
               else normalize_axes(axes, x.rank))
    return (b.emit("expand_dims", g, axes=tuple(sorted(removed))),)
