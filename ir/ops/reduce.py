"""Reductions (sum, mean, max, min, argmax) and softmax / log_softmax.

``axes = none`` reduces over every axis; ``axes = []`` reduces over none.
``keepdims`` keeps reduced axes as size 1.  ``sum`` of integers stays in the
input dtype (wrapping like numpy's fixed-width arithmetic); ``mean`` is
defined on floats only; ``argmax`` returns i64.  ``max``/``min``/``argmax``
over an axis that is statically empty are rejected at type-inference time
(they have no identity).  softmax and log_softmax subtract the maximum first,
so they never overflow.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from graphc.errors import ShapeError

from ..attrs import AXES, BOOL, INT, AttrSpec
from ..opdef import FusionKind, OpDef, cast_result, define_ops
from ..types import Shape, TensorType, format_shape, normalize_axes, normalize_axis
from .common import require_dtype
from .grad_util import broadcast_to, element_count, expand_reduced, reduced_axes

_REDUCE_ATTRS = (AttrSpec("axes", AXES, None), AttrSpec("keepdims", BOOL, False))


def reduced_shape(shape: Shape, axes: tuple[int, ...], keepdims: bool) -> Shape:
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _check_nonempty(op: str, shape: Shape, axes: tuple[int, ...]) -> None:
    for axis in axes:
        if shape[axis] == 0:
            raise ShapeError(f"op '{op}' cannot reduce over axis {axis} of shape "
                             f"{format_shape(shape)}: it is empty and '{op}' has no identity")


# -- gradients --------------------------------------------------------------------------

def _sum_vjp(b, node, g):
    x = node.inputs[0].type
    axes = reduced_axes(x, node.attrs["axes"])
    return (expand_reduced(b, g, x, axes, node.attrs["keepdims"]),)


def _mean_vjp(b, node, g):
    x = node.inputs[0].type
    axes = reduced_axes(x, node.attrs["axes"])
    spread = expand_reduced(b, g, x, axes, node.attrs["keepdims"])
    return (b.emit("div", spread, element_count(b, x, axes, x.dtype)),)


def _extremum_vjp(b, node, g):
    """The cotangent goes to the elements equal to the result, split evenly among ties."""
    x = node.inputs[0]
    axes = reduced_axes(x.type, node.attrs["axes"])
    keep = node.attrs["keepdims"]
    hit = b.emit("cast", b.emit("eq", x, expand_reduced(b, node.output, x.type, axes, keep)),
                 dtype=x.type.dtype)
    ties = b.emit("sum", hit, axes=axes, keepdims=True)
    share = b.emit("div", hit, broadcast_to(b, ties, x.type))
    return (b.emit("mul", share, expand_reduced(b, g, x.type, axes, keep)),)


def _softmax_vjp(b, node, g):  # y * (g - sum(g * y))
    y = node.output
    axis = node.attrs["axis"]
    dot = b.emit("sum", b.emit("mul", g, y), axes=(axis,), keepdims=True)
    return (b.emit("mul", y, b.emit("sub", g, dot)),)


def _log_softmax_vjp(b, node, g):  # g - exp(y) * sum(g)
    y = node.output
    total = b.emit("sum", g, axes=(node.attrs["axis"],), keepdims=True)
    return (b.emit("sub", g, b.emit("mul", b.emit("exp", y), total)),)


def _reduction(name: str, dtype_class: str, fn: Callable[..., np.ndarray], doc: str,
               needs_identity: bool = False, vjp: Callable | None = None) -> OpDef:
    def infer(x: TensorType, *, axes: tuple[int, ...] | None, keepdims: bool) -> TensorType:
        require_dtype(name, x, dtype_class)
        norm = tuple(range(x.rank)) if axes is None else normalize_axes(axes, x.rank, op=name)
        if needs_identity:
            _check_nonempty(name, x.shape, norm)
        return x.with_shape(reduced_shape(x.shape, norm, keepdims))

    def reference(x: np.ndarray, *, axes: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
        return cast_result(fn(x, axis=axes, keepdims=keepdims), x.dtype)

    return OpDef(name=name, arity=1, input_names=("x",), attrs=_REDUCE_ATTRS, infer=infer,
                 reference=reference, fusion=FusionKind.REDUCE, category="reduction", doc=doc,
                 vjp=vjp)


def _mean(x: np.ndarray, *, axis: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
    # numpy's f16 mean accumulates in f32 already; be explicit for clarity.  sum / count
    # is what np.mean computes, without its "Mean of empty slice" warning (0 / 0 -> NaN).
    work = x.astype(np.float32) if x.dtype == np.float16 else x
    count = math.prod(x.shape[a] for a in (range(x.ndim) if axis is None else axis))
    return np.sum(work, axis=axis, keepdims=keepdims) / count


def _infer_argmax(x: TensorType, *, axis: int, keepdims: bool) -> TensorType:
    require_dtype("argmax", x, "numeric")
    norm = normalize_axis(axis, x.rank, op="argmax")
    _check_nonempty("argmax", x.shape, (norm,))
    return TensorType("i64", reduced_shape(x.shape, (norm,), keepdims))


def _argmax(x: np.ndarray, *, axis: int, keepdims: bool) -> np.ndarray:
    return cast_result(np.argmax(x, axis=axis, keepdims=keepdims), np.int64)


def _infer_softmax(name: str) -> Callable[..., TensorType]:
    def infer(x: TensorType, *, axis: int) -> TensorType:
        require_dtype(name, x, "float")
        normalize_axis(axis, x.rank, op=name)
        return x

    return infer


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    work = x.astype(np.float32) if x.dtype == np.float16 else x
    return work - np.max(work, axis=axis, keepdims=True)


def _softmax(x: np.ndarray, *, axis: int) -> np.ndarray:
    if x.shape[axis] == 0:
        return x.copy()
    e = np.exp(_shifted(x, axis))
    return cast_result(e / np.sum(e, axis=axis, keepdims=True), x.dtype)


def _log_softmax(x: np.ndarray, *, axis: int) -> np.ndarray:
    if x.shape[axis] == 0:
        return x.copy()
    s = _shifted(x, axis)
    return cast_result(s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True)), x.dtype)


define_ops([
    _reduction("sum", "numeric", np.sum, "sum over axes", vjp=_sum_vjp),
    _reduction("mean", "float", _mean, "arithmetic mean over axes (NaN for an empty axis)",
               vjp=_mean_vjp),
    _reduction("max", "numeric", np.max, "maximum over axes", needs_identity=True,
               vjp=_extremum_vjp),
    _reduction("min", "numeric", np.min, "minimum over axes", needs_identity=True,
               vjp=_extremum_vjp),
    OpDef(name="argmax", arity=1, input_names=("x",),
          attrs=(AttrSpec("axis", INT, -1), AttrSpec("keepdims", BOOL, False)),
          infer=_infer_argmax, reference=_argmax, fusion=FusionKind.REDUCE,
          category="reduction", differentiable=False,
          doc="index (i64) of the first maximum along axis"),
    OpDef(name="softmax", arity=1, input_names=("x",), attrs=(AttrSpec("axis", INT, -1),),
          infer=_infer_softmax("softmax"), reference=_softmax, fusion=FusionKind.REDUCE,
          category="nn", doc="exp(x - max) / sum(exp(x - max)) along axis", vjp=_softmax_vjp),
    OpDef(name="log_softmax", arity=1, input_names=("x",), attrs=(AttrSpec("axis", INT, -1),),
          infer=_infer_softmax("log_softmax"), reference=_log_softmax,
          fusion=FusionKind.REDUCE, category="nn",
          doc="x - max - log(sum(exp(x - max))) along axis", vjp=_log_softmax_vjp),
])
