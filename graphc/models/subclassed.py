"""Subclassed models: ``class MyModel(graphc.Model)`` with its own ``call``.

A subclass that defines ``call(self, inputs, training=None)`` and calls
``super().__init__()`` without inputs/outputs starts *unbuilt*.  It is built
the first time its input types are known -- ``build(input_shape)``, a call
on symbolic tensors, a call on numpy data, ``predict`` or ``fit`` -- by
calling ``call`` once on fresh ``graphc.Input`` tensors of those types
(batch dim symbolic).  The layers ``call`` uses record their call sites as
usual, so the result is an ordinary ``ModelGraph``: a subclassed model then
has ``summary()``, ``to_ir()``, intermediate outputs, plotting, saving and
every backend exactly like a Functional one.

What ``call`` may do: anything graphc tensors support -- layers, ``graphc.ops``,
tensor operators, Python control flow on *shapes* and on plain Python
values.  It runs once per build, so branching on tensor *values* is not
possible (a symbolic tensor has none); ``training`` is passed as None and
layers such as Dropout read the training flag when the model is lowered.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from graphc.errors import FrontendError

from ..ir.dtypes import dtype_of
from ..layers.input_layer import Input
from ..structure import flatten, pack_like
from ..tensor import SymbolicTensor


def defines_call(cls: type) -> bool:
    """Whether ``cls`` (a Model subclass) overrides ``call``."""
    from .model import Model
    return any("call" in vars(base) for base in cls.__mro__
               if base is not Model and issubclass(base, Model))


def unbuilt_message(model: Any) -> str:
    return (f"subclassed model '{model.name}' is not built yet: its input shape is unknown. "
            "Call build((None, ...)) or call the model on data or on graphc.Input tensors")


def _input_names(structure: Any) -> list[str | None]:
    if isinstance(structure, dict):
        return sorted(structure)
    return [None] * len(flatten(structure))


def build_from_specs(model: Any, structure: Any, specs: Sequence[tuple[tuple, Any]]) -> None:
    """Build ``model`` by calling ``call`` on Inputs of ``specs`` =
    [(sample shape without the batch dim, dtype)], arranged like ``structure``."""
    names = _input_names(structure)
    tensors = [Input(shape=shape, dtype=dtype, name=name)
               for (shape, dtype), name in zip(specs, names)]
    inputs = pack_like(structure, tensors)
    outputs = model.call(inputs)
    leaves = flatten(outputs)
    if not leaves or not all(isinstance(t, SymbolicTensor) for t in leaves):
        kinds = ", ".join(sorted({type(t).__name__ for t in leaves})) or "nothing"
        raise FrontendError(f"{type(model).__name__}.call must return graphc tensors (built "
                            f"from its inputs with layers and graphc.ops); it returned {kinds}")
    model._adopt_graph(inputs, outputs)


def build_from_types(model: Any, inputs: Any, types: list) -> None:
    specs = []
    for t in types:
        if not t.shape:
            raise FrontendError(f"model '{model.name}' cannot be built from a 0-d input: "
                                "inputs need a batch dimension")
        specs.append((tuple(d if isinstance(d, int) else None for d in t.shape[1:]), t.dtype))
    build_from_specs(model, inputs, specs)


def build_from_data(model: Any, data: Any) -> None:
    specs = []
    for leaf in flatten(data):
        if isinstance(leaf, SymbolicTensor):
            specs.append((tuple(d if isinstance(d, int) else None for d in leaf.type.shape[1:]),
                          leaf.type.dtype))
            continue
        array = np.asarray(leaf)
        if array.ndim == 0:
            raise FrontendError(f"model '{model.name}' cannot be built from a 0-d input: "
                                "inputs need a batch dimension")
        dtype = "float32" if array.dtype.kind == "f" else dtype_of(array.dtype)
        specs.append((array.shape[1:], dtype))
    build_from_specs(model, data, specs)


def build_from_shape(model: Any, input_shape: Any) -> None:
    """``model.build((None, 784))`` or a list/dict of such shapes."""
    def is_shape(s: Any) -> bool:
        return isinstance(s, (list, tuple)) and all(
            d is None or isinstance(d, (int, np.integer)) for d in s)

    if is_shape(input_shape):
        structure, shapes = None, [input_shape]
    elif isinstance(input_shape, dict) and all(is_shape(s) for s in input_shape.values()):
        structure, shapes = input_shape, [input_shape[k] for k in sorted(input_shape)]
    elif isinstance(input_shape, (list, tuple)) and input_shape and all(
            is_shape(s) for s in input_shape):
        structure, shapes = list(input_shape), list(input_shape)
    else:
        raise FrontendError(f"model '{model.name}'.build expects an input shape including the "
                            f"batch dim, e.g. (None, 784), or a list/dict of them. Received: "
                            f"{input_shape!r}")
    specs = []
    for shape in shapes:
        if len(shape) < 1:
            raise FrontendError(f"model '{model.name}'.build needs the batch dim in every "
                                f"shape. Received: {input_shape!r}")
        specs.append((tuple(shape[1:]), "float32"))
    build_from_specs(model, structure, specs)  # structure None: a single input
