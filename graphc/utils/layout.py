"""A layered drawing of a ``PlotGraph`` without Graphviz (Sugiyama style).

Coordinates are worked out along two abstract axes -- ``v`` across ranks and
``u`` along a rank -- and mapped to the page at the end, which is all
``rankdir`` changes (TB: x=u, y=v; BT: y flipped; LR: x=v, y=u; RL: x
flipped).  Units are pixels at 96 dpi.

Clusters are laid out bottom-up: a cluster's nodes and child clusters are
laid out on their own (``layering.layout_level``), then the cluster stands
as one big item in its parent's layout, so cluster boxes never overlap.  An
edge is routed at the innermost cluster holding both ends, between the items
that contain them, through the dummy points of every level it crosses.

Node boxes are sized from their text in a monospace font (0.6 em per
character), which the SVG and PNG writers use too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from graphc.errors import GraphcError

from .layering import Spacing, Level, layout_level
from .plot_graph import PlotGraph

RANKDIRS = ("TB", "BT", "LR", "RL")


@dataclass(frozen=True)
class Style:
    font_px: float = 12.0
    char_px: float = 7.2
    line_px: float = 16.0
    pad_x: float = 10.0
    pad_y: float = 6.0
    node_sep: float = 24.0
    rank_sep: float = 40.0
    dummy_size: float = 8.0
    cluster_pad: float = 12.0
    label_band: float = 20.0
    margin: float = 16.0


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2


@dataclass
class Layout:
    width: float
    height: float
    nodes: dict[str, Box]
    clusters: dict[str, Box]
    edges: list[tuple[str, str, list[tuple[float, float]]]]
    rankdir: str
    style: Style = field(default_factory=Style)


def text_size(lines: tuple[str, ...] | list[str], style: Style) -> tuple[float, float]:
    width = max((len(line) for line in lines), default=0) * style.char_px + 2 * style.pad_x
    return width, len(lines) * style.line_px + 2 * style.pad_y


def _sizes(graph: PlotGraph, rankdir: str, style: Style) -> dict[str, tuple[float, float]]:
    out = {}
    for node in graph.nodes:
        w, h = text_size(node.lines, style)
        out[node.id] = (w, h) if rankdir in ("TB", "BT") else (h, w)
    return out


class _Planner:
    def __init__(self, graph: PlotGraph, rankdir: str, style: Style) -> None:
        self.graph = graph
        self.rankdir = rankdir
        self.style = style
        self.spacing = Spacing(style.node_sep, style.rank_sep, style.dummy_size)
        self.node_size = _sizes(graph, rankdir, style)
        self.parent = {c.id: c.parent for c in graph.clusters}
        self.labels = {c.id: c.label for c in graph.clusters}
        self.cluster_of = {n.id: n.cluster for n in graph.nodes}
        self.levels: dict[str | None, Level] = {}
        self.offsets: dict[str | None, tuple[float, float]] = {}   # content origin per level
        self.block: dict[str, tuple[float, float]] = {}             # cluster -> (su, sv)
        self.edge_level: dict[tuple[str, str], tuple[str | None, str, str]] = {}
        self.exits: dict[str, list[str]] = {}      # cluster -> items with edges leaving it
        self.entries: dict[str, list[str]] = {}    # cluster -> items with edges entering it

    def chain(self, node: str) -> list[str | None]:
        """Clusters holding ``node``, innermost first, ending with None (the root)."""
        out: list[str | None] = []
        cluster = self.cluster_of[node]
        while cluster is not None:
            out.append(cluster)
            cluster = self.parent.get(cluster)
        return out + [None]

    @staticmethod
    def item_of(cluster: str) -> str:
        return "\x00cluster:" + cluster

    def route_edges(self) -> dict[str | None, list[tuple[str, str]]]:
        per_level: dict[str | None, list[tuple[str, str]]] = {}
        for a, b in self.graph.edges:
            ca, cb = self.chain(a), self.chain(b)
            common = next(c for c in ca if c in cb)
            rep_a = a if ca[0] == common else self.item_of(ca[ca.index(common) - 1])
            rep_b = b if cb[0] == common else self.item_of(cb[cb.index(common) - 1])
            self.edge_level[(a, b)] = (common, rep_a, rep_b)
            if rep_a != rep_b:
                per_level.setdefault(common, []).append((rep_a, rep_b))
            for cluster, item in self.crossings(a, ca, common):
                self.exits.setdefault(cluster, []).append(item)
            for cluster, item in self.crossings(b, cb, common):
                self.entries.setdefault(cluster, []).append(item)
        return per_level

    def crossings(self, node: str, chain: list[str | None], common: str | None
                  ) -> list[tuple[str, str]]:
        """``(cluster, item)`` for each cluster an edge from/to ``node`` crosses
        below ``common``: the item of that cluster that holds ``node``."""
        out = []
        for i, cluster in enumerate(chain[:chain.index(common)]):
            assert cluster is not None
            out.append((cluster, node if i == 0 else self.item_of(chain[i - 1])))
        return out

    def lay_out(self, cluster: str | None, per_level: dict) -> tuple[float, float]:
        items: list[str] = []
        size: dict[str, tuple[float, float]] = {}
        for node in self.graph.nodes:
            if node.cluster == cluster:
                items.append(node.id)
                size[node.id] = self.node_size[node.id]
        for child in self.graph.clusters:
            if child.parent == cluster:
                item = self.item_of(child.id)
                items.append(item)
                size[item] = self.lay_out(child.id, per_level)
        level = layout_level(items, size, per_level.get(cluster, []), self.spacing,
                             tuple(self.exits.get(cluster, ())) if cluster else (),
                             tuple(self.entries.get(cluster, ())) if cluster else ())
        self.levels[cluster] = level
        su, sv = level.extent
        if cluster is None:
            return su, sv
        pad, band = self.style.cluster_pad, self.style.label_band
        label_len = len(self.labels[cluster]) * self.style.char_px + 2 * pad
        if self.rankdir in ("TB", "BT"):
            block = (max(su + 2 * pad, label_len), sv + 2 * pad + band)
            origin = ((block[0] - su) / 2, pad + (band if self.rankdir == "TB" else 0.0))
        else:
            block = (su + 2 * pad + band, max(sv + 2 * pad, label_len))
            origin = (pad + band, (block[1] - sv) / 2)
        self.offsets[cluster] = origin
        self.block[cluster] = block
        return block

    def absolute(self, cluster: str | None, origin: tuple[float, float],
                 centers: dict[str, tuple[float, float]],
                 boxes: dict[str, tuple[float, float, float, float]]) -> None:
        level = self.levels[cluster]
        for item, (cu, cv) in level.center.items():
            au, av = origin[0] + cu, origin[1] + cv
            centers[item] = (au, av)
            if item.startswith("\x00cluster:"):
                child = item[len("\x00cluster:"):]
                bu, bv = self.block[child]
                boxes[child] = (au - bu / 2, av - bv / 2, bu, bv)
                inner = self.offsets[child]
                self.absolute(child, (au - bu / 2 + inner[0], av - bv / 2 + inner[1]),
                              centers, boxes)


def layout(graph: PlotGraph, rankdir: str = "TB", style: Style | None = None) -> Layout:
    """Positions of every node, cluster and edge of ``graph`` (see the module doc)."""
    if rankdir not in RANKDIRS:
        raise GraphcError(f"rankdir must be one of {', '.join(RANKDIRS)}; received {rankdir!r}")
    style = style or Style()
    planner = _Planner(graph, rankdir, style)
    per_level = planner.route_edges()
    su, sv = planner.lay_out(None, per_level)
    m = style.margin
    centers: dict[str, tuple[float, float]] = {}
    blocks: dict[str, tuple[float, float, float, float]] = {}
    planner.absolute(None, (m, m), centers, blocks)
    total_u, total_v = su + 2 * m, sv + 2 * m
    horizontal = rankdir in ("LR", "RL")
    width, height = (total_v, total_u) if horizontal else (total_u, total_v)

    def page(point: tuple[float, float]) -> tuple[float, float]:
        pu, pv = point
        if rankdir == "TB":
            return pu, pv
        if rankdir == "BT":
            return pu, height - pv
        if rankdir == "LR":
            return pv, pu
        return width - pv, pu

    def box(cu: float, cv: float, su_: float, sv_: float) -> Box:
        x, y = page((cu, cv))
        w, h = (sv_, su_) if horizontal else (su_, sv_)
        return Box(x - w / 2, y - h / 2, w, h)

    nodes = {n.id: box(*centers[n.id], *planner.node_size[n.id]) for n in graph.nodes}
    clusters = {cid: box(bu + bw / 2, bv + bh / 2, bw, bh)
                for cid, (bu, bv, bw, bh) in blocks.items()}
    edges = []
    for a, b in graph.edges:
        common, rep_a, rep_b = planner.edge_level[(a, b)]
        (ua, va), (ub, vb) = centers[a], centers[b]
        sa, sb = planner.node_size[a][1] / 2, planner.node_size[b][1] / 2
        down = va <= vb
        start = (ua, va + sa) if down else (ua, va - sa)
        end = (ub, vb - sb) if down else (ub, vb + sb)
        middle: list[tuple[float, float]] = []
        for cluster, item in planner.crossings(a, planner.chain(a), common):
            middle += _absolute(planner, cluster, m, ("\x00exit", item), ports=True)
        middle += _absolute(planner, common, m, (rep_a, rep_b), ports=False)
        for cluster, item in reversed(planner.crossings(b, planner.chain(b), common)):
            middle += _absolute(planner, cluster, m, ("\x00entry", item), ports=True)
        edges.append((a, b, [page(p) for p in [start] + middle + [end]]))
    return Layout(math.ceil(width), math.ceil(height), nodes, clusters, edges, rankdir, style)


def _absolute(planner: _Planner, cluster: str | None, margin: float, key: tuple[str, str],
              ports: bool) -> list[tuple[float, float]]:
    level = planner.levels[cluster]
    points = (level.ports if ports else level.routes).get(key, [])
    origin = _origin_of(planner, cluster, margin)
    return [(origin[0] + pu, origin[1] + pv) for pu, pv in points]


def _origin_of(planner: _Planner, cluster: str | None, margin: float) -> tuple[float, float]:
    """Absolute abstract origin of ``cluster``'s content."""
    if cluster is None:
        return margin, margin
    parent = planner.parent.get(cluster)
    parent_origin = _origin_of(planner, parent, margin)
    cu, cv = planner.levels[parent].center[_Planner.item_of(cluster)]
    bu, bv = planner.block[cluster]
    inner = planner.offsets[cluster]
    return parent_origin[0] + cu - bu / 2 + inner[0], parent_origin[1] + cv - bv / 2 + inner[1]
