"""Merge layers: Concatenate, Add, Subtract, Multiply, Average, Maximum,
Minimum.

Each is called on a list of tensors.  The elementwise ones accept shapes
that broadcast together (equal shapes being the usual case) and fold the
list pairwise; inputs of different dtypes are promoted as in
``graphc.ops``.  ``Subtract`` takes exactly two inputs.  Shape problems are
reported with every input's shape and where it came from.  The lowercase
functions (``add([a, b])``, ``concatenate([a, b], axis=-1)`` ...) are the
Keras functional shorthands: they create the layer and call it.
"""

from __future__ import annotations

from typing import Any, Callable

from graphc.errors import FrontendError, ShapeError

from ..ir.types import broadcast_shapes, normalize_axis
from ..tracing import Traced
from .base import Layer


class _Merge(Layer):
    expects_list = True
    input_dtype_rule = None
    exact_inputs: int | None = None

    def _check_structure(self, inputs: Any) -> None:
        super()._check_structure(inputs)
        if not all(not isinstance(x, (list, tuple, dict)) for x in inputs):
            raise FrontendError(f"{self.type_name} '{self.name}' expects a flat list of tensors."
                                f" Received: {inputs!r}")
        if self.exact_inputs is not None and len(inputs) != self.exact_inputs:
            raise FrontendError(f"{self.type_name} '{self.name}' expects exactly "
                                f"{self.exact_inputs} inputs. Received: {len(inputs)} inputs")

    def _combine(self, a: Traced, b: Traced) -> Traced:  # pragma: no cover - abstract
        raise NotImplementedError

    def call(self, inputs: list[Traced]) -> Traced:
        from ..ops.operands import operands
        try:
            broadcast_shapes(*(x.type.shape for x in inputs))
        except ShapeError:
            raise self.expectation_error("inputs whose shapes are equal or broadcast together",
                                         *inputs) from None
        values = operands(*inputs)
        result = values[0]
        for value in values[1:]:
            result = self._combine(result, value)
        return self._finish(result, len(values))

    def _finish(self, result: Traced, count: int) -> Traced:
        return result


def _pairwise(op_name: str) -> Callable[[Any, Traced, Traced], Traced]:
    def combine(self: Any, a: Traced, b: Traced) -> Traced:
        return a.tracer.emit(op_name, a, b)

    return combine


class Add(_Merge):
    _combine = _pairwise("add")


class Subtract(_Merge):
    exact_inputs = 2
    _combine = _pairwise("sub")


class Multiply(_Merge):
    _combine = _pairwise("mul")


class Maximum(_Merge):
    _combine = _pairwise("maximum")


class Minimum(_Merge):
    _combine = _pairwise("minimum")


class Average(_Merge):
    _combine = _pairwise("add")

    def _finish(self, result: Traced, count: int) -> Traced:
        from .. import ops
        return ops.divide(result, float(count))


class Concatenate(Layer):
    expects_list = True
    input_dtype_rule = None

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise FrontendError(f"Concatenate '{self.name}': axis must be an int. "
                                f"Received: axis={axis!r}")
        self.axis = axis

    def call(self, inputs: list[Traced]) -> Traced:
        from .. import ops
        ranks = {x.ndim for x in inputs}
        expected = f"inputs with matching shapes except on the concatenation axis {self.axis}"
        if len(ranks) != 1:
            raise self.expectation_error(f"{expected} (and of one rank)", *inputs)
        rank = ranks.pop()
        try:
            axis = normalize_axis(self.axis, rank)
        except ShapeError:
            min_rank = self.axis + 1 if self.axis >= 0 else -self.axis
            raise self.expectation_error(f"inputs of rank >= {min_rank} to concatenate on "
                                         f"axis {self.axis}", *inputs) from None
        for i in range(rank):
            sizes = {x.type.shape[i] for x in inputs if isinstance(x.type.shape[i], int)}
            if i != axis and len(sizes) > 1:
                raise self.expectation_error(expected, *inputs)
        return ops.concatenate(list(inputs), axis=axis)


def add(inputs: list, **kwargs: Any) -> Any:
    return Add(**kwargs)(inputs)


def subtract(inputs: list, **kwargs: Any) -> Any:
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list, **kwargs: Any) -> Any:
    return Multiply(**kwargs)(inputs)


def average(inputs: list, **kwargs: Any) -> Any:
    return Average(**kwargs)(inputs)


def maximum(inputs: list, **kwargs: Any) -> Any:
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list, **kwargs: Any) -> Any:
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Any:
    return Concatenate(axis=axis, **kwargs)(inputs)
