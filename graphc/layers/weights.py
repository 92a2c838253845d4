"""``Weight``: a named, typed numpy array owned by one layer.

A weight lives outside the IR: ``Model.to_ir()`` makes each weight a
parameter of the model's function (named by its path, ``dense_1/kernel``),
and a compiled model passes the current arrays at every call, so
``set_weights`` never needs a recompile.  Shapes are fixed when the weight is
created; ``assign`` checks the new value's shape and converts its dtype.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphc.errors import FrontendError

from ..ir.dtypes import DType, dtype_of
from ..ir.types import TensorType, format_shape

if TYPE_CHECKING:  # pragma: no cover
    from .base import Layer


class TypedArray:
    """A named array whose type (dtype and static shape) never changes: the
    common part of layer weights and optimizer variables.  ``assign``
    converts the dtype and checks the shape; subclasses say what they are
    called in messages (``kind``), how they are named (``path``), and whether
    the array handed out is read-only."""

    kind = "array"
    read_only = False
    type: TensorType
    _value: np.ndarray

    @property
    def path(self) -> str:
        raise NotImplementedError

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.type.shape)  # type: ignore[arg-type]

    @property
    def dtype(self) -> str:
        return self.type.dtype.value

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.type.dtype.itemsize

    @property
    def value(self) -> np.ndarray:
        """The current array (use ``assign`` to change it)."""
        return self._value

    def numpy(self) -> np.ndarray:
        return self._value.copy()

    def assign(self, value: Any) -> None:
        self._value = self._checked(value)

    def _checked(self, value: Any) -> np.ndarray:
        try:
            array = np.array(value, dtype=self.type.dtype.numpy, order="C")
        except (TypeError, ValueError) as exc:
            raise FrontendError(f"{self.kind} '{self.path}' expects a {self.type.dtype.value} "
                                f"array of shape {format_shape(self.shape)}; received a value "
                                f"numpy cannot convert ({exc})") from None
        if array.shape != self.shape:
            raise FrontendError(f"{self.kind} '{self.path}' has shape {format_shape(self.shape)}; "
                                f"received an array of shape {format_shape(array.shape)}")
        if self.read_only:
            array.setflags(write=False)
        return array

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path} shape={format_shape(self.shape)} " \
               f"dtype={self.dtype}>"


class Weight(TypedArray):
    """A layer's weight; ``value`` is read-only (``assign`` replaces it)."""

    kind = "weight"
    read_only = True

    def __init__(self, layer: "Layer", name: str, value: np.ndarray, dtype: DType,
                 trainable: bool = True) -> None:
        self.layer = layer
        self.name = name
        self.trainable = bool(trainable)
        self.type = TensorType(dtype, value.shape)
        self._value = self._checked(value)

    @property
    def path(self) -> str:
        """``layer_name/weight_name``; models prefix it with the path of nested models."""
        return f"{self.layer.name}/{self.name}"


def make_dtype(dtype: object, what: str) -> DType:
    try:
        return dtype_of(dtype)
    except Exception:
        raise FrontendError(f"{what}: unsupported dtype {dtype!r}; expected one of float16, "
                            "float32, float64, int32, int64, bool") from None
