"""Weights by path: ``save_weights`` / ``load_weights`` and matching arrays to weights.

A model's weights are keyed by their path inside the model, the same names
its IR parameters carry (``block1/dense/kernel``; a weight found at several
places takes the first, as ``lowering.weight_paths`` decides).  Two weights
with the same path (possible when sublayers of a custom layer share a name)
get ``#1``, ``#2`` ... suffixes in model order.

``assign_weights`` checks everything before changing anything: every weight
of the model has an array (else the error names the missing ones and the
unexpected ones), and each array has the weight's shape and dtype (else
the error names the weight, both shapes or both dtypes).  With
``positional`` (used by ``load_model``, whose architecture comes from the
same file) a model whose paths differ from the file's -- a custom layer
that names its sublayers automatically gets new names in a new process --
is matched by order instead, provided count, shapes and dtypes all agree.
``load_weights`` does the same when the two lists of paths are equal once
automatic name numbers are dropped (``dense_1`` -> ``dense``), in order: a
clone of a custom layer that names its sublayers itself.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from graphc.errors import LoadError

from ..ir.types import format_shape
from ..layers.weights import Weight
from .archive import ByteBudget, LoadLimits, atomic_write, target_path
from .npz import npz_bytes, read_npz

WEIGHTS_SUFFIXES = (".npz",)


def weight_entries(model: Any) -> list[tuple[str, Weight]]:
    """``(key, weight)`` for every weight of ``model``, in ``model.weights`` order."""
    from ..models.lowering import weight_paths
    from ..models.model import Model
    paths = weight_paths(model) if isinstance(model, Model) else {}
    seen: dict[str, int] = {}
    out = []
    for weight in model.weights:
        key = paths.get(weight, weight.path)
        count = seen.get(key, 0)
        seen[key] = count + 1
        out.append((key if count == 0 else f"{key}#{count}", weight))
    return out


def weight_arrays(model: Any) -> list[tuple[str, np.ndarray]]:
    return [(key, w.value) for key, w in weight_entries(model)]


def save_weights(model: Any, filepath: Any, overwrite: bool = True) -> None:
    path = target_path(filepath, WEIGHTS_SUFFIXES, f"save_weights of model '{model.name}'")
    data = npz_bytes(weight_arrays(model))
    with atomic_write(path, overwrite) as fh:
        fh.write(data)


def _pairs(entries: list[tuple[str, Weight]], arrays: dict[str, np.ndarray], where: str,
           positional: bool) -> list[tuple[str, Weight, np.ndarray]]:
    keys = [k for k, _ in entries]
    if set(keys) == set(arrays) and len(keys) == len(arrays):
        return [(k, w, arrays[k]) for k, w in entries]
    stored = list(arrays.values())
    by_order = positional or [_without_auto_numbers(k) for k in keys] == \
        [_without_auto_numbers(k) for k in arrays]
    if by_order and len(stored) == len(entries) and all(
            a.shape == w.shape and a.dtype == w.type.dtype.numpy
            for a, (_, w) in zip(stored, entries)):
        return [(k, w, a) for (k, w), a in zip(entries, stored)]
    missing = [k for k in keys if k not in arrays]
    unexpected = [k for k in arrays if k not in set(keys)]
    parts = []
    if missing:
        parts.append(f"it has no array for weight(s) {', '.join(map(repr, missing[:8]))}"
                     + (" ..." if len(missing) > 8 else ""))
    if unexpected:
        parts.append(f"it holds array(s) {', '.join(map(repr, unexpected[:8]))}"
                     + (" ..." if len(unexpected) > 8 else "") + " that the model does not have")
    if not keys:
        return _fail(f"{where}: the model has no weights to load into yet (is it built? "
                     "call it on data, or build it, before load_weights); the file holds "
                     f"{len(arrays)} array(s)")
    return _fail(f"{where}: the weights do not match the model: {'; '.join(parts)}. The "
                 f"model's weights are {', '.join(map(repr, keys[:12]))}"
                 + (" ..." if len(keys) > 12 else ""))


_AUTO_NUMBER = re.compile(r"_[0-9]+(?=/|$)")


def _without_auto_numbers(key: str) -> str:
    """``blk/dense_3/kernel`` -> ``blk/dense/kernel``: the name a layer gets
    automatically differs between a model and its clone (or a new process),
    so two key lists equal up to these suffixes, in the same order, describe
    the same weights."""
    return _AUTO_NUMBER.sub("", key)


def _fail(message: str) -> Any:
    raise LoadError(message)


def assign_weights(model: Any, arrays: dict[str, np.ndarray], where: str,
                   positional: bool = False) -> None:
    pairs = _pairs(weight_entries(model), arrays, where, positional)
    for key, weight, array in pairs:
        if array.shape != weight.shape:
            raise LoadError(f"{where}: weight '{key}' of model '{model.name}' has shape "
                            f"{format_shape(weight.shape)}; the file holds shape "
                            f"{format_shape(array.shape)}")
        if array.dtype != weight.type.dtype.numpy:
            raise LoadError(f"{where}: weight '{key}' of model '{model.name}' is "
                            f"{weight.dtype}; the file holds {array.dtype.name}")
    for _, weight, array in pairs:
        weight.assign(array)


def load_weights(model: Any, filepath: Any, limits: LoadLimits | None = None) -> None:
    limits = limits or LoadLimits()
    path = target_path(filepath, WEIGHTS_SUFFIXES + (".graphc",),
                       f"load_weights of model '{model.name}'")
    if path.endswith(".graphc"):
        from .model_file import read_model_file
        assign_weights(model, read_model_file(path, limits).weights, path)
        return
    budget = ByteBudget(limits.max_total_bytes, path)
    arrays = read_npz(path, path, budget, limits.max_arrays)
    assign_weights(model, arrays, path)
