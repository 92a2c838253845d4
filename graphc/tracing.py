"""Tracing: the one code path that both checks shapes and emits IR.

A layer's forward computation (``Layer.call``) is written once, against
``Traced`` values and ``graphc.ops`` functions.  Each op emits a node into
the ``Builder`` of the ``Tracer`` the value belongs to, and every emit runs
the op's ``infer`` rule.  The same ``call`` is traced

* at definition time, when a layer is called on symbolic tensors, into a
  scratch function whose parameters have the symbolic input types (so an
  incompatible shape raises ``ShapeError`` at the user's call), and
* by ``Model.to_ir()``, into the model's function,

so shape inference and lowering cannot drift apart.

A ``Tracer`` holds the Builder, the IR value of every weight it has seen
(``weight()``; a scratch tracer makes a parameter on first use, a lowering
tracer is given all of them up front so they are parameters in Keras
order), the ``training`` flag layers read, and ``origins``: which symbolic
tensor each parameter stands for, so error messages can show how a shape
arose.  It is passed explicitly; there is no "current tracer" global.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

from graphc.errors import GraphcError

from .ir.builder import Builder
from .ir.core import Value
from .ir.dtypes import DType, dtype_of
from .ir.loc import Loc
from .ir.types import TensorType, format_shape
from .tensor import SymbolicTensor, TensorOperators, keras_shape

if TYPE_CHECKING:  # pragma: no cover
    from .layers.weights import Weight


class Traced(TensorOperators):
    """An IR value being traced, plus the tracer that owns it."""

    __slots__ = ("value", "tracer")

    def __init__(self, value: Value, tracer: "Tracer") -> None:
        self.value = value
        self.tracer = tracer

    @property
    def type(self) -> TensorType:
        return self.value.type

    @property
    def dtype(self) -> DType:
        return self.value.type.dtype

    @property
    def shape(self) -> tuple[int | None, ...]:
        """Keras-style: symbolic dims are None.  ``x.type.shape`` keeps the symbols."""
        return keras_shape(self.value.type)

    @property
    def ndim(self) -> int:
        return self.value.type.rank

    def __repr__(self) -> str:
        return f"<Traced {self.value.type}>"


class Tracer:
    def __init__(self, builder: Builder, *, training: bool = False,
                 weights: dict["Weight", Value] | None = None,
                 weight_param: Callable[["Weight"], Value] | None = None) -> None:
        self.builder = builder
        self.training = training
        self.weights: dict["Weight", Value] = dict(weights or {})
        self._weight_param = weight_param
        self.origins: dict[Value, SymbolicTensor] = {}

    @classmethod
    def scratch(cls, name: str = "trace", *, training: bool = False) -> "Tracer":
        """A tracer whose weights become parameters on first use."""
        builder = Builder(name)
        return cls(builder, training=training,
                   weight_param=lambda w: builder.param(w.type, w.path))

    # values -------------------------------------------------------------
    def wrap(self, value: Value) -> Traced:
        return Traced(value, self)

    def param(self, type: TensorType, name: str | None = None,
              origin: SymbolicTensor | None = None) -> Traced:
        value = self.builder.param(type, name)
        if origin is not None:
            self.origins[value] = origin
        return Traced(value, self)

    def emit(self, op: str, *inputs: Traced, **attrs: Any) -> Traced:
        for x in inputs:
            if not isinstance(x, Traced) or x.tracer is not self:
                raise GraphcError(f"op '{op}' was given {x!r}, which does not belong to this "
                                  "trace")
        return Traced(self.builder.emit(op, *(x.value for x in inputs), **attrs), self)

    def constant(self, value: Any, dtype: object) -> Traced:
        array = np.asarray(value, dtype=dtype_of(dtype).numpy)
        return Traced(self.builder.constant(array), self)

    def weight(self, weight: "Weight") -> Traced:
        value = self.weights.get(weight)
        if value is None:
            if self._weight_param is None:
                raise GraphcError(f"weight '{weight.path}' is not a parameter of this trace; "
                                  "its layer is not part of the model being lowered")
            value = self._weight_param(weight)
            self.weights[weight] = value
        return Traced(value, self)

    @contextlib.contextmanager
    def at(self, loc: Loc | None) -> Iterator[None]:
        with self.builder.at(loc):
            yield

    # diagnostics --------------------------------------------------------
    def describe(self, x: Traced) -> str:
        """``(N, 5408) = Flatten 'flat' of (N, 26, 26, 8) <- Input 'img'`` when
        ``x`` stands for a symbolic tensor, else just its shape."""
        origin = self.origins.get(x.value)
        if origin is None:
            return format_shape(x.type.shape)
        from .diagnostics import describe_tensor  # late: diagnostics reads layers
        return describe_tensor(origin)
