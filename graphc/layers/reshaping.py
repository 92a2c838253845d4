"""Flatten, Reshape, Permute and RepeatVector.

Shapes given to these layers exclude the batch dim, as in Keras.  The batch
dim of the IR ``reshape``/``broadcast_to`` attributes is written as the
input's own batch dim (an int or the named symbol ``N``) or as ``-1``, so the
result keeps ``N`` symbolic: ``Flatten`` of ``f32[N,26,26,8]`` is
``f32[N,5408]``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from graphc.errors import FrontendError

from ..ir.types import UNKNOWN, format_shape
from ..tracing import Traced
from .base import Layer


def _static(dims: Sequence[Any]) -> bool:
    return all(isinstance(d, int) for d in dims)


class Flatten(Layer):
    input_dtype_rule = None

    def call(self, inputs: Traced) -> Traced:
        from .. import ops
        shape = inputs.type.shape
        if inputs.ndim == 0:
            raise self.expectation_error("an input with a batch dim (rank >= 1)", inputs)
        if inputs.ndim == 1:
            return ops.expand_dims(inputs, 1)
        if inputs.ndim == 2:
            return inputs
        if _static(shape[1:]):
            return ops.reshape(inputs, (-1, math.prod(shape[1:])))
        if shape[0] == UNKNOWN:
            raise self.expectation_error("a known batch dim or known sample dims", inputs)
        return ops.reshape(inputs, (shape[0], -1))


def _target(target_shape: Any, name: str) -> tuple[int, ...]:
    if isinstance(target_shape, (int, np.integer)) and not isinstance(target_shape, bool):
        target_shape = (int(target_shape),)
    if not isinstance(target_shape, (list, tuple)) or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= -1
            for d in target_shape) or list(target_shape).count(-1) > 1:
        raise FrontendError(f"Reshape '{name}': target_shape must be a tuple of non-negative "
                            f"ints with at most one -1 (the batch dim is not included). "
                            f"Received: target_shape={target_shape!r}")
    return tuple(int(d) for d in target_shape)


class Reshape(Layer):
    input_dtype_rule = None
    min_input_rank = 1

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = _target(target_shape, self.name)

    def call(self, inputs: Traced) -> Traced:
        from .. import ops
        sample = inputs.type.shape[1:]
        known = math.prod(d for d in self.target_shape if d != -1)
        if _static(sample):
            count = math.prod(sample)
            if -1 not in self.target_shape and count != known:
                raise self.expectation_error(
                    f"{known} elements per sample to fill target shape "
                    f"{format_shape(self.target_shape)}", inputs)
            if -1 in self.target_shape and (known == 0 or count % known):
                raise self.expectation_error(
                    f"a number of elements per sample divisible by {known} to fill target "
                    f"shape {format_shape(self.target_shape)}", inputs)
        batch = inputs.type.shape[0]
        if batch == UNKNOWN:
            if -1 in self.target_shape:
                raise self.expectation_error("a known batch dim when target_shape holds -1",
                                             inputs)
            batch = -1
        return ops.reshape(inputs, (batch,) + self.target_shape)


class Permute(Layer):
    input_dtype_rule = None

    def __init__(self, dims: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(dims, (list, tuple)) or \
                sorted(dims) != list(range(1, len(dims) + 1)):
            raise FrontendError(f"Permute '{self.name}': dims must be a permutation of "
                                f"1..{len(dims) if isinstance(dims, (list, tuple)) else 'k'} "
                                f"(axis 0, the batch, stays in place). Received: dims={dims!r}")
        self.dims = tuple(int(d) for d in dims)
        self.input_rank = len(self.dims) + 1

    def call(self, inputs: Traced) -> Traced:
        from .. import ops
        return ops.transpose(inputs, (0,) + self.dims)


class RepeatVector(Layer):
    input_dtype_rule = None
    input_rank = 2

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise FrontendError(f"RepeatVector '{self.name}': n must be a non-negative int. "
                                f"Received: n={n!r}")
        self.n = n

    def call(self, inputs: Traced) -> Traced:
        from .. import ops
        batch, features = inputs.type.shape
        expanded = ops.expand_dims(inputs, 1)
        if UNKNOWN not in (batch, features) and self.n > 0:
            return ops.broadcast_to(expanded, (batch, self.n, features))
        return ops.concatenate([expanded] * self.n, axis=1) if self.n else \
            ops.get_item(expanded, (slice(None), slice(0, 0)))
