"""LayerNormalization, as a composition of core ops.

For the normalized ``axis`` (one int or several), with ``eps = epsilon``::

    mean = mean(x, axis, keepdims)
    var  = mean(square(x - mean), axis, keepdims)      # two-pass, accurate
    y    = (x - mean) * rsqrt(var + eps) * gamma + beta

``gamma`` (ones) and ``beta`` (zeros) have the input's sizes on the
normalized axes, as in Keras; ``scale=False`` / ``center=False`` drop them.
When the axes are not the trailing ones, gamma/beta are reshaped so they
broadcast against the input.
"""

from __future__ import annotations

from typing import Any, Sequence

from graphc.errors import FrontendError, ShapeError

from .. import initializers
from ..ir.types import format_shape, normalize_axes
from ..tracing import Traced
from .base import Layer


class LayerNormalization(Layer):
    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        axes = (axis,) if isinstance(axis, int) and not isinstance(axis, bool) else axis
        if not isinstance(axes, (list, tuple)) or not axes or not all(
                isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise FrontendError(f"LayerNormalization '{self.name}': axis must be an int or a "
                                f"list of ints. Received: axis={axis!r}")
        if not isinstance(epsilon, (int, float)) or not epsilon >= 0:
            raise FrontendError(f"LayerNormalization '{self.name}': epsilon must be a "
                                f"non-negative number. Received: epsilon={epsilon!r}")
        self.axis = tuple(axes)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        axes = normalize_axes(self.axis, len(input_shape))
        sizes = tuple(input_shape[a] for a in axes)
        if any(s is None for s in sizes):
            raise ShapeError(f"its input needs known sizes on the normalized axes "
                             f"{list(self.axis)} to create gamma and beta")
        self.gamma = self.add_weight("gamma", sizes, self.gamma_initializer) \
            if self.scale else None
        self.beta = self.add_weight("beta", sizes, self.beta_initializer) \
            if self.center else None
        self._param_shape = sizes
        self._rank = len(input_shape)

    def _broadcastable(self, weight: Traced, axes: tuple[int, ...], rank: int) -> Traced:
        from .. import ops
        first = min(axes)
        shape = tuple(weight.type.shape[axes.index(i)] if i in axes else 1
                      for i in range(first, rank))
        return weight if shape == weight.type.shape else ops.reshape(weight, shape)

    def call(self, inputs: Traced) -> Traced:
        from .. import ops
        if inputs.ndim != self._rank:
            raise self.expectation_error(f"an input of rank {self._rank}", inputs)
        axes = normalize_axes(self.axis, inputs.ndim)
        sizes = tuple(inputs.type.shape[a] for a in axes)
        if any(isinstance(s, int) and s != p for s, p in zip(sizes, self._param_shape)):
            raise self.expectation_error(f"sizes {format_shape(self._param_shape)} on axes "
                                         f"{list(self.axis)}", inputs)
        mean = ops.mean(inputs, axis=axes, keepdims=True)
        centered = ops.subtract(inputs, mean)
        variance = ops.mean(ops.square(centered), axis=axes, keepdims=True)
        y = ops.multiply(centered, ops.rsqrt(ops.add(variance, self.epsilon)))
        tracer = inputs.tracer
        if self.gamma is not None:
            y = ops.multiply(y, self._broadcastable(tracer.weight(self.gamma), axes, inputs.ndim))
        if self.beta is not None:
            y = ops.add(y, self._broadcastable(tracer.weight(self.beta), axes, inputs.ndim))
        return y
