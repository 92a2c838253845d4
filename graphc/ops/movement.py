"""Shape and indexing ops for ``graphc.ops``: reshape, transpose,
concatenate/stack, expand_dims, squeeze, take, broadcast_to and ``x[...]``.

Indexing (``get_item``) supports what numpy calls basic indexing plus one
integer-array index, lowered in three steps so every piece is a core op:

1. all slices at once, as one ``slice`` node (on the original axes);
2. integer and array indices, from the last axis to the first, as
   ``gather`` nodes (a 0-d index removes the axis, a 1-D one keeps it), so
   an integer index into a symbolic axis such as the batch stays exact;
3. ``None`` entries, as one ``expand_dims`` at their output positions.

An integer index into a static axis is bounds-checked when the model is
defined; into a symbolic axis it is checked when the model runs.
"""

from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from graphc.errors import FrontendError, ShapeError

from ..ir.dtypes import DType
from ..ir.types import format_shape
from ..tracing import Traced
from .dispatch import graphc_op
from .operands import as_traced, cast, find_tracer, operand, operands


def _dims(shape: Any, what: str) -> tuple:
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    if not isinstance(shape, (list, tuple)):
        raise FrontendError(f"{what} must be a tuple of dimensions. Received: {shape!r}")
    dims: list[Any] = []
    for d in shape:
        if d is None:
            dims.append(-1)
        elif isinstance(d, (int, np.integer)) and not isinstance(d, bool):
            dims.append(int(d))
        elif isinstance(d, str):
            dims.append(d)
        else:
            raise FrontendError(f"{what} entries must be ints, -1/None or symbol names. "
                                f"Received: {shape!r}")
    return tuple(dims)


@graphc_op("reshape")
def reshape(x: Any, newshape: Any) -> Traced:
    """Same elements, new shape (including the batch dim); one -1 (or None) is inferred."""
    x = operand(x)
    return x.tracer.emit("reshape", x, shape=_dims(newshape, "reshape newshape"))


@graphc_op("transpose")
def transpose(x: Any, axes: Sequence[int] | None = None) -> Traced:
    """Permute axes; ``axes=None`` reverses them."""
    x = operand(x)
    return x.tracer.emit("transpose", x, perm=tuple(axes) if isinstance(axes, list) else axes)


@graphc_op("broadcast_to")
def broadcast_to(x: Any, shape: Any) -> Traced:
    x = operand(x)
    return x.tracer.emit("broadcast_to", x, shape=_dims(shape, "broadcast_to shape"))


@graphc_op("concatenate")
def concatenate(xs: Sequence[Any], axis: int = 0) -> Traced:
    """Join tensors along ``axis``."""
    if not isinstance(xs, (list, tuple)) or not xs:
        raise FrontendError(f"concatenate expects a non-empty list of tensors. Received: {xs!r}")
    values = operands(*xs)
    return values[0].tracer.emit("concat", *values, axis=axis)


concat = concatenate


@graphc_op("stack")
def stack(xs: Sequence[Any], axis: int = 0) -> Traced:
    """Join tensors along a new axis."""
    if not isinstance(xs, (list, tuple)) or not xs:
        raise FrontendError(f"stack expects a non-empty list of tensors. Received: {xs!r}")
    values = operands(*xs)
    expanded = [v.tracer.emit("expand_dims", v, axes=(axis,)) for v in values]
    return expanded[0].tracer.emit("concat", *expanded, axis=axis)


@graphc_op("expand_dims")
def expand_dims(x: Any, axis: int | Sequence[int]) -> Traced:
    x = operand(x)
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    return x.tracer.emit("expand_dims", x, axes=axes)


@graphc_op("squeeze")
def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Traced:
    x = operand(x)
    return x.tracer.emit("squeeze", x, axes=tuple(axis) if isinstance(axis, list) else axis)


def _indices(tracer: Any, indices: Any) -> Traced:
    value = as_traced(tracer, indices)
    if isinstance(value, Traced):
        return value if value.dtype.is_int else cast(value, DType.i32)
    if value.dtype.kind == "f" and not np.array_equal(value, value.astype(np.int64)):
        raise FrontendError(f"indices must be integers. Received: {value.tolist()!r}")
    return tracer.constant(value.astype(np.int64), DType.i64)


@graphc_op("take")
def take(x: Any, indices: Any, axis: int | None = None) -> Traced:
    """numpy ``take``: elements of ``x`` at integer ``indices`` along ``axis``."""
    x = operand(x)
    if axis is None:
        x = x.tracer.emit("reshape", x, shape=(-1,))
        axis = 0
    return x.tracer.emit("gather", x, _indices(x.tracer, indices), axis=axis)


def _expand_key(key: Any, rank: int) -> list[Any]:
    items = list(key) if isinstance(key, tuple) else [key]
    ellipses = [i for i, item in enumerate(items) if item is Ellipsis]  # identity: items
    if len(ellipses) > 1:                                               # may be arrays
        raise FrontendError("an index can only have a single ellipsis ('...')")
    used = builtins.sum(item is not None and item is not Ellipsis for item in items)
    if used > rank:
        raise ShapeError(f"too many indices for a tensor of rank {rank}: {used} were given")
    if ellipses:
        at = ellipses[0]
        items[at:at + 1] = [slice(None)] * (rank - used)
    else:
        items += [slice(None)] * (rank - used)
    return items


def _is_int(item: Any) -> bool:
    return isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_))


def _is_bool_index(item: Any) -> bool:
    """A bool, a bool array or list, or a bool tensor."""
    dtype = getattr(item, "dtype", None)
    if dtype is not None:
        return str(dtype) in ("bool", "DType.bool") or dtype == DType.bool
    if isinstance(item, (bool, np.bool_)):
        return True
    return isinstance(item, (list, tuple)) and len(item) > 0 and \
        all(isinstance(v, (bool, np.bool_)) for v in item)


def shape(x: Any) -> tuple:
    """The shape of ``x`` as a tuple: ints, and None for a dimension known only when
    the model runs (the batch); a numpy array's own shape."""
    if isinstance(x, np.ndarray):
        return x.shape
    if hasattr(x, "shape") and isinstance(x.shape, tuple):
        return tuple(x.shape)
    return np.shape(x)


@graphc_op("get_item")
def get_item(x: Any, key: Any) -> Traced:
    """``x[key]`` with ints, slices, ``None``, ``...`` and one integer-array index."""
    x = operand(x)
    tracer = find_tracer(x)
    items = _expand_key(key, x.ndim)
    slices: list[tuple[int, int | None, int | None, int]] = []
    gathers: list[tuple[int, Any]] = []
    new_axes: list[int] = []
    axis = out_axis = 0
    for item in items:
        if item is None:
            new_axes.append(out_axis)
            out_axis += 1
            continue
        if isinstance(item, slice):
            parts = (item.start, item.stop, item.step)
            if not all(p is None or _is_int(p) for p in parts):
                raise FrontendError(f"slice bounds must be ints or None. Received: {item!r}")
            if parts != (None, None, None):
                step = 1 if item.step is None else int(item.step)
                if step == 0:
                    raise ShapeError("slice step cannot be zero")
                slices.append((axis, item.start, item.stop, step))
            out_axis += 1
        elif _is_int(item):
            size = x.type.shape[axis]
            if isinstance(size, int) and not -size <= int(item) < size:
                raise ShapeError(f"index {int(item)} is out of range for axis {axis} of "
                                 f"{format_shape(x.type.shape)} (size {size})")
            gathers.append((axis, int(item)))
        elif _is_bool_index(item):
            raise FrontendError("boolean (mask) indices are not supported: the result's size "
                                "would depend on the values; use graphc.ops.where(mask, x, "
                                "fill) to keep the shape")
        else:
            gathers.append((axis, item))
            out_axis += 1
        axis += 1
    if builtins.sum(not _is_int(index) for _, index in gathers) > 1:
        raise FrontendError("only one integer-array index is supported per indexing "
                            "expression; index one axis at a time")
    result = x
    if slices:
        result = tracer.emit("slice", result, axes=tuple(s[0] for s in slices),
                             starts=tuple(s[1] for s in slices),
                             stops=tuple(s[2] for s in slices),
                             steps=tuple(s[3] for s in slices))
    for ax, index in sorted(gathers, key=lambda g: g[0], reverse=True):
        result = tracer.emit("gather", result, _indices(tracer, index), axis=ax)
    if new_axes:
        result = tracer.emit("expand_dims", result, axes=tuple(new_axes))
    return result
