"""Optimizer state in model files, written when the model is compiled for training.

The saving code does not depend on the training package; it uses this
duck-typed contract:

* ``model.optimizer`` is the optimizer (absent or None: nothing is saved);
* ``optimizer.get_config()`` returns its constructor arguments;
* ``optimizer.variables()`` returns its state (slots, iteration counter) as
  a list of arrays or of objects with ``.value``, and
  ``optimizer.set_variables(arrays)`` takes such a list back;
* optionally ``model.get_compile_config()`` returns the other ``compile``
  arguments (loss, metrics ...) as JSON-compatible values.  Until the
  training package offers it, the ``loss``, ``metrics`` and ``loss_weights``
  that ``model.compile`` recorded are saved when they are plain names and
  numbers (a ``Loss`` object or a function is left out, and the loaded
  model is compiled without it).

``optimizer.json`` holds ``{"optimizer": {"class_name", "config", ...},
"compile": <compile config or null>, "variables": [names]}`` and
``optimizer.npz`` the arrays, keyed ``0000``, ``0001`` ... in order.

Restoring (``load_model(..., compile=True)``) resolves the optimizer class
through the registry (graphc's optimizers, registered classes,
``custom_objects``) -- never by import -- rebuilds it from its config, calls
``model.compile(optimizer=..., **compile_config)``, lets the optimizer
create its slots (``optimizer.build(model.trainable_weights)``, which only
adds what is missing) and hands it the stored arrays.  Any failure is
a ``LoadError`` naming ``optimizer.json``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphc.errors import FrontendError, GraphcError, LoadError

from .registry import BUILTIN_MODULES, Resolver, serialized_name
from .values import construct, decode_value, encode_value

KEYS = {"optimizer", "compile", "variables"}


def _array(item: Any) -> np.ndarray:
    value = getattr(item, "value", item)
    return np.asarray(value() if callable(value) else value)


def optimizer_state(model: Any) -> tuple[dict, list[tuple[str, np.ndarray]]] | None:
    """What to write for ``model``'s optimizer, or None when it has none."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    where = f"optimizer of model '{model.name}'"
    for method in ("get_config", "variables"):
        if not callable(getattr(optimizer, method, None)):
            raise FrontendError(f"{where}: {type(optimizer).__name__} has no {method}(), so its "
                                "state cannot be saved")
    class_name, registered = serialized_name(type(optimizer), "optimizer", where)
    described: dict = {"class_name": class_name,
                       "config": encode_value(optimizer.get_config(), where)}
    described.update({"registered_name": registered} if registered else
                     {"module": BUILTIN_MODULES["optimizer"]})
    compile_config = _compile_config(model, where)
    variables = list(optimizer.variables())
    names = [str(getattr(v, "path", getattr(v, "name", i))) for i, v in enumerate(variables)]
    arrays = [(f"{i:04d}", _array(v)) for i, v in enumerate(variables)]
    return ({"optimizer": described, "compile": encode_value(compile_config, where),
             "variables": names}, arrays)


def _compile_config(model: Any, where: str) -> Any:
    if callable(getattr(model, "get_compile_config", None)):
        return model.get_compile_config()
    recorded = getattr(model, "_training_config", None)
    config = {}
    for key in ("loss", "metrics", "loss_weights"):
        value = getattr(recorded, key, None)
        if value is None:
            continue
        try:
            encoded = encode_value(value, where)
        except GraphcError:
            continue
        if _plain(encoded):
            config[key] = value
    return config or None


def _plain(value: Any) -> bool:
    """JSON made of names and numbers only (no serialized objects)."""
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return "class_name" not in value and all(_plain(v) for v in value.values())
    return value is None or isinstance(value, (str, int, float, bool))


def restore_optimizer_state(model: Any, described: Any, arrays: dict[str, np.ndarray],
                            resolver: Resolver, where: str) -> None:
    if not isinstance(described, dict) or set(described) != KEYS:
        raise LoadError(f"{where}: expected exactly the keys {', '.join(sorted(KEYS))}")
    entry = described["optimizer"]
    if not isinstance(entry, dict) or not isinstance(entry.get("config", {}), dict):
        raise LoadError(f"{where}: 'optimizer' must be {{\"class_name\", \"config\"}}")
    cls = resolver.lookup("optimizer", entry.get("class_name"), entry.get("registered_name"),
                          where, builtin=entry.get("module") == BUILTIN_MODULES["optimizer"])
    config = decode_value(entry.get("config", {}), resolver, f"{where}, optimizer config")
    optimizer = construct(cls, config, f"{where}, optimizer")
    compile_config = decode_value(described["compile"], resolver, f"{where}, compile")
    if compile_config is not None and not isinstance(compile_config, dict):
        raise LoadError(f"{where}: 'compile' must be an object or null")
    keys = [f"{i:04d}" for i in range(len(arrays))]
    if sorted(arrays) != keys:
        raise LoadError(f"{where}: optimizer.npz must hold arrays 0000, 0001 ... in order")
    if not callable(getattr(model, "compile", None)):
        raise LoadError(f"{where}: the file holds optimizer state, but model '{model.name}' "
                        "cannot be compiled; load it with compile=False")
    try:
        model.compile(optimizer=optimizer, **(compile_config or {}))
        target = getattr(model, "optimizer", None) or optimizer
        if callable(getattr(target, "build", None)):
            target.build(model.trainable_weights)
        target.set_variables([arrays[k] for k in keys])
    except LoadError:
        raise
    except (GraphcError, TypeError, ValueError) as exc:
        raise LoadError(f"{where}: the optimizer state cannot be restored: {exc}") from None
