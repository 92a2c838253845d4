"""``Variable``: host-owned state that compiled steps read and replace.

Training keeps two kinds of state outside the IR: layer weights
(``graphc.layers.Weight``) and optimizer state (slots such as Adam's moments,
and the iteration counter), which are ``Variable`` objects.  Both are read
by a compiled step as *parameters* and written as *results*: a step returns
the new arrays and the host swaps them in (``swap_in``) -- no copy, the
compiled function's fresh output array simply becomes the current value.

Invariant: a variable's type (dtype and static shape) never changes;
``assign`` converts and checks, ``swap_in`` only checks (it is the hot path).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphc.errors import FrontendError

from ..ir.dtypes import dtype_of
from ..ir.types import TensorType, format_shape
from ..layers.weights import Weight


class Variable:
    """A named array of fixed type (optimizer slots, counters)."""

    def __init__(self, name: str, value: Any, dtype: object = None) -> None:
        array = np.array(value, dtype=None if dtype is None else dtype_of(dtype).numpy)
        self.name = name
        self.type = TensorType(array.dtype, array.shape)
        self._value = np.array(array, order="C")

    @property
    def path(self) -> str:
        return self.name

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.type.shape)  # type: ignore[arg-type]

    @property
    def dtype(self) -> str:
        return self.type.dtype.value

    @property
    def value(self) -> np.ndarray:
        return self._value

    def numpy(self) -> np.ndarray:
        return self._value.copy()

    def assign(self, value: Any) -> None:
        try:
            array = np.array(value, dtype=self.type.dtype.numpy)
        except (TypeError, ValueError) as exc:
            raise FrontendError(f"variable '{self.name}' expects a {self.dtype} array; "
                                f"received a value numpy cannot convert ({exc})") from None
        if array.shape != self.shape:
            raise FrontendError(f"variable '{self.name}' has shape {format_shape(self.shape)}; "
                                f"received an array of shape {format_shape(array.shape)}")
        self._value = np.array(array, order="C")

    def __repr__(self) -> str:
        return f"<Variable {self.name} shape={format_shape(self.shape)} dtype={self.dtype}>"


def swap_in(target: Weight | Variable, array: np.ndarray) -> None:
    """Make ``array`` (a fresh result of a compiled step) the current value of
    ``target`` without copying it."""
    if array.shape != target.shape or array.dtype != target.type.dtype.numpy:
        raise FrontendError(f"'{target.path}' expects {target.type}; a step produced "
                            f"{array.dtype.name}{format_shape(array.shape)}")
    if isinstance(target, Weight):
        array.setflags(write=False)  # Weight.value is read-only by contract
    target._value = array
