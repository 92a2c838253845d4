"""The IR view of a module as a ``PlotGraph``.

The entry function is drawn: one node per parameter, per IR node and one for
its results.  A ``call`` of a *primitive* function -- a kernel outlined by the
``fuse`` pass -- becomes a cluster named after the kernel holding the
kernel's own nodes: an edge into the kernel ends at the inner nodes that use
the corresponding kernel parameter, and an edge out of it starts at the
inner node that makes the corresponding result.  Calls of other functions
are single nodes.

Node text: the op (``matmul``, ``constant 2.0`` for small constants, ``%x``
for parameters); with ``show_shapes`` the result type(s); with
``show_layer_names`` the layer path of the node's source location.
Parameters show their type always (they have no op to show).
"""

from __future__ import annotations

from typing import Any

from ..ir.core import Func, Module, Node, Value
from ..ir.loc import FusedLoc, Loc
from ..ir.opdef import CALL
from .plot_graph import Cluster, PlotGraph, PlotNode


def _loc_text(loc: Any) -> str | None:
    if not isinstance(loc, (Loc, FusedLoc)):
        return None
    paths: list[str] = []
    for part in loc.parts:
        if part.path not in paths:
            paths.append(part.path)
    return ", ".join(paths[:3]) + (" ..." if len(paths) > 3 else "")


def _node_lines(node: Node, show_shapes: bool, show_layer_names: bool) -> tuple[str, ...]:
    title = node.op.name
    if node.op.name == "constant":
        array = node.attrs["value"].array
        if array.size == 1:
            title = f"constant {array.reshape(()).item()!r}"
    lines = [title]
    if show_shapes:
        lines.append(", ".join(str(v.type) for v in node.outputs))
    where = _loc_text(node.loc) if show_layer_names else None
    if where:
        lines.append(where)
    return tuple(lines)


class _Builder:
    def __init__(self, module: Module, graph: PlotGraph, show_shapes: bool,
                 show_layer_names: bool) -> None:
        self.module = module
        self.graph = graph
        self.show_shapes = show_shapes
        self.show_layer_names = show_layer_names
        self.count = 0

    def new_id(self, stem: str) -> str:
        self.count += 1
        return f"{stem}#{self.count}"

    def func(self, func: Func, sources: dict[Value, list[str]], cluster: str | None
             ) -> dict[Value, list[str]]:
        """Draw ``func``'s nodes; ``sources`` maps each param to the node ids
        that produce it.  Returns the producers of every value."""
        producers = dict(sources)
        for node in func.nodes:
            callee = self.module[node.attrs["callee"]] if node.op.name == CALL and \
                node.attrs["callee"] in self.module else None
            if callee is not None and callee.primitive:
                kernel = self.new_id(callee.name)
                self.graph.clusters.append(Cluster(kernel, f"@{callee.name}", cluster, "kernel"))
                inner = {p: producers.get(v, []) for p, v in zip(callee.params, node.inputs)}
                inner = self.func(callee, inner, kernel)
                for out, result in zip(node.outputs, callee.results):
                    producers[out] = inner.get(result, [])
                continue
            node_id = self.new_id(node.op.name if node.op.name != CALL else
                                  f"call_{node.attrs['callee']}")
            lines = _node_lines(node, self.show_shapes, self.show_layer_names)
            if node.op.name == CALL:
                lines = (f"call @{node.attrs['callee']}",) + lines[1:]
            self.graph.add_node(PlotNode(node_id, lines, cluster, "op"))
            for value in node.inputs:
                for source in producers.get(value, []):
                    self.graph.add_edge(source, node_id)
            for out in node.outputs:
                producers[out] = [node_id]
        return producers


def ir_graph(module: Module, *, show_shapes: bool = False,
             show_layer_names: bool = True) -> PlotGraph:
    """The graph of ``module``'s entry function (see the module doc)."""
    func = module.entry
    graph = PlotGraph(title=func.name)
    builder = _Builder(module, graph, show_shapes, show_layer_names)
    sources: dict[Value, list[str]] = {}
    for i, param in enumerate(func.params):
        node_id = builder.new_id("param")
        name = param.name or str(i)
        graph.add_node(PlotNode(node_id, (f"%{name}", str(param.type)), None, "param"))
        sources[param] = [node_id]
    producers = builder.func(func, sources, None)
    result_id = builder.new_id("return")
    graph.add_node(PlotNode(result_id, ("return", ", ".join(str(t) for t in func.result_types))
                            if show_shapes else ("return",), None, "result"))
    for value in func.results:
        for source in producers.get(value, []):
            graph.add_edge(source, result_id)
    return graph
