"""Dense, Activation, Dropout and Lambda.

``Dense(units)`` computes ``activation(x @ kernel + bias)`` on the last axis
of an input of rank >= 2; the kernel is ``(in, units)`` as in Keras, so
``get_weights()`` layouts match.  ``Dropout`` is the identity at inference;
in training mode it keeps each element with probability ``1 - rate`` and
scales the kept ones by ``1 / (1 - rate)``.  Its mask comes from the trace's
random stream (``graphc.random``): a ``random_uniform`` draw from the key
parameter of the training step, so a seed reproduces the masks exactly and
the gradient reuses the forward mask.  A trace without a random stream (a
model being defined or lowered for inference) cannot run Dropout in training
mode, and says so.
``Lambda(fn)`` wraps a function of tensors written with ``graphc.ops`` (or
Python operators) so it can sit in a Sequential model.
"""

from __future__ import annotations

from typing import Any, Callable

from graphc.errors import FrontendError, ShapeError

from .. import activations, initializers
from ..tracing import Traced
from .base import Layer


class Dense(Layer):
    min_input_rank = 2

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise FrontendError(f"Dense '{self.name}': units must be a positive int. "
                                f"Received: units={units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        last = input_shape[-1] if len(input_shape) else None
        if last is None:
            raise ShapeError("the last dimension of its input must be known to create the "
                             "kernel")
        self.kernel = self.add_weight("kernel", (last, self.units), self.kernel_initializer)
        self.bias = self.add_weight("bias", (self.units,), self.bias_initializer) \
            if self.use_bias else None

    def call(self, inputs: Traced) -> Traced:
        from .. import ops
        in_dim = self.kernel.shape[0]
        last = inputs.type.shape[-1]
        if isinstance(last, int) and last != in_dim:
            raise self.expectation_error(f"last dim {in_dim}", inputs)
        y = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            y = ops.add(y, self.bias)
        return self.activation(y)


class Activation(Layer):
    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: Traced) -> Traced:
        return self.activation(inputs)


class Dropout(Layer):
    input_dtype_rule = None

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise FrontendError(f"Dropout '{self.name}': invalid value received for argument "
                                f"rate; expected a float between 0 and 1. Received: "
                                f"rate={rate!r}")
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed

    def call(self, inputs: Traced, training: bool = False) -> Traced:
        if not training or self.rate == 0:
            return inputs
        from .. import ops
        from ..random import stream_of
        stream = stream_of(inputs.tracer)
        if stream is None:
            raise FrontendError(
                f"Dropout '{self.name}' is in training mode in a trace without a random key "
                "(a model being defined or lowered for inference). Training-mode dropout runs "
                "in fit/train_on_batch, under a graphc.GradientTape, in graphc.function or "
                "when a model is called on data with training=True; do not fix training=True "
                "at a call site of a model definition")
        if not inputs.dtype.is_float:
            raise self.expectation_error("a float input", inputs)
        if self.rate >= 1:
            return ops.multiply(inputs, 0.0)
        noise = stream.uniform(self._noise_like(inputs))
        keep = ops.greater_equal(noise, self.rate)
        return ops.where(keep, ops.multiply(inputs, 1.0 / (1.0 - self.rate)), 0.0)

    def _noise_like(self, inputs: Traced) -> Traced:
        """A value shaped like ``noise_shape`` (None entries: the input's dims)."""
        if self.noise_shape is None:
            return inputs
        shape = tuple(self.noise_shape)
        if len(shape) != inputs.ndim:
            raise self.expectation_error(f"an input of rank {len(shape)} (noise_shape "
                                         f"{shape})", inputs)
        slices = []
        for axis, (want, have) in enumerate(zip(shape, inputs.type.shape)):
            if want is None or want == have:
                slices.append(slice(None))
            elif want == 1:
                slices.append(slice(0, 1))
            else:
                raise self.expectation_error(f"dimension {axis} to be {want} or to broadcast "
                                             f"against noise_shape {shape}", inputs)
        return inputs[tuple(slices)]


class Lambda(Layer):
    input_dtype_rule = None

    def __init__(self, function: Callable[..., Any], arguments: dict | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise FrontendError(f"Lambda '{self.name}': function must be callable. "
                                f"Received: {function!r}")
        self.function = function
        self.arguments = dict(arguments or {})

    def _check_structure(self, inputs: Any) -> None:
        pass  # a Lambda takes whatever structure its function takes

    def _normalize_structure(self, inputs: Any) -> Any:
        return inputs

    def call(self, inputs: Any) -> Any:
        return self.function(inputs, **self.arguments)
