"""The config of a Functional model, and its rebuild.

::

    {"name": "m", "trainable": true,
     "layers":  [entry, ...],                  # inputs first, then call order
     "nodes":   [{"layer": "dense", "inputs": <structure>, "kwargs": {...}}, ...],
     "inputs":  <structure>, "outputs": <structure>}

``nodes`` lists the model's call sites in the order the model runs them (a
topological order).  The *node index* of a call is its position among the
calls of the same layer in that list, so ``{"ref": ["dense", 1, 0]}`` is
output 0 of the second call of ``dense``; an input is ``[input_name, 0,
0]``.  A tensor that lives inside a nested model's call (a layer sliced out
of a nested model) carries ``"within": [[model_layer, node], ...]``, the
chain of nested calls, outermost first; its ``ref`` is then read in the
innermost model's own numbering.

Structures are JSON lists (Python lists), ``{"tuple": [...]}`` and ``{"dict":
{...}}`` with ``{"ref": ...}`` leaves.  The rebuild creates the layers, then
replays the nodes in order; a reference can only point to a node replayed
before it, so a cyclic or dangling reference is a ``LoadError`` naming the
node and what it points to.  Replaying the nodes in their original order
gives the rebuilt model the same call order, hence the same numbering and a
byte-identical config.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from graphc.errors import FrontendError, GraphcError, LoadError

from ..diagnostics import message_without_call_site
from ..layers.base import Layer
from ..models.graph import TensorRef
from ..structure import encode_structure, flatten, pack_like
from ..tensor import CallSite, SymbolicTensor
from .entries import RebuildContext, SaveContext, deserialize_entry, serialize_entry
from .layer_config import input_config
from .values import decode_value, encode_value

MODEL_KEYS = ("inputs", "layers", "name", "nodes", "outputs", "trainable")
MAX_STRUCTURE_DEPTH = 64


# --- writing -------------------------------------------------------------------------
def node_indices(model: Any) -> dict[int, int]:
    """id(site) -> its index among the calls of its layer at this level."""
    counts: Counter = Counter()
    out = {}
    for site in model.graph.sites:
        out[id(site)] = counts[id(site.layer)]
        counts[id(site.layer)] += 1
    return out


class _RefWriter:
    def __init__(self, model: Any) -> None:
        self.model = model
        self.indices: dict[int, dict[int, int]] = {}

    def _index(self, model: Any, site: CallSite) -> int:
        if id(model) not in self.indices:
            self.indices[id(model)] = node_indices(model)
        return self.indices[id(model)][id(site)]

    def ref(self, ref: TensorRef) -> dict:
        within = []
        level = self.model
        for site in ref.scope:
            within.append([site.layer.name, self._index(level, site)])
            level = site.layer
        tensor = ref.tensor
        if any(tensor is t for t in level.graph.inputs):
            out: dict = {"ref": [tensor.name, 0, 0]}
        else:
            out = {"ref": [tensor.site.layer.name, self._index(level, tensor.site),
                           tensor.output_index]}
        if within:
            out["within"] = within
        return out


def functional_config(model: Any, ctx: SaveContext, prefix: str) -> dict:
    graph = model.graph
    writer = _RefWriter(model)
    layers: list[dict] = []
    names = {op.name for op in graph.operations}
    for tensor in graph.inputs:
        site = tensor.site
        if site is not None and site.layer.is_input_layer:
            layers.append(serialize_entry(site.layer, ctx, prefix))
            continue
        if tensor.name in names:
            raise FrontendError(f"model '{model.name}' takes the intermediate tensor "
                                f"'{tensor.name}' as an input, and a layer of the model has "
                                "that name too; it cannot be saved")
        names.add(tensor.name)
        layers.append({"class_name": "InputLayer", "module": "graphc.layers",
                       "name": tensor.name, "config": input_config(tensor.type, tensor.name)})
    layers += [serialize_entry(op, ctx, prefix) for op in graph.operations
               if not op.is_input_layer]
    nodes = []
    for site in graph.sites:
        refs = [writer.ref(r) for r in graph.input_refs[id(site)]]
        kwargs = {k: encode_value(v, f"call of '{site.layer.name}', keyword '{k}'")
                  for k, v in site.kwargs.items()}
        nodes.append({"layer": site.layer.name, "inputs": encode_structure(site.inputs, refs),
                      "kwargs": kwargs})
    inputs = [writer.ref(TensorRef((), t)) for t in graph.inputs]
    outputs = [writer.ref(r) for r in graph.outputs]
    return {"name": model.name, "trainable": bool(model.trainable), "layers": layers,
            "nodes": nodes, "inputs": encode_structure(model._inputs_struct, inputs),
            "outputs": encode_structure(model._outputs_struct, outputs)}


# --- reading -------------------------------------------------------------------------
def decode_structure(raw: Any, leaf: Callable[[Any, str], Any], where: str,
                     depth: int = 0) -> Any:
    if depth > MAX_STRUCTURE_DEPTH:
        raise LoadError(f"{where}: structure nested more than {MAX_STRUCTURE_DEPTH} levels")
    if isinstance(raw, list):
        return [decode_structure(v, leaf, where, depth + 1) for v in raw]
    if isinstance(raw, dict) and set(raw) == {"tuple"} and isinstance(raw["tuple"], list):
        return tuple(decode_structure(v, leaf, where, depth + 1) for v in raw["tuple"])
    if isinstance(raw, dict) and set(raw) == {"dict"} and isinstance(raw["dict"], dict):
        return {k: decode_structure(v, leaf, where, depth + 1) for k, v in raw["dict"].items()}
    if isinstance(raw, dict) and "ref" in raw and set(raw) <= {"ref", "within"}:
        return leaf(raw, where)
    raise LoadError(f"{where}: expected a tensor reference {{\"ref\": [layer, node, tensor]}}, "
                    f"a list, {{\"tuple\": [...]}} or {{\"dict\": {{...}}}}; received "
                    f"{str(raw)[:80]}")


def _triple(raw: Any, where: str) -> tuple[str, int, int]:
    ok = isinstance(raw, list) and len(raw) == 3 and isinstance(raw[0], str) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in raw[1:])
    if not ok:
        raise LoadError(f"{where}: a reference is [layer name, node index, tensor index], "
                        f"received {str(raw)[:80]}")
    return raw[0], raw[1], raw[2]


def _pair(raw: Any, where: str) -> tuple[str, int]:
    ok = isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], str) and \
        isinstance(raw[1], int) and not isinstance(raw[1], bool) and raw[1] >= 0
    if not ok:
        raise LoadError(f"{where}: 'within' holds [model layer name, node index] pairs, "
                        f"received {str(raw)[:80]}")
    return raw[0], raw[1]


class _Graph:
    """The state of one Functional rebuild: layers, inputs and replayed calls."""

    def __init__(self, config: dict, ctx: RebuildContext, prefix: str, where: str) -> None:
        self.where = where
        self.resolver = ctx.resolver
        self.layers: dict[str, Layer] = {}
        self.inputs: dict[str, SymbolicTensor] = {}
        entries = config["layers"]
        if not isinstance(entries, list):
            raise LoadError(f"{where}: 'layers' must be a list")
        for i, entry in enumerate(entries):
            layer = deserialize_entry(entry, ctx, prefix, f"{where}, layers[{i}]")
            name = entry["name"]
            if name in self.layers:
                raise LoadError(f"{where}: two layers are named '{name}'")
            self.layers[name] = layer
            if layer.is_input_layer:
                self.inputs[name] = layer.output
        nodes = config["nodes"]
        if not isinstance(nodes, list):
            raise LoadError(f"{where}: 'nodes' must be a list")
        self.planned = Counter(n.get("layer") for n in nodes if isinstance(n, dict))
        self.calls: dict[str, list[CallSite]] = {name: [] for name in self.layers}

    def local(self, name: str, node: int, tensor: int, where: str) -> SymbolicTensor:
        if node == 0 and tensor == 0 and name in self.inputs:
            return self.inputs[name]
        site = self.call(name, node, where)
        return _output(site, tensor, where)

    def call(self, name: str, node: int, where: str) -> CallSite:
        if name not in self.calls:
            raise LoadError(f"{where}: refers to layer '{name}', which the model does not have "
                            "(a dangling reference)")
        calls = self.calls[name]
        if node < len(calls):
            return calls[node]
        if node < self.planned.get(name, 0):
            raise LoadError(f"{where}: refers to call {node} of layer '{name}', which comes "
                            "later in 'nodes' (a cyclic or out-of-order reference)")
        raise LoadError(f"{where}: refers to call {node} of layer '{name}', but the layer is "
                        f"called {self.planned.get(name, 0)} time(s) (a dangling reference)")

    def tensor(self, raw: dict, where: str) -> SymbolicTensor:
        name, node, index = _triple(raw["ref"], where)
        within = raw.get("within", [])
        if not isinstance(within, list) or ("within" in raw and not within):
            raise LoadError(f"{where}: 'within' must be a non-empty list")
        if not within:
            return self.local(name, node, index, where)
        outer, outer_node = _pair(within[0], where)
        site = self.call(outer, outer_node, where)
        for pair in within[1:]:
            inner, inner_node = _pair(pair, where)
            site = _nested_site(site, inner, inner_node, where)
        return _nested_tensor(site, name, node, index, where)


def _output(site: CallSite, index: int, where: str) -> SymbolicTensor:
    if index >= len(site.output_tensors):
        raise LoadError(f"{where}: layer '{site.layer.name}' returns "
                        f"{len(site.output_tensors)} tensor(s); there is no output {index}")
    return site.output_tensors[index]


def _graph_of(site: CallSite, where: str) -> Any:
    from ..models.model import Model
    if not isinstance(site.layer, Model):
        raise LoadError(f"{where}: 'within' names '{site.layer.name}', which is not a model")
    return site.layer.graph


def _nested_site(site: CallSite, name: str, node: int, where: str) -> CallSite:
    calls = [s for s in _graph_of(site, where).sites if s.layer.name == name]
    if node >= len(calls):
        raise LoadError(f"{where}: model '{site.layer.name}' has no call {node} of layer "
                        f"'{name}' (a dangling reference)")
    return calls[node]


def _nested_tensor(site: CallSite, name: str, node: int, index: int,
                   where: str) -> SymbolicTensor:
    graph = _graph_of(site, where)
    if node == 0 and index == 0:
        for t in graph.inputs:
            if t.name == name:
                return t
    return _output(_nested_site(site, name, node, where), index, where)


class _Pending:
    """A reference read before the tensors exist (a leaf for ``flatten``)."""

    def __init__(self, raw: dict) -> None:
        self.raw = raw


def rebuild_functional(cls: type, config: dict, ctx: RebuildContext, prefix: str, where: str,
                       input_tensors: list[Any] | None = None) -> Any:
    graph = _Graph(config, ctx, prefix, where)
    input_refs = decode_structure(config["inputs"], lambda raw, w: _Pending(raw),
                                  f"{where}, inputs")
    if input_tensors is not None:
        names = [_triple(r.raw["ref"], f"{where}, inputs")[0] for r in flatten(input_refs)]
        if len(names) != len(input_tensors):
            raise FrontendError(f"model '{config['name']}' has {len(names)} input(s); "
                                f"input_tensors holds {len(input_tensors)}")
        graph.inputs.update(zip(names, input_tensors))
    for k, node in enumerate(config["nodes"]):
        _replay(graph, node, k, where)
    inputs = pack_like(input_refs, [graph.tensor(r.raw, f"{where}, inputs")
                                    for r in flatten(input_refs)])
    outputs = decode_structure(config["outputs"], graph.tensor, f"{where}, outputs")
    try:
        return cls(inputs=inputs, outputs=outputs, name=config["name"],
                   trainable=config["trainable"])
    except GraphcError as exc:
        raise LoadError(f"{where}: the model cannot be rebuilt: {exc}") from None


def _replay(graph: _Graph, node: Any, k: int, where: str) -> None:
    here = f"{where}, nodes[{k}]"
    if not isinstance(node, dict) or set(node) != {"layer", "inputs", "kwargs"}:
        raise LoadError(f"{here}: a node needs exactly the keys 'inputs', 'kwargs' and 'layer'")
    name = node["layer"]
    if not isinstance(name, str) or name not in graph.layers:
        raise LoadError(f"{here}: calls layer {name!r}, which the model does not have")
    layer = graph.layers[name]
    if layer.is_input_layer:
        raise LoadError(f"{here}: an InputLayer ('{name}') cannot be called")
    here = f"{here} (call of '{name}')"
    inputs = decode_structure(node["inputs"], graph.tensor, here)
    kwargs = node["kwargs"]
    if not isinstance(kwargs, dict):
        raise LoadError(f"{here}: 'kwargs' must be a JSON object")
    kwargs = decode_value(kwargs, graph.resolver, here)
    before = len(layer._call_sites)
    try:
        layer(inputs, **kwargs)
    except GraphcError as exc:
        raise LoadError(f"{here} failed: {message_without_call_site(exc)}") from None
    except TypeError as exc:
        raise LoadError(f"{here} failed: {message_without_call_site(exc)}") from None
    if len(layer._call_sites) != before + 1:
        raise LoadError(f"{here}: the layer did not record its call")
    graph.calls[name].append(layer._call_sites[-1])
