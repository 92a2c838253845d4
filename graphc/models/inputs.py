"""Matching what a model is called with against its inputs.

A model accepts a single value (when it has one input), a list/tuple in the
order of ``model.inputs``, or a dict keyed by input name (or by the keys of
the dict the model was built with).  ``match_inputs`` returns the values in
``model.inputs`` order or raises ``FrontendError`` saying what was expected.

For numpy data, ``convert_arrays`` converts each value to the input's dtype
(as Keras does; floats become float32, and floats become integers only when
they are whole numbers) and checks shapes in model terms:
``Model 'mlp' input 'x' expected shape (N, 784), received (5, 783)``.  A
named symbol (the batch ``N``) must have one size across all inputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from graphc.errors import FrontendError, InputError

from ..ir.types import UNKNOWN, TensorType, format_shape
from ..structure import flatten
from ..tensor import SymbolicTensor
from ..tracing import Traced

if TYPE_CHECKING:  # pragma: no cover
    from .model import Model


def _signature(names: Sequence[str], types: Sequence[TensorType]) -> str:
    return ", ".join(f"{n}: {format_shape(t.shape)}" for n, t in zip(names, types))


def _is_tensor_list(value: Any) -> bool:
    return all(isinstance(x, (np.ndarray, SymbolicTensor, Traced)) for x in flatten(value))


def _kind(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(flatten(value))} value(s)"
    if isinstance(value, np.ndarray):
        return f"a single array of shape {format_shape(value.shape)}"
    if isinstance(value, SymbolicTensor):
        return f"a single tensor of shape {format_shape(value.type.shape)}"
    return f"a single {type(value).__name__}"


def match_inputs(model: "Model", given: Any) -> list[Any]:
    """``given`` (single / list / dict) as a list in ``model.inputs`` order."""
    types = [t.type for t in model.graph.inputs]
    names = list(model.input_names)
    keys = model._input_keys()
    label = f"{model.type_name} '{model.name}'"
    count = len(types)
    if isinstance(given, dict):
        lookup = {key: i for i, key in enumerate(keys)}
        lookup.update({name: i for i, name in enumerate(names)})
        unknown = [k for k in given if k not in lookup]
        if unknown:
            raise FrontendError(f"{label} received unknown input key(s) "
                                f"{', '.join(repr(k) for k in unknown)}; expected keys: "
                                f"{', '.join(repr(k) for k in keys)}")
        chosen: dict[int, Any] = {}
        for key, value in given.items():
            index = lookup[key]
            if index in chosen:
                raise FrontendError(f"{label} received input {keys[index]!r} twice (as "
                                    f"{keys[index]!r} and {names[index]!r})")
            chosen[index] = value
        missing = [keys[i] for i in range(count) if i not in chosen]
        if missing:
            raise FrontendError(f"{label} is missing input(s) "
                                f"{', '.join(repr(k) for k in missing)}; expected keys: "
                                f"{', '.join(repr(k) for k in keys)}")
        return [chosen[i] for i in range(count)]
    if isinstance(given, (list, tuple)) and (count > 1 or _is_tensor_list(given)):
        leaves = flatten(given)
        if len(leaves) != count:
            raise FrontendError(f"{label} expects {count} input(s) "
                                f"({_signature(names, types)}), received {_kind(given)}")
        return leaves
    if count != 1:
        raise FrontendError(f"{label} expects {count} inputs ({_signature(names, types)}), "
                            f"received {_kind(given)}; pass a list or a dict keyed by input "
                            "name")
    return [given]


def _converted(label: str, name: str, spec: TensorType, value: Any) -> np.ndarray:
    if isinstance(value, (SymbolicTensor, Traced)):
        raise InputError(f"{label} input '{name}' received a symbolic tensor where data was "
                         "expected")
    try:
        array = np.asarray(value)
    except Exception as exc:
        raise InputError(f"{label} input '{name}' could not be converted to an array: "
                         f"{exc}") from None
    target = spec.dtype.numpy
    if array.dtype == target:
        return array
    if array.dtype.kind not in "biuf":
        raise InputError(f"{label} input '{name}' expects numbers of dtype {target.name}, "
                         f"received dtype {array.dtype}")
    if spec.dtype.is_bool and array.dtype.kind != "b":
        raise InputError(f"{label} input '{name}' expects dtype bool, received "
                         f"{array.dtype.name}")
    if spec.dtype.is_int and array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(np.mod(array, 1) == 0):
            raise InputError(f"{label} input '{name}' expects dtype {target.name}, received "
                             f"{array.dtype.name} values that are not whole numbers")
    return array.astype(target)


def convert_arrays(model: "Model", values: Sequence[Any],
                   any_batch: bool = False) -> list[np.ndarray]:
    """Each value as an array of its input's dtype, shapes checked (the batch
    dim too, unless ``any_batch``: ``predict`` splits data into batches)."""
    label = f"{model.type_name} '{model.name}'"
    bound: dict[str, tuple[int, str]] = {}
    arrays = []
    for name, spec, value in zip(model.input_names, (t.type for t in model.graph.inputs),
                                 values):
        array = _converted(label, name, spec, value)
        first = 1 if any_batch else 0
        mismatch = array.ndim != spec.rank or any(
            isinstance(d, int) and d != s for d, s in zip(spec.shape[first:], array.shape[first:]))
        if mismatch:
            raise InputError(f"{label} input '{name}' expected shape "
                             f"{format_shape(spec.shape)}, received {format_shape(array.shape)}")
        for axis, (dim, size) in enumerate(zip(spec.shape, array.shape)):
            if isinstance(dim, str) and dim != UNKNOWN:
                if dim in bound and bound[dim][0] != size:
                    size0, other = bound[dim]
                    raise InputError(f"{label} input '{name}' has size {size} on axis {axis} "
                                     f"(symbol {dim}), but input '{other}' has {dim} = {size0};"
                                     " all inputs must agree (same batch size)")
                bound.setdefault(dim, (int(size), name))
        arrays.append(array)
    return arrays
