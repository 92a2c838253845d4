"""Which classes and functions a config may name, and how names resolve.

A config names classes (``"class_name": "Dense"``) and functions
(``"activation": "relu"``).  Resolving a name never imports anything and
never evaluates text: it is a dictionary look-up, in this order,

1. ``custom_objects`` given to the loading call, by registered name
   (``"Custom>Residual"``) or by class/function name (``"Residual"``);
2. objects registered with ``register_serializable`` (process-wide, by
   registered name);
3. graphc's own tables: the layers of ``graphc.layers``, the op nodes of
   ``graphc.ops``, ``Functional`` (``graphc.Model``) and ``Sequential``, the
   initializers of ``graphc.initializers`` and the activations of
   ``graphc.activations``.

The expected kind is checked too: a name that resolves to something that is
not a layer where a layer is expected is refused.  An unknown name is a
``LoadError`` that names it, says where it appeared and how to make it
known.  ``serialized_name`` is the inverse used when writing configs.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping

from graphc.errors import FrontendError, LoadError

REGISTERED: dict[str, Any] = {}
"""Registered name ("Package>Name") -> class or function."""

_NAMES: dict[int, str] = {}
"""id(object) -> registered name (objects stay alive in REGISTERED)."""


def register_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Decorator: make a custom layer, initializer or activation loadable.

    ``@register_serializable()`` registers ``MyLayer`` as ``"Custom>MyLayer"``;
    configs then store that name and ``load_model`` resolves it without being
    given ``custom_objects``.  Registering a name again replaces the entry
    (convenient when a notebook cell is re-run)."""
    if not isinstance(package, str) or not package or ">" in package:
        raise FrontendError(f"register_serializable: package must be a non-empty string "
                            f"without '>'. Received: package={package!r}")

    def decorate(obj: Any) -> Any:
        if not callable(obj):
            raise FrontendError(f"register_serializable can only register classes and "
                                f"functions. Received: {obj!r}")
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise FrontendError(f"cannot register {obj.__name__}: a serializable class must "
                                "implement get_config()")
        key = f"{package}>{name or obj.__name__}"
        previous = REGISTERED.get(key)
        if previous is not None:
            _NAMES.pop(id(previous), None)
        REGISTERED[key] = obj
        _NAMES[id(obj)] = key
        return obj

    return decorate


def registered_name(obj: Any) -> str | None:
    """The name ``obj`` was registered under, or None."""
    key = _NAMES.get(id(obj))
    return key if key is not None and REGISTERED.get(key) is obj else None


def _builtin_layers() -> dict[str, type]:
    from .. import layers
    from ..layers.base import Layer
    from ..models import Model, Sequential
    from ..ops.dispatch import OpNode
    table = {name: obj for name, obj in vars(layers).items()
             if inspect.isclass(obj) and issubclass(obj, Layer) and obj is not Layer}
    table.update({"OpNode": OpNode, "Functional": Model, "Sequential": Sequential})
    return table


def _builtin_initializers() -> dict[str, type]:
    from .. import initializers
    return {cls.__name__: cls for cls in initializers.BY_NAME.values()}


def _builtin_activations() -> dict[str, Callable]:
    from ..activations import ACTIVATIONS
    return dict(ACTIVATIONS)


def _builtin_optimizers() -> dict[str, type]:
    try:
        from .. import optimizers  # type: ignore[attr-defined]
    except ImportError:  # the training package is optional for saving
        return {}
    return {name: obj for name, obj in vars(optimizers).items()
            if inspect.isclass(obj) and hasattr(obj, "get_config")}


BUILTIN_TABLES: dict[str, Callable[[], Mapping[str, Any]]] = {
    "layer": _builtin_layers,
    "initializer": _builtin_initializers,
    "activation": _builtin_activations,
    "optimizer": _builtin_optimizers,
}
"""Kind -> graphc's own table of that kind (built on first use)."""

BUILTIN_MODULES = {"layer": "graphc.layers", "initializer": "graphc.initializers",
                   "activation": "graphc.activations", "optimizer": "graphc.optimizers"}
"""The ``module`` written next to a built-in ``class_name`` (informational only)."""


def _base_class(kind: str) -> type | None:
    if kind == "layer":
        from ..layers.base import Layer
        return Layer
    if kind == "initializer":
        from ..initializers import Initializer
        return Initializer
    return None


def builtin_name(obj: Any, kind: str) -> str | None:
    """The name of ``obj`` in graphc's table of ``kind`` (None if not there)."""
    for name, known in BUILTIN_TABLES[kind]().items():
        if known is obj:
            return name
    return None


def serialized_name(obj: Any, kind: str, where: str) -> tuple[str, str | None]:
    """``(class_name, registered_name)`` to write for a class or function."""
    key = registered_name(obj)
    if key is not None:
        return getattr(obj, "__name__", key), key
    name = builtin_name(obj, kind)
    if name is not None:
        return name, None
    if kind == "activation":
        raise FrontendError(f"{where}: the function {getattr(obj, '__name__', obj)!r} is not a "
                            "graphc activation and is not registered, so it cannot be saved; "
                            "decorate it with @graphc.saving.register_serializable(), or use a "
                            "Lambda layer (stored as IR)")
    return obj.__name__, None


class Resolver:
    """Looks names up in ``custom_objects``, the registry and graphc's tables."""

    def __init__(self, custom_objects: Mapping[str, Any] | None = None) -> None:
        if custom_objects is not None and not isinstance(custom_objects, Mapping):
            raise FrontendError(f"custom_objects must be a dict of name -> class or function. "
                                f"Received: {type(custom_objects).__name__}")
        self.custom_objects = dict(custom_objects or {})

    def lookup(self, kind: str, class_name: Any, registered: Any, where: str,
               builtin: bool = True) -> Any:
        """The class or function a config names; graphc's own table is only
        consulted when ``builtin`` (the entry says it is one of graphc's)."""
        if not isinstance(class_name, str) or not class_name:
            raise LoadError(f"{where}: class_name must be a non-empty string, received "
                            f"{class_name!r}")
        if registered is not None and not isinstance(registered, str):
            raise LoadError(f"{where}: registered_name must be a string or null, received "
                            f"{registered!r}")
        found = None
        for key in (registered, class_name):
            if key is not None and key in self.custom_objects:
                found = self.custom_objects[key]
                break
        if found is None and registered is not None:
            found = REGISTERED.get(registered)
        if found is None and builtin:
            found = BUILTIN_TABLES[kind]().get(class_name)
        if found is None:
            raise LoadError(self._unknown(kind, registered or class_name, where))
        base = _base_class(kind)
        if base is not None and not (inspect.isclass(found) and issubclass(found, base)):
            raise LoadError(f"{where}: '{registered or class_name}' resolves to {found!r}, "
                            f"which is not a graphc {kind} class")
        if base is None and not callable(found):
            raise LoadError(f"{where}: '{registered or class_name}' resolves to {found!r}, "
                            f"which is not a function")
        return found

    @staticmethod
    def _unknown(kind: str, name: str, where: str) -> str:
        known = sorted(BUILTIN_TABLES[kind]())
        return (f"{where}: unknown {kind} '{name}'. It is not one of graphc's {kind}s "
                f"({', '.join(known)}) and not a registered custom object. If it is your own "
                f"class or function, decorate it with @graphc.saving.register_serializable() "
                f"before loading, or pass custom_objects={{'{name}': {name.split('>')[-1]}}}")
