"""Turn a MODEL argument of the CLI into an IR Module, and read/write arrays.

MODEL may be a ``.gir`` file.  (Python model references ``file.py:attr`` and
``module:attr`` and saved model files are added by the front end and the
model-file format; they plug in through ``MODEL_LOADERS``.)
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from graphc.errors import LoadError

from ..ir import Module, parse_file
from .python_models import is_python_reference, load_python_module

# (predicate on the reference, loader) pairs, tried in order.
MODEL_LOADERS: list[tuple[Callable[[str], bool], Callable[[str], Module]]] = [
    (lambda ref: ref.endswith(".gir"), parse_file),
    (is_python_reference, load_python_module),
]


def load_module(ref: str) -> Module:
    for matches, loader in MODEL_LOADERS:
        if matches(ref):
            if ref.endswith(".gir") and not os.path.exists(ref):
                raise LoadError(f"cannot read {ref}: no such file")
            return loader(ref)
    raise LoadError(f"cannot load model '{ref}': expected a .gir file or a Python model "
                    "reference (path/to/file.py:attr or package.module:attr)")


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
