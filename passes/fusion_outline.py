"""Outlining: turn each fusion group into a primitive Func and a ``call``.

For one group (node indices of the caller, from ``fusion_groups``):

* **parameters** are the values the group reads but does not define, in
  order of first use -- except values that are cheaper to recompute than to
  read: a constant of at most ``max_inline`` elements, or a ``broadcast_to``
  of one (when the kernel's parameters bind the symbols of its shape).
  Those nodes are copied into the kernel instead;
* **results** are the group's values that something outside it needs (a
  node of the caller, or a result of the caller), in node order;
* the **body** is the copied nodes followed by the group's nodes, each in
  their original order, with fresh Values and its own ``loc``;
* the **call** ``call @fused_K(params)`` defines the *original* result
  Values, so the rest of the caller needs no rewiring; its ``loc`` is the
  union of the group's locations.

The caller's nodes are then ordered by a topological sort of the condensed
graph (groups as single vertices), ties broken by the first original index,
so the output is deterministic and every value is defined before use.
Kernels are named ``fused_0, fused_1, ...`` in call order, skipping names
the module already uses.  Copied nodes that nothing else in the caller needs
are dropped from it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Iterable

from graphc.errors import PassError

from ..ir.core import Func, Node, Value
from ..ir.loc import fuse_locs
from ..ir.opdef import CALL, get_op
from .funcutil import CONSTANT, live_nodes

BROADCAST = "broadcast_to"


class KernelNames:
    """Allocates ``fused_K`` names unused in the module."""

    def __init__(self, taken: Iterable[str], prefix: str = "fused_") -> None:
        self.taken = set(taken)
        self.prefix = prefix
        self.counter = 0

    def next(self) -> str:
        while f"{self.prefix}{self.counter}" in self.taken:
            self.counter += 1
        name = f"{self.prefix}{self.counter}"
        self.taken.add(name)
        return name


@dataclass(frozen=True)
class Kernel:
    func: Func
    call: Node
    members: tuple[int, ...]      # node indices in the original caller
    inlined: tuple[int, ...]      # cheap nodes copied into the kernel (constants, broadcasts)


@dataclass(frozen=True)
class _Wiring:
    """Use-def facts of the caller, computed once."""

    producer: dict[Value, int]
    users: dict[Value, list[int]]
    results: frozenset[Value]

    @classmethod
    def of(cls, func: Func) -> "_Wiring":
        producer = {out: i for i, n in enumerate(func.nodes) for out in n.outputs}
        users: dict[Value, list[int]] = {}
        for i, n in enumerate(func.nodes):
            for v in n.inputs:
                users.setdefault(v, []).append(i)
        return cls(producer, users, frozenset(func.results))


def _recompute_chain(func: Func, value: Value, max_inline: int, wiring: _Wiring) -> list[int]:
    """Nodes that recompute ``value`` more cheaply than reading it from memory:
    ``[constant]`` for a small constant, ``[constant, broadcast_to]`` for a
    broadcast of one; empty otherwise."""
    p = wiring.producer.get(value)
    if p is None:
        return []
    node = func.nodes[p]
    if node.op.name == CONSTANT:
        size = value.type.size
        return [p] if size is not None and size <= max_inline else []
    if node.op.name == BROADCAST:
        source = _recompute_chain(func, node.inputs[0], max_inline, wiring)
        return source + [p] if source else []
    return []


def _interface(func: Func, members: list[int], max_inline: int,
               wiring: _Wiring) -> tuple[list[Value], list[int], list[Value]]:
    nodes = func.nodes
    member_set = set(members)
    reads: list[Value] = []
    for i in members:
        for v in nodes[i].inputs:
            p = wiring.producer.get(v)
            if not (p is not None and p in member_set) and v not in reads:
                reads.append(v)
    chains = {v: _recompute_chain(func, v, max_inline, wiring) for v in reads}
    params = [v for v in reads if not chains[v]]
    bound = {s for v in params for s in v.type.symbols}
    for v in reads:  # a copied broadcast needs its shape's symbols bound by a parameter
        if chains[v] and not v.type.symbols <= bound:
            chains[v] = []
    params = [v for v in reads if not chains[v]]
    inlined = sorted({i for v in reads for i in chains[v]})
    results = [o for i in members for o in nodes[i].outputs
               if o in wiring.results or any(u not in member_set for u in wiring.users.get(o, ()))]
    return params, inlined, results


def _build_kernel(func: Func, name: str, members: list[int], params: list[Value],
                  inlined: list[int], results: list[Value]) -> Kernel:
    nodes = func.nodes
    vmap: dict[Value, Value] = {}
    new_params = []
    for v in params:
        vmap[v] = Value(v.type, v.name)
        new_params.append(vmap[v])
    body: list[Node] = []
    for i in inlined + members:
        node = nodes[i]
        outs = tuple(Value(o.type, o.name) for o in node.outputs)
        body.append(node.replace(inputs=tuple(vmap[v] for v in node.inputs), outputs=outs))
        vmap.update(zip(node.outputs, outs))
    kernel = Func(name, tuple(new_params), tuple(body), tuple(vmap[r] for r in results),
                  private=True, primitive=True)
    call_op = get_op(CALL)
    call = Node(call_op, tuple(params), call_op.make_attrs({"callee": name}), tuple(results),
                fuse_locs(nodes[i].loc for i in members))
    return Kernel(kernel, call, tuple(members), tuple(inlined))


def _condensed_order(func: Func, groups: list[list[int]],
                     wiring: _Wiring) -> list[tuple[str, int]]:
    """Kahn's topological sort of the condensed graph; among the items ready
    to go, the one whose first node comes first (a lexicographic order,
    computed with a heap: no graph library to import on this hot path)."""
    item_of: dict[int, tuple[str, int]] = {}
    for g, members in enumerate(groups):
        for i in members:
            item_of[i] = ("g", g)
    first: dict[tuple[str, int], int] = {}
    successors: dict[tuple[str, int], set] = {}
    indegree: dict[tuple[str, int], int] = {}
    for i, node in enumerate(func.nodes):
        item = item_of.setdefault(i, ("n", i))
        first.setdefault(item, i)
        successors.setdefault(item, set())
        indegree.setdefault(item, 0)
        for v in node.inputs:
            p = wiring.producer.get(v)
            if p is not None and item_of[p] != item and item not in successors[item_of[p]]:
                successors[item_of[p]].add(item)
                indegree[item] += 1
    ready = [(first[it], it) for it, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order: list[tuple[str, int]] = []
    while ready:
        _, item = heapq.heappop(ready)
        order.append(item)
        for nxt in successors[item]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, (first[nxt], nxt))
    if len(order) != len(indegree):
        raise PassError(f"fusion groups of @{func.name} form a cycle (a bug in the "
                        "grouping rules)")
    return order


def outline(func: Func, groups: list[list[int]], *, max_inline: int,
            names: KernelNames) -> tuple[Func, list[Kernel]]:
    """The caller with every group replaced by a call, and the kernels in call order."""
    wiring = _Wiring.of(func)
    caller: list[Node] = []
    kernels: list[Kernel] = []
    for kind, k in _condensed_order(func, groups, wiring):
        if kind == "n":
            caller.append(func.nodes[k])
            continue
        params, inlined, results = _interface(func, groups[k], max_inline, wiring)
        if not results:  # nothing outside needs the group: it is dead
            continue
        kernel = _build_kernel(func, names.next(), groups[k], params, inlined, results)
        kernels.append(kernel)
        caller.append(kernel.call)
    kept = live_nodes(caller, func.results)
    return func.replace(nodes=tuple(kept)), kernels
