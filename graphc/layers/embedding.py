"""Embedding: integer indices to rows of a ``(input_dim, output_dim)`` table.

Lowered to one ``gather`` on axis 0, so an ``(N, T)`` batch of indices gives
``(N, T, output_dim)``.  Float inputs are cast to i32 first (Keras does the
same); an index outside ``[0, input_dim)`` fails when the model runs, with
the layer's name in the message.
"""

from __future__ import annotations

from typing import Any

from graphc.errors import FrontendError

from .. import initializers
from ..tracing import Traced
from .base import Layer


class Embedding(Layer):
    input_dtype_rule = "int"

    def __init__(self, input_dim: int, output_dim: int,
                 embeddings_initializer: Any = "uniform", mask_zero: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise FrontendError(f"Embedding '{self.name}': {arg} must be a positive int. "
                                    f"Received: {arg}={value!r}")
        if mask_zero:
            raise FrontendError(f"Embedding '{self.name}': mask_zero=True is not supported "
                                "(graphc has no masking yet)")
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)

    def build(self, input_shape: Any) -> None:
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer)

    def call(self, inputs: Traced) -> Traced:
        from .. import ops
        return ops.take(inputs.tracer.weight(self.embeddings), inputs, axis=0)
