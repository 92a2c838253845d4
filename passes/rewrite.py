"""The pattern-rewrite engine: rules as data, one fixed-point driver.

**Patterns.**  ``Pat`` describes a value: ``op("mul", any_value("x"),
const("one", splat=1))`` matches a ``mul`` whose second operand is a
constant of ones (or a ``broadcast_to`` of one), capturing the first operand
as ``x``.  A name used twice
must bind the same value (``op("sub", any_value("x"), any_value("x"))`` is
``x - x``).  Operands of a commutative op are tried in both orders.

**Rules.**  ``rule(name, pattern, action)`` pairs a pattern with an action
``action(rw, m) -> Value | None``: it may build new nodes through the
``Rewriter`` (``rw.emit``, ``rw.splat``) and returns the value that replaces
the matched root, or None to decline.  ``rule`` records the file and line
where it is called, so a trace can say exactly which rule fired.  A
``PatternSet`` indexes rules by the op of their root pattern; sets compose
with ``+``.

**Driver** (``rewrite_func``).  Nodes are visited in topological order.  A
node's operands are first replaced by their rewritten values; then the rules
for its op are tried in order and the first that returns a value replaces
it.  Nodes built by an action are simplified the same way before they are
added, so when the sweep moves on, everything before it is at a fixed point.
Patterns only look at operands (never at users), hence one sweep reaches the
fixed point; the driver sweeps again to confirm, at most ``MAX_SWEEPS``
times.  Pure nodes left without users are removed at the end of a sweep.

Invariants and guards:

* a replacement must have exactly the type of the value it replaces; an
  action whose result differs is declined (and its new nodes discarded);
* an action that declines leaves no nodes behind;
* a freshly built replacement takes the name hint of the value it replaces,
  so printed IR keeps the user's names;
* more than ``MAX_FIRES_PER_NODE`` rewrites while simplifying one original
  node, or actions nested that deep (an action building a node that the
  same rules rewrite again), is a loop: a ``PassError`` lists the rules;
* with ``ctx.debug_rewrites`` every firing is logged as
  ``rewrite: RULE (file:line) on NODE -> VALUE``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from graphc.errors import PassError

from ..ir.attrs import TensorValue
from ..ir.core import Func, Node, Value
from ..ir.loc import AnyLoc
from ..ir.opdef import CALL, get_op
from ..ir.printer import NameScope
from ..ir.types import UNKNOWN, TensorType
from .base import at_node
from .context import PassContext
from .funcutil import bound_symbols, constant_array, describe_node, live_nodes, value_text

MAX_SWEEPS = 8
MAX_FIRES_PER_NODE = 64
SMALL_CONSTANT = 32  # elements; the printer shows constants this small inline


@dataclass(frozen=True, eq=False)
class Pat:
    """A pattern over one value (see the module docstring)."""

    ops: frozenset[str] | None = None
    inputs: tuple["Pat", ...] | None = None
    name: str | None = None
    attrs: tuple[tuple[str, Any], ...] = ()
    check: Callable[[Value, "Rewriter"], bool] | None = None

    def __repr__(self) -> str:
        head = "|".join(sorted(self.ops)) if self.ops else "any"
        inner = "" if self.inputs is None else "(" + ", ".join(map(repr, self.inputs)) + ")"
        return f"{head}{inner}" + (f" as {self.name}" if self.name else "")


def op(names: str | Iterable[str], *inputs: Pat, name: str | None = None,
       check: Callable[[Value, "Rewriter"], bool] | None = None, **attrs: Any) -> Pat:
    """A node of one of ``names`` (``inputs`` omitted: any operands)."""
    ops = frozenset([names] if isinstance(names, str) else names)
    return Pat(ops, tuple(inputs) if inputs else None, name, tuple(sorted(attrs.items())), check)


def any_value(name: str | None = None) -> Pat:
    """Any value: a parameter or any node's output."""
    return Pat(None, None, name)


def const(name: str | None = None, splat: float | bool | None = None) -> Pat:
    """A ``constant``.  With ``splat``: a constant, or a ``broadcast_to`` of one,
    whose every element equals ``splat`` (NaN never does)."""
    if splat is None:
        return Pat(frozenset(["constant"]), None, name)

    def check(value: Value, rw: "Rewriter", _want=splat) -> bool:
        array = rw.splat_source(value)
        return array is not None and bool(np.all(array == _want))
    return Pat(frozenset(["constant", "broadcast_to"]), None, name, (), check)


class Match:
    """Captured values (``m["x"]``) and the nodes that produced them (``m.node("x")``)."""

    def __init__(self) -> None:
        self.values: dict[str, Value] = {}
        self.nodes: dict[str, Node] = {}

    def __getitem__(self, name: str) -> Value:
        return self.values[name]

    def node(self, name: str) -> Node:
        return self.nodes[name]

    def save(self) -> tuple[dict, dict]:
        return dict(self.values), dict(self.nodes)

    def restore(self, saved: tuple[dict, dict]) -> None:
        self.values, self.nodes = dict(saved[0]), dict(saved[1])


@dataclass(frozen=True, eq=False)
class Rule:
    name: str
    pattern: Pat
    action: Callable[["Rewriter", Match], Value | None]
    where: str

    def __repr__(self) -> str:
        return f"<Rule {self.name} at {self.where}>"


def _caller_location(depth: int) -> str:
    frame = sys._getframe(depth + 1)
    path = frame.f_code.co_filename
    parts = path.replace(os.sep, "/").split("/")
    short = "/".join(parts[-2:]) if len(parts) >= 2 else path
    return f"{short}:{frame.f_lineno}"


def rule(name: str, pattern: Pat, action: Callable[["Rewriter", Match], Value | None]) -> Rule:
    """A rule that records the file and line of this call."""
    if not pattern.ops:
        raise PassError(f"rule '{name}': the root of a pattern must name its op(s)")
    return Rule(name, pattern, action, _caller_location(1))


class PatternSet:
    """Rules indexed by the op names of their root pattern, in definition order."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.by_op: dict[str, list[Rule]] = {}
        for r in self.rules:
            for name in sorted(r.pattern.ops or ()):
                get_op(name)  # an unknown op name in a rule is a bug: fail at import
                self.by_op.setdefault(name, []).append(r)

    def __add__(self, other: "PatternSet") -> "PatternSet":
        return PatternSet(self.rules + other.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def rules_for(self, op_name: str) -> list[Rule]:
        return self.by_op.get(op_name, [])


class Rewriter:
    """Driver state, and the API an action uses to inspect and build IR."""

    def __init__(self, patterns: PatternSet, ctx: PassContext | None = None) -> None:
        self.patterns = patterns
        self.ctx = ctx
        self.fired: list[tuple[Rule, Node]] = []
        self._active: list[Rule] = []

    # -- queries for actions --------------------------------------------
    def producer(self, value: Value) -> Node | None:
        return self._producers.get(value)

    def const_array(self, value: Value) -> np.ndarray | None:
        return constant_array(self._producers.get(value))

    def splat_source(self, value: Value) -> np.ndarray | None:
        """The constant array behind ``value``, looking through ``broadcast_to``
        (whose elements are all taken from it)."""
        producer = self._producers.get(value)
        while producer is not None and producer.op.name == "broadcast_to":
            producer = self._producers.get(producer.inputs[0])
        return constant_array(producer)

    def position(self, value: Value) -> int:
        """Definition order in the function being built (params first)."""
        return self._positions.get(value, len(self._positions))

    def can_express(self, t: TensorType) -> bool:
        """True when ``t``'s shape can be written as a shape attribute here."""
        return all(isinstance(d, int) or (d != UNKNOWN and d in self._bound) for d in t.shape)

    # -- building for actions -------------------------------------------
    def emit(self, op_name: str, *inputs: Value, **attrs: Any) -> Value:
        """Build a node at the matched node's location, simplify it, return its value."""
        opdef = get_op(op_name)
        attr_map = opdef.make_attrs(attrs)
        (out_type,) = opdef.infer_types([v.type for v in inputs], attr_map)
        node = Node(opdef, tuple(inputs), attr_map, (Value(out_type),), self._loc)
        return self._add(node)[0]

    def constant(self, array: Any, dtype: Any) -> Value:
        return self.emit("constant", value=TensorValue(array, dtype))

    def broadcast(self, value: Value, t: TensorType) -> Value | None:
        """``value`` broadcast to type ``t`` (None when ``t`` cannot be spelled here)."""
        if value.type == t:
            return value
        if value.type.dtype != t.dtype or not self.can_express(t):
            return None
        return self.emit("broadcast_to", value, shape=t.shape)

    def splat(self, scalar: Any, t: TensorType) -> Value | None:
        """A tensor of type ``t`` filled with ``scalar``: a constant when ``t`` is
        static and small, else a broadcast 0-d constant (None if ``t`` cannot be spelled)."""
        if t.size is not None and t.size <= SMALL_CONSTANT:
            return self.constant(np.full(t.shape, scalar, t.dtype.numpy), t.dtype)
        if not self.can_express(t):
            return None
        return self.broadcast(self.constant(np.array(scalar, t.dtype.numpy), t.dtype), t)

    # -- the driver -------------------------------------------------------
    def rewrite(self, func: Func) -> Func:
        current = func
        for _ in range(MAX_SWEEPS):
            new = self._sweep(current)
            if new is current:
                return current
            current = new
        raise PassError(f"pattern rewriting of @{func.name} did not reach a fixed point after "
                        f"{MAX_SWEEPS} sweeps; last rules fired: {self._recent_rules()}")

    def _sweep(self, func: Func) -> Func:
        self._func = func
        self._names = NameScope(func)
        self._bound = bound_symbols(func)
        self._nodes: list[Node] = []
        self._producers: dict[Value, Node] = {}
        self._positions: dict[Value, int] = {p: i for i, p in enumerate(func.params)}
        self._subst: dict[Value, Value] = {}
        self._changed = False
        for node in func.nodes:
            with at_node(func, node):
                inputs = tuple(self._subst.get(v, v) for v in node.inputs)
                if any(a is not b for a, b in zip(inputs, node.inputs)):
                    node = node.replace(inputs=inputs)
                    self._changed = True
                self._loc: AnyLoc | None = node.loc
                self._fires_here = 0
                self._root = node
                self._add(node)
        results = tuple(self._subst.get(r, r) for r in func.results)
        kept = live_nodes(self._nodes, results)
        if not self._changed and len(kept) == len(func.nodes):
            return func
        return func.replace(nodes=tuple(kept), results=results)

    def _commit(self, node: Node) -> tuple[Value, ...]:
        self._nodes.append(node)
        for out in node.outputs:
            self._producers[out] = node
            self._positions[out] = len(self._positions)
        return node.outputs

    def _add(self, node: Node) -> tuple[Value, ...]:
        if node.op.name == CALL or len(node.outputs) != 1:
            return self._commit(node)
        replacement = self._try_rules(node)
        if replacement is None:
            return self._commit(node)
        self._subst[node.output] = replacement
        self._changed = True
        return (replacement,)

    def _try_rules(self, node: Node) -> Value | None:
        rules = self.patterns.rules_for(node.op.name)
        if not rules:
            return None
        out = node.output
        self._producers[out] = node
        try:
            for r in rules:
                m = Match()
                if not _match(r.pattern, out, m, self):
                    continue
                mark, changed_before = len(self._nodes), self._changed
                self._active.append(r)
                if len(self._active) > MAX_FIRES_PER_NODE:
                    raise PassError(f"rewrite rules loop: actions nested {len(self._active)} "
                                    f"deep while simplifying {self._describe(self._root)}; "
                                    f"rules involved: {self._rule_list(self._active)}")
                try:
                    result = r.action(self, m)
                finally:
                    self._active.pop()
                if result is None or result is out or result.type != out.type:
                    self._discard(mark)
                    self._changed = changed_before  # nothing the action built survives
                    if result is not None and result is not out and self._debug:
                        self._log(f"rewrite: {r.name} ({r.where}) declined on "
                                  f"{self._describe(node)}: result type {result.type} "
                                  f"differs from {out.type}")
                    continue
                result = self._inherit_name(result, out, mark)
                self._fired(r, node, result)
                return result
            return None
        finally:
            if self._producers.get(out) is node:  # committed (or not) by the caller
                del self._producers[out]

    def _inherit_name(self, result: Value, replaced: Value, mark: int) -> Value:
        """Give a fresh, unnamed result the name hint of the value it replaces
        (only when the node defining it is the last one built, so nothing reads it yet)."""
        if result.name is not None or replaced.name is None or len(self._nodes) <= mark:
            return result
        last = self._nodes[-1]
        if last.outputs != (result,):
            return result
        renamed = Value(result.type, replaced.name)
        self._nodes[-1] = last.replace(outputs=(renamed,))
        del self._producers[result]
        self._producers[renamed] = self._nodes[-1]
        self._positions[renamed] = self._positions.pop(result)
        return renamed

    def _discard(self, mark: int) -> None:
        for dropped in self._nodes[mark:]:
            for o in dropped.outputs:
                self._producers.pop(o, None)
                self._positions.pop(o, None)
        del self._nodes[mark:]

    def _fired(self, r: Rule, node: Node, result: Value) -> None:
        self.fired.append((r, node))
        self._fires_here += 1
        if self._debug:
            self._log(f"rewrite: {r.name} ({r.where}) on {self._describe(node)} -> "
                      f"{value_text(result, self._names)}")
        if self._fires_here > MAX_FIRES_PER_NODE:
            raise PassError(f"rewrite rules loop: {self._fires_here} rewrites while simplifying "
                            f"{self._describe(self._root)}; rules firing: "
                            f"{self._recent_rules()}")

    def _recent_rules(self) -> str:
        return self._rule_list([r for r, _ in self.fired[-8:]])

    @staticmethod
    def _rule_list(rules: list[Rule]) -> str:
        shown: list[str] = []
        for r in rules:
            if f"{r.name} ({r.where})" not in shown:
                shown.append(f"{r.name} ({r.where})")
        return ", ".join(shown) or "none"

    @property
    def _debug(self) -> bool:
        return self.ctx is not None and self.ctx.debug_rewrites

    def _log(self, text: str) -> None:
        assert self.ctx is not None
        self.ctx.write(text)

    def _describe(self, node: Node) -> str:
        return describe_node(node, self._names)


def _match(pat: Pat, value: Value, m: Match, rw: Rewriter) -> bool:
    if pat.ops is not None:
        node = rw.producer(value)
        if node is None or node.op.name not in pat.ops:
            return False
        if any(node.attrs.get(k) != v for k, v in pat.attrs):
            return False
        if pat.inputs is not None and not _match_inputs(pat.inputs, node, m, rw):
            return False
        if pat.name:
            m.nodes[pat.name] = node
    if pat.check is not None and not pat.check(value, rw):
        return False
    if pat.name:
        bound = m.values.get(pat.name)
        if bound is not None and bound is not value:
            return False
        m.values[pat.name] = value
    return True


def _match_inputs(pats: tuple[Pat, ...], node: Node, m: Match, rw: Rewriter) -> bool:
    if len(pats) != len(node.inputs):
        return False
    orders = [node.inputs]
    if node.op.is_commutative and len(node.inputs) == 2:
        orders.append(node.inputs[::-1])
    for operands in orders:
        saved = m.save()
        if all(_match(p, v, m, rw) for p, v in zip(pats, operands)):
            return True
        m.restore(saved)
    return False


def rewrite_func(func: Func, patterns: PatternSet, ctx: PassContext | None = None) -> Func:
    """Apply ``patterns`` to ``func`` until no rule fires (``func`` itself if none did)."""
    return Rewriter(patterns, ctx).rewrite(func)
