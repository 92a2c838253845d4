"""``Layer.get_config`` / ``Layer.from_config`` for single layers.

A layer config is a JSON object of constructor arguments:

* every layer: ``name``, ``trainable``, ``dtype`` (read from the layer);
* built-in layers: the fields of ``schemas.LAYER_FIELDS`` for the class,
  each encoded by its kind; ``from_config`` rejects unknown keys and
  wrong-typed values with a ``LoadError`` naming the key;
* ``InputLayer``: ``batch_shape`` (null for the symbolic batch and unknown
  dims), ``dtype``, ``name``;
* ``Lambda`` and ``OpNode`` (a ``graphc.ops`` call on symbolic tensors): the
  IR their function traced to (``traced_ir.py``), never code;
* any other layer (a user's subclass): the arguments its constructor was
  called with, captured when the layer was created (``Layer.__new__``
  records them), encoded generically (``values.encode_value``).  A layer
  whose arguments are not JSON-compatible must override ``get_config``
  (calling ``super().get_config()`` and adding its own keys) -- the
  message says so.

``from_config`` for a user's class decodes the config generically and calls
``cls(**config)``; a class that overrides ``from_config`` receives the JSON
values and can decode objects in them with ``graphc.saving.deserialize``.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from graphc.errors import FrontendError, GraphcError, LoadError

from ..layers.base import Layer
from ..naming import check_name
from .registry import BUILTIN_MODULES, Resolver, builtin_name, registered_name
from .schemas import BASE_FIELDS, LAYER_FIELDS
from .traced_ir import IRFunction, trace_layer_calls
from .kinds import IntList
from .values import decode_value, encode_value

INPUT_OPTIONS = ("input_shape", "batch_size", "input_dtype", "input_dim")
"""Constructor options that describe a Sequential's input; the InputLayer
entry stores that, so layer configs leave them out."""

MODEL_CLASS_NAMES = ("Functional", "Sequential")


def label(layer: Layer) -> str:
    return f"{layer.type_name} '{layer.name}'"


def class_name_of(layer_class: type) -> tuple[str, dict]:
    """``(class_name, extra entry keys)`` naming ``layer_class`` in a config."""
    key = registered_name(layer_class)
    if key is not None:
        return layer_class.__name__, {"registered_name": key}
    name = builtin_name(layer_class, "layer")
    if name is not None:
        module = "graphc.models" if name in MODEL_CLASS_NAMES else BUILTIN_MODULES["layer"]
        return name, {"module": module}
    return layer_class.__name__, {}


def base_config(layer: Layer) -> dict:
    return {"name": layer.name, "trainable": bool(layer.trainable), "dtype": layer.dtype}


def captured_arguments(layer: Layer) -> dict:
    """The constructor arguments ``layer`` was created with, by parameter name."""
    captured = layer.__dict__.get("_constructor_args")
    if captured is None:
        return {}
    args, kwargs = captured
    signature = inspect.signature(type(layer).__init__)
    try:
        bound = signature.bind(layer, *args, **kwargs)
    except TypeError:
        return {}
    out: dict = {}
    for name, value in list(bound.arguments.items())[1:]:
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                raise FrontendError(f"{label(layer)} was created with extra positional "
                                    f"arguments {value!r}; it cannot be saved without a "
                                    "get_config() that names them")
        elif kind is inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        else:
            out[name] = value
    return {k: v for k, v in out.items() if k not in BASE_FIELDS and k not in INPUT_OPTIONS}


def layer_config(layer: Layer) -> dict:
    """What ``Layer.get_config`` returns (see the module doc)."""
    cls_name = builtin_name(type(layer), "layer")
    where = f"config of {label(layer)}"
    rule = SPECIAL_RULES.get(cls_name)
    if rule is not None:
        return rule[0](layer)
    config = base_config(layer)
    fields = LAYER_FIELDS.get(cls_name) if cls_name else None
    if fields is not None:
        for field, kind in fields.items():
            config[field] = kind.encode(getattr(layer, field), f"{where}, '{field}'")
        return config
    for key, value in captured_arguments(layer).items():
        config[key] = encode_value(value, f"{where}, argument '{key}'")
    return config


def layer_from_config(cls: type, config: Any, resolver: Resolver | None = None) -> Layer:
    """What ``Layer.from_config`` does (see the module doc)."""
    resolver = resolver or Resolver()
    if not isinstance(config, dict):
        raise LoadError(f"the config of a {cls.__name__} must be a JSON object, received "
                        f"{type(config).__name__}")
    name = config.get("name")
    where = f"{cls.__name__} '{name}'" if isinstance(name, str) else f"a {cls.__name__}"
    cls_name = builtin_name(cls, "layer")
    rule = SPECIAL_RULES.get(cls_name)
    if rule is not None:
        return _created(where, lambda: rule[1](cls, config, resolver, where))
    fields = LAYER_FIELDS.get(cls_name) if cls_name else None
    if fields is None:
        kwargs = decode_value(config, resolver, f"config of {where}")
        return _created(where, lambda: cls(**kwargs))
    kwargs = decode_fields(config, {**BASE_FIELDS, **fields}, resolver, where)
    return _created(where, lambda: cls(**kwargs))


def decode_fields(config: dict, fields: dict, resolver: Resolver, where: str) -> dict:
    unknown = sorted(set(config) - set(fields))
    if unknown:
        raise LoadError(f"config of {where} has unknown key(s) {', '.join(map(repr, unknown))}; "
                        f"expected keys: {', '.join(sorted(fields))}")
    return {key: fields[key].decode(raw, resolver, f"config of {where}, key '{key}'")
            for key, raw in config.items()}


def _created(where: str, make: Callable[[], Any]) -> Any:
    try:
        return make()
    except LoadError:
        raise
    except (GraphcError, TypeError, ValueError) as exc:
        raise LoadError(f"cannot create {where} from its config: {exc}") from None


# --- special rules -----------------------------------------------------------------
def input_config(tensor_type: Any, name: str) -> dict:
    """The InputLayer config for inputs of ``tensor_type`` (symbolic dims -> null)."""
    dims = [d if isinstance(d, int) else None for d in tensor_type.shape]
    return {"batch_shape": dims, "dtype": tensor_type.dtype.value, "name": name}


def _input_config(layer: Any) -> dict:
    return input_config(layer.type, layer.name)


def _input_from_config(cls: type, config: dict, resolver: Resolver, where: str) -> Layer:
    fields = {"batch_shape": IntList(0, none_ok=True, non_empty=True),
              "dtype": BASE_FIELDS["dtype"], "name": BASE_FIELDS["name"]}
    kwargs = decode_fields(config, fields, resolver, where)
    return cls(**kwargs)


def _lambda_config(layer: Any) -> dict:
    return {**base_config(layer), "function": trace_layer_calls(layer)}


def _lambda_from_config(cls: type, config: dict, resolver: Resolver, where: str) -> Layer:
    fields = dict(BASE_FIELDS)
    fields.pop("name")
    rest = {k: v for k, v in config.items() if k not in ("function", "name")}
    kwargs = decode_fields(rest, fields, resolver, where)
    if "function" not in config:
        raise LoadError(f"config of {where} needs 'function' (the stored IR)")
    function = IRFunction.from_config(config["function"], f"config of {where}, 'function'")
    return cls(function, name=check_name(config.get("name"), cls.__name__), **kwargs)


def _op_config(layer: Any) -> dict:
    return {"name": layer.name, "op": layer.op_name, "function": trace_layer_calls(layer)}


def _op_from_config(cls: type, config: dict, resolver: Resolver, where: str) -> Layer:
    from ..ops.dispatch import _Slot
    if set(config) != {"name", "op", "function"}:
        raise LoadError(f"config of {where} needs exactly the keys 'function', 'name' and "
                        f"'op'; received {sorted(config)}")
    op = config["op"]
    if not isinstance(op, str) or not op.isidentifier():
        raise LoadError(f"config of {where}: 'op' must be an op name, received {op!r}")
    function = IRFunction.from_config(config["function"], f"config of {where}, 'function'")
    slots = tuple(_Slot(i) for i in range(function.input_count))
    node = cls(op, function, (slots, {}))
    node.name = check_name(config["name"], "OpNode")
    return node


SPECIAL_RULES: dict[str | None, tuple[Callable, Callable]] = {
    "InputLayer": (_input_config, _input_from_config),
    "Lambda": (_lambda_config, _lambda_from_config),
    "OpNode": (_op_config, _op_from_config),
}
"""Class name -> (get_config rule, from_config rule) for layers whose config
is not a plain list of constructor fields."""


# --- a layer as a value inside another config ------------------------------------------
def standalone_entry(layer: Layer) -> dict:
    """``{"class_name", "config", ...}`` of a layer passed as an argument."""
    from .entries import SaveContext, serialize_entry
    entry = serialize_entry(layer, SaveContext(), "")
    entry.pop("name", None)
    return entry


def standalone_layer(raw: dict, resolver: Resolver, where: str) -> Layer:
    from .entries import RebuildContext, deserialize_entry
    entry = dict(raw)
    config = entry.get("config")
    entry["name"] = config.get("name") if isinstance(config, dict) else None
    return deserialize_entry(entry, RebuildContext(resolver), "", where)
