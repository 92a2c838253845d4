"""Symbolic tensors and the call sites that produce them.

A ``SymbolicTensor`` stands for a value of a model under construction: an IR
``TensorType`` (the batch dim is the symbol ``N`` unless a batch size was
given; other unknown dims are ``?``) plus its *history*, the ``CallSite``
that produced it and the output index there.  ``graphc.Input`` makes the
first ones; calling a layer on symbolic tensors makes new ones.

Layer instances differ from call sites: a layer called three times (a shared
layer) has one set of weights and three ``CallSite`` records.  Call sites are
numbered in creation order (``order``); since a site can only consume tensors
that already exist, sorting sites by ``order`` is a topological order.

``TensorOperators`` gives both symbolic tensors and traced values (inside a
layer's ``call``) the Python operators ``+ - * / ** @ []`` and comparisons,
all routed through ``graphc.ops``.  ``==`` keeps Python identity semantics
(tensors key dictionaries); use ``graphc.ops.equal`` for elementwise
equality.
"""

from __future__ import annotations

import itertools
import numbers
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphc.errors import FrontendError

from .ir.types import TensorType, format_shape

if TYPE_CHECKING:  # pragma: no cover
    from .layers.base import Layer

_SITE_ORDER = itertools.count()


def keras_shape(t: TensorType) -> tuple[int | None, ...]:
    """The Keras-style shape: symbolic dims (``N``, ``?``) become ``None``."""
    return tuple(d if isinstance(d, int) else None for d in t.shape)


def _ops() -> Any:
    from . import ops  # late: graphc.ops builds on this module
    return ops


def _identity_operand(other: Any, symbol: str, op: str) -> Any:
    if not isinstance(other, (numbers.Number, np.ndarray, np.generic)):
        return other
    raise FrontendError(f"'tensor {symbol} value' on a graphc tensor compares identity, not "
                        f"elements (as on Keras tensors); use graphc.ops.{op}(x, value) for "
                        f"an elementwise comparison. Received: {type(other).__name__}")


class TensorOperators:
    """Python operators for tensors, each one a ``graphc.ops`` function."""

    __slots__ = ()
    __array_ufunc__ = None  # numpy defers ``array + tensor`` to __radd__

    def __add__(self, other: Any) -> Any:
        return _ops().add(self, other)

    def __radd__(self, other: Any) -> Any:
        return _ops().add(other, self)

    def __sub__(self, other: Any) -> Any:
        return _ops().subtract(self, other)

    def __rsub__(self, other: Any) -> Any:
        return _ops().subtract(other, self)

    def __mul__(self, other: Any) -> Any:
        return _ops().multiply(self, other)

    def __rmul__(self, other: Any) -> Any:
        return _ops().multiply(other, self)

    def __truediv__(self, other: Any) -> Any:
        return _ops().divide(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return _ops().divide(other, self)

    def __pow__(self, other: Any) -> Any:
        return _ops().power(self, other)

    def __rpow__(self, other: Any) -> Any:
        return _ops().power(other, self)

    def __matmul__(self, other: Any) -> Any:
        return _ops().matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return _ops().matmul(other, self)

    def __neg__(self) -> Any:
        return _ops().negative(self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return _ops().abs(self)

    def __lt__(self, other: Any) -> Any:
        return _ops().less(self, other)

    def __le__(self, other: Any) -> Any:
        return _ops().less_equal(self, other)

    def __gt__(self, other: Any) -> Any:
        return _ops().greater(self, other)

    def __ge__(self, other: Any) -> Any:
        return _ops().greater_equal(self, other)

    def __getitem__(self, key: Any) -> Any:
        return _ops().get_item(self, key)

    # ``==`` and ``!=`` keep their identity meaning (as on Keras tensors), so tensors
    # can sit in lists and be compared by the code that builds graphs.  Comparing a
    # tensor with a number or an array would silently give False/True there; it is
    # an error that names the elementwise op instead.
    def __eq__(self, other: Any) -> bool:
        return self is _identity_operand(other, "==", "equal")

    def __ne__(self, other: Any) -> bool:
        return self is not _identity_operand(other, "!=", "not_equal")

    __hash__ = object.__hash__

    @property
    def T(self) -> Any:
        """All axes reversed (``transpose``), as ``numpy.ndarray.T``."""
        return _ops().transpose(self)

    def __bool__(self) -> bool:
        raise FrontendError("a graphc tensor has no truth value while a model is being built "
                            "(its values are not known yet); use graphc.ops.where for "
                            "data-dependent choices")

    def __iter__(self) -> Any:
        raise FrontendError("a graphc tensor cannot be iterated while a model is being built; "
                            "index it (x[:, 0]) or use graphc.ops functions")


@dataclass(eq=False)
class CallSite:
    """One call of a layer: the tensors it consumed and the tensors it made.

    ``inputs``/``outputs`` keep the structure the call used (a tensor, list or
    dict); ``input_tensors``/``output_tensors`` are the flat leaves.
    ``kwargs`` are the call's non-tensor keyword arguments (``training``).
    ``location`` is the user's ``(file, line)`` of the call.
    """

    layer: "Layer"
    inputs: Any
    input_tensors: tuple["SymbolicTensor", ...]
    outputs: Any = None
    output_tensors: tuple["SymbolicTensor", ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    location: tuple[str, int] | None = None
    order: int = field(default_factory=lambda: next(_SITE_ORDER))
    containers: list[Any] = field(default_factory=list, repr=False)
    """Weak references to the models whose graphs execute this site."""

    @property
    def index(self) -> int:
        """Position of this site among its layer's call sites."""
        for i, site in enumerate(self.layer._call_sites):
            if site is self:
                return i
        return -1

    def __repr__(self) -> str:
        return f"<CallSite {self.layer.name}#{self.index}>"


class SymbolicTensor(TensorOperators):
    """A tensor of a model being defined: type plus history (producing site)."""

    __slots__ = ("type", "site", "output_index", "name", "_owners", "__weakref__")

    def __init__(self, type: TensorType, site: CallSite | None = None, output_index: int = 0,
                 name: str | None = None) -> None:
        self.type = type
        self.site = site
        self.output_index = output_index
        self.name = name or (site.layer.name if site is not None else "tensor")
        self._owners: list[Any] = []  # weak references to models using this as an input

    @property
    def shape(self) -> tuple[int | None, ...]:
        return keras_shape(self.type)

    @property
    def dtype(self) -> str:
        return self.type.dtype.value

    @property
    def ndim(self) -> int:
        return self.type.rank

    @property
    def layer(self) -> "Layer | None":
        return self.site.layer if self.site is not None else None

    def shape_text(self) -> str:
        return format_shape(self.type.shape)

    def __repr__(self) -> str:
        producer = f", produced by {self.site.layer.name!r}" if self.site is not None else ""
        return (f"<SymbolicTensor shape={format_shape(self.shape)}, dtype={self.dtype}, "
                f"name={self.name!r}{producer}>")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise FrontendError(f"{self!r} is symbolic: it has no values until the model runs. "
                            "Build a graphc.Model from it and call model.predict(...)")

    __hash__ = object.__hash__
