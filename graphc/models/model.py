"""``graphc.Model(inputs, outputs)``: a Functional model, which is a layer.

A model is built from symbolic tensors: ``inputs`` and ``outputs`` may each
be a single tensor, a list, or a dict.  The constructor computes the
``ModelGraph`` (and so checks that every output is computable from the
inputs, and that layer names are unique), registers itself as an owner of
its inputs (so its inner tensors can be located from outer models), and is
then immutable.

As a layer, a model can be called on symbolic tensors (it is inlined when
lowered; its layer paths get the model's name as a prefix), on traced values,
or on numpy arrays (run through ``graphc.compile``, cached per backend and
pass pipeline).  Weights belong to the layers, so a model sliced out of
another (``Model(base.input, base.get_layer("block4").output)``) shares
them.
"""

from __future__ import annotations

from typing import Any, Callable

from graphc.errors import FrontendError

from ..ir.core import Module
from ..ir.types import format_shape
from ..layers.base import Layer
from ..naming import snake_case
from ..structure import flatten, pack_like
from ..tracing import Traced, Tracer
from ..training.model_api import TrainingMixin
from . import subclassed
from .graph import ModelGraph, register_graph
from .inputs import match_inputs
from .lowering import lower_model, trace_graph


class Model(TrainingMixin, Layer):  # compile/fit/evaluate...: graphc/training/model_api.py
    input_dtype_rule = None
    manages_built = True

    def __init__(self, inputs: Any = None, outputs: Any = None, name: str | None = None,
                 trainable: bool = True, **kwargs: Any) -> None:
        self._graph: ModelGraph | None = None
        if inputs is None and outputs is None and subclassed.defines_call(type(self)):
            super().__init__(name=name, trainable=trainable, **kwargs)
            self._init_model_state()
            self._inputs_struct = self._outputs_struct = None
            return  # built later, from the first input types (models/subclassed.py)
        if inputs is None or outputs is None:
            raise FrontendError("graphc.Model needs inputs= and outputs= (symbolic tensors "
                                "from graphc.Input and the layers called on them), or a "
                                "subclass that defines call(self, inputs)")
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._init_model_state()
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._set_graph(ModelGraph(self, flatten(inputs), flatten(outputs)))

    def _adopt_graph(self, inputs: Any, outputs: Any) -> None:
        """Become the model from ``inputs`` to ``outputs`` (a subclass's first build)."""
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._set_graph(ModelGraph(self, flatten(inputs), flatten(outputs)))

    @property
    def _is_subclassed(self) -> bool:
        return subclassed.defines_call(type(self))

    def build(self, input_shape: Any = None) -> None:
        """Build a subclassed model for ``input_shape`` (with the batch dim)."""
        if self._graph is not None:
            return
        if not self._is_subclassed:
            raise FrontendError(self._unbuilt_message())
        subclassed.build_from_shape(self, input_shape)

    def _build_from_data(self, data: Any) -> None:
        if self._graph is None and self._is_subclassed:
            subclassed.build_from_data(self, data)

    def _init_model_state(self) -> None:
        self._compiled: dict[tuple, Any] = {}
        self._version = 0

    def _set_graph(self, graph: ModelGraph | None) -> None:
        self._graph = graph
        self._version += 1
        if graph is not None:
            register_graph(self, graph)
        self.built = graph is not None

    @classmethod
    def default_name(cls) -> str:
        """``functional`` for ``graphc.Model`` itself; a subclass is named after its
        class (``class Classifier(graphc.Model)`` -> ``classifier``), as in Keras."""
        return "functional" if cls is Model else snake_case(cls.__name__)

    # structure --------------------------------------------------------------
    @property
    def graph(self) -> ModelGraph:
        if self._graph is None:
            raise FrontendError(self._unbuilt_message())
        return self._graph

    def _unbuilt_message(self) -> str:
        if self._is_subclassed:
            return subclassed.unbuilt_message(self)
        return f"model '{self.name}' has no graph"

    def _graph_inputs(self) -> tuple:
        return self._graph.inputs if self._graph is not None else ()

    @property
    def inputs(self) -> list:
        return list(self.graph.inputs)

    @property
    def outputs(self) -> list:
        return [ref.tensor for ref in self.graph.outputs]

    @property
    def input(self) -> Any:
        """The inputs in the structure the model was built with (Keras ``model.input``)."""
        self.graph  # noqa: B018 - raises the "not built" error for an unbuilt Sequential
        return self._inputs_struct

    @property
    def output(self) -> Any:
        """The outputs in the structure the model was built with."""
        self.graph  # noqa: B018
        return self._outputs_struct

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.graph.inputs]

    @property
    def output_names(self) -> list[str]:
        return [ref.tensor.name for ref in self.graph.outputs]

    def _input_keys(self) -> list[str]:
        if isinstance(self._inputs_struct, dict):
            return sorted(self._inputs_struct)
        return self.input_names

    def _output_structure(self) -> Any:
        return self._outputs_struct

    @property
    def operations(self) -> list[Layer]:
        """Every layer and op node of this model level, inputs first, in call order."""
        return list(self.graph.operations) if self._graph is not None else []

    @property
    def layers(self) -> list[Layer]:
        from ..ops.dispatch import OpNode
        return [op for op in self.operations if not isinstance(op, OpNode)]

    def _tracked_layers(self) -> list[Layer]:
        return [op for op in self.operations if not op.is_input_layer]

    @property
    def trainable(self) -> bool:
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self.__dict__["_trainable"] = bool(value)
        for layer in self._tracked_layers():  # as in Keras: freezing a model freezes its layers
            layer.trainable = bool(value)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer (or op node) by name, or a layer by index in ``layers``."""
        if name is not None and index is not None:
            raise FrontendError(f"Provide only a layer name or a layer index. Received: "
                                f"index={index!r}, name={name!r}.")
        if index is not None:
            layers = self.layers
            if isinstance(index, bool) or not isinstance(index, int) or \
                    not -len(layers) <= index < len(layers):
                raise FrontendError(f"Was asked to retrieve layer at index {index!r} but model "
                                    f"'{self.name}' only has {len(layers)} layers.")
            return layers[index]
        if name is None:
            raise FrontendError("Provide either a layer name or layer index at get_layer.")
        for op in self.operations:
            if op.name == name:
                return op
        hint = ""
        path = self._find_nested(name)
        if path:
            chain = "".join(f".get_layer({p!r})" for p in path)
            hint = f" Layer '{name}' is inside a nested model: use model{chain}."
        names = [op.name for op in self.operations]
        raise FrontendError(f"No such layer: {name}. Existing layers are: {names}.{hint}")

    def _find_nested(self, name: str) -> list[str]:
        for op in self.operations:
            if isinstance(op, Model):
                if any(inner.name == name for inner in op.operations):
                    return [op.name, name]
                deeper = op._find_nested(name)
                if deeper:
                    return [op.name] + deeper
        return []

    # calling ------------------------------------------------------------------
    def _normalize_structure(self, inputs: Any) -> Any:
        return inputs  # match_inputs reads single values, lists and dicts

    def _check_structure(self, inputs: Any) -> None:
        if self._graph is None and self._is_subclassed:
            return  # the first call builds the model for whatever structure it gets
        match_inputs(self, inputs)

    def _build_for(self, inputs: Any, types: list) -> None:
        if self._graph is None and self._is_subclassed:
            subclassed.build_from_types(self, inputs, types)
        self.graph  # noqa: B018 - a Functional model is built at construction

    def _trace(self, tracer: Tracer, inputs: Any, kwargs: dict, path: str = "") -> Any:
        outputs, _ = self._trace_inlined(tracer, match_inputs(self, inputs), path, [])
        return pack_like(self._outputs_struct, outputs)

    def _trace_inlined(self, tracer: Tracer, values: list[Traced], path: str, requests: list,
                       names: dict | None = None, want_outputs: bool = True
                       ) -> tuple[list[Traced], list[Traced]]:
        """Trace this model's graph into ``tracer`` (inlined under ``path/name``)."""
        values = self._conform_inputs(values)
        return trace_graph(self.graph, tracer, values, f"{path}{self.name}/", requests, names,
                           want_outputs)

    def _conform_inputs(self, values: list[Traced]) -> list[Traced]:
        from ..ops.operands import cast
        out = []
        for spec_tensor, x in zip(self.graph.inputs, values):
            spec = spec_tensor.type
            mismatch = x.ndim != spec.rank or any(
                isinstance(a, int) and isinstance(b, int) and a != b
                for a, b in zip(spec.shape, x.type.shape))
            if mismatch:
                what = f"input '{spec_tensor.name}' of shape {format_shape(spec.shape)}"
                raise self.expectation_error(what, x)
            out.append(cast(x, spec.dtype))
        return out

    def _call_eager(self, inputs: Any, kwargs: dict) -> Any:
        from ..compiled import DEFAULT_BACKEND, DEFAULT_PASSES
        self._build_from_data(inputs)
        return self.compiled(DEFAULT_BACKEND, DEFAULT_PASSES)(inputs)

    # compiling and inspecting ---------------------------------------------------
    def _structure_key(self) -> tuple:
        nested = tuple(op._structure_key() for op in self.operations if isinstance(op, Model))
        return (self._version,) + nested

    def compiled(self, backend: Any = None, passes: Any = ...) -> Any:
        """The cached ``CompiledModel`` for ``backend`` and ``passes`` (``...``, the
        default, means ``graphc.compiled.DEFAULT_PASSES``; None means no passes)."""
        from ..compiled import DEFAULT_BACKEND, DEFAULT_PASSES, CompiledModel, pipeline_key
        backend = DEFAULT_BACKEND if backend is None else backend
        passes = DEFAULT_PASSES if passes is ... else passes
        key = (getattr(backend, "name", backend), pipeline_key(passes), self._structure_key())
        if key not in self._compiled:
            self._compiled = {k: v for k, v in self._compiled.items()
                              if k[2] == self._structure_key()}
            self._compiled[key] = CompiledModel(self, backend, passes)
        return self._compiled[key]

    def to_ir(self) -> Module:
        """The model as a verified IR module with one public function."""
        return lower_model(self).module

    def predict(self, x: Any, batch_size: int | None = 32, verbose: Any = None) -> Any:
        """Run on numpy data in batches of ``batch_size``; returns the output structure."""
        self._build_from_data(x)
        return self.compiled().predict(x, batch_size=batch_size)

    def summary(self, print_fn: Callable[[str], Any] | None = None, expand_nested: bool = False,
                show_trainable: bool = False, line_length: int | None = None) -> None:
        """Print a table of layers, output shapes and parameter counts."""
        from .summary import print_summary
        if self._is_subclassed:
            self.graph  # noqa: B018 - raises the "not built yet" error
        print_summary(self, print_fn=print_fn, expand_nested=expand_nested,
                      show_trainable=show_trainable, line_length=line_length)

    # configs and files (graphc.saving) ------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The architecture as JSON-ready data (layers, calls, inputs, outputs)."""
        from ..saving.model_config import model_config
        return model_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> "Model":
        """A new model with this architecture and freshly initialized weights."""
        from ..saving.model_config import model_from_config
        return model_from_config(cls, config, custom_objects)

    def to_json(self, **kwargs: Any) -> str:
        """``{"class_name", "config", ...}`` as JSON text (sorted keys)."""
        from ..saving.model_config import to_json
        return to_json(self, **kwargs)

    def save(self, filepath: Any, overwrite: bool = True) -> None:
        """Write a ``.graphc`` model file: architecture, weights, metadata."""
        from ..saving.model_file import save_model
        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Write the weights to a ``.npz`` file, keyed by weight path."""
        from ..saving.weights_io import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any) -> None:
        """Read weights saved by ``save_weights`` (or from a ``.graphc`` file)."""
        from ..saving.weights_io import load_weights
        load_weights(self, filepath)
