"""Activation layers with arguments: ReLU, LeakyReLU, ELU, Softmax.

Each is a thin layer over a ``graphc.activations`` function (Keras names and
defaults: ``LeakyReLU(negative_slope=0.3)``, ``Softmax(axis=-1)``), so the
computation is the same one ``Dense(..., activation=...)`` uses.
"""

from __future__ import annotations

from typing import Any

from graphc.errors import FrontendError

from .. import activations
from ..tracing import Traced
from .base import Layer


def _number(layer: Layer, arg: str, value: Any, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise FrontendError(f"{layer.type_name} '{layer.name}': {arg} must be a number{bound}. "
                            f"Received: {arg}={value!r}")
    return float(value)


class ReLU(Layer):
    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else _number(self, "max_value", max_value, 0)
        self.negative_slope = _number(self, "negative_slope", negative_slope, 0)
        self.threshold = _number(self, "threshold", threshold)

    def call(self, inputs: Traced) -> Traced:
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)


class LeakyReLU(Layer):
    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.negative_slope = _number(self, "negative_slope", negative_slope, 0)

    def call(self, inputs: Traced) -> Traced:
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)


class ELU(Layer):
    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = _number(self, "alpha", alpha)

    def call(self, inputs: Traced) -> Traced:
        return activations.elu(inputs, alpha=self.alpha)


class Softmax(Layer):
    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise FrontendError(f"Softmax '{self.name}': axis must be an int. "
                                f"Received: axis={axis!r}")
        self.axis = axis

    def call(self, inputs: Traced) -> Traced:
        return activations.softmax(inputs, axis=self.axis)
