"""The layer view of a model as a ``PlotGraph``.

One node per layer (a shared layer is one node with several in-edges, as
in Keras), per ``graphc.ops`` op node and per model input.  Node ids are
layer paths (``outer/inner/dense``).  Without ``expand_nested`` a nested
model is one node; with it, the model becomes a cluster holding its own
inputs and layers (recursively), edges into it end at its input nodes
(matched to the call's arguments as the model matches them), and edges out
of it start at the layers that make its outputs.  A tensor sliced out of a
nested model is drawn from the inner layer that makes it when the model is
expanded, else from the nested model's node.

Node text: ``name (Type)`` (just ``Type`` without ``show_layer_names``),
then with ``show_shapes`` the input and output shapes in Keras style
(``(None, 784)``; ``multiple`` when the calls differ), and with
``show_dtype`` the output dtype(s).  An unbuilt Sequential is drawn as the
chain of its layers.
"""

from __future__ import annotations

from typing import Any

from ..models.inputs import match_inputs
from ..structure import flatten
from .plot_graph import Cluster, PlotGraph, PlotNode


def _shapes(structures: list[Any]) -> str:
    texts = set()
    for structure in structures:
        shapes = [str(t.shape) for t in flatten(structure)]
        texts.add(shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]")
    return texts.pop() if len(texts) == 1 else "multiple"


def _dtypes(structures: list[Any]) -> str:
    names: list[str] = []
    for structure in structures:
        for t in flatten(structure):
            if t.dtype not in names:
                names.append(t.dtype)
    return ", ".join(names) or "?"


class _Builder:
    def __init__(self, graph: PlotGraph, show_shapes: bool, show_dtype: bool,
                 show_layer_names: bool, expand_nested: bool) -> None:
        self.graph = graph
        self.show_shapes = show_shapes
        self.show_dtype = show_dtype
        self.show_layer_names = show_layer_names
        self.expand_nested = expand_nested

    def expanded(self, layer: Any) -> bool:
        from ..models.model import Model
        return self.expand_nested and isinstance(layer, Model) and layer.built

    def title(self, name: str, type_name: str) -> str:
        return f"{name} ({type_name})" if self.show_layer_names else type_name

    def node(self, node_id: str, title: str, kind: str, cluster: str | None,
             inputs: list[Any], outputs: list[Any]) -> None:
        lines = [title]
        if self.show_shapes:
            if inputs:
                lines.append(f"input: {_shapes(inputs)}")
            lines.append(f"output: {_shapes(outputs)}" if outputs else "output: ?")
        if self.show_dtype:
            lines.append(f"dtype: {_dtypes(outputs)}" if outputs else "dtype: ?")
        self.graph.add_node(PlotNode(node_id, tuple(lines), cluster, kind))

    # one model level ------------------------------------------------------------
    def level(self, model: Any, prefix: str, cluster: str | None) -> None:
        from ..models.model import Model
        from ..ops.dispatch import OpNode
        if not model.built:
            self.chain(model, prefix, cluster)
            return
        graph = model.graph
        for t in graph.inputs:
            if t.site is None or not t.site.layer.is_input_layer:
                self.node(prefix + t.name, self.title(t.name, "Input"), "input", cluster, [],
                          [t])
        for op in graph.operations:
            node_id = prefix + op.name
            if op.is_input_layer:
                self.node(node_id, self.title(op.name, op.type_name), "input", cluster, [],
                          [op.output])
                continue
            sites = [s for s in graph.sites if s.layer is op]
            if self.expanded(op):
                self.graph.clusters.append(Cluster(node_id, self.title(op.name, op.type_name),
                                                   cluster))
                self.level(op, node_id + "/", node_id)
                continue
            kind = "op" if isinstance(op, OpNode) else "model" if isinstance(op, Model) \
                else "layer"
            self.node(node_id, self.title(op.name, op.type_name), kind, cluster,
                      [s.inputs for s in sites], [s.outputs for s in sites])
        for site in graph.sites:
            targets = self.in_points(site, prefix)
            for ref, target in zip(graph.input_refs[id(site)], targets):
                self.graph.add_edge(self.out_point(model, ref, prefix), target)

    def chain(self, model: Any, prefix: str, cluster: str | None) -> None:
        previous = None
        for layer in model.layers:
            node_id = prefix + layer.name
            self.node(node_id, self.title(layer.name, layer.type_name), "layer", cluster, [], [])
            if previous is not None:
                self.graph.add_edge(previous, node_id)
            previous = node_id

    def in_points(self, site: Any, prefix: str) -> list[str]:
        layer = site.layer
        if not self.expanded(layer):
            return [prefix + layer.name] * len(site.input_tensors)
        ordered = match_inputs(layer, site.inputs)
        inner = prefix + layer.name + "/"
        points = []
        for tensor in site.input_tensors:
            index = next(i for i, t in enumerate(ordered) if t is tensor)
            points.append(inner + layer.graph.inputs[index].name)
        return points

    def out_point(self, model: Any, ref: Any, prefix: str) -> str:
        if ref.scope:
            layer = ref.scope[0].layer
            if self.expanded(layer):
                return self.out_point(layer, ref.inner(), prefix + layer.name + "/")
            return prefix + layer.name
        tensor = ref.tensor
        if any(tensor is t for t in model.graph.inputs):
            return prefix + tensor.name
        layer = tensor.site.layer
        if self.expanded(layer):
            inner_ref = layer.graph.outputs[tensor.output_index]
            return self.out_point(layer, inner_ref, prefix + layer.name + "/")
        return prefix + layer.name


def layer_graph(model: Any, *, show_shapes: bool = False, show_dtype: bool = False,
                show_layer_names: bool = True, expand_nested: bool = False) -> PlotGraph:
    """The layer graph of ``model`` (see the module doc)."""
    graph = PlotGraph(title=model.name)
    _Builder(graph, show_shapes, show_dtype, show_layer_names, expand_nested).level(
        model, "", None)
    return graph
