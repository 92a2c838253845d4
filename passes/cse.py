"""``cse``: common-subexpression elimination.

One forward walk per function.  A pure node is keyed by its op, attributes,
operands (after earlier replacements) and result types; operands of a
commutative binary op are keyed as a set, so ``add(a, b)`` and ``add(b, a)``
are one expression.  The first node with a key is kept; a later node with
the same key is dropped and its outputs are replaced by the kept node's.
Constants with equal values (dtype, shape and bytes) merge the same way.

The kept node's ``loc`` becomes the union of the merged nodes' locations, so
a shared value can still be traced to every layer that computed it.  Impure
nodes are never merged.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir.core import Func, Node, Value
from ..ir.loc import fuse_locs
from .base import FuncPass, at_node
from .context import PassContext


def expression_key(node: Node) -> tuple:
    operands: object = node.inputs
    if node.op.is_commutative and len(node.inputs) == 2:
        operands = frozenset(node.inputs)
    return (node.op.name, node.attrs, operands, tuple(o.type for o in node.outputs))


@dataclass(frozen=True)
class CSE(FuncPass):
    name = "cse"
    summary = "share duplicate pure expressions (and equal constants)"

    def run_func(self, func: Func, ctx: PassContext) -> Func:
        subst: dict[Value, Value] = {}
        first: dict[tuple, int] = {}
        merged: dict[int, list[Node]] = {}
        nodes: list[Node] = []
        changed = False
        for node in func.nodes:
            with at_node(func, node):
                inputs = tuple(subst.get(v, v) for v in node.inputs)
                if any(a is not b for a, b in zip(inputs, node.inputs)):
                    node = node.replace(inputs=inputs)
                if not node.op.is_pure:
                    nodes.append(node)
                    continue
                key = expression_key(node)
                index = first.get(key)
                if index is None:
                    first[key] = len(nodes)
                    nodes.append(node)
                    continue
                kept = nodes[index]
                subst.update(zip(node.outputs, kept.outputs))
                merged.setdefault(index, []).append(node)
                changed = True
        if not changed:
            return func
        for index, dups in merged.items():
            kept = nodes[index]
            loc = fuse_locs([kept.loc] + [d.loc for d in dups])
            if loc != kept.loc:
                nodes[index] = kept.replace(loc=loc)
        results = tuple(subst.get(r, r) for r in func.results)
        return func.replace(nodes=tuple(nodes), results=results)
