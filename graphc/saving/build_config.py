"""``build_config``: how to rebuild a subclassed model's graph after loading.

A subclassed model (``graphc.Model`` with its own ``call``) is saved by its
constructor arguments, which do not say what it was built for.  Its entry
therefore carries::

    "build_config": {"structure": "single" | "list" | ["key", ...],
                     "inputs": [{"shape": [null, 8], "dtype": "f32"}, ...]}

(one input per flattened leaf; the batch dim is ``null``).  Loading calls
``call`` once on Inputs of those types, which recreates the weights so the
saved arrays can be assigned.  Every field is checked; a malformed one is a
``LoadError``.
"""

from __future__ import annotations

from typing import Any

from graphc.errors import GraphcError, LoadError

from ..diagnostics import message_without_call_site
from ..ir.dtypes import dtype_of
from ..structure import flatten

MAX_INPUTS = 256
MAX_RANK = 32


def needs_build_config(layer: Any) -> bool:
    from ..models.model import Model
    return isinstance(layer, Model) and layer._is_subclassed and layer._graph is not None


def build_config(model: Any) -> dict:
    structure = model._inputs_struct
    if isinstance(structure, dict):
        kind: Any = sorted(structure)
    elif isinstance(structure, (list, tuple)):
        kind = "list"
    else:
        kind = "single"
    inputs = [{"shape": [None] + [d if isinstance(d, int) else None for d in t.type.shape[1:]],
               "dtype": t.type.dtype.short} for t in flatten(structure)]
    return {"structure": kind, "inputs": inputs}


def _spec(raw: Any, where: str) -> tuple[tuple, Any]:
    if not isinstance(raw, dict) or set(raw) != {"shape", "dtype"}:
        raise LoadError(f"{where}: each build input must be {{'shape', 'dtype'}}, received {raw!r}")
    shape = raw["shape"]
    if not isinstance(shape, list) or not 1 <= len(shape) <= MAX_RANK or any(
            d is not None and (not isinstance(d, int) or isinstance(d, bool) or d < 0)
            for d in shape):
        raise LoadError(f"{where}: a build input shape must be a list of 1 to {MAX_RANK} "
                        f"non-negative ints or null, received {shape!r}")
    try:
        dtype = dtype_of(raw["dtype"]) if isinstance(raw["dtype"], str) else None
    except GraphcError:
        dtype = None
    if dtype is None:
        raise LoadError(f"{where}: unknown build input dtype {raw['dtype']!r}")
    return tuple(shape[1:]), dtype


def apply_build_config(model: Any, raw: Any, where: str) -> None:
    """Build ``model`` from a saved ``build_config``."""
    from ..models.model import Model
    from ..models.subclassed import build_from_specs
    where = f"{where}: build_config"
    if not isinstance(model, Model) or not model._is_subclassed:
        raise LoadError(f"{where} is only allowed for subclassed models")
    if not isinstance(raw, dict) or set(raw) != {"structure", "inputs"}:
        raise LoadError(f"{where} must be {{'structure', 'inputs'}}")
    inputs = raw["inputs"]
    if not isinstance(inputs, list) or not 1 <= len(inputs) <= MAX_INPUTS:
        raise LoadError(f"{where}: 'inputs' must be a list of 1 to {MAX_INPUTS} inputs")
    specs = [_spec(item, where) for item in inputs]
    kind = raw["structure"]
    if kind == "single" and len(specs) == 1:
        structure: Any = None
    elif kind == "list":
        structure = [None] * len(specs)
    elif isinstance(kind, list) and len(kind) == len(specs) and \
            all(isinstance(k, str) and k for k in kind) and len(set(kind)) == len(kind):
        structure = {k: None for k in kind}
    else:
        raise LoadError(f"{where}: 'structure' must be \"single\" (with one input), \"list\", "
                        f"or the sorted input names, received {kind!r}")
    if model._graph is not None:
        return
    try:
        build_from_specs(model, structure, specs)
    except GraphcError as exc:
        raise LoadError(f"{where}: rebuilding {type(model).__name__} failed: {message_without_call_site(exc)}") from None
