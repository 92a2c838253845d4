"""The pure-Python layered layout on hand-made graphs: cycles, clusters,
long edges, determinism."""

from __future__ import annotations

import pytest

import graphc
from graphc.utils.layering import place
from graphc.utils.layout import Style, layout
from graphc.utils.plot_graph import Cluster, PlotGraph, PlotNode


def graph(edges, clusters=(), members=None):
    members = members or {}
    g = PlotGraph(title="g")
    names = list(dict.fromkeys(n for e in edges for n in e))
    for name in names:
        g.add_node(PlotNode(name, (f"node {name}",), members.get(name)))
    g.clusters.extend(Cluster(c, c, p) for c, p in clusters)
    for a, b in edges:
        g.add_edge(a, b)
    g.check()
    return g


def boxes_disjoint(result):
    boxes = list(result.nodes.values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and
                        b.y < a.y + a.h)


def test_a_cycle_is_laid_out():
    result = layout(graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]))
    assert set(result.nodes) == {"a", "b", "c", "d"}
    boxes_disjoint(result)
    assert result.nodes["a"].y < result.nodes["b"].y < result.nodes["c"].y < \
        result.nodes["d"].y


def test_long_edges_bend_around_nodes():
    result = layout(graph([("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")]))
    route = next(points for s, t, points in result.edges if (s, t) == ("a", "d"))
    assert len(route) == 4  # two dummies for the two ranks it crosses
    for x, y in route[1:-1]:
        for name in "bc":
            box = result.nodes[name]
            assert not (box.x <= x <= box.x + box.w and box.y <= y <= box.y + box.h)


def test_clusters_contain_their_nodes_and_do_not_overlap():
    g = graph([("in", "a1"), ("a1", "a2"), ("in", "b1"), ("b1", "b2"), ("a2", "out"),
               ("b2", "out"), ("a1", "b2")],
              clusters=[("A", None), ("B", None), ("B.inner", "B")],
              members={"a1": "A", "a2": "A", "b1": "B", "b2": "B.inner"})
    result = layout(g)
    boxes_disjoint(result)
    a, b, inner = result.clusters["A"], result.clusters["B"], result.clusters["B.inner"]
    assert not (a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h)
    for name, owner in (("a1", a), ("a2", a), ("b1", b), ("b2", inner)):
        box = result.nodes[name]
        assert owner.x <= box.x and box.x + box.w <= owner.x + owner.w
        assert owner.y <= box.y and box.y + box.h <= owner.y + owner.h
    assert inner.x >= b.x and inner.y >= b.y


def test_layout_is_deterministic():
    g = graph([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("a", "d")])
    assert layout(g) == layout(g)


def test_placement_keeps_order_and_gaps_and_is_least_squares():
    assert place([5.0, 5.0, 5.0], [2.0, 2.0]) == [3.0, 5.0, 7.0]
    assert place([0.0, 10.0], [3.0]) == [0.0, 10.0]
    assert place([4.0, 0.0], [2.0]) == [1.0, 3.0]


def test_text_sets_the_box_size():
    style = Style()
    result = layout(graph([("a", "b")]))
    box = result.nodes["a"]
    assert box.w == len("node a") * style.char_px + 2 * style.pad_x
    assert box.h == style.line_px + 2 * style.pad_y


def test_unknown_rankdir():
    with pytest.raises(graphc.GraphcError, match="rankdir must be one of"):
        layout(graph([("a", "b")]), "XY")
