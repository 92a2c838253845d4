"""Shared helpers for op definitions: dtype checks and result-type rules."""

from __future__ import annotations

from typing import Iterable

from graphc.errors import ShapeError

from ..dtypes import DType
from ..types import TensorType

DTYPE_CLASSES: dict[str, tuple[str, ...]] = {
    "float": ("f16", "f32", "f64"),
    "int": ("i32", "i64"),
    "numeric": ("f16", "f32", "f64", "i32", "i64"),
    "any": ("f16", "f32", "f64", "i32", "i64", "bool"),
    "bool": ("bool",),
}


def accepts(dtype: DType, dtype_class: str) -> bool:
    return dtype.short in DTYPE_CLASSES[dtype_class]


def require_dtype(op: str, t: TensorType, dtype_class: str, what: str = "input") -> None:
    """Raise ShapeError unless ``t.dtype`` belongs to ``dtype_class``."""
    if not accepts(t.dtype, dtype_class):
        allowed = ", ".join(DTYPE_CLASSES[dtype_class])
        hint = " (insert a cast)" if dtype_class != "any" else ""
        raise ShapeError(f"op '{op}' expects {what} of dtype {allowed}, received {t}{hint}")


def require_same_dtype(op: str, types: Iterable[TensorType]) -> DType:
    """All inputs must share one dtype (graphc does no implicit promotion)."""
    types = list(types)
    first = types[0].dtype
    for t in types[1:]:
        if t.dtype != first:
            listed = " and ".join(str(x) for x in types)
            raise ShapeError(f"op '{op}' needs operands of one dtype, received {listed}; "
                             "insert a cast to make them agree")
    return first


def same_type(x: TensorType, **_: object) -> TensorType:
    return x
