"""``graphc.Sequential``: a stack of single-input, single-output layers.

The model knows its input shape from an ``Input`` (or ``InputLayer``) added
first, from ``input_shape=`` on the first layer, from ``build(shape)``, or
from the first call (symbolic tensors or numpy data): this is *deferred
building*.  Once the input is known, every layer is called on the previous
output immediately, so ``add`` checks shapes at the user's line and rolls
the layer back if it does not fit.  The chain of call sites is an ordinary
``ModelGraph``; everything else (summary, to_ir, predict, nesting,
slicing) is inherited from ``Model``.

Rules, each with its own error: only layers can be added; an ``Input`` may
only come first, and only once; layer names must be unique; each layer must
return one tensor; an empty model cannot be called or popped.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from graphc.errors import FrontendError

from ..ir.dtypes import dtype_of
from ..layers.base import Layer
from ..layers.input_layer import Input
from ..structure import flatten
from ..tensor import SymbolicTensor
from .graph import ModelGraph
from .model import Model


class Sequential(Model):
    def __init__(self, layers: Sequence[Any] | None = None, name: str | None = None,
                 trainable: bool = True) -> None:
        self._graph = None
        Layer.__init__(self, name=name, trainable=trainable)
        self._init_model_state()
        self._layers: list[Layer] = []
        self._input_tensor: SymbolicTensor | None = None
        self._own_sites: list = []
        self._inputs_struct = self._outputs_struct = None
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise FrontendError(f"Sequential '{self.name}' expects a list of layers. "
                                    f"Received: {layers!r}")
            for layer in layers:
                self.add(layer)

    @classmethod
    def default_name(cls) -> str:
        return "sequential"

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def _tracked_layers(self) -> list[Layer]:
        return list(self.__dict__.get("_layers", ()))

    def _unbuilt_message(self) -> str:
        return (f"Sequential model '{self.name}' is not built yet: its input shape is unknown. "
                "Add a graphc.Input first, pass input_shape= to the first layer, call "
                "build((None, ...)), or call the model on data")

    # adding and removing layers --------------------------------------------
    def add(self, layer: Any) -> None:
        if isinstance(layer, SymbolicTensor) and layer.site is not None and \
                layer.site.layer.is_input_layer:
            layer = layer.site.layer
        if not isinstance(layer, Layer):
            raise FrontendError(f"Only instances of graphc Layer can be added to a Sequential "
                                f"model ('{self.name}'). Received: {layer!r} (of type "
                                f"{type(layer).__name__})")
        if layer.is_input_layer:
            self._add_input(layer)
            return
        taken = [existing.name for existing in self._layers]
        if self._input_tensor is not None:
            taken.append(self._input_tensor.site.layer.name)
        if layer.name in taken:
            raise FrontendError(f"All layers added to a Sequential model should have unique "
                                f"names. Name '{layer.name}' is already the name of a layer in "
                                f"model '{self.name}'.")
        self._layers.append(layer)
        if self._input_tensor is None and len(self._layers) == 1 and \
                layer._input_shape_arg is not None:
            dtype = layer._input_dtype_arg if layer._input_dtype_arg is not None else "float32"
            self._input_tensor = Input(shape=layer._input_shape_arg, dtype=dtype,
                                       batch_size=layer._batch_size_arg)
        if self._input_tensor is not None:
            try:
                self._extend(layer)
            except BaseException:
                self._layers.pop()
                if not self._layers and self._own_sites == [] and layer._input_shape_arg:
                    self._input_tensor = None
                raise
        self._version += 1

    def _add_input(self, input_layer: Layer) -> None:
        if self._input_tensor is not None:
            raise FrontendError(f"Sequential model '{self.name}' already has an input "
                                f"(Input '{self._input_tensor.name}'); an Input can only be the "
                                f"first layer. Received a second one: Input "
                                f"'{input_layer.name}'")
        if self._layers:
            raise FrontendError(f"An Input must be the first layer of Sequential model "
                                f"'{self.name}', but it already has layers "
                                f"({', '.join(repr(l.name) for l in self._layers)}); "
                                f"received Input '{input_layer.name}'")
        self._input_tensor = input_layer.output
        self._rebuild_graph()

    def _current_output(self) -> SymbolicTensor:
        assert self._input_tensor is not None
        return self._own_sites[-1].outputs if self._own_sites else self._input_tensor

    def _extend(self, layer: Layer) -> None:
        before = len(layer._call_sites)
        result = layer(self._current_output())
        site = layer._call_sites[-1] if len(layer._call_sites) > before else None
        if not isinstance(result, SymbolicTensor):
            if site is not None:
                layer._call_sites.remove(site)
            raise FrontendError(f"All layers in a Sequential model should have a single output "
                                f"tensor; {layer.type_name} '{layer.name}' returned "
                                f"{len(flatten(result))} tensors. Use a Functional model for "
                                "multi-output layers")
        self._own_sites.append(site)
        self._rebuild_graph()

    def _rebuild_graph(self) -> None:
        if self._input_tensor is None:
            self._set_graph(None)
            return
        self._inputs_struct = self._input_tensor
        self._outputs_struct = self._current_output()
        self._set_graph(ModelGraph(self, [self._inputs_struct], [self._outputs_struct]))

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._layers:
            raise FrontendError(f"There are no layers in Sequential model '{self.name}' to pop.")
        layer = self._layers.pop()
        if self._own_sites:
            site = self._own_sites.pop()
            layer._call_sites.remove(site)
        self._rebuild_graph()
        return layer

    # deferred building --------------------------------------------------------
    def build(self, input_shape: Any = None) -> None:
        """Build for inputs of ``input_shape`` (with the batch dim, e.g. ``(None, 784)``)."""
        if self._input_tensor is not None:
            return
        if input_shape is None:
            raise FrontendError(self._unbuilt_message())
        if not isinstance(input_shape, (list, tuple)) or not input_shape:
            raise FrontendError(f"Sequential '{self.name}'.build expects the input shape "
                                f"including the batch dim, e.g. (None, 784). Received: "
                                f"{input_shape!r}")
        self._build_with(Input(batch_shape=tuple(input_shape)))

    def _build_with(self, input_tensor: SymbolicTensor) -> None:
        self._require_layers()
        self._input_tensor = input_tensor
        try:
            for layer in self._layers:
                self._extend(layer)
        except BaseException:
            for site in self._own_sites:
                site.layer._call_sites.remove(site)
            self._own_sites = []
            self._input_tensor = None
            self._rebuild_graph()
            raise

    def _require_layers(self) -> None:
        if not self._layers:
            raise FrontendError(f"Sequential model '{self.name}' has no layers; add layers "
                                "before calling or building it")

    def _check_structure(self, inputs: Any) -> None:
        self._require_layers()
        if len(flatten(inputs)) != 1:
            raise FrontendError(f"Sequential model '{self.name}' expects a single input "
                                f"tensor. Received: {len(flatten(inputs))} values")

    def _build_for(self, inputs: Any, types: list) -> None:
        if self._input_tensor is None:
            t = types[0]
            sample = tuple(d if isinstance(d, int) else None for d in t.shape[1:])
            if not t.shape:
                raise FrontendError(f"Sequential model '{self.name}' cannot be built from a "
                                    "0-d input: inputs need a batch dimension")
            self._build_with(Input(shape=sample, dtype=t.dtype))

    def _call_eager(self, inputs: Any, kwargs: dict) -> Any:
        self._build_from_data(inputs)
        return super()._call_eager(inputs, kwargs)

    def _build_from_data(self, data: Any) -> None:
        if self._input_tensor is not None:
            return
        self._require_layers()
        leaves = flatten(data)
        array = np.asarray(leaves[0] if len(leaves) == 1 else data)
        if array.ndim == 0:
            raise FrontendError(f"Sequential model '{self.name}' cannot be built from a 0-d "
                                "input: inputs need a batch dimension")
        dtype = "float32" if array.dtype.kind == "f" else dtype_of(array.dtype)
        self._build_with(Input(shape=array.shape[1:], dtype=dtype))

    def predict(self, x: Any, batch_size: int | None = 32, verbose: Any = None) -> Any:
        self._build_from_data(x)
        return super().predict(x, batch_size=batch_size, verbose=verbose)

    def to_ir(self) -> Any:
        self._require_layers()
        return super().to_ir()
