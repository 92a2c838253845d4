"""``graphc.utils.plot_model``: SVG, PNG and DOT of the layer graph and of the
IR, with and without Graphviz."""

from __future__ import annotations

import os
import shutil
import stat
import struct
import xml.etree.ElementTree as ET

import pytest

import graphc
from graphc import layers
from graphc.utils import plot_model

from ..saving import zoo

SVG = "{http://www.w3.org/2000/svg}"


def parse_svg(path):
    root = ET.parse(path).getroot()
    assert root.tag == SVG + "svg"
    groups = {g.get("class"): g for g in root.findall(SVG + "g")}
    nodes = {g.get("data-id"): g for g in groups["nodes"].findall(SVG + "g")}
    edges = [(p.get("data-source"), p.get("data-target")) for p in groups["edges"]]
    clusters = {g.get("data-id"): g for g in groups["clusters"].findall(SVG + "g")}
    return root, nodes, edges, clusters


def rect(group):
    r = group.find(SVG + "rect")
    return tuple(float(r.get(k)) for k in ("x", "y", "width", "height"))


def text_of(group):
    return [t.text for t in group.iter(SVG + "tspan")]


def overlaps(a, b):
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and \
        b[1] < a[1] + a[3]


def inside(inner, outer):
    return outer[0] <= inner[0] and outer[1] <= inner[1] and \
        inner[0] + inner[2] <= outer[0] + outer[2] and inner[1] + inner[3] <= outer[1] + outer[3]


def test_svg_has_one_node_per_layer_and_the_edges(tmp_path):
    model, _ = zoo.two_in_two_out()
    path = plot_model(model, tmp_path / "m.svg")
    assert path == str(tmp_path / "m.svg")
    _, nodes, edges, clusters = parse_svg(path)
    assert sorted(nodes) == sorted(op.name for op in model.operations)
    assert sorted(edges) == sorted([("image", "features"), ("features", "joined"),
                                    ("meta", "joined"), ("joined", "label"),
                                    ("joined", "score")])
    assert clusters == {}
    assert text_of(nodes["features"]) == ["features (Dense)"]
    boxes = [rect(g) for g in nodes.values()]
    assert not any(overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


@pytest.mark.parametrize("rankdir", ["TB", "BT", "LR", "RL"])
def test_edges_run_from_source_to_target_in_the_rank_direction(rankdir, tmp_path):
    model, _ = zoo.sequential_mlp()
    root, nodes, _, _ = parse_svg(plot_model(model, tmp_path / "m.svg", rankdir=rankdir))
    centers = {k: (r[0] + r[2] / 2, r[1] + r[3] / 2) for k, r in
               ((k, rect(g)) for k, g in nodes.items())}
    axis, sign = {"TB": (1, 1), "BT": (1, -1), "LR": (0, 1), "RL": (0, -1)}[rankdir]
    chain = ["x", "dense", "dropout", "dense_1"]
    for a, b in zip(chain, chain[1:]):
        assert sign * (centers[b][axis] - centers[a][axis]) > 0
    for path in root.iter(SVG + "path"):
        if path.get("class") == "edge":
            source, target = rect(nodes[path.get("data-source")]), \
                rect(nodes[path.get("data-target")])
            points = [tuple(map(float, p.lstrip("ML").split(",")))
                      for p in path.get("d").split()]
            for point, box in ((points[0], source), (points[-1], target)):
                on_x = box[0] - 0.1 <= point[0] <= box[0] + box[2] + 0.1
                on_y = box[1] - 0.1 <= point[1] <= box[1] + box[3] + 0.1
                assert on_x and on_y


def test_shapes_dtypes_and_names_in_the_nodes(tmp_path):
    model, _ = zoo.every_layer()
    _, nodes, _, _ = parse_svg(plot_model(model, tmp_path / "m.svg", show_shapes=True,
                                          show_dtype=True))
    assert text_of(nodes["emb"]) == ["emb (Embedding)", "input: (None, 5)",
                                     "output: (None, 5, 4)", "dtype: float32"]
    assert text_of(nodes["tokens"]) == ["tokens (InputLayer)", "output: (None, 5)",
                                        "dtype: int32"]
    _, nodes, _, _ = parse_svg(plot_model(model, tmp_path / "n.svg", show_layer_names=False))
    assert text_of(nodes["emb"]) == ["Embedding"]


def test_expanded_nested_models_are_clusters_holding_their_layers(tmp_path):
    model, _ = zoo.nested_models()
    _, nodes, edges, clusters = parse_svg(plot_model(model, tmp_path / "m.svg",
                                                     expand_nested=True))
    assert sorted(clusters) == ["branch", "branch/inner", "inner", "stacked", "stacked/branch",
                                "stacked/branch/inner"]
    for node_id, group in nodes.items():
        owner = node_id.rsplit("/", 1)[0] if "/" in node_id else None
        if owner:
            assert inside(rect(group), rect(clusters[owner])), node_id
    boxes = [rect(g) for g in nodes.values()]
    assert not any(overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert ("outer_in", "branch/x") in edges           # into a cluster: its input node
    assert ("branch/proj", "inner/input_layer") in edges   # out of one, into another
    assert ("branch/inner/norm", "branch/proj") in edges
    _, flat, flat_edges, flat_clusters = parse_svg(plot_model(model, tmp_path / "f.svg"))
    assert flat_clusters == {} and sorted(flat) == ["branch", "inner", "outer_in", "stacked"]
    assert sorted(flat_edges) == [("branch", "inner"), ("outer_in", "branch"),
                                  ("outer_in", "stacked")]


def test_a_layer_sliced_out_of_a_nested_model_is_drawn_from_its_own_node(tmp_path):
    model, _ = zoo.sliced_from_nested()
    _, _, edges, _ = parse_svg(plot_model(model, tmp_path / "m.svg", expand_nested=True))
    assert ("inner/block2", "head") in edges
    _, _, edges, _ = parse_svg(plot_model(model, tmp_path / "f.svg"))
    assert ("inner", "head") in edges


def test_png_has_the_signature_and_the_layout_size(tmp_path):
    model, _ = zoo.shared_layer()
    svg_root, _, _, _ = parse_svg(plot_model(model, tmp_path / "m.svg"))
    width, height = int(svg_root.get("width")), int(svg_root.get("height"))
    for dpi, scale in ((96, 1.0), (192, 2.0)):
        path = plot_model(model, tmp_path / f"m{dpi}.png", dpi=dpi)
        data = open(path, "rb").read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
        png_w, png_h = struct.unpack(">II", data[16:24])
        assert abs(png_w - width * scale) <= 2 and abs(png_h - height * scale) <= 2


def test_dot_output_is_graphviz_text(tmp_path):
    model, _ = zoo.nested_models()
    text = open(plot_model(model, tmp_path / "m.dot", expand_nested=True, rankdir="LR")).read()
    assert text.startswith('digraph "nest" {') and "rankdir=LR" in text
    assert text.count("subgraph cluster_") == 6 and text.count(" -> ") == 15
    assert 'label="outer_in (InputLayer)\\l"' in text


def test_ir_level_draws_fused_kernels_as_clusters(tmp_path):
    model, _ = zoo.two_in_two_out()
    _, nodes, edges, clusters = parse_svg(plot_model(model, tmp_path / "ir.svg", level="ir",
                                                     show_shapes=True))
    fused = graphc.passes.run_pipeline(model.to_ir(), "default")
    kernels = [f.name for f in fused.funcs if f.primitive]
    assert sorted(g.find(SVG + "title").text for g in clusters.values()) == \
        sorted("@" + k for k in kernels)
    params = [g for g in nodes.values() if "node-param" in g.get("class")]
    assert len(params) == len(fused.entry.params)
    assert sum(len(f.nodes) for f in fused.funcs if f.primitive) + len(params) + 1 == len(nodes)
    assert all(source in nodes and target in nodes for source, target in edges)
    _, _, _, unfused = parse_svg(plot_model(model, tmp_path / "raw.svg", level="ir",
                                            passes=None))
    assert unfused == {}


def test_an_ir_module_can_be_plotted(tmp_path):
    module = graphc.ir.parse_module("func @f(%x: f32[2]) -> (f32[2]) {\n"
                                    "  %0: f32[2] = exp(%x)\n  return %0\n}\n")
    _, nodes, edges, _ = parse_svg(plot_model(module, tmp_path / "f.svg", level="ir"))
    assert len(nodes) == 3 and len(edges) == 2


def test_unbuilt_sequential_is_a_chain(tmp_path):
    model = graphc.Sequential([layers.Dense(2), layers.Dense(1)])
    _, nodes, edges, _ = parse_svg(plot_model(model, tmp_path / "m.svg"))
    assert sorted(nodes) == ["dense", "dense_1"] and edges == [("dense", "dense_1")]


def fake_dot(tmp_path):
    """A stand-in for Graphviz's dot: writes its stdin to the -o file."""
    script = tmp_path / "dot"
    script.write_text('#!/bin/sh\nout=""\nwhile [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; '
                      'shift; done\ncat > "$out"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_graphviz_is_used_when_dot_is_on_path(tmp_path, monkeypatch):
    model, _ = zoo.sequential_mlp()
    dot = fake_dot(tmp_path)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: dot if name == "dot" else None)
    text = open(plot_model(model, tmp_path / "m.svg")).read()
    assert text.startswith('digraph "mlp"')  # what the stand-in received
    python = open(plot_model(model, tmp_path / "p.svg", engine="python")).read()
    assert python.startswith("<?xml")


def test_without_graphviz_auto_draws_in_python_and_graphviz_is_an_error(tmp_path):
    model, _ = zoo.sequential_mlp()
    assert open(plot_model(model, tmp_path / "m.svg")).read().startswith("<?xml")
    with pytest.raises(graphc.GraphcError, match="'dot' program is not on PATH"):
        plot_model(model, tmp_path / "g.svg", engine="graphviz")
    assert not os.path.exists(tmp_path / "g.svg")


@pytest.mark.parametrize("kwargs, message", [
    ({"to_file": "m.jpg"}, "cannot tell the format of '.*m.jpg'"),
    ({"rankdir": "XY"}, "rankdir must be one of TB, BT, LR, RL"),
    ({"level": "kernels"}, "level must be one of layers, ir"),
    ({"engine": "magic"}, "engine must be one of auto, python, graphviz"),
    ({"dpi": 0}, "dpi must be a number in"),
])
def test_argument_errors(kwargs, message, tmp_path):
    model, _ = zoo.sequential_mlp()
    kwargs.setdefault("to_file", "m.svg")
    kwargs["to_file"] = tmp_path / kwargs["to_file"]
    with pytest.raises(graphc.FrontendError, match=message):
        plot_model(model, **kwargs)


def test_what_cannot_be_plotted(tmp_path):
    with pytest.raises(graphc.FrontendError, match="expects a graphc Model or an IR Module"):
        plot_model(layers.Dense(2), tmp_path / "d.svg")
    module = graphc.ir.parse_module("func @f(%x: f32[2]) -> (f32[2]) {\n  return %x\n}\n")
    with pytest.raises(graphc.FrontendError, match="has no layer graph; use level='ir'"):
        plot_model(module, tmp_path / "f.svg")
    with pytest.raises(graphc.GraphcError, match="cannot write"):
        plot_model(zoo.sequential_mlp()[0], tmp_path / "missing" / "m.svg")
