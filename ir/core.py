"""The IR's data structures: ``Value``, ``Node``, ``Func``, ``Module``.

Invariants (checked by ``graphc.ir.verify``; see ``verifier.py``):

* Everything is immutable.  A pass builds new Nodes/Funcs instead of editing;
  ``dataclasses.replace`` is the usual tool.
* A ``Value`` is an SSA value identified by *object identity*; its ``name`` is
  only a hint for the printer.  It is defined once: as a Func parameter or as
  one output of exactly one Node.
* ``Func.nodes`` is in topological order: a node only uses params and outputs
  of earlier nodes.
* Use-def information is derived on demand (``Func.producers``,
  ``Func.users``) rather than stored, so it can never go stale.
* ``==`` on Nodes/Funcs/Modules is identity; structural comparison lives in
  ``equality.py``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Iterable, Iterator

from graphc.errors import GraphcError

from .attrs import Attrs
from .loc import AnyLoc
from .types import TensorType

if TYPE_CHECKING:  # pragma: no cover
    from .opdef import OpDef


@dataclass(frozen=True, eq=False, slots=True)
class Value:
    """An SSA value: a tensor of ``type``.  Hashed and compared by identity."""

    type: TensorType
    name: str | None = None
    """Printer hint; the printed name may get a ``_1`` suffix to stay unique."""

    def __repr__(self) -> str:
        return f"<Value {self.name or '?'}: {self.type}>"


@dataclass(frozen=True, eq=False)
class Node:
    """One application of an op: ``outputs = op(inputs) {attrs}``."""

    op: "OpDef"
    inputs: tuple[Value, ...]
    attrs: Attrs
    outputs: tuple[Value, ...]
    loc: AnyLoc | None = None

    @property
    def output(self) -> Value:
        """The single output (most ops have exactly one)."""
        if len(self.outputs) != 1:
            raise GraphcError(f"node '{self.op.name}' has {len(self.outputs)} outputs, not one")
        return self.outputs[0]

    def replace(self, **changes: object) -> "Node":
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"<Node {self.op.name} {[str(v.type) for v in self.outputs]}>"


@dataclass(frozen=True, eq=False)
class Func:
    """A function: typed params, nodes in topological order, results.

    ``primitive`` marks a fused kernel produced by the ``fuse`` pass (its body
    holds only fusible ops, and it is called with ``call``); ``private``
    functions are not entry points.
    """

    name: str
    params: tuple[Value, ...]
    nodes: tuple[Node, ...]
    results: tuple[Value, ...]
    private: bool = False
    primitive: bool = False

    @property
    def param_types(self) -> tuple[TensorType, ...]:
        return tuple(p.type for p in self.params)

    @property
    def result_types(self) -> tuple[TensorType, ...]:
        return tuple(r.type for r in self.results)

    @cached_property
    def producers(self) -> dict[Value, Node]:
        """Map from each node output to the node that defines it."""
        return {out: node for node in self.nodes for out in node.outputs}

    @cached_property
    def users(self) -> dict[Value, tuple[Node, ...]]:
        """Map from each value to the nodes that read it (in node order)."""
        found: dict[Value, list[Node]] = {}
        for node in self.nodes:
            for value in node.inputs:
                lst = found.setdefault(value, [])
                if not lst or lst[-1] is not node:
                    lst.append(node)
        return {v: tuple(ns) for v, ns in found.items()}

    def replace(self, **changes: object) -> "Func":
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        sig = ", ".join(str(t) for t in self.param_types)
        res = ", ".join(str(t) for t in self.result_types)
        return f"<Func @{self.name}({sig}) -> ({res}), {len(self.nodes)} nodes>"


@dataclass(frozen=True, eq=False)
class Module:
    """An ordered collection of uniquely named Funcs.

    The *entry* function is the first non-private one; backends compile it
    and the functions it calls.
    """

    funcs: tuple[Func, ...]

    def __init__(self, funcs: Iterable[Func]) -> None:
        object.__setattr__(self, "funcs", tuple(funcs))

    @cached_property
    def _by_name(self) -> dict[str, Func]:
        return {f.name: f for f in self.funcs}

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Func:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join("@" + f.name for f in self.funcs) or "none"
            raise GraphcError(f"module has no function @{name}; it has {known}") from None

    def __iter__(self) -> Iterator[Func]:
        return iter(self.funcs)

    def __len__(self) -> int:
        return len(self.funcs)

    @property
    def entry(self) -> Func:
        for func in self.funcs:
            if not func.private:
                return func
        raise GraphcError("module has no public (non-private) function to use as entry point")

    def with_func(self, func: Func) -> "Module":
        """A new module where ``func`` replaces the function of the same name
        (or is appended when no function has that name)."""
        if func.name in self._by_name:
            return Module(func if f.name == func.name else f for f in self.funcs)
        return Module(self.funcs + (func,))

    def __repr__(self) -> str:
        return f"<Module {[f.name for f in self.funcs]}>"
