"""From a model to IR: ``trace_graph`` and ``lower_model``.

``trace_graph`` replays the call sites that run at a model's level, in
order, into a ``Tracer``: each layer's ``call`` is traced with the values of
its inputs, and a nested model is traced recursively (inlined) with its
layer paths prefixed by the model's name.  Values are keyed by
``TensorRef.key()``; a tensor that lives inside a nested call (a ref with a
scope) is *requested* from that call's trace, which hands it back along
with the model's outputs.  The same function serves a symbolic call of a model (a scratch
tracer, to infer output types), ``Model.to_ir()`` and compilation.

``lower_model`` builds the model's public function: parameters are the
model inputs (named by input name) followed by every weight in Keras order
(named by its path, e.g. ``block1/dense_2/kernel``); results are the outputs
in flattened order.  Every node's ``loc`` is the layer path
(``outer/block1/dense_2``) plus the file and line where the layer was
*created* (for op nodes, where the op was called).  Each layer call's result
value is named after the layer, so the printed IR reads like the model.
The module is verified before it is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from ..naming import ir_func_name
from ..ir.builder import Builder
from ..ir.core import Func, Module, Node, Value
from ..ir.verifier import verify_module
from ..layers.weights import Weight
from ..structure import flatten, pack_like
from ..tracing import Traced, Tracer
from .graph import ModelGraph, TensorRef

if TYPE_CHECKING:  # pragma: no cover
    from ..layers.base import Layer
    from .model import Model



def trace_graph(graph: ModelGraph, tracer: Tracer, input_values: Sequence[Traced], path: str,
                extra: Sequence[TensorRef] = (), names: dict[Value, str] | None = None,
                want_outputs: bool = True) -> tuple[list[Traced], list[Traced]]:
    """Values of ``graph.outputs`` (unless ``want_outputs`` is false: then only
    what the ``extra`` refs need is traced) and of the ``extra`` refs."""
    from .model import Model
    outputs = list(graph.outputs) if want_outputs else []
    targets = outputs + list(extra)
    sites = graph.sites if want_outputs and not extra else graph.needed(targets)
    wanted_here = {id(ref.tensor) for ref in targets if not ref.scope}
    requests: dict[int, dict[tuple, TensorRef]] = {}
    for ref in targets + [r for s in sites for r in graph.input_refs[id(s)]]:
        if ref.scope:
            requests.setdefault(id(ref.scope[0]), {})[ref.key()] = ref.inner()
        else:
            wanted_here.add(id(ref.tensor))
    env: dict[tuple, Traced] = {(id(t),): v for t, v in zip(graph.inputs, input_values)}
    for site in sites:
        args = [env[ref.key()] for ref in graph.input_refs[id(site)]]
        layer = site.layer
        if isinstance(layer, Model):
            asked = requests.get(id(site), {})
            used = any(id(t) in wanted_here for t in site.output_tensors)
            outs, found = layer._trace_inlined(tracer, args, path, list(asked.values()), names,
                                               want_outputs=used)
            env.update(zip(asked, found))
        else:
            outs = flatten(layer._trace(tracer, pack_like(site.inputs, args), dict(site.kwargs),
                                        path))
        for tensor, value in zip(site.output_tensors, outs):
            env[(id(tensor),)] = value
            if names is not None and value.value not in names:
                names[value.value] = path + layer.name
    return [env[r.key()] for r in outputs], [env[r.key()] for r in extra]


@dataclass(frozen=True)
class LoweredModel:
    """A model's IR plus what is needed to call it with user data."""

    module: Module
    input_names: tuple[str, ...]
    weights: tuple[Weight, ...]
    output_structure: Any


def weight_paths(model: "Model") -> dict[Weight, str]:
    """Each weight's path within ``model`` (first place it is found wins)."""
    from .model import Model
    paths: dict[Weight, str] = {}

    def visit(layer: "Layer", prefix: str) -> None:
        if isinstance(layer, Model):
            for inner in layer.operations:
                visit(inner, prefix + layer.name + "/" if layer is not model else prefix)
            return
        for w in layer.weights:
            if w not in paths:
                owner = "" if w.layer is layer else w.layer.name + "/"
                paths[w] = f"{prefix}{layer.name}/{owner}{w.name}"

    visit(model, "")
    return paths


def func_name(model: "Model") -> str:
    return ir_func_name(model.name)


def lower_model(model: "Model") -> LoweredModel:
    graph = model.graph
    builder = Builder(func_name(model))
    paths = weight_paths(model)
    # Weights of layers outside the model that a custom layer reaches for
    # become extra parameters after the model's own, in order of first use.
    tracer = Tracer(builder, weight_param=lambda w: builder.param(w.type, w.path))
    inputs = [tracer.param(t.type, model.input_names[i]) for i, t in enumerate(graph.inputs)]
    for w in model.weights:
        tracer.weights[w] = builder.param(w.type, paths.get(w, w.path))
    names: dict[Value, str] = {}
    outputs, _ = trace_graph(graph, tracer, inputs, model.name + "/", names=names)
    func = builder.finish(*(o.value for o in outputs))
    top = model.name + "/"
    names = {v: n[len(top):] if n.startswith(top) else n for v, n in names.items()}
    module = verify_module(Module([rename_results(func, names)]))
    return LoweredModel(module, tuple(model.input_names), tuple(tracer.weights),
                        model._output_structure())


def rename_results(func: Func, names: dict[Value, str]) -> Func:
    """A copy of ``func`` whose node outputs listed in ``names`` carry those names."""
    mapping: dict[Value, Value] = {}

    def new(value: Value) -> Value:
        return mapping.get(value, value)

    nodes: list[Node] = []
    for node in func.nodes:
        outputs = []
        for out in node.outputs:
            if out in names and out.name is None:
                mapping[out] = Value(out.type, names[out])
            outputs.append(new(out))
        nodes.append(node.replace(inputs=tuple(new(v) for v in node.inputs),
                                  outputs=tuple(outputs)))
    return func.replace(nodes=tuple(nodes), results=tuple(new(r) for r in func.results))

