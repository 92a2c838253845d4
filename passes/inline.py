"""Inlining of ``call`` nodes.

``inline_calls(func, module)`` replaces every ``call @f(args)`` in ``func``
by a copy of ``@f``'s body with its parameters bound to ``args`` (callees
that call further functions are inlined recursively).  Copied nodes keep
their own ``loc``; a node without one takes the call's ``loc``.  Fresh
output Values are made for every copy, so inlining the same callee twice
never shares a value.
"""

from __future__ import annotations

from ..ir.core import Func, Module, Node, Value
from ..ir.opdef import CALL


def _inline_into(nodes: list[Node], func: Func, module: Module,
                 mapping: dict[Value, Value], call_loc=None) -> None:
    for node in func.nodes:
        inputs = tuple(mapping[v] for v in node.inputs)
        if node.op.name == CALL:
            callee = module[node.attrs["callee"]]
            inner = dict(zip(callee.params, inputs))
            _inline_into(nodes, callee, module, inner, node.loc or call_loc)
            mapping.update(zip(node.outputs, (inner[r] for r in callee.results)))
            continue
        outputs = tuple(Value(o.type, o.name) for o in node.outputs)
        nodes.append(Node(node.op, inputs, node.attrs, outputs, node.loc or call_loc))
        mapping.update(zip(node.outputs, outputs))


def inline_calls(func: Func, module: Module) -> Func:
    """``func`` with every call inlined (``func`` itself when it has none)."""
    if not any(n.op.name == CALL for n in func.nodes):
        return func
    mapping: dict[Value, Value] = {p: p for p in func.params}
    nodes: list[Node] = []
    _inline_into(nodes, func, module, mapping)
    return func.replace(nodes=tuple(nodes), results=tuple(mapping[r] for r in func.results))
