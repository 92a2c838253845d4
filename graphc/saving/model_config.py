"""Model configs: ``get_config``/``from_config`` of models, ``to_json`` and
``model_from_json``.

A Functional model's config is described in ``functional.py``.  A
Sequential's is ``{"name", "trainable", "layers": [entry, ...]}`` where the
first entry is its InputLayer once the model knows its input (an unbuilt
Sequential lists only its layers, and is rebuilt unbuilt).

``to_json`` writes ``{"class_name", "config", "module"}`` with sorted keys,
so a round trip (``model_from_json(m.to_json()).to_json()``) gives the same
bytes.  ``parse_json`` is the strict reader every load uses: duplicate keys,
non-standard numbers (NaN, Infinity) and absurd nesting are ``LoadError``s.
"""

from __future__ import annotations

import json
from typing import Any

from graphc.errors import FrontendError, GraphcError, LoadError

from ..diagnostics import message_without_call_site
from ..layers.base import Layer
from .build_config import build_config, needs_build_config
from .entries import (RebuildContext, SaveContext, config_in_context, deserialize_entry,
                      serialize_entry, uses_graph_config)
from .functional import MODEL_KEYS, functional_config, rebuild_functional
from .layer_config import class_name_of, layer_from_config
from .registry import Resolver

SEQUENTIAL_KEYS = ("layers", "name", "trainable")


def graph_config(model: Any, ctx: SaveContext, prefix: str) -> dict:
    from ..models.sequential import Sequential
    if isinstance(model, Sequential):
        return sequential_config(model, ctx, prefix)
    return functional_config(model, ctx, prefix)


def sequential_config(model: Any, ctx: SaveContext, prefix: str) -> dict:
    entries = []
    if model._input_tensor is not None:
        entries.append(serialize_entry(model._input_tensor.site.layer, ctx, prefix))
    entries += [serialize_entry(layer, ctx, prefix) for layer in model.layers]
    return {"name": model.name, "trainable": bool(model.trainable), "layers": entries}


def top_config(model: Layer, ctx: SaveContext | None = None, base: bool = False) -> dict:
    """The config of ``model`` at the top of a save.  Paths of its layers start
    with the model's name (``m/dense``), as they do when it is rebuilt."""
    ctx = ctx or SaveContext()
    ctx.paths[id(model)] = model.name
    ctx.objects[model.name] = model
    return config_in_context(model, ctx, model.name + "/", base)


def model_config(model: Any) -> dict:
    """``Model.get_config()``: the base class's config, also when a subclass
    overrides ``get_config`` and calls it through ``super()``."""
    return top_config(model, base=True)


def model_entry(model: Layer) -> dict:
    """``{"class_name", "config", "module" | "registered_name"}`` of a top-level model."""
    class_name, extra = class_name_of(type(model))
    entry = {"class_name": class_name, "config": top_config(model), **extra}
    if needs_build_config(model):
        entry["build_config"] = build_config(model)
    return entry


def to_json(model: Layer, **kwargs: Any) -> str:
    kwargs.setdefault("sort_keys", True)
    kwargs.setdefault("allow_nan", False)
    return json.dumps(model_entry(model), **kwargs)


def _check_keys(config: Any, keys: tuple[str, ...], where: str) -> None:
    if not isinstance(config, dict):
        raise LoadError(f"{where}: a model config must be a JSON object")
    missing = [k for k in keys if k not in config]
    unknown = sorted(set(config) - set(keys))
    if missing or unknown:
        parts = ([f"missing key(s) {', '.join(map(repr, missing))}"] if missing else []) + \
                ([f"unknown key(s) {', '.join(map(repr, unknown))}"] if unknown else [])
        raise LoadError(f"{where}: {' and '.join(parts)}; expected exactly "
                        f"{', '.join(keys)}")
    if not isinstance(config["name"], str) or not config["name"]:
        raise LoadError(f"{where}: 'name' must be a non-empty string")
    if not isinstance(config["trainable"], bool):
        raise LoadError(f"{where}: 'trainable' must be true or false, received "
                        f"{config['trainable']!r}")


def rebuild_graph(cls: type, config: Any, ctx: RebuildContext, prefix: str, where: str,
                  input_tensors: list[Any] | None = None) -> Any:
    from ..models.sequential import Sequential
    if issubclass(cls, Sequential):
        _check_keys(config, SEQUENTIAL_KEYS, where)
        return rebuild_sequential(cls, config, ctx, prefix, where, input_tensors)
    _check_keys(config, MODEL_KEYS, where)
    return rebuild_functional(cls, config, ctx, prefix, where, input_tensors)


def rebuild_sequential(cls: type, config: dict, ctx: RebuildContext, prefix: str, where: str,
                       input_tensors: list[Any] | None = None) -> Any:
    entries = config["layers"]
    if not isinstance(entries, list):
        raise LoadError(f"{where}: 'layers' must be a list")
    try:
        model = cls(name=config["name"], trainable=config["trainable"])
    except GraphcError as exc:
        raise LoadError(f"{where}: {exc}") from None
    for i, entry in enumerate(entries):
        layer = deserialize_entry(entry, ctx, prefix, f"{where}, layers[{i}]")
        item: Any = layer
        if input_tensors is not None and layer.is_input_layer:
            item = input_tensors[0]
        try:
            model.add(item)
        except GraphcError as exc:
            raise LoadError(f"{where}, layers[{i}]: adding layer '{layer.name}' failed: "
                            f"{message_without_call_site(exc)}") from None
    return model


def model_from_config(cls: type, config: Any, custom_objects: Any = None,
                      ctx: RebuildContext | None = None) -> Any:
    """``Model.from_config``: rebuild a model of class ``cls`` from its config."""
    ctx = ctx or RebuildContext(Resolver(custom_objects))
    if uses_graph_config(cls):
        name = config.get("name") if isinstance(config, dict) else None
        return rebuild_graph(cls, config, ctx, f"{name}/", f"model config ('{name}')")
    return layer_from_config(cls, config, ctx.resolver)


def deserialize_top(entry: Any, ctx: RebuildContext, where: str) -> Layer:
    """The object of a top-level ``{"class_name", "config", ...}`` entry."""
    if not isinstance(entry, dict):
        raise LoadError(f"{where}: expected a JSON object with class_name and config, received "
                        f"{type(entry).__name__}")
    config = entry.get("config")
    name = config.get("name") if isinstance(config, dict) else None
    named = dict(entry, name=name if isinstance(name, str) and name else "model")
    return deserialize_entry(named, ctx, "", where)


def parse_json(text: str | bytes, where: str) -> Any:
    """Strict JSON: duplicate keys and NaN/Infinity are errors, as is deep nesting."""
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
        out: dict = {}
        for key, value in pairs:
            if key in out:
                raise LoadError(f"{where}: the key '{key}' appears twice in one object")
            out[key] = value
        return out

    def no_constants(name: str) -> Any:
        raise LoadError(f"{where}: '{name}' is not standard JSON")

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except LoadError:
        raise
    except RecursionError:
        raise LoadError(f"{where}: JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise LoadError(f"{where}: not valid JSON ({exc})") from None


def model_from_json(json_string: str, custom_objects: Any = None) -> Any:
    """The model (or layer) that ``to_json`` described, freshly initialized."""
    if not isinstance(json_string, (str, bytes)):
        raise FrontendError(f"model_from_json expects a JSON string, received "
                            f"{type(json_string).__name__}")
    entry = parse_json(json_string, "model JSON")
    try:
        return deserialize_top(entry, RebuildContext(Resolver(custom_objects)), "model JSON")
    except RecursionError:
        raise LoadError("model JSON: structure nested too deeply") from None
