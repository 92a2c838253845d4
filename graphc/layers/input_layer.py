"""``graphc.Input`` and ``InputLayer``: where symbolic tensors begin.

``Input(shape, dtype="float32", batch_size=None, name=None)`` returns the
symbolic tensor of a new ``InputLayer``.  ``shape`` is one sample's shape
(without the batch dim).  The batch dim is the IR symbol ``N`` unless
``batch_size`` is given, so one compiled model serves every batch size;
other ``None`` dims become the anonymous symbol ``?``.  The input layer has
a single call site (its creation) and no weights.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from graphc.errors import FrontendError

from ..ir.types import TensorType
from ..tensor import CallSite, SymbolicTensor
from .base import Layer

BATCH_SYMBOL = "N"


def _sample_dims(shape: Any, what: str) -> tuple[int | None, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    if not isinstance(shape, (list, tuple)):
        raise FrontendError(f"{what}: shape must be a tuple of ints or None (one sample, "
                            f"without the batch dim). Received: shape={shape!r}")
    dims: list[int | None] = []
    for d in shape:
        if d is None:
            dims.append(None)
        elif isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0:
            dims.append(int(d))
        else:
            raise FrontendError(f"{what}: every dimension must be a non-negative int or None. "
                                f"Received: shape={tuple(shape)!r}")
    return tuple(dims)


def _batch_dim(batch_size: Any, what: str) -> int | str:
    if batch_size is None:
        return BATCH_SYMBOL
    if isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool) \
            and batch_size > 0:
        return int(batch_size)
    raise FrontendError(f"{what}: batch_size must be a positive int or None. "
                        f"Received: batch_size={batch_size!r}")


class InputLayer(Layer):
    is_input_layer = True
    input_dtype_rule = None

    def __init__(self, shape: Sequence[int | None] | None = None, batch_size: int | None = None,
                 dtype: object = None, name: str | None = None,
                 batch_shape: Sequence[int | None] | None = None,
                 input_shape: Sequence[int | None] | None = None) -> None:
        super().__init__(name=name, dtype=dtype)
        what = f"Input '{self.name}'"
        if shape is None:
            shape = input_shape
        if batch_shape is not None:
            dims = _sample_dims(batch_shape, what)
            if not dims:
                raise FrontendError(f"{what}: batch_shape needs at least the batch dim. "
                                    f"Received: batch_shape={batch_shape!r}")
            batch, sample = _batch_dim(dims[0], what), dims[1:]
        elif shape is None:
            raise FrontendError(f"{what} needs shape= (the shape of one sample, without the "
                                "batch dim), for example graphc.Input(shape=(784,))")
        else:
            batch, sample = _batch_dim(batch_size, what), _sample_dims(shape, what)
        self.type = TensorType(self._dtype, (batch,) + tuple("?" if d is None else d
                                                             for d in sample))
        tensor = SymbolicTensor(self.type, None, 0, name=self.name)
        site = CallSite(self, [], (), tensor, (tensor,), location=self.source)
        tensor.site = site
        self._call_sites.append(site)
        self.built = True

    @property
    def input(self) -> Any:
        """An input layer's input is its own tensor (as in Keras)."""
        return self.output

    def _check_structure(self, inputs: Any) -> None:
        raise FrontendError(f"InputLayer '{self.name}' cannot be called; use its output "
                            "(graphc.Input(...) returns it) as a model input")

    def call(self, inputs: Any) -> Any:  # pragma: no cover - never traced
        raise FrontendError(f"InputLayer '{self.name}' cannot be called")


def Input(shape: Sequence[int | None] | None = None, dtype: object = "float32",
          batch_size: int | None = None, name: str | None = None,
          batch_shape: Sequence[int | None] | None = None) -> SymbolicTensor:
    """A symbolic model input: ``Input(shape=(784,))`` has type ``f32[N,784]``."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                       batch_shape=batch_shape)
    return layer.output
