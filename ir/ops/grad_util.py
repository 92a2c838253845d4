"""Helpers shared by the ops' ``vjp`` rules.

A vjp rule has the signature ``vjp(b, node, *cotangents)``: ``b`` is the
Builder of the gradient function, ``node`` the forward node *as replayed in
that builder* (its inputs and outputs are values of ``b``), and one
cotangent per output (a Value, never None: the autodiff transform skips
nodes whose outputs all have zero cotangent).  It returns one entry per
input: a Value of the input's type, or None for "zero / not
differentiable" (integer inputs, indices, conditions).

Broadcasting rule: a cotangent is summed back to its input's shape over the
axes where the input was broadcast -- leading axes the input lacks, and axes
where the input has size 1 and the result does not.  A symbolic input dim is
assumed not to be a broadcast 1 (the verifier-level contract of ``N``).
"""

from __future__ import annotations

import math

import numpy as np

from graphc.errors import GraphcError

from ..builder import Builder
from ..core import Value
from ..dtypes import DType
from ..types import UNKNOWN, TensorType


def scalar(b: Builder, value: float, dtype: DType) -> Value:
    """A 0-d constant of ``dtype``."""
    return b.constant(np.array(value, dtype=dtype.numpy))


def _static_shape_attr(t: TensorType, why: str) -> tuple:
    if UNKNOWN in t.shape:
        raise GraphcError(f"cannot {why}: the shape {t} has an unknown ('?') dimension; "
                          "gradients need every dimension to be an int or a named symbol")
    return t.shape


def broadcast_to(b: Builder, v: Value, t: TensorType) -> Value:
    """``v`` broadcast to ``t``'s shape (a no-op when already there)."""
    if v.type.shape == t.shape:
        return v
    return b.emit("broadcast_to", v, shape=_static_shape_attr(t, "broadcast a gradient"))


def zeros(b: Builder, t: TensorType) -> Value:
    return broadcast_to(b, scalar(b, 0, t.dtype), t)


def unbroadcast(b: Builder, g: Value, t: TensorType) -> Value:
    """Sum ``g`` over the axes along which ``t`` was broadcast to ``g``'s shape."""
    lead = g.type.rank - t.rank
    if lead > 0:
        g = b.emit("sum", g, axes=tuple(range(lead)), keepdims=False)
    axes = tuple(i for i, (src, dst) in enumerate(zip(t.shape, g.type.shape))
                 if src == 1 and dst != 1)
    if axes:
        g = b.emit("sum", g, axes=axes, keepdims=True)
    if g.type.dtype != t.dtype:
        g = b.emit("cast", g, dtype=t.dtype)
    return g


def reduced_axes(t: TensorType, axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return tuple(range(t.rank))
    return tuple(sorted(a % t.rank for a in axes))


def expand_reduced(b: Builder, g: Value, x: TensorType, axes: tuple[int, ...],
                   keepdims: bool) -> Value:
    """Broadcast a reduction's cotangent back over the reduced ``axes`` of ``x``."""
    if not keepdims and axes:
        g = b.emit("expand_dims", g, axes=axes)
    return broadcast_to(b, g, x)


def element_count(b: Builder, x: TensorType, axes: tuple[int, ...], dtype: DType) -> Value:
    """The number of elements a reduction over ``axes`` of ``x`` combines, as a
    0-d value (a constant when those dims are static)."""
    dims = [x.shape[a] for a in axes]
    if all(isinstance(d, int) for d in dims):
        return scalar(b, math.prod(dims), dtype)  # type: ignore[arg-type]
    ones = broadcast_to(b, scalar(b, 1, dtype),
                        TensorType(dtype, _static_shape_attr(TensorType(dtype, dims),
                                                             "count reduced elements")))
    return b.emit("sum", ones, axes=None, keepdims=False)


def swap_last_two(b: Builder, v: Value) -> Value:
    rank = v.type.rank
    perm = tuple(range(rank - 2)) + (rank - 1, rank - 2)
    return b.emit("transpose", v, perm=perm)
