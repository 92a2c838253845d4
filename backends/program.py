"""Flatten a module into a straight-line ``Program``: groups over slots.

Shared by the compiled backends (numba, llvm, cuda): each lowers the groups
of a ``Program`` its own way, but all see the same groups, slots and views.

A *slot* is one run-time array: an entry parameter, a constant of the entry
function, or an output of a group.  A *group* is one primitive Func with
the slots it reads and writes: a ``call`` of a primitive Func (what the
``fuse`` pass outlines), or a single node of the entry function outside
any kernel, wrapped into a one-node primitive Func so that both take the
same lowering path.  Calls of non-primitive Funcs are inlined.

Some groups are *views* and run no kernel (no copy, no buffer):

* ``reshape``: one ``reshape``/``expand_dims``/``squeeze`` of a slot --
  the result is the input array reshaped (every slot a kernel writes is
  C-contiguous, and entry inputs are made so);
* ``swap``: a ``transpose`` of the last two axes whose every consumer uses
  it only as a matmul operand -- numpy's matmul reads the transposed view
  (BLAS takes the transpose flag), and no generated loop ever sees it.

Invariants: groups are in execution order; every slot is written once (or
is a parameter/constant); ``Slot.base`` names the slot that owns the memory a view
shares (never another view), so buffer planning keeps that memory alive as long as the view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graphc.errors import LoweringError

from ..ir.core import Func, Module, Node, Value
from ..ir.opdef import CALL
from ..ir.types import TensorType, normalize_axes
from ..ir.verifier import MAX_CALL_DEPTH

RESHAPE_VIEWS = frozenset({"reshape", "expand_dims", "squeeze"})


@dataclass
class Slot:
    index: int
    type: TensorType
    name: str
    kind: str = "value"                 # param | const | value
    const: np.ndarray | None = None
    base: int | None = None             # views: the slot that owns the memory


@dataclass
class Group:
    index: int
    func: Func
    inputs: tuple[int, ...]             # slot per func param
    outputs: tuple[int, ...]            # slot per func result
    node: Node | None = None            # the call (or the wrapped node) in the caller
    view: str | None = None             # "reshape" | "swap_last_axes"
    scope: tuple[Func, tuple[int, ...]] | None = None
    """Wrapped nodes: the function they come from and the slots of its parameters,
    which bind the symbols a shape attribute may name without an operand carrying them."""

    @property
    def label(self) -> str:
        return self.func.name

    @property
    def synthetic(self) -> bool:
        """True when the group wraps a single node of a caller, not a ``call``."""
        return self.scope is not None


@dataclass
class Program:
    entry: Func
    slots: list[Slot] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    params: tuple[int, ...] = ()
    results: tuple[int, ...] = ()

    def new_slot(self, type_: TensorType, name: str, **kw) -> int:
        self.slots.append(Slot(len(self.slots), type_, name, **kw))
        return len(self.slots) - 1

    def root(self, slot: int) -> int:
        """The slot owning ``slot``'s memory (itself unless it is a view)."""
        while self.slots[slot].base is not None:
            slot = self.slots[slot].base
        return slot


def single_node_func(node: Node, name: str) -> Func:
    params: list[Value] = []
    for v in node.inputs:
        if v not in params:
            params.append(v)
    return Func(name, tuple(params), (node,), node.outputs, private=True, primitive=True)


class _Flattener:
    def __init__(self, module: Module, backend: str) -> None:
        self.module = module
        self.backend = backend
        self.program = Program(module.entry)
        self.wrapped = 0

    def run(self) -> Program:
        entry = self.module.entry
        env: dict[Value, int] = {}
        for i, p in enumerate(entry.params):
            env[p] = self.program.new_slot(p.type, p.name or f"arg{i}", kind="param")
        self.program.params = tuple(env[p] for p in entry.params)
        self._inline(entry, env, 0, self.program.params)
        self.program.results = tuple(env[r] for r in entry.results)
        _mark_views(self.program)
        return self.program

    def _inline(self, func: Func, env: dict[Value, int], depth: int,
                scope_slots: tuple[int, ...]) -> None:
        if depth > MAX_CALL_DEPTH:
            raise LoweringError(f"backend '{self.backend}': calls nest deeper than {MAX_CALL_DEPTH} "
                                f"levels at @{func.name}")
        for node in func.nodes:
            if node.op.name == "constant":
                env[node.output] = self.program.new_slot(
                    node.output.type, node.output.name or "const", kind="const",
                    const=np.array(node.attrs["value"].array, copy=True))
            elif node.op.name == CALL:
                callee = self.module[node.attrs["callee"]]
                args = [env[v] for v in node.inputs]
                if callee.primitive:
                    self._group(callee, node, args, env)
                else:
                    inner = dict(zip(callee.params, args))
                    self._inline(callee, inner, depth + 1, tuple(args))
                    for out, res in zip(node.outputs, callee.results):
                        env[out] = inner[res]
            else:
                self.wrapped += 1
                func1 = single_node_func(node, f"{node.op.name}_{self.wrapped}")
                self._group(func1, node, [env[v] for v in func1.params], env,
                            (func, scope_slots))

    def _group(self, func: Func, node: Node, inputs: list[int], env: dict[Value, int],
               scope: tuple[Func, tuple[int, ...]] | None = None) -> None:
        outputs = []
        for out in node.outputs:
            env[out] = self.program.new_slot(out.type, out.name or func.name)
            outputs.append(env[out])
        self.program.groups.append(Group(len(self.program.groups), func, tuple(inputs),
                                         tuple(outputs), node, scope=scope))


def _lone_movement(g: Group) -> Node | None:
    """The node of a group that is one movement op applied to a parameter."""
    func = g.func
    if len(func.nodes) != 1 or len(func.results) != 1:
        return None
    node = func.nodes[0]
    if node.op.name not in RESHAPE_VIEWS and node.op.name != "transpose":
        return None
    if node.inputs[0] not in func.params or func.results[0] is not node.output:
        return None
    return node


def swaps_last_axes(node: Node) -> bool:
    rank = node.inputs[0].type.rank
    if rank < 2:
        return False
    perm = node.attrs["perm"]
    perm = tuple(reversed(range(rank))) if perm is None else normalize_axes(perm, rank)
    return list(perm) == list(range(rank - 2)) + [rank - 1, rank - 2]


def _matmul_only(func: Func, param: Value) -> bool:
    users = func.users.get(param, ())
    return bool(users) and param not in func.results and \
        all(u.op.name == "matmul" for u in users)


def _mark_views(program: Program) -> None:
    readers: dict[int, list[tuple[Group, int]]] = {}
    for g in program.groups:
        for pos, s in enumerate(g.inputs):
            readers.setdefault(s, []).append((g, pos))
    results = set(program.results)
    for g in program.groups:
        node = _lone_movement(g)
        if node is None:
            continue
        source = g.inputs[g.func.params.index(node.inputs[0])]
        out = g.outputs[0]
        if node.op.name in RESHAPE_VIEWS:
            g.view = "reshape"
        elif swaps_last_axes(node) and out not in results and readers.get(out) and all(
                _matmul_only(user.func, user.func.params[pos]) for user, pos in readers[out]):
            g.view = "swap_last_axes"
        if g.view is not None:
            program.slots[out].base = program.root(source)


def flatten(module: Module, backend: str) -> Program:
    """The module's entry function as groups over slots (see the module doc);
    ``backend`` names the caller in errors."""
    return _Flattener(module, backend).run()
