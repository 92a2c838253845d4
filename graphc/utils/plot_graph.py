"""``PlotGraph``: what a drawing shows, independent of how it is drawn.

Nodes carry their text as lines (the first line is the title) and an
optional cluster; clusters nest through ``parent``; edges are ``(source,
target)`` node ids in a stable order, without duplicates.  Both the layer
view (``layer_graph.py``) and the IR view (``ir_graph.py``) build one of
these; the layout, SVG, PNG and DOT writers read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PlotNode:
    id: str
    lines: tuple[str, ...]
    cluster: str | None = None
    kind: str = "layer"
    """``input``, ``layer``, ``model`` (a nested model drawn as one box), ``op``,
    ``param``, ``const`` or ``result``: the writers colour nodes by kind."""


@dataclass(frozen=True)
class Cluster:
    id: str
    label: str
    parent: str | None = None
    kind: str = "model"
    """``model`` (an expanded nested model) or ``kernel`` (a fused IR kernel)."""


@dataclass
class PlotGraph:
    title: str
    nodes: list[PlotNode] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set, repr=False)

    def add_node(self, node: PlotNode) -> None:
        self.nodes.append(node)

    def add_edge(self, source: str, target: str) -> None:
        edge = (source, target)
        if source != target and edge not in self._seen:
            self._seen.add(edge)
            self.edges.append(edge)

    def check(self) -> None:
        """Every edge joins known nodes and every cluster parent exists."""
        ids = {n.id for n in self.nodes}
        clusters = {c.id for c in self.clusters}
        assert len(ids) == len(self.nodes), "duplicate node ids"
        for source, target in self.edges:
            assert source in ids and target in ids, (source, target)
        for node in self.nodes:
            assert node.cluster is None or node.cluster in clusters, node
        for cluster in self.clusters:
            assert cluster.parent is None or cluster.parent in clusters, cluster
