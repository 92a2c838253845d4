"""Layer entries of model configs, and the contexts of one save or rebuild.

A model config lists its layers as *entries*::

    {"class_name": "Dense", "module": "graphc.layers", "name": "dense",
     "config": {...}}                        # a layer written in full
    {"class_name": "Dense", "name": "dense", "shared": "inner/dense"}
                                             # a layer already written

A layer object is written in full once per save, at its first appearance in
a depth-first walk of the model (nested models' layers before the layers
that follow the nested model); its *path* is the chain of model names from
the top model to it (``inner/dense``).  Every later appearance -- a layer
shared between a nested model and its parent, say -- is a ``shared``
reference to that path, and the rebuild, which walks entries in the same
order, hands back the same object, so sharing survives a round-trip.

``SaveContext`` remembers the paths (and the original objects, which
``clone_model`` needs); ``RebuildContext`` holds the resolver, the objects
rebuilt so far, an optional ``factory`` (``clone_model``'s clone_function),
the nesting depth and an optional ``WeightBudget``.

The weight budget guards loading from files: every layer a file's config
creates gets it, and ``Layer.add_weight`` charges each new weight against it
before allocating, so an architecture cannot claim more memory than the
weights the file actually holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from graphc.errors import FrontendError, GraphcError, LoadError

from ..diagnostics import message_without_call_site
from ..layers.base import Layer
from ..naming import check_name
from .build_config import apply_build_config, build_config, needs_build_config
from .layer_config import class_name_of, layer_config, layer_from_config
from .registry import Resolver

ENTRY_KEYS = frozenset({"class_name", "config", "module", "registered_name", "name", "shared",
                        "build_config"})
MAX_NESTING = 64
GRAPHC_MODULES = ("graphc.layers", "graphc.models")


@dataclass
class SaveContext:
    paths: dict[int, str] = field(default_factory=dict)
    objects: dict[str, Layer] = field(default_factory=dict)


class WeightBudget:
    """Bytes of weights that layers created by one load may still allocate."""

    def __init__(self, max_bytes: int) -> None:
        self.left = int(max_bytes)

    def charge(self, layer: Layer, name: str, shape: tuple, itemsize: int) -> None:
        need = math.prod(shape) * itemsize
        if need > self.left:
            raise LoadError(f"{layer.type_name} '{layer.name}' would create weight '{name}' of "
                            f"shape {tuple(shape)} ({need:,} bytes), more than the weights "
                            f"stored in the file allow ({self.left:,} bytes left); the "
                            "architecture does not match its weights")
        self.left -= need


@dataclass
class RebuildContext:
    resolver: Resolver
    objects: dict[str, Layer] = field(default_factory=dict)
    factory: Callable[[str, dict], Layer | None] | None = None
    budget: WeightBudget | None = None
    depth: int = 0
    budgeted: list[Layer] = field(default_factory=list)
    created: list[Layer] = field(default_factory=list)

    def attach_budget(self, layer: Layer) -> None:
        if self.budget is None:
            return
        stack = [layer]
        while stack:
            item = stack.pop()
            if "_weight_budget" in item.__dict__:
                continue
            item.__dict__["_weight_budget"] = self.budget
            self.budgeted.append(item)
            stack.extend(item.__dict__.get("_sublayers", ()))

    def set_source(self, source: tuple[str, int | None]) -> None:
        """Make every rebuilt layer (and its sublayers) say it came from ``source``:
        their IR locations then name the model file instead of the loading code."""
        stack = list(self.created)
        while stack:
            layer = stack.pop()
            layer.source = source
            stack.extend(layer.__dict__.get("_sublayers", ()))

    def release(self) -> None:
        """Lift the budget: later builds of these layers are the user's business."""
        for layer in self.budgeted:
            layer.__dict__.pop("_weight_budget", None)
        self.budgeted.clear()


def uses_graph_config(layer_class: type) -> bool:
    """Whether ``layer_class`` is saved as a graph of layers (Functional,
    Sequential and subclasses that keep their constructor and get_config)."""
    from ..models.model import Model
    from ..models.sequential import Sequential
    return issubclass(layer_class, Model) and layer_class.get_config is Model.get_config and \
        layer_class.__init__ in (Model.__init__, Sequential.__init__)


def config_in_context(layer: Layer, ctx: SaveContext, prefix: str,
                      base: bool = False) -> dict:
    """The config of ``layer``: its graph for Functional/Sequential models, the
    constructor arguments for a model subclass with its own constructor (and no
    get_config of its own), else what its ``get_config`` returns.  ``base``
    asks for what ``Model.get_config`` itself gives, ignoring an override (the
    override calls it as ``super().get_config()``)."""
    from ..models.model import Model
    from ..models.sequential import Sequential
    graph = uses_graph_config(type(layer)) or (
        base and type(layer).__init__ in (Model.__init__, Sequential.__init__))
    if graph:
        from .model_config import graph_config
        return graph_config(layer, ctx, prefix)
    if isinstance(layer, Model) and (base or type(layer).get_config is Model.get_config):
        return layer_config(layer)
    config = layer.get_config()
    if not isinstance(config, dict):
        raise FrontendError(f"{layer.type_name} '{layer.name}'.get_config() must return a dict, "
                            f"returned {type(config).__name__}")
    return config


def serialize_entry(layer: Layer, ctx: SaveContext, prefix: str) -> dict:
    class_name, extra = class_name_of(type(layer))
    if id(layer) in ctx.paths:
        return {"class_name": class_name, "name": layer.name, "shared": ctx.paths[id(layer)]}
    path = prefix + layer.name
    ctx.paths[id(layer)] = path
    ctx.objects[path] = layer
    entry = {"class_name": class_name, "name": layer.name,
             "config": config_in_context(layer, ctx, path + "/")}
    entry.update(extra)
    if needs_build_config(layer):
        entry["build_config"] = build_config(layer)
    return entry


def check_entry(entry: Any, where: str) -> str:
    """The entry's name; LoadError if the entry is malformed."""
    if not isinstance(entry, dict):
        raise LoadError(f"{where}: a layer entry must be a JSON object, received "
                        f"{type(entry).__name__}")
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        raise LoadError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))} in a layer "
                        f"entry; expected: {', '.join(sorted(ENTRY_KEYS))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name or "/" in name:
        raise LoadError(f"{where}: a layer entry needs a 'name' (a non-empty string without "
                        f"'/'), received {name!r}")
    return name


def lookup_path(objects: dict[str, Layer], path: str) -> Layer | None:
    """The layer at ``path``: rebuilt under that path, or found by name inside
    a model rebuilt under a prefix of it (a nested model that clone_model's
    clone_function copied as a whole)."""
    if path in objects:
        return objects[path]
    parts = path.split("/")
    for cut in range(len(parts) - 1, 0, -1):
        layer = objects.get("/".join(parts[:cut]))
        if layer is None:
            continue
        for name in parts[cut:]:
            inner = list(getattr(layer, "operations", None) or getattr(layer, "layers", None)
                         or [])
            layer = next((op for op in inner if op.name == name), None)
            if layer is None:
                return None
        return layer
    return None


def deserialize_entry(entry: Any, ctx: RebuildContext, prefix: str, where: str) -> Layer:
    name = check_entry(entry, where)
    where = f"{where} ('{name}')"
    if "shared" in entry:
        path = entry["shared"]
        found = lookup_path(ctx.objects, path) if isinstance(path, str) else None
        if found is None and ctx.factory is not None and isinstance(path, str):
            found = ctx.factory(path, entry)
        if found is None:
            raise LoadError(f"{where}: 'shared' refers to {path!r}, which is not a layer written "
                            "earlier in the config (a dangling reference)")
        return found
    path = prefix + name
    layer = ctx.factory(path, entry) if ctx.factory is not None else None
    if layer is None:
        layer = _rebuild(entry, ctx, path, where)
        if layer.name != name:  # a constructor that picks its own name
            layer.name = check_name(name, layer.type_name)
        if "build_config" in entry:
            apply_build_config(layer, entry["build_config"], where)
        ctx.created.append(layer)
    elif not isinstance(layer, Layer):
        raise FrontendError(f"clone_function must return a graphc Layer; for layer '{name}' it "
                            f"returned {type(layer).__name__}")
    ctx.objects[path] = layer
    return layer


def _rebuild(entry: dict, ctx: RebuildContext, path: str, where: str) -> Layer:
    module = entry.get("module")
    cls = ctx.resolver.lookup("layer", entry.get("class_name"), entry.get("registered_name"),
                              where, builtin=module in GRAPHC_MODULES)
    config = entry.get("config")
    if not isinstance(config, dict):
        raise LoadError(f"{where}: 'config' must be a JSON object, received "
                        f"{type(config).__name__}")
    own = getattr(cls.from_config, "__func__", None)
    graphc_default = own in (getattr(Layer.from_config, "__func__"), _model_from_config_func())
    if uses_graph_config(cls) and own is _model_from_config_func():
        if ctx.depth >= MAX_NESTING:
            raise LoadError(f"{where}: models nested more than {MAX_NESTING} levels deep")
        from .model_config import rebuild_graph
        ctx.depth += 1
        try:
            return rebuild_graph(cls, config, ctx, path + "/", where)
        finally:
            ctx.depth -= 1
    if graphc_default:  # not overridden: decode with this load's resolver
        try:
            layer = layer_from_config(cls, config, ctx.resolver)
        except LoadError as exc:
            raise LoadError(f"{where}: {exc}") from None
    else:
        try:
            layer = cls.from_config(config)
        except LoadError:
            raise
        except (GraphcError, TypeError, ValueError, KeyError) as exc:
            raise LoadError(f"{where}: {cls.__name__}.from_config failed: {message_without_call_site(exc)}") from None
    if not isinstance(layer, Layer):
        raise LoadError(f"{where}: {cls.__name__}.from_config returned "
                        f"{type(layer).__name__}, not a layer")
    ctx.attach_budget(layer)
    return layer


def _model_from_config_func() -> Any:
    from ..models.model import Model
    return getattr(Model.from_config, "__func__", None)
