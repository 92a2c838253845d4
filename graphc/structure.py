"""Nested structures of tensors: flatten them and rebuild them.

Models and layers take and return a single tensor, a list/tuple, or a dict
(possibly nested).  ``flatten`` lists the leaves in a fixed order (lists and
tuples in order, dicts by *sorted* key, as Keras does) and ``pack_like``
rebuilds a structure of the same shape from a flat list of new leaves.
Anything that is not a list, tuple or dict is a leaf (tensors, arrays,
numbers, slices, ``None``).  Dict keys must be strings.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from graphc.errors import FrontendError


def _sorted_keys(mapping: dict) -> list[str]:
    keys = list(mapping)
    if not all(isinstance(k, str) for k in keys):
        raise FrontendError(f"dicts of tensors must have string keys (they are sorted to fix "
                            f"an order); received keys {keys!r}")
    return sorted(keys)


def _iter_leaves(structure: Any) -> Iterator[Any]:
    if isinstance(structure, dict):
        for key in _sorted_keys(structure):
            yield from _iter_leaves(structure[key])
    elif isinstance(structure, (list, tuple)):
        for item in structure:
            yield from _iter_leaves(item)
    else:
        yield structure


def flatten(structure: Any) -> list[Any]:
    return list(_iter_leaves(structure))


def pack_like(structure: Any, leaves: Sequence[Any]) -> Any:
    """A copy of ``structure`` with its leaves replaced, in ``flatten`` order."""
    remaining = iter(leaves)

    def build(node: Any) -> Any:
        if isinstance(node, dict):
            rebuilt = {key: build(node[key]) for key in _sorted_keys(node)}
            return {key: rebuilt[key] for key in node}  # keep the caller's key order
        if isinstance(node, (list, tuple)):
            items = [build(item) for item in node]
            if isinstance(node, list):
                return items
            return type(node)(*items) if hasattr(node, "_fields") else tuple(items)
        return next(remaining)

    return build(structure)


def encode_structure(structure: Any, leaves: Sequence[Any]) -> Any:
    """JSON form of ``structure`` with its leaves replaced by ``leaves`` (in
    ``flatten`` order): lists stay lists, tuples become ``{"tuple": [...]}`` and
    dicts ``{"dict": {key: ...}}`` (so the saved form says which was which)."""
    remaining = iter(leaves)

    def enc(node: Any) -> Any:
        if isinstance(node, dict):  # leaves in flatten order: by sorted key
            return {"dict": {k: enc(node[k]) for k in _sorted_keys(node)}}
        if isinstance(node, tuple):
            return {"tuple": [enc(v) for v in node]}
        if isinstance(node, list):
            return [enc(v) for v in node]
        return next(remaining)

    return enc(structure)
