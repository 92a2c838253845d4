"""Movement ops: reshape, transpose, broadcast_to, concat, slice, gather,
expand_dims, squeeze -- and scatter_add, the transpose of gather (it exists
for gradients of gather and slice, and is opaque to fusion because its
output accumulates).

Shape attributes may name symbols (``reshape {shape = [N, -1]}``); the
executor substitutes the sizes bound from the function's inputs before the
reference runs, so a symbol in an attribute must also appear in a parameter
type (verifier invariant 7).

Symbolic rules, chosen to stay exact rather than guess:

* reshape resolves ``-1`` when the input's symbols are all carried over or
  exactly one is absorbed (``[N,26,26,8] -> [-1, 5408]`` gives ``N``);
  otherwise the dim is ``?``;
* a slice of a symbolic dim keeps the symbol only when it takes the whole
  axis; any other slice of it is ``?``;
* concat along an axis with a symbolic size is ``?``.

At run time numpy cannot resolve a ``-1`` whose other dims hold 0 elements
(``[N, -1]`` with ``N`` bound to 0); reshape's reference then picks the size
``infer`` gave (symbols bound to 0 appear on both sides and cancel).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from graphc.errors import ShapeError

from ..attrs import AXES, INT, INTS, OPT_INTS, SHAPE, AttrSpec
from ..opdef import FusionKind, OpDef, define_ops
from ..types import (UNKNOWN, Dim, TensorType, broadcast_dims, format_shape, normalize_axes,
                     normalize_axis)
from . import shape_grads
from .common import require_dtype, require_same_dtype


def _split_dims(dims: tuple) -> tuple[int, Counter]:
    static, symbols = 1, Counter()
    for d in dims:
        if isinstance(d, int):
            static *= d
        else:
            symbols[d] += 1
    return static, symbols


def _infer_reshape(x: TensorType, *, shape: tuple) -> TensorType:
    target = [d for d in shape if d != -1]
    in_static, in_syms = _split_dims(x.shape)
    out_static, out_syms = _split_dims(tuple(target))
    shown = f"op 'reshape' cannot reshape {format_shape(x.shape)} into {format_shape(shape)}"
    if -1 not in shape:
        if UNKNOWN not in in_syms and in_syms == out_syms and in_static != out_static:
            raise ShapeError(f"{shown}: element counts {in_static} and {out_static} differ")
        return x.with_shape(shape)
    leftover, missing = in_syms - out_syms, out_syms - in_syms
    fill: Dim = UNKNOWN
    if UNKNOWN in in_syms or missing:
        fill = UNKNOWN
    elif leftover:
        if sum(leftover.values()) == 1 and in_static == out_static:
            fill = next(iter(leftover))
    elif out_static == 0:
        raise ShapeError(f"{shown}: -1 is ambiguous when the other dimensions hold 0 elements")
    elif in_static % out_static:
        raise ShapeError(f"{shown}: {in_static} elements do not divide into "
                         f"groups of {out_static}")
    else:
        fill = in_static // out_static
    return x.with_shape(fill if d == -1 else d for d in shape)


def _fill_empty(in_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """Resolve the -1 of ``shape`` for an empty input when numpy cannot (the
    other dims hold 0 elements): 0 when the input has more zero dims than the
    target, else the quotient of the non-zero dims -- what ``infer`` gave."""
    known = [d for d in shape if d != -1]
    if -1 not in shape or math.prod(known):
        return shape
    if sum(d == 0 for d in in_shape) > sum(d == 0 for d in known):
        fill = 0
    else:
        fill = math.prod(d for d in in_shape if d) // math.prod(d for d in known if d)
    return tuple(fill if d == -1 else d for d in shape)


def _reshape(x: np.ndarray, *, shape: tuple) -> np.ndarray:
    if x.size == 0:
        shape = _fill_empty(x.shape, tuple(shape))
    return np.reshape(x, shape).copy()


def _infer_transpose(x: TensorType, *, perm: tuple[int, ...] | None) -> TensorType:
    if perm is None:
        return x.with_shape(reversed(x.shape))
    norm = normalize_axes(perm, x.rank, "perm", op="transpose")
    if sorted(norm) != list(range(x.rank)):
        raise ShapeError(f"op 'transpose' perm {list(perm)} is not a permutation of the "
                         f"{x.rank} axes of {format_shape(x.shape)}")
    return x.with_shape(x.shape[p] for p in norm)


def _transpose(x: np.ndarray, *, perm: tuple[int, ...] | None) -> np.ndarray:
    return np.transpose(x, perm).copy(order="C")  # not ascontiguousarray: it makes 0-d 1-d


def _infer_broadcast_to(x: TensorType, *, shape: tuple) -> TensorType:
    if -1 in shape:
        raise ShapeError(f"op 'broadcast_to' shape {list(shape)} may not contain -1")
    if x.rank > len(shape):
        raise ShapeError(f"op 'broadcast_to' cannot broadcast {format_shape(x.shape)} to "
                         f"the lower-rank shape {format_shape(shape)}")
    for i, d in enumerate(x.shape):
        t = shape[len(shape) - x.rank + i]
        if d != 1 and broadcast_dims(d, t) != t:
            raise ShapeError(f"op 'broadcast_to' cannot broadcast {format_shape(x.shape)} to "
                             f"{format_shape(shape)}: dimension {d} does not fit {t}")
    return x.with_shape(shape)


def _broadcast_to(x: np.ndarray, *, shape: tuple) -> np.ndarray:
    return np.array(np.broadcast_to(x, shape), order="C")  # order K would copy as F-order


def _infer_concat(*xs: TensorType, axis: int) -> TensorType:
    dtype = require_same_dtype("concat", xs)
    rank = xs[0].rank
    if rank == 0:
        raise ShapeError("op 'concat' cannot join 0-d tensors; expand_dims them first")
    if any(x.rank != rank for x in xs):
        listed = ", ".join(format_shape(x.shape) for x in xs)
        raise ShapeError(f"op 'concat' needs inputs of one rank, received {listed}")
    ax = normalize_axis(axis, rank, op="concat")
    out: list[Dim] = []
    for i in range(rank):
        dims = [x.shape[i] for x in xs]
        if i == ax:
            out.append(UNKNOWN if any(isinstance(d, str) for d in dims) else sum(dims))
            continue
        merged = dims[0]
        for d in dims[1:]:
            if d == merged:
                continue
            if isinstance(d, int) and isinstance(merged, int):
                listed = ", ".join(format_shape(x.shape) for x in xs)
                raise ShapeError(f"op 'concat' along axis {axis} needs equal sizes on the "
                                 f"other axes, received {listed}")
            merged = merged if isinstance(merged, int) else d
        out.append(merged)
    return TensorType(dtype, out)


def _concat(*xs: np.ndarray, axis: int) -> np.ndarray:
    return np.concatenate(xs, axis=axis)


def _slice_dim(dim: Dim, start: int | None, stop: int | None, step: int) -> Dim:
    if isinstance(dim, int):
        return len(range(*slice(start, stop, step).indices(dim)))
    whole = stop is None and ((step == 1 and start in (None, 0)) or (step == -1 and start is None))
    return dim if whole else UNKNOWN


def _slice_params(rank: int, axes, starts, stops, steps):
    count = len(axes)
    if len(starts) != count or len(stops) != count or (steps and len(steps) != count):
        raise ShapeError(f"op 'slice' needs one start, stop (and step) per axis: axes={list(axes)} "
                         f"starts={list(starts)} stops={list(stops)} steps={list(steps)}")
    steps = tuple(steps) or (1,) * count
    if 0 in steps:
        raise ShapeError("op 'slice' step may not be 0")
    return normalize_axes(axes, rank, op="slice"), starts, stops, steps


def _infer_slice(x: TensorType, *, axes, starts, stops, steps) -> TensorType:
    norm, starts, stops, steps = _slice_params(x.rank, axes, starts, stops, steps)
    shape = list(x.shape)
    for ax, start, stop, step in zip(norm, starts, stops, steps):
        shape[ax] = _slice_dim(shape[ax], start, stop, step)
    return x.with_shape(shape)


def _slice(x: np.ndarray, *, axes, starts, stops, steps) -> np.ndarray:
    norm, starts, stops, steps = _slice_params(x.ndim, axes, starts, stops, steps)
    index = [slice(None)] * x.ndim
    for ax, start, stop, step in zip(norm, starts, stops, steps):
        index[ax] = slice(start, stop, step)
    return x[tuple(index)].copy()


def _infer_gather(x: TensorType, indices: TensorType, *, axis: int) -> TensorType:
    require_dtype("gather", indices, "int", "indices")
    ax = normalize_axis(axis, x.rank, op="gather")
    if x.shape[ax] == 0 and indices.size != 0:
        raise ShapeError(f"op 'gather' cannot index axis {axis} of {format_shape(x.shape)}: "
                         "it is empty")
    return x.with_shape(x.shape[:ax] + indices.shape + x.shape[ax + 1:])


def _gather(x: np.ndarray, indices: np.ndarray, *, axis: int) -> np.ndarray:
    size = x.shape[axis]
    if indices.size and (indices.min() < -size or indices.max() >= size):
        bad = indices[(indices < -size) | (indices >= size)].flat[0]
        raise IndexError(f"index {bad} is out of range for axis {axis} of size {size}")
    return np.take(x, indices, axis=axis)


def _infer_scatter_add(x: TensorType, indices: TensorType, updates: TensorType, *,
                       axis: int) -> TensorType:
    require_dtype("scatter_add", indices, "int", "indices")
    require_same_dtype("scatter_add", (x, updates))
    require_dtype("scatter_add", x, "numeric")
    expected = _infer_gather(x, indices, axis=axis)
    if updates.rank != expected.rank or any(
            isinstance(u, int) and isinstance(e, int) and u != e
            for u, e in zip(updates.shape, expected.shape)):
        raise ShapeError(f"op 'scatter_add' needs updates of shape {format_shape(expected.shape)} "
                         f"(x.shape[:axis] + indices.shape + x.shape[axis+1:]), received "
                         f"{format_shape(updates.shape)}")
    return x


def _scatter_add(x: np.ndarray, indices: np.ndarray, updates: np.ndarray, *,
                 axis: int) -> np.ndarray:
    _gather(x, indices, axis=axis)  # the same range check as gather
    out = x.copy()
    index = (slice(None),) * (axis % max(x.ndim, 1)) + (indices,)
    np.add.at(out, index, updates)
    return out


def _infer_expand_dims(x: TensorType, *, axes: tuple[int, ...]) -> TensorType:
    rank = x.rank + len(axes)
    norm = normalize_axes(axes, rank, op="expand_dims")
    dims = iter(x.shape)
    return x.with_shape(1 if i in norm else next(dims) for i in range(rank))


def _expand_dims(x: np.ndarray, *, axes: tuple[int, ...]) -> np.ndarray:
    return np.expand_dims(x, axes).copy()


def _squeeze_axes(x: TensorType, axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        if not x.is_static:
            raise ShapeError(f"op 'squeeze' needs explicit axes for the symbolic shape "
                             f"{format_shape(x.shape)} (a symbol might be 1 at run time)")
        return tuple(i for i, d in enumerate(x.shape) if d == 1)
    norm = normalize_axes(axes, x.rank, op="squeeze")
    for ax in norm:
        if x.shape[ax] != 1:
            raise ShapeError(f"op 'squeeze' can only remove axes of size 1; axis {ax} of "
                             f"{format_shape(x.shape)} has size {x.shape[ax]}")
    return norm


def _infer_squeeze(x: TensorType, *, axes: tuple[int, ...] | None) -> TensorType:
    drop = _squeeze_axes(x, axes)
    return x.with_shape(d for i, d in enumerate(x.shape) if i not in drop)


def _squeeze(x: np.ndarray, *, axes: tuple[int, ...] | None) -> np.ndarray:
    return np.squeeze(x, axis=axes).copy()


def _movement(name: str, infer, reference, attrs, doc: str, arity: int = 1,
              variadic: bool = False, input_names=("x",)) -> OpDef:
    return OpDef(name=name, arity=arity, variadic=variadic, input_names=input_names,
                 attrs=attrs, infer=infer, reference=reference, fusion=FusionKind.INJECTIVE,
                 category="shape", doc=doc, vjp=getattr(shape_grads, f"{name}_vjp"))


define_ops([
    _movement("reshape", _infer_reshape, _reshape, (AttrSpec("shape", SHAPE),),
              "same elements, new shape; one -1 is inferred"),
    _movement("transpose", _infer_transpose, _transpose, (AttrSpec("perm", AXES, None),),
              "permute axes (perm = none reverses them)"),
    _movement("broadcast_to", _infer_broadcast_to, _broadcast_to, (AttrSpec("shape", SHAPE),),
              "numpy broadcast_to"),
    _movement("concat", _infer_concat, _concat, (AttrSpec("axis", INT, 0),),
              "join tensors along axis", variadic=True, input_names=("inputs",)),
    _movement("slice", _infer_slice, _slice,
              (AttrSpec("axes", INTS), AttrSpec("starts", OPT_INTS), AttrSpec("stops", OPT_INTS),
               AttrSpec("steps", INTS, ())),
              "python slicing per axis (none = open end); steps default to 1"),
    _movement("gather", _infer_gather, _gather, (AttrSpec("axis", INT, 0),),
              "numpy take: x indexed by integer indices along axis", arity=2,
              input_names=("x", "indices")),
    OpDef(name="scatter_add", arity=3, input_names=("x", "indices", "updates"),
          attrs=(AttrSpec("axis", INT, 0),), infer=_infer_scatter_add, reference=_scatter_add,
          fusion=FusionKind.OPAQUE, category="shape", vjp=shape_grads.scatter_add_vjp,
          doc="x with updates added at indices along axis (np.add.at; the transpose of gather)"),
    _movement("expand_dims", _infer_expand_dims, _expand_dims, (AttrSpec("axes", INTS),),
              "insert size-1 axes at the given output positions"),
    _movement("squeeze", _infer_squeeze, _squeeze, (AttrSpec("axes", AXES, None),),
              "remove size-1 axes (none = every size-1 axis of a static shape)"),
])
