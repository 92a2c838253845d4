"""Turning the arguments of a ``graphc.ops`` function into traced values.

Inside a trace an op's operands may be traced values, layer weights, or
plain Python/numpy constants.  ``operands`` converts them all to ``Traced``
values of one common dtype, which the IR requires (it never promotes):

* among tensors (traced values and weights) the result dtype is the
  highest of ``bool < i32 < i64 < f16 < f32 < f64``; integer and float
  tensors together give the float one;
* constants are *weakly typed*, as in Keras and JAX: they take the tensors'
  dtype, except that a float constant next to integer or bool tensors
  promotes the result to ``f32`` (``int_tensor * 0.5`` is a float) and an
  integer constant next to bool tensors promotes it to ``i32``; an integer
  constant that does not fit the integer dtype is an error, not a wrap.

``floating`` casts integer/bool values to ``f32`` for ops defined on floats
only (``exp``, ``mean``, true division ...).
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from graphc.errors import FrontendError, ShapeError

from ..ir.dtypes import DType
from ..layers.weights import Weight
from ..structure import flatten
from ..tensor import SymbolicTensor
from ..tracing import Traced, Tracer

PROMOTION_ORDER = (DType.bool, DType.i32, DType.i64, DType.f16, DType.f32, DType.f64)


def find_tracer(*args: Any) -> Tracer:
    """The tracer of the first traced value among ``args`` (searched deeply)."""
    leaves = flatten(list(args))
    for leaf in leaves:
        if isinstance(leaf, Traced):
            return leaf.tracer
    for leaf in leaves:
        tracer = active_tracer(leaf)
        if tracer is not None:
            return tracer
    raise FrontendError("an op inside a layer's call needs at least one traced tensor "
                        "operand (weights alone have no trace to belong to)")


def active_tracer(value: Any) -> Tracer | None:
    """The trace a weight's layer is being called in, if any."""
    if isinstance(value, Weight):
        return value.layer.__dict__.get("_active_tracer")
    return None


def promoted(dtypes: Iterable[DType]) -> DType:
    return max(dtypes, key=PROMOTION_ORDER.index)


def _constant_array(value: Any) -> np.ndarray:
    if isinstance(value, SymbolicTensor):
        raise FrontendError(f"{value!r} is a symbolic model tensor; inside a layer's call "
                            "only the layer's own inputs and weights can be used")
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise FrontendError(f"cannot use {value!r} as a tensor constant: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise FrontendError(f"cannot use {value!r} (numpy dtype {array.dtype}) as a tensor "
                            "constant; expected numbers or booleans")
    return array


def as_traced(tracer: Tracer, value: Any) -> Traced | np.ndarray:
    """A traced value for tensors and weights; an ndarray for constants."""
    if isinstance(value, Traced):
        if value.tracer is not tracer:
            raise FrontendError("a value from another trace was used; values of one "
                                "layer call cannot leak into another")
        return value
    if isinstance(value, Weight):
        return tracer.weight(value)
    return _constant_array(value)


def cast(x: Traced, dtype: DType) -> Traced:
    if x.dtype == dtype:
        return x
    result = x.tracer.emit("cast", x, dtype=dtype)
    origin = x.tracer.origins.get(x.value)
    if origin is not None:
        x.tracer.origins[result.value] = origin
    return result


def operands(*values: Any, tracer: Tracer | None = None) -> list[Traced]:
    """All ``values`` as traced values of one dtype (constants alone need the
    ``tracer`` they go into, and default to f32 / i32 / bool by kind)."""
    tracer = tracer or find_tracer(*values)
    converted = [as_traced(tracer, v) for v in values]
    tensors = [c for c in converted if isinstance(c, Traced)]
    dtype = promoted(t.dtype for t in tensors) if tensors else DType.bool
    for c in converted:
        if isinstance(c, np.ndarray) and c.dtype.kind == "f" and not dtype.is_float:
            dtype = DType.f32
        elif isinstance(c, np.ndarray) and c.dtype.kind in "iu" and dtype.is_bool:
            dtype = DType.i32
    out = []
    for c in converted:
        if isinstance(c, Traced):
            out.append(cast(c, dtype))
        else:
            out.append(tracer.constant(_checked_constant(c, dtype), dtype))
    return out


def _checked_constant(array: np.ndarray, dtype: DType) -> np.ndarray:
    if dtype.is_int and array.dtype.kind in "iu" and array.size:
        info = np.iinfo(dtype.numpy)
        if array.min() < info.min or array.max() > info.max:
            raise ShapeError(f"constant {array.tolist()!r} does not fit in {dtype.value}; "
                             "cast the tensor to a wider dtype first")
    return array.astype(dtype.numpy)


def operand(value: Any) -> Traced:
    return operands(value)[0]


def floating(x: Traced) -> Traced:
    """``x`` cast to f32 unless it is already a float."""
    return x if x.dtype.is_float else cast(x, DType.f32)
