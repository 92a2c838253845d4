"""The op registry: one ``OpDef`` per op, in one table.

An OpDef holds everything that is true of an op whatever the backend:

* arity (``arity`` inputs, or at least ``arity`` when ``variadic``) and
  ``input_names`` for documentation;
* the attribute schema (``attrs``), checked whenever a node is built or parsed;
* ``infer(*input_types, **attrs)`` -> result ``TensorType`` (or a tuple of them),
  raising ``ShapeError`` for invalid inputs;
* ``reference(*arrays, **attrs)`` -> numpy result(s): the op's semantics, run
  by the interpreter backend (the test oracle) and by constant folding;
* ``vjp`` (emits the gradient as IR) or ``differentiable=False``;
* traits (``pure``, ``commutative``) and a ``fusion`` kind that the fuse pass
  reads.

Backend lowerings are *not* here: each backend keeps its own table keyed by
op name, so a plugin backend never has to touch this file.
"""

from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from graphc.errors import ExecutionError, GraphcError, ShapeError, UnknownOpError

from .attrs import Attrs, AttrSpec, build_attrs
from .dtypes import dtype_of
from .types import TensorType

CALL = "call"
"""Name of the op that invokes another Func of the module (``call @f(...)``)."""


class FusionKind(enum.Enum):
    """How an op may be grouped into a fused kernel (after TVM's OpPatternKind)."""

    ELEMENTWISE = "elementwise"  # out[i] = f(in[i]), same shapes
    BROADCAST = "broadcast"      # elementwise after numpy broadcasting
    INJECTIVE = "injective"      # each output element reads one input element (reshape, slice)
    REDUCE = "reduce"            # reductions along axes (sum, max, softmax)
    OUT_FUSABLE = "out-fusable"  # heavy op whose output can take an epilogue (matmul)
    OPAQUE = "opaque"            # never fused (call, constant)


PURE = "pure"
COMMUTATIVE = "commutative"


@dataclass(frozen=True, eq=False)
class OpDef:
    name: str
    arity: int
    infer: Callable[..., Any]
    reference: Callable[..., Any]
    attrs: tuple[AttrSpec, ...] = ()
    variadic: bool = False
    input_names: tuple[str, ...] = ()
    num_outputs: int = 1
    traits: frozenset[str] = frozenset({PURE})
    fusion: FusionKind = FusionKind.OPAQUE
    differentiable: bool = True
    vjp: Callable[..., Any] | None = None
    category: str = "misc"
    doc: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_pure(self) -> bool:
        return PURE in self.traits

    @property
    def is_commutative(self) -> bool:
        return COMMUTATIVE in self.traits

    def check_arity(self, count: int) -> None:
        ok = count >= self.arity if self.variadic else count == self.arity
        if not ok:
            want = f"at least {self.arity}" if self.variadic else str(self.arity)
            raise ShapeError(f"op '{self.name}' takes {want} input(s), received {count}")

    def make_attrs(self, given: Mapping[str, Any] | Attrs | None = None) -> Attrs:
        return build_attrs(self.attrs, dict(given or {}), op=self.name)

    def infer_types(self, types: Sequence[TensorType], attrs: Attrs) -> tuple[TensorType, ...]:
        """Result types for inputs of ``types``; ShapeError when they do not fit."""
        self.check_arity(len(types))
        result = self.infer(*types, **attrs)
        results = result if isinstance(result, tuple) else (result,)
        if len(results) != self.num_outputs:  # a bug in the rule, not in the user's input
            raise GraphcError(f"infer rule of '{self.name}' returned {len(results)} types, "
                              f"expected {self.num_outputs}")
        return results

    def evaluate(self, arrays: Sequence[np.ndarray], attrs: Mapping[str, Any]) -> tuple[np.ndarray, ...]:
        """Run the numpy reference; always returns a tuple of ndarrays."""
        try:
            with np.errstate(all="ignore"):
                result = self.reference(*arrays, **attrs)
        except (IndexError, ValueError, TypeError) as exc:
            raise ExecutionError(f"op '{self.name}' failed: {exc}") from None
        results = result if isinstance(result, tuple) else (result,)
        return tuple(np.asarray(r) for r in results)

    def signature(self) -> str:
        """``concat(*inputs) {axis: int = 0}`` -- used by ``graphc ops``."""
        names = list(self.input_names) or [f"x{i}" for i in range(self.arity)]
        if self.variadic:
            names[-1] = "*" + names[-1]
        text = f"{self.name}({', '.join(names)})"
        if self.attrs:
            parts = []
            for spec in self.attrs:
                part = f"{spec.name}: {spec.kind.name}"
                if not spec.required:
                    part += f" = {spec.kind.format(spec.default)}"
                parts.append(part)
            text += " {" + ", ".join(parts) + "}"
        return text

    def __repr__(self) -> str:
        return f"<OpDef {self.name}>"


_REGISTRY: dict[str, OpDef] = {}


def register_op(opdef: OpDef) -> OpDef:
    """Add an op to the registry; a duplicate name is an error."""
    if opdef.name in _REGISTRY:
        raise GraphcError(f"op '{opdef.name}' is already registered")
    _REGISTRY[opdef.name] = opdef
    return opdef


def get_op(name: str) -> OpDef:
    """The OpDef named ``name``; UnknownOpError suggests close names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.7) \
            if len(name) <= 64 else []
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else \
            "; `graphc ops` lists every op"
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise UnknownOpError(f"unknown op '{shown}'{hint}") from None


def all_ops() -> list[OpDef]:
    """Every registered op, sorted by category then name."""
    return sorted(_REGISTRY.values(), key=lambda o: (o.category, o.name))


def has_op(name: str) -> bool:
    return name in _REGISTRY


def cast_result(array: Any, dtype: object) -> np.ndarray:
    """Helper for reference rules: an ndarray of exactly ``dtype``."""
    return np.asarray(array).astype(dtype_of(dtype).numpy, copy=False)


def define_ops(defs: Iterable[OpDef]) -> None:
    for opdef in defs:
        register_op(opdef)
