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
  that ``model.compile`` recorded are saved when they are plain names,
  numbers and graphc's own ``Loss`` objects (``{"graphc_loss": class name,
  "config"}``, rebuilt only from ``graphc.losses``); a user function or
  object is left out, and the loaded model is compiled without it.

``optimizer.json`` holds ``{"optimizer": {"class_name", "config", ...},
"compile": <compile config or null>, "variables": [names]}`` and
``optimizer.npz`` the arrays, keyed ``0000``, ``0001`` ... in order.  When
the optimizer offers ``slot_state()`` / ``set_slot()`` (graphc's do), the
names say what each array is: ``iterations``, or ``weight:<i>:<slot>`` for
slot ``<slot>`` of ``model.weights[i]`` -- an index, because the model
rebuilt from the same file has the same weights in the same order even
when auto-named sublayers get new names.  Restoring then assigns by name:
slots of weights frozen since, or never trained yet, are simply absent or
extra, never shifted onto another weight.  Other optimizers are restored
by position (``variables()`` / ``set_variables()``).

Restoring (``load_model(..., compile=True)``) resolves the optimizer class
through the registry (graphc's optimizers, registered classes,
``custom_objects``) -- never by import -- rebuilds it from its config, calls
``model.compile(optimizer=..., **compile_config)``, lets the optimizer
create its slots (``optimizer.build(model.trainable_weights)``, which only
adds what is missing) and hands it the stored arrays.  Any failure is
a ``LoadError`` naming ``optimizer.json``.
"""

from __future__ import annotations

import warnings
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
    if callable(getattr(optimizer, "slot_state", None)):
        index = {id(w): i for i, w in enumerate(model.weights)}
        named = [("iterations", _array(optimizer.iterations))]
        named += [(f"weight:{index[id(w)]}:{slot}", array)
                  for w, slot, array in optimizer.slot_state() if id(w) in index]
    else:
        variables = list(optimizer.variables())
        named = [(str(getattr(v, "path", getattr(v, "name", i))), _array(v))
                 for i, v in enumerate(variables)]
    arrays = [(f"{i:04d}", array) for i, (_, array) in enumerate(named)]
    return ({"optimizer": described, "compile": encode_value(compile_config, where),
             "variables": [name for name, _ in named]}, arrays)


LOSS_OBJECT = "graphc_loss"
"""Key of a saved built-in loss object: ``{"graphc_loss": class name, "config": {...}}``."""


def _builtin_loss_classes() -> dict[str, type]:
    """graphc's own ``Loss`` classes by name: the only ones a file may name."""
    from ..training import losses
    return {name: cls for name, cls in vars(losses).items()
            if isinstance(cls, type) and issubclass(cls, losses.Loss)
            and cls.__module__ == losses.__name__ and cls is not losses.Loss
            and cls is not losses.LossFunctionWrapper}


def _with_loss_objects_saved(value: Any) -> Any:
    """``value`` with each built-in loss object replaced by its saved form."""
    if isinstance(value, (list, tuple)):
        return [_with_loss_objects_saved(v) for v in value]
    if isinstance(value, dict):
        return {k: _with_loss_objects_saved(v) for k, v in value.items()}
    cls = type(value)
    if _builtin_loss_classes().get(cls.__name__) is cls:
        return {LOSS_OBJECT: cls.__name__, "config": value.get_config()}
    return value


def _with_loss_objects_restored(value: Any, where: str) -> Any:
    if isinstance(value, list):
        return [_with_loss_objects_restored(v, where) for v in value]
    if isinstance(value, dict) and LOSS_OBJECT in value:
        classes = _builtin_loss_classes()
        cls = classes.get(value[LOSS_OBJECT]) if isinstance(value[LOSS_OBJECT], str) else None
        if cls is None or set(value) != {LOSS_OBJECT, "config"} or \
                not isinstance(value["config"], dict):
            raise LoadError(f"{where}: a saved loss must be {{\"{LOSS_OBJECT}\": one of "
                            f"{', '.join(sorted(classes))}, \"config\": {{...}}}}")
        return construct(cls, value["config"], f"{where}, loss {value[LOSS_OBJECT]}")
    if isinstance(value, dict):
        return {k: _with_loss_objects_restored(v, where) for k, v in value.items()}
    return value


def _compile_config(model: Any, where: str) -> Any:
    if callable(getattr(model, "get_compile_config", None)):
        return model.get_compile_config()
    recorded = getattr(model, "_training_config", None)
    config = {}
    for key in ("loss", "metrics", "loss_weights"):
        value = getattr(recorded, key, None)
        if value is None:
            continue
        value = _with_loss_objects_saved(value)
        try:
            encoded = encode_value(value, where)
        except GraphcError:
            continue
        if _plain(encoded):
            config[key] = value
    return config or None


def _plain(value: Any) -> bool:
    """JSON made of names, numbers and saved built-in losses only (no other objects)."""
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
    compile_config = _with_loss_objects_restored(compile_config, f"{where}, compile")
    keys = [f"{i:04d}" for i in range(len(arrays))]
    if sorted(arrays) != keys:
        raise LoadError(f"{where}: optimizer.npz must hold arrays 0000, 0001 ... in order")
    if not callable(getattr(model, "compile", None)):
        raise LoadError(f"{where}: the file holds optimizer state, but model '{model.name}' "
                        "cannot be compiled; load it with compile=False")
    if "loss" not in (compile_config or {}):
        warnings.warn(f"{where}: model '{model.name}' was compiled with a loss that could not "
                      "be saved (a function or an object of your own), so it is loaded "
                      "uncompiled: call model.compile(...) again to train it", stacklevel=3)
        return
    names = described["variables"]
    if not isinstance(names, list) or len(names) != len(keys) or \
            not all(isinstance(n, str) for n in names):
        raise LoadError(f"{where}: 'variables' must list one name per array of optimizer.npz")
    try:
        model.compile(optimizer=optimizer, **(compile_config or {}))
        target = getattr(model, "optimizer", None) or optimizer
        if callable(getattr(target, "build", None)):
            target.build(model.trainable_weights)
        if callable(getattr(target, "set_slot", None)) and names[:1] == ["iterations"]:
            _assign_named(model, target, names, [arrays[k] for k in keys], where)
        else:
            target.set_variables([arrays[k] for k in keys])
    except LoadError:
        raise
    except (GraphcError, TypeError, ValueError) as exc:
        raise LoadError(f"{where}: the optimizer state cannot be restored: {exc}") from None


def _assign_named(model: Any, optimizer: Any, names: list[str], arrays: list[np.ndarray],
                  where: str) -> None:
    weights = list(model.weights)
    optimizer.iterations.assign(np.asarray(arrays[0], dtype=np.int64))
    for name, array in zip(names[1:], arrays[1:]):
        kind, _, rest = name.partition(":")
        index, _, slot = rest.partition(":")
        if kind != "weight" or not index.isdigit() or not slot:
            raise LoadError(f"{where}: optimizer variable name {name!r} is not "
                            "'weight:<index>:<slot>'")
        if int(index) >= len(weights):
            raise LoadError(f"{where}: optimizer variable {name!r} refers to weight "
                            f"{index}, but the model has {len(weights)} weights")
        weight = weights[int(index)]
        if np.shape(array) != weight.shape:
            raise LoadError(f"{where}: optimizer variable {name!r} has shape "
                            f"{np.shape(array)}, but weight '{weight.path}' has {weight.shape}")
        optimizer.set_slot(weight, slot, array)
