"""Fusion grouping: which nodes of a function share a kernel (see ``fuse.py``).

``group_nodes`` walks the nodes in topological order.  Every fusible node
starts as its own group and then tries to merge with the groups of its
producers, the most recently computed producer first.  ``can_merge`` is the
whole policy; a refusal is recorded as a reason on that producer->consumer
edge so the fusion report can say why two neighbours were kept apart.

Vocabulary:

* the *domain* of a node is the shape it iterates over: its input's shape
  for a reduction, its output's shape otherwise.  Shape ``s`` *nests in*
  ``D`` when ``s`` is ``D`` with some axes removed or set to 1 (``(N,)``,
  ``(N,1)``, ``(C,)`` and ``()`` all nest in ``(N,C)``).  A group's domain
  is the one every member's domain nests in;
* the *anchor* is the group's OUT_FUSABLE node (matmul), at most one.

Merge rules, in the order they are checked (each refusal names its rule):

1. the merged group stays within ``max_ops`` nodes;
2. an anchor never takes a producer into its kernel: its operands are read
   from memory (BLAS-style), so an anchor's operand is never computed inside
   its own group;
3. two anchors never share a group;
4. a group with an anchor holds only ELEMENTWISE/BROADCAST epilogue nodes
   whose result has the anchor's output shape -- no reductions, no
   movement ops;
5. the two domains nest (one loop nest can run both);
6. reductions over the group's full domain all reduce the same axes
   (reductions over a nested, smaller domain -- the mean of per-row losses
   -- may follow them);
7. the merge creates no cycle: no path leaves one group and re-enters the
   other through a node outside both.

Nodes never grouped: ``constant`` (the outliner copies small ones into the
kernels that read them), OPAQUE ops (``call``), and nodes whose shape
attributes name a symbol that none of their operands carries (the kernel
could not bind it).  Nothing is ever duplicated except small constants, so
fusion never adds memory traffic: a value needed outside its group simply
becomes one more output of the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir.attrs import SHAPE
from ..ir.core import Func, Node
from ..ir.opdef import CALL, FusionKind
from ..ir.types import Shape, format_shape
from .funcutil import CONSTANT

EPILOGUE_KINDS = (FusionKind.ELEMENTWISE, FusionKind.BROADCAST)


def nests(small: Shape, big: Shape) -> bool:
    """True when ``small`` is ``big`` with some axes removed or set to 1."""
    j = 0
    for d in small:
        while j < len(big) and not (d == big[j] or d == 1):
            j += 1
        if j == len(big):
            return False
        j += 1
    return True


def reduce_axes(node: Node) -> frozenset[int]:
    """Normalized axes a REDUCE node reduces (``axes``/``axis`` attr; all when absent)."""
    rank = node.inputs[0].type.rank
    attrs = node.attrs
    if "axes" in attrs and attrs["axes"] is not None:
        return frozenset(a % rank for a in attrs["axes"]) if rank else frozenset()
    if "axis" in attrs and rank:
        return frozenset([attrs["axis"] % rank])
    return frozenset(range(rank))


def domain(node: Node) -> Shape:
    if node.op.fusion is FusionKind.REDUCE:
        return node.inputs[0].type.shape
    return node.outputs[0].type.shape


def unfusible_reason(node: Node) -> str | None:
    """Why ``node`` can never be inside a kernel (None when it can)."""
    if node.op.name == CONSTANT:
        return "constant"
    if node.op.name == CALL or node.op.fusion is FusionKind.OPAQUE:
        return f"'{node.op.name}' is opaque"
    if len(node.outputs) != 1:
        return f"'{node.op.name}' has {len(node.outputs)} outputs"
    carried = {s for v in node.inputs for s in v.type.symbols}
    for spec in node.op.attrs:
        if spec.kind is SHAPE:
            free = sorted({d for d in node.attrs[spec.name] if isinstance(d, str)} - carried)
            if free:
                return (f"its attribute '{spec.name}' names {', '.join(free)}, which no "
                        "operand carries, so a kernel could not bind it")
    return None


@dataclass
class Group:
    members: list[int]
    anchor: int | None
    domain: Shape
    reductions: list[int] = field(default_factory=list)


class Grouping:
    """Union-find over node indices; groups live at their root index."""

    def __init__(self, func: Func, *, max_ops: int) -> None:
        self.func = func
        self.nodes = func.nodes
        self.max_ops = max_ops
        producers = {out: i for i, n in enumerate(self.nodes) for out in n.outputs}
        self.operand_nodes = [sorted({producers[v] for v in n.inputs if v in producers})
                              for n in self.nodes]
        self.user_nodes: list[list[int]] = [[] for _ in self.nodes]
        for i, ops in enumerate(self.operand_nodes):
            for p in ops:
                self.user_nodes[p].append(i)
        self.parent: dict[int, int] = {}
        self.groups: dict[int, Group] = {}
        self.reasons: dict[tuple[int, int], str] = {}
        self.excluded: dict[int, str] = {}
        self.result: list[list[int]] = []

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def run(self) -> list[list[int]]:
        for i, node in enumerate(self.nodes):
            reason = unfusible_reason(node)
            if reason is not None:
                self.excluded[i] = reason
                continue
            self.parent[i] = i
            is_anchor = node.op.fusion is FusionKind.OUT_FUSABLE
            self.groups[i] = Group([i], i if is_anchor else None, domain(node),
                                   [i] if node.op.fusion is FusionKind.REDUCE else [])
            for p in sorted(self.operand_nodes[i], reverse=True):
                if p in self.excluded or self.find(p) == self.find(i):
                    continue
                why = self.can_merge(self.groups[self.find(p)], self.groups[self.find(i)])
                if why is None:
                    self.merge(self.find(p), self.find(i))
                else:
                    self.reasons[(p, i)] = why
        self.result = [g.members for _, g in sorted(self.groups.items())]
        return self.result

    def merge(self, a: int, b: int) -> None:
        keep, drop = min(a, b), max(a, b)
        ga, gb = self.groups[keep], self.groups.pop(drop)
        self.parent[drop] = keep
        dom = merged_domain(ga.domain, gb.domain)
        assert dom is not None
        self.groups[keep] = Group(sorted(ga.members + gb.members),
                                  ga.anchor if ga.anchor is not None else gb.anchor, dom,
                                  sorted(ga.reductions + gb.reductions))

    def _op(self, i: int) -> str:
        return f"'{self.nodes[i].op.name}'"

    def can_merge(self, a: Group, b: Group) -> str | None:
        """None when ``a`` and ``b`` may share a kernel, else the rule that forbids it."""
        if len(a.members) + len(b.members) > self.max_ops:
            return f"the kernel would exceed max-ops={self.max_ops}"
        for anchor, other in ((a.anchor, b), (b.anchor, a)):
            if anchor is not None and set(self.operand_nodes[anchor]) & set(other.members):
                return (f"{self._op(anchor)} reads its operands from memory, so it never "
                        "computes an operand inside its own kernel")
        if a.anchor is not None and b.anchor is not None:
            return (f"both sides hold an out-fusable op ({self._op(a.anchor)} and "
                    f"{self._op(b.anchor)}); a kernel has at most one")
        if a.anchor is not None or b.anchor is not None:
            anchor, other = (a.anchor, b) if a.anchor is not None else (b.anchor, a)
            why = self._epilogue_problem(anchor, other)
            if why is not None:
                return why
        dom = merged_domain(a.domain, b.domain)
        if dom is None:
            return (f"their iteration domains {format_shape(a.domain)} and "
                    f"{format_shape(b.domain)} do not nest in one loop nest")
        full = [r for r in a.reductions + b.reductions if domain(self.nodes[r]) == dom]
        axes = {reduce_axes(self.nodes[r]) for r in full}
        if len(axes) > 1:
            shown = " and ".join(str(sorted(x)) for x in sorted(axes, key=sorted))
            return f"they reduce {format_shape(dom)} along different axes ({shown})"
        through = self._cycle_through(a, b) or self._cycle_through(b, a)
        if through is not None:
            return (f"a path between them passes through {self._op(through)} outside both "
                    "kernels, so fusing would create a cycle")
        return None

    def _epilogue_problem(self, anchor: int, other: Group) -> str | None:
        shape = self.nodes[anchor].outputs[0].type.shape
        for m in other.members:
            node = self.nodes[m]
            if node.op.fusion not in EPILOGUE_KINDS:
                return (f"{self._op(m)} ({node.op.fusion.value}) cannot join the kernel of "
                        f"{self._op(anchor)}, which takes only an elementwise epilogue")
            if node.outputs[0].type.shape != shape:
                return (f"{self._op(m)} yields {format_shape(node.outputs[0].type.shape)}, but "
                        f"an epilogue of {self._op(anchor)} must keep its output shape "
                        f"{format_shape(shape)}")
        return None

    def _cycle_through(self, src: Group, dst: Group) -> int | None:
        """A node outside both groups on a path from ``src`` to ``dst``, if any.

        A path may also continue from any member of a third group it enters:
        that group runs as one kernel, so all its outputs follow all its inputs
        (two groups each feeding the other through different members of a third
        would otherwise merge into a cycle of kernels)."""
        inside = set(src.members) | set(dst.members)
        targets = set(dst.members)
        limit = max(dst.members)
        stack = [(u, u) for m in src.members for u in self.user_nodes[m] if u not in inside]
        seen: set[int] = set()
        while stack:
            u, first = stack.pop()
            if u in seen or u > limit:
                continue
            seen.add(u)
            kernel = self.groups[self.find(u)].members if u in self.parent else [u]
            for v in kernel:
                for w in self.user_nodes[v]:
                    if w in targets:
                        return first
                    if w not in inside:
                        stack.append((w, first))
        return None


def merged_domain(a: Shape, b: Shape) -> Shape | None:
    if nests(a, b):
        return b
    if nests(b, a):
        return a
    return None


def group_nodes(func: Func, *, max_ops: int) -> Grouping:
    """Group ``func``'s nodes; the groups (node indices) are in ``.result``."""
    grouping = Grouping(func, max_ops=max_ops)
    grouping.run()
    return grouping
