"""How a ``graphc.ops`` function runs, depending on what it is given.

Every public op is written once, as a function of ``Traced`` values (plus
constants and weights), and wrapped by ``graphc_op``.  The wrapper looks at
the tensor-like leaves of the arguments:

* any ``SymbolicTensor`` (a Functional model being built): the call becomes
  an op node, an ``OpNode`` layer whose ``call`` re-enters the same
  function on traced values.  It is a call site like any layer's, so it is
  shape-checked now, shows in ``summary()`` and in the IR with its own
  ``loc``, and its output can be sliced out as an intermediate output;
* any ``Traced`` value, or a weight of a layer whose ``call`` is being
  traced: the function runs directly and emits IR nodes;
* otherwise (numpy arrays): the function is traced on the arrays' exact
  types and run by the reference interpreter, so ``graphc.ops`` also works
  eagerly, like ``keras.ops``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from graphc.errors import FrontendError

from ..ir.types import TensorType
from ..layers.base import Layer, eager_array
from ..layers.weights import Weight
from ..naming import auto_name
from ..structure import flatten, pack_like
from ..tensor import SymbolicTensor
from ..tracing import Traced, Tracer
from .operands import active_tracer


class _Slot:
    """Marks where the i-th tensor input goes back into an op's arguments."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"<tensor input {self.index}>"


class OpNode(Layer):
    """A ``graphc.ops`` call on symbolic tensors, kept as a node of the model."""

    input_dtype_rule = None
    expects_list = True

    def __init__(self, op_name: str, fn: Callable[..., Any], template: Any) -> None:
        super().__init__(name=auto_name(op_name))
        self.op_name = op_name
        self.fn = fn
        self.template = template

    @property
    def type_name(self) -> str:
        return "".join(part.capitalize() for part in self.op_name.split("_"))

    def call(self, inputs: list[Traced]) -> Any:
        leaves = [inputs[leaf.index] if isinstance(leaf, _Slot) else leaf
                  for leaf in flatten(self.template)]
        args, kwargs = pack_like(self.template, leaves)
        return self.fn(*args, **kwargs)


def graphc_op(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make ``fn`` (written for traced values) work on every kind of tensor."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def op(*args: Any, **kwargs: Any) -> Any:
            leaves = flatten((args, kwargs))
            if any(isinstance(x, SymbolicTensor) for x in leaves):
                if any(isinstance(x, Traced) for x in leaves):
                    raise FrontendError(f"graphc.ops.{name} mixes a symbolic model tensor with "
                                        "a value traced inside a layer's call")
                return _call_symbolic(name, fn, args, kwargs, leaves)
            if any(isinstance(x, Traced) or active_tracer(x) is not None for x in leaves):
                return fn(*args, **kwargs)
            return _call_eager(name, fn, args, kwargs, leaves)

        op.graphc_op_name = name  # type: ignore[attr-defined]
        return op

    return wrap


def _call_symbolic(name: str, fn: Callable[..., Any], args: tuple, kwargs: dict,
                   leaves: list[Any]) -> Any:
    tensors: list[SymbolicTensor] = []
    template_leaves: list[Any] = []
    for leaf in leaves:
        if isinstance(leaf, SymbolicTensor):
            template_leaves.append(_Slot(len(tensors)))
            tensors.append(leaf)
        elif isinstance(leaf, Weight):
            raise FrontendError(f"graphc.ops.{name} on a symbolic tensor cannot use layer "
                                f"weight '{leaf.path}' directly; call the layer instead")
        else:
            template_leaves.append(leaf)
    node = OpNode(name, fn, pack_like((args, kwargs), template_leaves))
    return node(tensors)


def _call_eager(name: str, fn: Callable[..., Any], args: tuple, kwargs: dict,
                leaves: list[Any]) -> Any:
    from ..compiled import run_traced  # late: compiled imports the model classes
    tracer = Tracer.scratch(name)
    arrays: list[np.ndarray] = []
    traced_leaves: list[Any] = []
    for leaf in leaves:
        if isinstance(leaf, (np.ndarray, Weight)):
            array = eager_array(leaf.value if isinstance(leaf, Weight) else leaf,
                                f"graphc.ops.{name}")
            traced_leaves.append(tracer.param(TensorType(array.dtype, array.shape)))
            arrays.append(array)
        else:
            traced_leaves.append(leaf)
    if not arrays:
        raise FrontendError(f"graphc.ops.{name} needs at least one tensor argument (a numpy "
                            "array, a graphc.Input tensor, or a traced value)")
    args, kwargs = pack_like((args, kwargs), traced_leaves)
    return run_traced(tracer, fn(*args, **kwargs), arrays)
