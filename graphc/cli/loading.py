"""Turn a MODEL argument of the CLI into an IR Module, and read/write arrays.

MODEL may be a ``.gir`` file, a saved model file (``.graphc``, loaded
without running code from it) or a Python model reference (``file.py:attr``
/ ``module:attr``).  Loaders plug in through ``MODEL_LOADERS``; a loader
returns a ``Module`` or a ``LoadedModel``: the module plus ``defaults``,
values for parameters the user need not pass (a model's weights, bound by
parameter name), which ``graphc run`` uses for parameters not given with
``-i``.  ``load_module`` keeps returning just the Module.
``load_model_object`` returns the graphc Model behind a saved file or a
Python reference, for the commands that need layers (``show --summary``,
``--config``, ``plot``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from graphc.errors import LoadError

from ..ir import Module, parse_file
from .python_models import is_python_reference, load_python_model


@dataclass(frozen=True)
class LoadedModel:
    """A loaded module plus default values for some of its entry parameters."""

    module: Module
    defaults: dict[str, np.ndarray] = field(default_factory=dict)


def is_saved_model(ref: str) -> bool:
    """A ``.graphc`` file, or any existing file that starts like a zip archive."""
    if ref.endswith(".graphc"):
        return True
    try:
        with open(ref, "rb") as fh:
            return not ref.endswith(".gir") and fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def load_saved_model(ref: str) -> Any:
    from ..saving import load_model
    if not os.path.exists(ref):
        raise LoadError(f"cannot read {ref}: no such file")
    return load_model(ref)


def loaded_from_model(model: Any) -> LoadedModel:
    """The model's IR, with its current weights as the defaults of their parameters."""
    from ..models.lowering import lower_model
    lowered = lower_model(model)
    weight_params = lowered.module.entry.params[len(lowered.input_names):]
    defaults = {p.name or str(i + len(lowered.input_names)): w.value
                for i, (p, w) in enumerate(zip(weight_params, lowered.weights))}
    return LoadedModel(lowered.module, defaults)


# (predicate on the reference, loader) pairs, tried in order.
MODEL_LOADERS: list[tuple[Callable[[str], bool], Callable[[str], Module | LoadedModel]]] = [
    (is_saved_model, lambda ref: loaded_from_model(load_saved_model(ref))),
    (lambda ref: ref.endswith(".gir"), parse_file),
    (is_python_reference, lambda ref: loaded_from_model(load_python_model(ref))),
]


def load_model_ref(ref: str) -> LoadedModel:
    for matches, loader in MODEL_LOADERS:
        if matches(ref):
            if ref.endswith(".gir") and not os.path.exists(ref):
                raise LoadError(f"cannot read {ref}: no such file")
            loaded = loader(ref)
            return loaded if isinstance(loaded, LoadedModel) else LoadedModel(loaded)
    raise LoadError(f"cannot load model '{ref}': expected a .gir file or a Python model "
                    "reference (path/to/file.py:attr or package.module:attr), or a saved model "
                    "(.graphc)")


def load_module(ref: str) -> Module:
    return load_model_ref(ref).module


def load_model_object(ref: str, what: str) -> Any:
    """The graphc Model a saved file or a Python reference holds."""
    if is_saved_model(ref):
        return load_saved_model(ref)
    if is_python_reference(ref):
        return load_python_model(ref)
    raise LoadError(f"{what} needs a model with layers: '{ref}' is not a Python model "
                    "reference (file.py:attr or module:attr) or a saved model (.graphc)")


def read_array(path: str, what: str) -> np.ndarray:
    """``np.load`` of a ``.npy`` file, never unpickling objects."""
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise LoadError(f"{what}: no such file {path}") from None
    except (ValueError, OSError) as exc:
        raise LoadError(f"{what}: {path} is not a readable .npy array ({exc})") from None
    if not isinstance(array, np.ndarray):
        raise LoadError(f"{what}: {path} holds an archive, expected a single .npy array")
    return array


def write_array(directory: str, name: str, array: np.ndarray) -> str:
    try:
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, name)
        np.save(path, array, allow_pickle=False)
    except OSError as exc:
        raise LoadError(f"cannot write results to {directory}: {exc.strerror}") from None
    return path
