"""Small helpers shared by passes: dead-node removal, constant lookup, node text.

* ``live_nodes`` keeps a node when it is impure or one of its outputs is
  needed (by a result or a kept node); it walks the nodes once, backwards.
* ``constant_array`` reads the value of a ``constant`` node's output.
* ``describe_node`` renders a node for diagnostics with the printer's names
  where the value is known in ``names`` and a type-annotated stand-in
  otherwise (values created by the running pass have no printed name yet).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..ir.core import Func, Node, Value
from ..ir.printer import NameScope

CONSTANT = "constant"


def live_nodes(nodes: Sequence[Node], results: Iterable[Value]) -> list[Node]:
    """``nodes`` without the pure ones whose outputs nothing needs (order kept)."""
    live: set[Value] = set(results)
    kept: list[Node] = []
    for node in reversed(nodes):
        if node.op.is_pure and not any(o in live for o in node.outputs):
            continue
        kept.append(node)
        live.update(node.inputs)
    kept.reverse()
    return kept


def constant_array(producer: Node | None) -> np.ndarray | None:
    """The array of a ``constant`` node (read-only), or None for any other node."""
    if producer is None or producer.op.name != CONSTANT:
        return None
    return producer.attrs["value"].array


def value_text(value: Value, names: NameScope | None) -> str:
    if names is not None and value in names.names:
        return names[value]
    return f"%{value.name or '_'}:{value.type}"


def describe_node(node: Node, names: NameScope | None = None) -> str:
    outs = ", ".join(value_text(o, names) for o in node.outputs)
    args = ", ".join(value_text(v, names) for v in node.inputs)
    text = f"{outs} = {node.op.name}({args})"
    if node.loc is not None:
        text += f" at {node.loc.describe()}"
    return text


def bound_symbols(func: Func) -> frozenset[str]:
    """Symbols that the parameters of ``func`` give a size to at run time."""
    return frozenset(s for p in func.params for s in p.type.symbols)
