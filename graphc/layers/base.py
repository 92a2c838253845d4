"""``Layer``: weights plus a forward computation, callable three ways.

``layer(inputs)`` looks at what it is given:

* **symbolic tensors** (from ``graphc.Input``): the layer is built if needed
  (``build(input_shape)`` creates its weights), its ``call`` is traced on
  the symbolic input types into a scratch function (``_trace``), and a new
  ``CallSite`` records the call.  Any shape problem raises ``ShapeError``
  here, at the user's line, naming the layer, what it expected and how the
  received shape arose (``graphc.diagnostics``);
* **traced values** (inside another layer's ``call``): the call is traced
  into the same function, so layers compose;
* **numpy arrays**: the call is traced on the arrays' exact types and run by
  the reference interpreter (handy for trying a layer out).

``call(inputs, training=False)`` is written once against ``graphc.ops``; it
receives the inputs in the structure the layer was called with.  Class
attributes state what a layer accepts, as data: ``input_rank`` /
``min_input_rank`` (checked before ``call``), ``input_dtype_rule`` (``float``:
cast numeric inputs to the layer dtype, ``int``: cast to i32 unless already
integer, ``None``: leave alone) and ``expects_list`` (merge layers).

Weights are created with ``add_weight`` in ``build`` and kept in creation
order, which is the Keras order of ``weights`` and ``get_weights()``.  While
a layer's ``call`` is being traced, the layer holds that tracer
(``_active_tracer``), so an op on its weights alone (``ops.exp(self.w)``)
joins the trace instead of running eagerly.  Layers
assigned as attributes are tracked as sublayers and contribute their weights.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Sequence

import numpy as np

from graphc.errors import AttrError, FrontendError, GraphcError, ShapeError

from .. import initializers
from ..diagnostics import at_call_site, describe_tensor, expectation_error, infer_error
from ..ir.dtypes import DType, dtype_of
from ..ir.loc import Loc
from ..ir.types import TensorType, format_shape
from ..naming import auto_name, check_name, snake_case, user_location
from ..structure import flatten, pack_like
from ..tensor import CallSite, SymbolicTensor, keras_shape
from ..tracing import Traced, Tracer
from .weights import Weight, make_dtype

_LAYER_OPTIONS = ("name", "trainable", "dtype", "input_shape", "batch_size", "input_dtype")


class Layer:
    input_rank: int | None = None
    min_input_rank: int | None = None
    input_dtype_rule: str | None = "float"
    expects_list: bool = False
    is_input_layer: bool = False
    manages_built: bool = False  # models set ``built`` themselves

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A user may call build() directly (Keras allows it): mark the layer built.
        super().__init_subclass__(**kwargs)
        original = cls.__dict__.get("build")
        if original is not None and not cls.manages_built:
            @functools.wraps(original)
            def build(self: "Layer", *args: Any, **kw: Any) -> Any:
                result = original(self, *args, **kw)
                self.built = True
                return result

            cls.build = build  # type: ignore[method-assign]

    def __new__(cls, *args: Any, **kwargs: Any) -> "Layer":
        # Keep the constructor arguments: get_config of a user-defined layer
        # returns them (graphc.saving.layer_config).
        layer = super().__new__(cls)
        layer.__dict__["_constructor_args"] = (args, dict(kwargs))
        return layer

    def __init__(self, *, name: str | None = None, trainable: bool = True,
                 dtype: object = None, input_shape: Sequence[int | None] | None = None,
                 batch_size: int | None = None, input_dtype: object = None,
                 input_dim: int | None = None, **unknown: Any) -> None:
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)  # the Keras 2 spelling, still common in examples
        if unknown:
            raise FrontendError(f"Unrecognized keyword arguments passed to "
                                f"{type(self).__name__}: {unknown}")
        object.__setattr__(self, "_sublayers", [])
        self.name = check_name(name, type(self).__name__) if name is not None else \
            auto_name(self.default_name())
        self._dtype: DType = make_dtype(dtype if dtype is not None else "float32",
                                        f"{type(self).__name__} '{self.name}'")
        self.trainable = bool(trainable)
        self.built = False
        self.source = user_location(constructing=self)
        self._weights: list[Weight] = []
        self._call_sites: list[CallSite] = []
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None
        self._batch_size_arg = batch_size
        self._input_dtype_arg = input_dtype

    # identity -------------------------------------------------------------
    @classmethod
    def default_name(cls) -> str:
        return snake_case(cls.__name__)

    @property
    def type_name(self) -> str:
        """The type shown in summaries and messages (the class name)."""
        return type(self).__name__

    @property
    def dtype(self) -> str:
        return self._dtype.value

    def __setattr__(self, key: str, value: Any) -> None:
        sublayers = self.__dict__.get("_sublayers")
        if sublayers is not None and isinstance(value, Layer) and value is not self \
                and value not in sublayers:
            sublayers.append(value)
        object.__setattr__(self, key, value)

    def __repr__(self) -> str:
        return f"<{self.type_name} name={self.name!r}, built={self.built}>"

    # building and weights -------------------------------------------------
    def build(self, input_shape: Any) -> None:
        """Create weights for inputs of ``input_shape`` (Keras-style, None = unknown)."""
        self.built = True

    def add_weight(self, name: str | None = None, shape: Sequence[int] = (),
                   initializer: Any = "glorot_uniform", dtype: object = None,
                   trainable: bool = True) -> Weight:
        name = name or ("variable" if not self._weights else f"variable_{len(self._weights)}")
        if any(w.name == name for w in self._weights):
            raise FrontendError(f"{self.type_name} '{self.name}' already has a weight named "
                                f"'{name}'")
        dims = tuple(shape)
        if not all(isinstance(d, (int, np.integer)) and d >= 0 for d in dims):
            raise ShapeError(f"{self.type_name} '{self.name}': weight '{name}' needs a fully "
                             f"known shape, received {format_shape(dims)}")
        wdtype = make_dtype(dtype, f"weight '{name}'") if dtype is not None else self._dtype
        budget = self.__dict__.get("_weight_budget")  # set while graphc.saving loads a file
        if budget is not None:
            budget.charge(self, name, dims, wdtype.itemsize)
        value = initializers.get(initializer)(dims, wdtype)
        weight = Weight(self, name, value, wdtype, trainable)
        self._weights.append(weight)
        return weight

    def _tracked_layers(self) -> list["Layer"]:
        return list(self._sublayers)

    @property
    def weights(self) -> list[Weight]:
        out: list[Weight] = []
        for w in self._weights + [w for layer in self._tracked_layers() for w in layer.weights]:
            if not any(w is seen for seen in out):
                out.append(w)
        return out

    @property
    def trainable_weights(self) -> list[Weight]:
        if not self.trainable:
            return []
        own = [w for w in self._weights if w.trainable]
        nested = [w for layer in self._tracked_layers() for w in layer.trainable_weights]
        out: list[Weight] = []
        for w in own + nested:
            if not any(w is seen for seen in out):
                out.append(w)
        return out

    @property
    def non_trainable_weights(self) -> list[Weight]:
        trainable = self.trainable_weights
        return [w for w in self.weights if not any(w is t for t in trainable)]

    def get_weights(self) -> list[np.ndarray]:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        own = self.weights
        if not isinstance(weights, (list, tuple)):
            raise FrontendError(f"set_weights on {self.type_name} '{self.name}' expects a list "
                                f"of arrays. Received: {type(weights).__name__}")
        if len(weights) != len(own):
            raise FrontendError(f"You called set_weights(weights) on {self.type_name} "
                                f"'{self.name}' with a weight list of length {len(weights)}, "
                                f"but the layer was expecting {len(own)} weights "
                                f"({', '.join(w.path for w in own) or 'none'}).")
        for w, value in zip(own, weights):
            if np.shape(value) != w.shape:
                raise FrontendError(f"{self.type_name} '{self.name}' weight '{w.path}' has "
                                    f"shape {format_shape(w.shape)}, which is not compatible "
                                    f"with the provided weight shape "
                                    f"{format_shape(np.shape(value))}.")
        for w, value in zip(own, weights):
            w.assign(value)

    def count_params(self) -> int:
        return sum(w.size for w in self.weights)

    # configs (graphc.saving) ------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this layer, as JSON-ready
        values (the rules are in ``graphc.saving.layer_config``)."""
        from ..saving.layer_config import layer_config
        return layer_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Layer":
        """A new layer (with fresh weights) from the output of ``get_config``."""
        from ..saving.layer_config import layer_from_config
        return layer_from_config(cls, config)

    # call sites -----------------------------------------------------------
    def _site(self, index: int, what: str) -> CallSite:
        if not self._call_sites:
            raise FrontendError(f"{self.type_name} '{self.name}' has never been called and "
                                f"thus has no defined {what}.")
        if not -len(self._call_sites) <= index < len(self._call_sites):
            raise FrontendError(f"{self.type_name} '{self.name}' was called "
                                f"{len(self._call_sites)} time(s); asked for the {what} of "
                                f"call {index}.")
        return self._call_sites[index]

    @property
    def input(self) -> Any:
        """Inputs of the first call (``get_input_at(i)`` for later calls)."""
        return self._site(0, "input").inputs

    @property
    def output(self) -> Any:
        """Outputs of the first call (``get_output_at(i)`` for later calls)."""
        return self._site(0, "output").outputs

    def get_input_at(self, index: int) -> Any:
        return self._site(index, "input").inputs

    def get_output_at(self, index: int) -> Any:
        return self._site(index, "output").outputs

    @property
    def input_shape(self) -> Any:
        return _shapes_of(self.input)

    @property
    def output_shape(self) -> Any:
        return _shapes_of(self.output)

    # calling --------------------------------------------------------------
    def call(self, inputs: Any, **kwargs: Any) -> Any:
        raise FrontendError(f"{self.type_name} does not implement call(inputs); a Layer "
                            "subclass must define it")

    def _check_structure(self, inputs: Any) -> None:
        """Single tensor vs list, as ``expects_list`` says."""
        leaves = flatten(inputs)
        if self.expects_list:
            if not isinstance(inputs, (list, tuple)) or len(leaves) < 1:
                raise FrontendError(f"{self.type_name} '{self.name}' should be called on a "
                                    f"list of tensors. Received: {_kind(inputs)}")
        elif len(leaves) != 1:
            raise FrontendError(f"{self.type_name} '{self.name}' expects a single tensor. "
                                f"Received: {_kind(inputs)}")

    def _normalize_structure(self, inputs: Any) -> Any:
        """A one-element list given to a single-input layer means its element."""
        if not self.expects_list and isinstance(inputs, (list, tuple)) and len(inputs) == 1 \
                and not isinstance(inputs[0], (list, tuple, dict)):
            return inputs[0]
        return inputs

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        if "_call_sites" not in self.__dict__:
            raise FrontendError(f"{type(self).__name__}.__init__ must call "
                                "super().__init__(**kwargs) before the layer is used")
        location = user_location()
        inputs = self._normalize_structure(inputs)
        leaves = flatten(inputs)
        symbolic = [x for x in leaves if isinstance(x, SymbolicTensor)]
        traced = [x for x in leaves if isinstance(x, Traced)]
        try:
            self._check_structure(inputs)
            _check_kwargs(self, kwargs)
            if symbolic:
                if len(symbolic) != len(leaves):
                    raise FrontendError(f"{self.type_name} '{self.name}' was called on a mix "
                                        "of symbolic tensors and other values "
                                        f"({_kind(inputs)}); convert constants with "
                                        "graphc.ops or pass only graphc tensors")
                return self._call_symbolic(inputs, leaves, kwargs, location)
        except GraphcError as exc:
            raise at_call_site(exc, location) from None
        if traced:
            return self._call_traced(inputs, traced[0].tracer, kwargs)
        return self._call_eager(inputs, kwargs)

    def _build_for(self, inputs: Any, types: list[TensorType]) -> None:
        if self.built:
            return
        count = len(self._weights)
        try:
            self.build(pack_like(inputs, [keras_shape(t) for t in types]))
        except BaseException:
            del self._weights[count:]  # a failed build leaves no half-made weights behind
            raise
        self.built = True

    def _call_symbolic(self, inputs: Any, leaves: list[SymbolicTensor], kwargs: dict,
                       location: tuple[str, int] | None) -> Any:
        try:
            tracer = Tracer.scratch(self.name, training=bool(kwargs.get("training", False)))
            params = [tracer.param(t.type, t.name, origin=t) for t in leaves]
            self._check_ranks(params)
            self._build_for(inputs, [t.type for t in leaves])
            out = self._trace(tracer, pack_like(inputs, params), kwargs)
        except (ShapeError, AttrError) as exc:
            if not getattr(exc, "from_layer", False):
                exc = infer_error(self, exc, [describe_tensor(t) for t in leaves])
            raise exc from None
        site = CallSite(self, inputs, tuple(leaves), kwargs=dict(kwargs), location=location)
        out_leaves = flatten(out)
        tensors = [SymbolicTensor(v.type, site, i) for i, v in enumerate(out_leaves)]
        site.outputs = pack_like(out, tensors)
        site.output_tensors = tuple(tensors)
        self._call_sites.append(site)
        return site.outputs

    def _call_traced(self, inputs: Any, tracer: Tracer, kwargs: dict) -> Any:
        self._check_ranks(flatten(inputs))
        self._build_for(inputs, [x.type for x in flatten(inputs)])
        outer = tracer.builder.loc
        prefix = outer.path + "/" if isinstance(outer, Loc) else ""
        return self._trace(tracer, inputs, kwargs, prefix)

    def _call_eager(self, inputs: Any, kwargs: dict) -> Any:
        from ..compiled import run_traced  # late: compiled imports models, which import layers
        arrays = [eager_array(x, f"{self.type_name} '{self.name}'") for x in flatten(inputs)]
        types = [TensorType(dtype_of(a.dtype), a.shape) for a in arrays]
        try:
            tracer = Tracer.scratch(self.name, training=bool(kwargs.get("training", False)))
            params = [tracer.param(t) for t in types]
            self._check_ranks(params)
            self._build_for(inputs, types)
            out = self._trace(tracer, pack_like(inputs, params), kwargs)
        except (ShapeError, AttrError) as exc:
            if not getattr(exc, "from_layer", False):
                exc = infer_error(self, exc, [format_shape(a.shape) for a in arrays])
            raise exc from None
        return run_traced(tracer, out, arrays)

    def _loc(self, path: str) -> Loc:
        if self.source is None:
            return Loc(path + self.name)
        return Loc(path + self.name, self.source[0], self.source[1])

    def _trace(self, tracer: Tracer, inputs: Any, kwargs: dict, path: str = "") -> Any:
        """Trace ``call`` on traced ``inputs``; returns traced outputs."""
        previous = self.__dict__.get("_active_tracer")
        self.__dict__["_active_tracer"] = tracer  # lets ops on this layer's weights find the trace
        try:
            with tracer.at(self._loc(path)):
                inputs = self._prepare_inputs(inputs)
                outputs = self.call(inputs, **self._call_kwargs(kwargs, tracer.training))
        finally:
            self.__dict__["_active_tracer"] = previous
        for leaf in flatten(outputs):
            if not isinstance(leaf, Traced) or leaf.tracer is not tracer:
                raise FrontendError(f"{self.type_name} '{self.name}'.call must return tensors "
                                    f"computed from its inputs with graphc.ops; it returned "
                                    f"{leaf!r}")
        return outputs

    def _call_kwargs(self, kwargs: dict, training: bool) -> dict:
        """``kwargs`` plus the ``training`` flag when ``call`` takes it (Keras
        passes ``training`` to every layer and drops it where unused)."""
        signature = _call_signature(type(self))
        takes_training = "training" in signature.parameters or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
        kwargs = {"training": training, **kwargs} if takes_training else \
            {k: v for k, v in kwargs.items() if k != "training"}
        try:
            signature.bind(None, None, **kwargs)
        except TypeError as exc:
            raise FrontendError(f"{self.type_name} '{self.name}'.call cannot take the keyword "
                                f"argument(s) {sorted(kwargs)}: {exc}") from None
        return kwargs

    def _check_ranks(self, values: list[Traced]) -> None:
        for x in values:
            if self.input_rank is not None and x.ndim != self.input_rank:
                raise self.expectation_error(f"an input of rank {self.input_rank}", x)
            if self.min_input_rank is not None and x.ndim < self.min_input_rank:
                raise self.expectation_error(f"an input of rank >= {self.min_input_rank}", x)

    def _prepare_inputs(self, inputs: Any) -> Any:
        leaves = flatten(inputs)
        self._check_ranks(leaves)
        from ..ops.operands import cast  # late: graphc.ops imports layers
        if self.input_dtype_rule == "float":
            leaves = [cast(x, self._dtype) for x in leaves]
        elif self.input_dtype_rule == "int":
            leaves = [x if x.dtype.is_int else cast(x, DType.i32) for x in leaves]
        return pack_like(inputs, leaves)

    def expectation_error(self, expected: str, *received: Traced) -> ShapeError:
        """``<Type> '<name>' expects <expected>, received <shape> = <chain>``."""
        return expectation_error(self, expected, [x.tracer.describe(x) for x in received])


def _shapes_of(structure: Any) -> Any:
    return pack_like(structure, [t.shape for t in flatten(structure)])


def _kind(inputs: Any) -> str:
    if isinstance(inputs, (list, tuple)):
        return f"a {type(inputs).__name__} of {len(inputs)} element(s)"
    if isinstance(inputs, dict):
        return f"a dict with keys {sorted(inputs)}"
    if isinstance(inputs, SymbolicTensor):
        return f"a single tensor of shape {format_shape(inputs.type.shape)}"
    return f"{type(inputs).__name__}"


def _check_kwargs(layer: Layer, kwargs: dict) -> None:
    for key, value in kwargs.items():
        if any(isinstance(x, (SymbolicTensor, Traced, np.ndarray)) for x in flatten(value)):
            raise FrontendError(f"{layer.type_name} '{layer.name}': tensors must be passed as "
                                f"the inputs, not as keyword argument '{key}'")


@functools.lru_cache(maxsize=None)
def _call_signature(cls: type) -> inspect.Signature:
    return inspect.signature(cls.call)


def eager_array(value: Any, what: str) -> np.ndarray:
    """A numpy array graphc can run on; float64 stays f64, unsupported kinds fail."""
    array = np.asarray(value)
    try:
        dtype_of(array.dtype)
    except GraphcError:
        raise FrontendError(f"{what} received an array of unsupported dtype {array.dtype}; "
                            "expected float16/32/64, int32/64 or bool") from None
    return array
