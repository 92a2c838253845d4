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
from ..layers.weights import TypedArray


class Variable(TypedArray):
    """A named array of fixed type (optimizer slots, counters); its type is
    the type of the first value."""

    kind = "variable"

    def __init__(self, name: str, value: Any, dtype: object = None) -> None:
        array = np.array(value, dtype=None if dtype is None else dtype_of(dtype).numpy)
        self.name = name
        self.type = TensorType(array.dtype, array.shape)
        self._value = self._checked(array)

    @property
    def path(self) -> str:
        return self.name


def swap_in(target: TypedArray, array: np.ndarray) -> None:
    """Make ``array`` (a fresh result of a compiled step) the current value of
    ``target`` without copying it."""
    if array.shape != target.shape or array.dtype != target.type.dtype.numpy:
        raise FrontendError(f"'{target.path}' expects {target.type}; a step produced "
                            f"{array.dtype.name}{format_shape(array.shape)}")
    if target.read_only:
        array.setflags(write=False)  # Weight.value is read-only by contract
    target._value = array
