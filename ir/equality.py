"""Structural equality and a stable structural hash.

Two Funcs are structurally equal when they have the same parameter types,
the same nodes in the same order (same ops, attributes and result types,
inputs wired to the same positions) and the same results.  Value name hints
and source locations are metadata and are ignored; function names count
unless ``ignore_name`` is set (a fused kernel's cache key should not depend
on what the kernel happens to be called).

``structural_hash`` is a SHA-256 hex digest over a canonical encoding, so it
is stable across processes and can key an on-disk compile cache.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .attrs import Attrs, TensorValue
from .core import Func, Module
from .dtypes import DType


def fingerprint(func: Func, *, ignore_name: bool = False) -> tuple:
    """A hashable, name-free description of ``func``'s structure."""
    numbering: dict[Any, int] = {}
    for p in func.params:
        numbering.setdefault(p, len(numbering))
    nodes = []
    for node in func.nodes:
        inputs = tuple(numbering.get(v, -1) for v in node.inputs)
        for out in node.outputs:
            numbering.setdefault(out, len(numbering))
        nodes.append((node.op.name, inputs, node.attrs, tuple(o.type for o in node.outputs)))
    return (None if ignore_name else func.name, func.private, func.primitive,
            func.param_types, tuple(nodes), tuple(numbering.get(r, -1) for r in func.results))


def module_fingerprint(module: Module) -> tuple:
    return tuple(fingerprint(f) for f in module.funcs)


def structural_equal(a: Module | Func, b: Module | Func, *, ignore_name: bool = False) -> bool:
    if isinstance(a, Func) and isinstance(b, Func):
        return fingerprint(a, ignore_name=ignore_name) == fingerprint(b, ignore_name=ignore_name)
    if isinstance(a, Module) and isinstance(b, Module):
        return module_fingerprint(a) == module_fingerprint(b)
    return False


def _encode(obj: Any, out: list[str]) -> None:
    if isinstance(obj, TensorValue):
        out.append(f"T{obj.digest().hex()}")
    elif isinstance(obj, Attrs):
        out.append("A{")
        for key in obj:
            out.append(key + "=")
            _encode(obj[key], out)
            out.append(";")
        out.append("}")
    elif isinstance(obj, tuple):
        out.append("(")
        for item in obj:
            _encode(item, out)
            out.append(",")
        out.append(")")
    elif isinstance(obj, DType):
        out.append(f"D{obj.short}")
    elif isinstance(obj, float):
        out.append(f"F{obj!r}")
    elif obj is None or isinstance(obj, (bool, int, str)):
        out.append(repr(obj))
    else:  # TensorType and other frozen value objects print canonically
        out.append(f"{type(obj).__name__}:{obj}")


def structural_hash(ir: Module | Func, *, ignore_name: bool = False) -> str:
    """SHA-256 hex digest of the structure (stable across processes)."""
    fp = (fingerprint(ir, ignore_name=ignore_name) if isinstance(ir, Func)
          else module_fingerprint(ir))
    parts: list[str] = []
    _encode(fp, parts)
    return hashlib.sha256("".join(parts).encode()).hexdigest()
