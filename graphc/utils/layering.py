"""One level of the layered layout: cycles, ranks, dummies, order, positions.

``layout_level`` lays out the items of one cluster (or of the whole graph)
given their sizes along the two abstract axes -- ``u`` along a rank, ``v``
across ranks -- and the edges between them:

1. **Cycles** (possible once clusters are collapsed) are broken by reversing
   the back edges of a depth-first search in item order.
2. **Ranks**: longest path from the sources, then each source is moved down
   next to its first use (a weight or a late input is drawn where it is
   consumed).
3. **Dummies**: an edge spanning several ranks gets a thin dummy item per
   rank crossed, so long edges bend around nodes instead of through them;
   items with edges leaving or entering the cluster get a dummy chain to
   its last / from its first rank (``ports``) for the same reason.
4. **Order** within ranks: barycenter sweeps, down and up, keeping the order
   with the fewest edge crossings.
5. **Positions** along a rank: each item wants the mean position of its
   neighbours in the adjacent rank; the positions closest (least squares) to
   those wishes that keep the order and the minimum gaps are found exactly
   by pool-adjacent-violators on the gap-shifted targets (``place``).
   Alternate down / up passes settle the picture.

Everything is deterministic: ties keep the items' given order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Spacing:
    """Gaps between items of a rank and between ranks, and a dummy's width (px)."""

    node_sep: float
    rank_sep: float
    dummy_size: float


@dataclass
class Level:
    """The laid-out items of one cluster: centers relative to its content origin."""

    items: list[str]
    size: dict[str, tuple[float, float]]          # item -> (su, sv)
    center: dict[str, tuple[float, float]] = field(default_factory=dict)
    routes: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=dict)
    ports: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=dict)
    extent: tuple[float, float] = (0.0, 0.0)      # (su, sv) of the content


def _break_cycles(items: list[str], edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    succ: dict[str, list[str]] = {i: [] for i in items}
    for a, b in edges:
        succ[a].append(b)
    state: dict[str, int] = {}
    reversed_edges: set[tuple[str, str]] = set()
    for root in items:
        if root in state:
            continue
        stack = [(root, iter(succ[root]))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                reversed_edges.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(succ[child])))
    return reversed_edges


def _ranks(items: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    preds: dict[str, list[str]] = {i: [] for i in items}
    succs: dict[str, list[str]] = {i: [] for i in items}
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    waiting = {i: len(preds[i]) for i in items}
    ready = [i for i in items if waiting[i] == 0]
    order: list[str] = []
    while ready:
        item = ready.pop(0)
        order.append(item)
        for nxt in succs[item]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                ready.append(nxt)
    rank = {}
    for item in order:
        rank[item] = max((rank[p] + 1 for p in preds[item]), default=0)
    for item in reversed(order):
        if not preds[item] and succs[item]:
            rank[item] = min(rank[s] for s in succs[item]) - 1
    return rank


def _crossings(upper: list[str], lower: list[str], edges: list[tuple[str, str]]) -> int:
    pos_u = {n: i for i, n in enumerate(upper)}
    pos_l = {n: i for i, n in enumerate(lower)}
    pairs = sorted((pos_u[a], pos_l[b]) for a, b in edges if a in pos_u and b in pos_l)
    count = 0
    for i in range(len(pairs)):
        for j in range(i + 1, len(pairs)):
            if pairs[i][0] < pairs[j][0] and pairs[i][1] > pairs[j][1]:
                count += 1
    return count


def _order(layers: list[list[str]], edges: list[tuple[str, str]], sweeps: int = 8
           ) -> list[list[str]]:
    preds: dict[str, list[str]] = {}
    succs: dict[str, list[str]] = {}
    for a, b in edges:
        succs.setdefault(a, []).append(b)
        preds.setdefault(b, []).append(a)

    def total(order: list[list[str]]) -> int:
        return sum(_crossings(order[r], order[r + 1], edges) for r in range(len(order) - 1))

    best = [list(layer) for layer in layers]
    best_count = total(best)
    current = [list(layer) for layer in layers]
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        indices = range(1, len(current)) if down else range(len(current) - 2, -1, -1)
        for r in indices:
            ref = {n: i for i, n in enumerate(current[r - 1 if down else r + 1])}
            links = preds if down else succs

            def key(item: str, r: int = r) -> float:
                near = [ref[n] for n in links.get(item, []) if n in ref]
                return sum(near) / len(near) if near else float(current[r].index(item))

            current[r] = sorted(current[r], key=key)
        count = total(current)
        if count < best_count:
            best, best_count = [list(layer) for layer in current], count
    return best


def place(wishes: list[float], gaps: list[float]) -> list[float]:
    """Least-squares positions near ``wishes`` with x[i+1] - x[i] >= gaps[i]."""
    shift = [0.0]
    for gap in gaps:
        shift.append(shift[-1] + gap)
    blocks: list[list[float]] = []  # [mean, weight, count]
    for wish, s in zip(wishes, shift):
        blocks.append([wish - s, 1.0, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    values: list[float] = []
    for mean, _, count in blocks:
        values.extend([mean] * count)
    return [v + s for v, s in zip(values, shift)]


def layout_level(items: list[str], size: dict[str, tuple[float, float]],
                 edges: list[tuple[str, str]], style: Spacing, exits: tuple[str, ...] = (),
                 entries: tuple[str, ...] = ()) -> Level:
    """Lay out one cluster.  ``exits`` / ``entries`` are items with edges leaving /
    entering the cluster: each gets a chain of dummies to the last / from the
    first rank (``level.ports``), so those edges run beside the other nodes."""
    level = Level(list(items), dict(size))
    pairs = list(dict.fromkeys((a, b) for a, b in edges if a != b))
    flipped = _break_cycles(items, pairs)
    oriented = [(b, a) if (a, b) in flipped else (a, b) for a, b in pairs]
    oriented = list(dict.fromkeys(oriented))
    rank = _ranks(items, oriented)
    low = min(rank.values(), default=0)
    rank = {k: v - low for k, v in rank.items()}
    chains: dict[tuple[str, str], list[str]] = {}
    links: list[tuple[str, str]] = []
    for a, b in oriented:
        chain = []
        previous = a
        for r in range(rank[a] + 1, rank[b]):
            dummy = f"\x00dummy:{a}->{b}:{r}"
            rank[dummy] = r
            level.size[dummy] = (style.dummy_size, 0.0)
            chain.append(dummy)
            links.append((previous, dummy))
            previous = dummy
        links.append((previous, b))
        chains[(a, b)] = chain
    last = max((rank[i] for i in items), default=0)
    for item in dict.fromkeys(exits):
        chain, previous = [], item
        for r in range(rank[item] + 1, last + 1):
            dummy = f"\x00exit:{item}:{r}"
            rank[dummy] = r
            level.size[dummy] = (style.dummy_size, 0.0)
            links.append((previous, dummy))
            chain.append(dummy)
            previous = dummy
        chains[("\x00exit", item)] = chain
    for item in dict.fromkeys(entries):
        chain = []
        for r in range(0, rank[item]):
            dummy = f"\x00entry:{item}:{r}"
            rank[dummy] = r
            level.size[dummy] = (style.dummy_size, 0.0)
            if chain:
                links.append((chain[-1], dummy))
            chain.append(dummy)
        if chain:
            links.append((chain[-1], item))
        chains[("\x00entry", item)] = chain
    layers: list[list[str]] = [[] for _ in range(max(rank.values(), default=-1) + 1)]
    for item in list(items) + [d for c in chains.values() for d in c]:
        layers[rank[item]].append(item)
    layers = _order(layers, links)
    _coordinates(level, layers, links, style)
    for (a, b), chain in chains.items():
        points = [level.center[d] for d in chain]
        if a in ("\x00exit", "\x00entry"):
            level.ports[(a, b)] = points
            continue
        level.routes[(a, b)] = points
        level.routes[(b, a)] = list(reversed(points))
    return level


def _coordinates(level: Level, layers: list[list[str]], links: list[tuple[str, str]],
                 style: Spacing) -> None:
    preds: dict[str, list[str]] = {}
    succs: dict[str, list[str]] = {}
    for a, b in links:
        succs.setdefault(a, []).append(b)
        preds.setdefault(b, []).append(a)
    u: dict[str, float] = {}
    for layer in layers:
        edge = 0.0
        for item in layer:
            su = level.size[item][0]
            u[item] = edge + su / 2
            edge += su + style.node_sep

    def settle(layer: list[str], neighbours: Callable[[str], list[str]]) -> None:
        wishes = []
        for item in layer:
            near = neighbours(item)
            wishes.append(sum(u[n] for n in near) / len(near) if near else u[item])
        gaps = [(level.size[a][0] + level.size[b][0]) / 2 + style.node_sep
                for a, b in zip(layer, layer[1:])]
        for item, x in zip(layer, place(wishes, gaps)):
            u[item] = x

    def above(item: str) -> list[str]:
        return preds.get(item, [])

    def below(item: str) -> list[str]:
        return succs.get(item, [])

    def both(item: str) -> list[str]:
        return preds.get(item, []) + succs.get(item, [])

    for _ in range(4):
        for layer in layers[1:]:
            settle(layer, above)
        for layer in reversed(layers[:-1]):
            settle(layer, below)
    for layer in layers:
        settle(layer, both)
    left = min((u[i] - level.size[i][0] / 2 for i in u), default=0.0)
    right = max((u[i] + level.size[i][0] / 2 for i in u), default=0.0)
    v_edge = 0.0
    for layer in layers:
        thickness = max((level.size[i][1] for i in layer), default=0.0)
        for item in layer:
            level.center[item] = (u[item] - left, v_edge + thickness / 2)
        v_edge += thickness + style.rank_sep
    level.extent = (right - left, max(0.0, v_edge - style.rank_sep))
