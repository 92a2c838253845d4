"""The graph of a Functional model: which call sites compute its outputs,
and where each one runs.

Placements.  Seen from a model under construction (its ``inputs`` fixed), a
call site runs either *here* (scope ``()``: at this model's level), or
*inside* a nested model's call: scope ``(s1, s2, ...)``, the chain of
nested-model call sites, outermost first.  A tensor is placed where the site
that makes it runs; an ``Input`` tensor of a nested model is placed inside
each call of that model.  The rules, applied recursively:

* a model input is here;
* a site that belongs to the graph of a model ``M`` (is one of ``M``'s own
  call sites) runs inside every placed call of ``M``.  This is how
  ``base.get_layer("inner").get_layer("block4").output`` -- a tensor of
  ``inner``'s own graph, which Keras rejects as "Graph disconnected" -- is
  found: inside the call of ``inner`` that ``base`` makes;
* any other site runs here, provided every input tensor is placed (each
  may live here or inside a nested call), so a new layer applied to a
  tensor sliced out of a nested model belongs to this model.

A tensor with no placement is not computable from the inputs ("Graph
disconnected", naming it, its history and the foreign ``Input``); one with
several (a nested model called twice) is ambiguous.  ``ModelGraph`` keeps the
outputs as ``TensorRef`` (scope + tensor), the sites that run here in a
topological order, and each such site's inputs as ``TensorRef``; lowering
(``lowering.py``) replays exactly that.
"""

from __future__ import annotations

import heapq
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from graphc.errors import FrontendError

from ..diagnostics import describe_tensor, layer_label
from ..naming import format_location
from ..tensor import CallSite, SymbolicTensor

if TYPE_CHECKING:  # pragma: no cover
    from ..layers.base import Layer
    from .model import Model

Scope = tuple[CallSite, ...]


@dataclass(frozen=True, eq=False)
class TensorRef:
    """A tensor seen from a model: ``scope`` lists the nested-model call sites
    (outermost first) inside which ``tensor`` lives; empty for its own tensors."""

    scope: Scope
    tensor: SymbolicTensor

    def key(self) -> tuple[int, ...]:
        return tuple(id(s) for s in self.scope) + (id(self.tensor),)

    def inner(self) -> "TensorRef":
        """The same tensor seen from inside the first nested call."""
        return TensorRef(self.scope[1:], self.tensor)


def _add_weak(refs: list, model: "Model") -> None:
    if not any(ref() is model for ref in refs):
        refs.append(weakref.ref(model))


def register_graph(model: "Model", graph: "ModelGraph") -> None:
    """Remember which tensors ``model`` takes as inputs and which sites it runs."""
    for t in graph.inputs:
        _add_weak(t._owners, model)
    for site in graph.sites:
        _add_weak(site.containers, model)


def _models_with_input(tensor: SymbolicTensor) -> list["Model"]:
    alive = [ref() for ref in tensor._owners]
    return [m for m in alive if m is not None and
            any(t is tensor for t in m._graph_inputs())]


def _models_running(site: CallSite) -> list["Model"]:
    alive = [ref() for ref in site.containers]
    return [m for m in alive if m is not None and m._graph is not None and
            id(site) in m._graph.site_ids]


def _unique(scopes: Iterable[Scope]) -> list[Scope]:
    out: list[Scope] = []
    for scope in scopes:
        if scope not in out:
            out.append(scope)
    return out


class Placer:
    """Placements of tensors and sites relative to one set of inputs (memoized)."""

    def __init__(self, inputs: Iterable[SymbolicTensor]) -> None:
        self.inputs = {id(t) for t in inputs}
        self._tensors: dict[int, list[Scope]] = {}
        self._sites: dict[int, list[Scope]] = {}

    def tensor(self, tensor: SymbolicTensor) -> list[Scope]:
        key = id(tensor)
        if key not in self._tensors:
            self._tensors[key] = []  # a cycle through here finds nothing
            if key in self.inputs:
                scopes = [()]
            elif tensor.site is None or tensor.site.layer.is_input_layer:
                scopes = [p + (s,) for m in _models_with_input(tensor)
                          for s in m._call_sites for p in self.site(s)]
            else:
                scopes = self.site(tensor.site)
            self._tensors[key] = _unique(scopes)
        return self._tensors[key]

    def site(self, site: CallSite) -> list[Scope]:
        key = id(site)
        if key not in self._sites:
            self._sites[key] = []
            scopes = [p + (s,) for m in _models_running(site)
                      for s in m._call_sites for p in self.site(s)]
            if not scopes and all(self.tensor(t) for t in site.input_tensors):
                scopes = [()]
            self._sites[key] = _unique(scopes)
        return self._sites[key]


def walk_back(targets: Iterable[SymbolicTensor], inputs: Iterable[SymbolicTensor]
              ) -> list[SymbolicTensor]:
    """The foreign ``Input`` tensors that computing ``targets`` runs into."""
    stop = {id(t) for t in inputs}
    foreign: list[SymbolicTensor] = []
    seen: set[int] = set()
    stack = list(targets)
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen or id(tensor) in stop:
            continue
        seen.add(id(tensor))
        site = tensor.site
        if site is None or site.layer.is_input_layer:
            foreign.append(tensor)
        else:
            stack.extend(site.input_tensors)
    return foreign


class ModelGraph:
    """Inputs, placed outputs and the ordered call sites that run at one level."""

    def __init__(self, model: "Model", inputs: list[Any], outputs: list[Any]) -> None:
        self.model = model
        self.inputs = tuple(_check_inputs(model, inputs))
        if not outputs:
            raise FrontendError(f"model '{model.name}' needs at least one output")
        for i, t in enumerate(outputs):
            if not isinstance(t, SymbolicTensor):
                raise FrontendError(f"model '{model.name}': outputs must be symbolic tensors "
                                    f"computed from the inputs; output {i} is "
                                    f"{type(t).__name__}: {t!r}")
        placer = Placer(self.inputs)
        self.outputs = tuple(self._place(placer, t, f"output {i}")
                             for i, t in enumerate(outputs))
        self.input_refs: dict[int, tuple[TensorRef, ...]] = {}
        self.sites = self._collect_sites(placer)
        self.site_ids = frozenset(id(s) for s in self.sites)
        self.operations = self._operations()
        _check_unique_names(model, self.operations)

    def _place(self, placer: Placer, tensor: SymbolicTensor, what: str) -> TensorRef:
        scopes = placer.tensor(tensor)
        if len(scopes) == 1:
            return TensorRef(scopes[0], tensor)
        model = self.model
        if not scopes:
            names = ", ".join(f"'{t.name}'" for t in self.inputs)
            foreign = walk_back([tensor], self.inputs)
            owners = [m.name for m in _models_with_input(foreign[0])] if foreign else []
            where = f" (an input of model {', '.join(repr(o) for o in owners)}, which is not " \
                    "called on these inputs)" if owners else ""
            culprit = f"Input '{foreign[0].name}'{where}" if foreign else "a foreign tensor"
            raise FrontendError(
                f"Graph disconnected: {what} of model '{model.name}', "
                f"{describe_tensor(tensor)}, cannot be computed from the model's inputs "
                f"[{names}]: it depends on {culprit}, which is not one of them")
        calls = ", ".join(f"{'/'.join(s.layer.name for s in scope)} (called at "
                          f"{format_location(scope[-1].location)})" for scope in scopes)
        raise FrontendError(
            f"{what} of model '{model.name}' ({describe_tensor(tensor)}) lies inside a nested "
            f"model that is called {len(scopes)} times on these inputs: {calls}; it is "
            "ambiguous which call is meant. Take the output of one call, or build the model "
            "from the nested model's own inputs")

    def _site_of(self, ref: TensorRef) -> CallSite | None:
        """The site at this level that ``ref`` needs (None for a model input)."""
        if ref.scope:
            return ref.scope[0]
        if any(ref.tensor is t for t in self.inputs):
            return None
        return ref.tensor.site

    def _collect_sites(self, placer: Placer) -> tuple[CallSite, ...]:
        found: dict[int, CallSite] = {}
        stack = list(self.outputs)
        while stack:
            site = self._site_of(stack.pop())
            if site is None or id(site) in found:
                continue
            found[id(site)] = site
            label = layer_label(site.layer)
            refs = tuple(self._place(placer, t, f"input {i} of {label}")
                         for i, t in enumerate(site.input_tensors))
            self.input_refs[id(site)] = refs
            stack.extend(refs)
        return self._topological(found)

    def _topological(self, sites: dict[int, CallSite]) -> tuple[CallSite, ...]:
        """Dependencies first; among ready sites, the one created first."""
        deps = {key: {id(d) for d in map(self._site_of, self.input_refs[key]) if d is not None}
                for key in sites}
        users: dict[int, list[int]] = {key: [] for key in sites}
        for key, needs in deps.items():
            for need in needs:
                users[need].append(key)
        waiting = {key: len(needs) for key, needs in deps.items()}
        ready = [(sites[k].order, k) for k, n in waiting.items() if n == 0]
        heapq.heapify(ready)
        ordered: list[CallSite] = []
        while ready:
            _, key = heapq.heappop(ready)
            ordered.append(sites[key])
            for user in users[key]:
                waiting[user] -= 1
                if waiting[user] == 0:
                    heapq.heappush(ready, (sites[user].order, user))
        return tuple(ordered)

    def needed(self, targets: Iterable[TensorRef]) -> list[CallSite]:
        """The sites of this level that computing ``targets`` needs, in order."""
        need: set[int] = set()
        stack = list(targets)
        while stack:
            site = self._site_of(stack.pop())
            if site is None or id(site) in need:
                continue
            need.add(id(site))
            stack.extend(self.input_refs[id(site)])
        return [s for s in self.sites if id(s) in need]

    def _operations(self) -> list["Layer"]:
        ops: list["Layer"] = []
        for t in self.inputs:
            if t.site is not None and t.site.layer.is_input_layer and t.site.layer not in ops:
                ops.append(t.site.layer)
        for site in self.sites:
            if not any(site.layer is op for op in ops):
                ops.append(site.layer)
        return ops


def _check_inputs(model: "Model", inputs: list[Any]) -> list[SymbolicTensor]:
    if not inputs:
        raise FrontendError(f"model '{model.name}' needs at least one input")
    for i, t in enumerate(inputs):
        if not isinstance(t, SymbolicTensor):
            raise FrontendError(f"model '{model.name}': inputs must be symbolic tensors from "
                                f"graphc.Input(...); input {i} is {type(t).__name__}: {t!r}")
        if any(t is other for other in inputs[:i]):
            raise FrontendError(f"model '{model.name}': input '{t.name}' is given twice")
    return list(inputs)


def _check_unique_names(model: "Model", operations: list["Layer"]) -> None:
    counts: dict[str, int] = {}
    for op in operations:
        counts[op.name] = counts.get(op.name, 0) + 1
    repeated = [name for name, n in counts.items() if n > 1]
    if repeated:
        name = repeated[0]
        raise FrontendError(f"The name '{name}' is used {counts[name]} times in model "
                            f"'{model.name}'. All layer names should be unique.")
