"""``clone_model``: the same architecture with new layers and fresh weights.

The clone is rebuilt from the model's config (the same walk ``get_config``
and ``from_config`` make), except that each layer entry is made by
``clone_function(original_layer)`` instead of from its config.  The default
``clone_function`` is ``clone_layer``: ``type(layer).from_config(
layer.get_config())`` -- new weights drawn from the layer's initializers --
except for layers holding Python functions (``Lambda`` and op nodes of
``graphc.ops`` calls), which keep their function, and nested models, which
are cloned with ``clone_model``.

* A layer used at several call sites (or in several nested models) is one
  entry plus ``shared`` references, so it is cloned once and the clone is
  shared the same way.
* ``clone_function`` may return any layer: a renamed copy, a different layer
  type, or the original itself (to share weights with the original).
* ``input_tensors`` (a tensor, list or dict of symbolic tensors, one per
  model input) builds the clone on those tensors instead of new ``Input``
  layers.  A Sequential given a tensor that is not an ``Input`` becomes a
  Functional model on that tensor, as in Keras.
* Nested Functional/Sequential models are rebuilt entry by entry
  (``recursive=True``), so a layer shared across nesting levels stays shared
  in the clone.  That is the default without a ``clone_function``; with one,
  the default is Keras' ``recursive=False``: each nested model is handed to
  ``clone_function`` as a whole, and a layer that the clone of a nested
  model does not contain under its old name is cloned again on its own.
"""

from __future__ import annotations

from typing import Any, Callable

from graphc.errors import FrontendError

from ..layers.base import Layer
from ..structure import flatten
from ..tensor import SymbolicTensor
from .entries import RebuildContext, SaveContext, uses_graph_config
from .model_config import rebuild_graph, top_config
from .registry import Resolver


def clone_layer(layer: Layer) -> Layer:
    """The default ``clone_function``: a fresh copy of ``layer`` (same name)."""
    from ..layers.core import Lambda
    from ..models.model import Model
    from ..ops.dispatch import OpNode
    if isinstance(layer, OpNode):
        node = OpNode(layer.op_name, layer.fn, layer.template)
        node.name = layer.name
        return node
    if type(layer) is Lambda:
        return Lambda(layer.function, layer.arguments, name=layer.name,
                      trainable=layer.trainable, dtype=layer.dtype)
    if isinstance(layer, Model) and uses_graph_config(type(layer)):
        return clone_model(layer)
    return type(layer).from_config(layer.get_config())


def _input_list(model: Any, input_tensors: Any) -> list[SymbolicTensor] | None:
    if input_tensors is None:
        return None
    tensors = flatten(input_tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, SymbolicTensor):
            raise FrontendError(f"clone_model: input_tensors must be symbolic tensors (from "
                                f"graphc.Input or layers called on them); item {i} is "
                                f"{type(t).__name__}")
    count = len(model.inputs)
    if len(tensors) != count:
        raise FrontendError(f"clone_model: model '{model.name}' has {count} input(s); "
                            f"input_tensors holds {len(tensors)}")
    return tensors


def clone_model(model: Any, clone_function: Callable[[Layer], Layer] | None = None,
                input_tensors: Any = None, recursive: bool | None = None) -> Any:
    """A new model with ``model``'s architecture (see the module doc)."""
    from ..models.model import Model
    from ..models.sequential import Sequential
    if not isinstance(model, Model):
        raise FrontendError(f"clone_model expects a graphc Model, received "
                            f"{type(model).__name__}")
    if not uses_graph_config(type(model)):
        raise FrontendError(f"clone_model: {type(model).__name__} '{model.name}' is not a "
                            "Functional or Sequential model; clone it with "
                            "type(model).from_config(model.get_config())")
    if clone_function is not None and not callable(clone_function):
        raise FrontendError("clone_model: clone_function must be callable")
    clone = clone_function or clone_layer
    if recursive is None:
        recursive = clone_function is None
    if not model.built and input_tensors is not None:  # an unbuilt Sequential
        tensors = flatten(input_tensors)
        if len(tensors) != 1 or not isinstance(tensors[0], SymbolicTensor):
            raise FrontendError(f"clone_model: Sequential '{model.name}' takes one input "
                                "tensor; input_tensors must hold exactly one symbolic tensor")
    else:
        tensors = _input_list(model, input_tensors) if model.built else None
    if isinstance(model, Sequential) and tensors is not None and not (
            model.built and tensors[0].site is not None and
            tensors[0].site.layer.is_input_layer):
        x = tensors[0]
        for layer in [clone(layer) for layer in model.layers]:
            x = layer(x)
        return Model(tensors[0], x, name=model.name)
    saved = SaveContext()
    config = top_config(model, saved)

    clones: dict[int, Layer] = {}

    def factory(path: str, entry: dict) -> Layer | None:
        original = saved.objects.get(path)
        if original is None or original.is_input_layer:
            return None
        if recursive and isinstance(original, Model) and uses_graph_config(type(original)):
            return None
        if id(original) not in clones:
            clones[id(original)] = clone(original)
        return clones[id(original)]

    ctx = RebuildContext(Resolver(), factory=factory)
    return rebuild_graph(type(model), config, ctx, model.name + "/", "clone_model",
                         input_tensors=tensors)
