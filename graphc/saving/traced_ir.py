"""Layers defined by Python functions, stored as the IR they trace to.

A ``Lambda`` layer and a layer made from a ``graphc.ops`` call on symbolic
tensors (an ``OpNode``) hold Python functions.  A model file never stores
code, so these layers are stored as what their function *did*: for each
distinct input signature among the layer's call sites, the function is
traced on fresh parameters (``x0, x1 ...`` of the call's input types) into a
Func named ``call_<k>``, and the module is printed as canonical ``.gir`` text
without source locations.  The config holds::

    {"ir": "<.gir text>", "outputs": {"call_0": <output structure>, ...}}

where an output structure is a list / ``{"tuple": [...]}`` / ``{"dict":
{...}}`` whose leaves are result positions (ints).

Loading parses the text with the IR parser (which is built for hostile
input) and verifies it; ``IRFunction`` then *replays* the stored nodes into
whatever trace the layer is called in, choosing the Func whose parameter
types match the inputs (a named symbol such as ``N`` binds to the actual
dim, and shape attributes that mention it are rewritten accordingly).
Replaying emits the very ops the Python function emitted, so a restored
model computes bit-for-bit what the original did.  Stored functions may not
use weights (a function reaching for a layer's weights belongs in a custom
layer) and may not contain ``call`` nodes.
"""

from __future__ import annotations

from typing import Any

from graphc.errors import FrontendError, GraphcError, LoadError, ShapeError

from ..ir.attrs import SHAPE
from ..ir.core import Func, Module
from ..ir.opdef import CALL
from ..ir.parser import parse_module
from ..ir.printer import print_module
from ..ir.types import UNKNOWN, TensorType
from ..structure import encode_structure, flatten, pack_like
from ..tracing import Traced, Tracer

FUNC_PREFIX = "call_"


# --- structures of result positions ------------------------------------------------
def encode_positions(structure: Any) -> Any:
    """The structure with each leaf replaced by its position (0, 1, ...)."""
    return encode_structure(structure, range(len(flatten(structure))))


def decode_positions(raw: Any, count: int, where: str, depth: int = 0) -> Any:
    """The structure with int leaves; every position 0..count-1 exactly once."""
    seen: list[int] = []

    def dec(node: Any, level: int) -> Any:
        if level > 64:
            raise LoadError(f"{where}: output structure nested too deeply")
        if isinstance(node, bool) or node is None:
            raise LoadError(f"{where}: output structure holds {node!r}; expected result "
                            "positions, lists, {\"tuple\": [...]} or {\"dict\": {...}}")
        if isinstance(node, int):
            seen.append(node)
            return node
        if isinstance(node, list):
            return [dec(v, level + 1) for v in node]
        if isinstance(node, dict) and set(node) == {"tuple"} and isinstance(node["tuple"], list):
            return tuple(dec(v, level + 1) for v in node["tuple"])
        if isinstance(node, dict) and set(node) == {"dict"} and isinstance(node["dict"], dict):
            return {k: dec(node["dict"][k], level + 1) for k in sorted(node["dict"])}
        raise LoadError(f"{where}: malformed output structure {str(node)[:60]}")

    structure = dec(raw, depth)
    if sorted(seen) != list(range(count)) or seen != sorted(seen):
        raise LoadError(f"{where}: output structure must list result positions 0..{count - 1} "
                        f"in order, received {seen}")
    return structure


# --- tracing a layer into stored IR --------------------------------------------------
def _strip_locs(func: Func) -> Func:
    return func.replace(nodes=tuple(n.replace(loc=None) for n in func.nodes))


def trace_layer_calls(layer: Any) -> dict:
    """The stored-IR config of ``layer`` (a Lambda or OpNode) from its call sites."""
    function = getattr(layer, "function", None) if not hasattr(layer, "fn") else layer.fn
    if isinstance(function, IRFunction) and function.covers(layer):
        return function.config()
    label = f"{layer.type_name} '{layer.name}'"
    if not layer._call_sites:
        raise FrontendError(f"{label} has never been called, so there is no traced IR to store "
                            "for its function; call it on graphc tensors (build the model) "
                            "before saving")
    funcs, outputs, signatures = [], {}, []
    for site in layer._call_sites:
        types = tuple(t.type for t in site.input_tensors)
        if types in signatures:
            continue
        name = f"{FUNC_PREFIX}{len(signatures)}"
        signatures.append(types)
        tracer = Tracer.scratch(name, training=bool(site.kwargs.get("training", False)))
        params = [tracer.param(t, f"x{i}") for i, t in enumerate(types)]
        try:
            out = layer._trace(tracer, pack_like(site.inputs, params), dict(site.kwargs))
        except GraphcError as exc:
            raise FrontendError(f"{label}: tracing its function to store it as IR failed: "
                                f"{exc}") from None
        if tracer.weights:
            used = ", ".join(sorted(w.path for w in tracer.weights))
            raise FrontendError(f"{label} uses the weight(s) {used} of another layer; a "
                                "function stored as IR cannot hold weights. Write a custom "
                                "layer that owns them (add_weight in build) instead")
        funcs.append(_strip_locs(tracer.builder.finish(*(v.value for v in flatten(out)))))
        outputs[name] = encode_positions(out)
    return {"ir": print_module(Module(funcs)), "outputs": outputs}


# --- replaying stored IR -------------------------------------------------------------
class IRFunction:
    """A callable that replays stored IR on traced values (see the module doc)."""

    def __init__(self, module: Module, outputs: dict[str, Any], text: str) -> None:
        self.module = module
        self.outputs = outputs
        self.text = text
        self.__name__ = "stored_ir"

    @classmethod
    def from_config(cls, raw: Any, where: str) -> "IRFunction":
        if not isinstance(raw, dict) or set(raw) != {"ir", "outputs"}:
            raise LoadError(f"{where}: a stored function needs exactly the keys 'ir' (.gir "
                            "text) and 'outputs'")
        text, outputs = raw["ir"], raw["outputs"]
        if not isinstance(text, str) or not isinstance(outputs, dict):
            raise LoadError(f"{where}: 'ir' must be a string and 'outputs' an object")
        try:
            module = parse_module(text, filename=f"<{where}>")
        except GraphcError as exc:
            raise LoadError(f"{where}: the stored IR does not parse:\n{exc}") from None
        if not module.funcs:
            raise LoadError(f"{where}: the stored IR holds no function")
        names = [f.name for f in module.funcs]
        if sorted(names) != sorted(outputs):
            raise LoadError(f"{where}: 'outputs' must describe exactly the stored functions "
                            f"{names}; it describes {sorted(outputs)}")
        structures = {}
        counts = {len(f.params) for f in module.funcs}
        for func in module.funcs:
            if func.private or func.primitive or any(n.op.name == CALL for n in func.nodes):
                raise LoadError(f"{where}: stored function @{func.name} must be a plain public "
                                "function without calls")
            structures[func.name] = decode_positions(outputs[func.name], len(func.results),
                                                     f"{where} @{func.name}")
        if len(counts) != 1:
            raise LoadError(f"{where}: the stored functions take different numbers of inputs "
                            f"({sorted(counts)})")
        return cls(module, structures, text)

    @property
    def input_count(self) -> int:
        return len(self.module.funcs[0].params)

    def config(self) -> dict:
        return {"ir": self.text,
                "outputs": {name: encode_positions(s) for name, s in self.outputs.items()}}

    def covers(self, layer: Any) -> bool:
        """Whether every call of ``layer`` matches one of the stored functions."""
        return all(self._match([t.type for t in site.input_tensors]) is not None
                   for site in layer._call_sites)

    def _match(self, types: list[TensorType]) -> tuple[Func, dict[str, Any]] | None:
        for func in self.module.funcs:
            binding = _unify([p.type for p in func.params], types)
            if binding is not None:
                return func, binding
        return None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        leaves = flatten((args, kwargs))
        if not leaves or not all(isinstance(x, Traced) for x in leaves):
            raise FrontendError("a function stored as IR can only be called on traced tensors")
        found = self._match([x.type for x in leaves])
        if found is None:
            stored = "; ".join(", ".join(str(p.type) for p in f.params) for f in self.module)
            given = ", ".join(str(x.type) for x in leaves)
            raise ShapeError(f"the function was stored as IR for inputs ({stored}); it cannot "
                             f"be replayed on ({given})")
        func, binding = found
        results = replay(func, leaves, binding)
        return pack_like(self.outputs[func.name], results)


def _unify(params: list[TensorType], given: list[TensorType]) -> dict[str, Any] | None:
    """Symbol binding that makes ``params`` accept ``given``, or None."""
    if len(params) != len(given):
        return None
    binding: dict[str, Any] = {}
    for p, g in zip(params, given):
        if p.dtype != g.dtype or p.rank != g.rank:
            return None
        for pd, gd in zip(p.shape, g.shape):
            if pd == UNKNOWN:
                continue
            if isinstance(pd, int):
                if pd != gd:
                    return None
            elif binding.setdefault(pd, gd) != gd:
                return None
    return binding


def replay(func: Func, inputs: list[Traced], binding: dict[str, Any]) -> list[Traced]:
    """Emit ``func``'s nodes into the inputs' trace; returns its results."""
    tracer = inputs[0].tracer
    env = dict(zip(func.params, (x.value for x in inputs)))
    renames = {s: d for s, d in binding.items() if s != d and d != UNKNOWN}
    for node in func.nodes:
        attrs = {}
        for spec in node.op.attrs:
            value = node.attrs[spec.name]
            if spec.kind is SHAPE and renames:
                value = tuple(renames.get(d, d) if isinstance(d, str) else d for d in value)
            attrs[spec.name] = value
        outs = tracer.builder.emit_multi(node.op, *(env[v] for v in node.inputs), **attrs)
        env.update(zip(node.outputs, outs))
    return [Traced(env[r], tracer) for r in func.results]
