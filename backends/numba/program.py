"""Flatten a module into a straight-line ``Program`` of groups over slots.

A *slot* is one runtime array (an entry parameter, a constant, or a value
produced by a group).  A *group* is the unit the backend lowers to one
kernel: a primitive Func called from the entry function (the output of the
``fuse`` pass), or a single node of the entry function outside any primitive
Func, wrapped into a one-node primitive Func so both take the same lowering
path.  Calls to non-primitive functions are inlined.  Constants of the entry
function become constant slots (their arrays are kept by the program).

Two kinds of group are *views* instead of kernels (no copy, no buffer),
whether the node stands alone in the entry function or the fuse pass
outlined it as a one-node primitive Func:

* ``reshape`` / ``expand_dims`` / ``squeeze`` of an array, which keep C
  order, so the result is a reshaped view of the input's buffer;
* ``transpose`` that swaps the last two axes when every consumer uses the
  result only as a ``matmul`` operand: BLAS reads the transposed view with
  its transpose flag.

Invariants: groups are in execution order; every slot is written by exactly
one group (or is a parameter/constant); a view slot's ``base`` is the slot
whose buffer it shares, so the buffer planner can extend that buffer's life.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graphc.errors import LoweringError

from ...ir.core import Func, Module, Node, Value
from ...ir.opdef import CALL
from ...ir.types import TensorType

VIEW_OPS = frozenset({"reshape", "expand_dims", "squeeze"})


@dataclass
class Slot:
    index: int
    type: TensorType
    name: str
    kind: str = "value"          # "param" | "const" | "value"
    const: np.ndarray | None = None
    base: int | None = None      # for view slots: the slot whose buffer this one shares


@dataclass
class Group:
    index: int
    func: Func                   # primitive func (possibly synthetic, one node)
    inputs: tuple[int, ...]      # slot per func param
    outputs: tuple[int, ...]     # slot per func result
    view: str | None = None      # "reshape" or "swap_last_axes" for view groups
    synthetic: bool = False      # wraps a single entry-function node

    @property
    def label(self) -> str:
        return self.func.name


@dataclass
class Program:
    entry: Func
    slots: list[Slot] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    params: tuple[int, ...] = ()
    results: tuple[int, ...] = ()

    def new_slot(self, type_: TensorType, name: str, **kw) -> int:
        slot = Slot(len(self.slots), type_, name, **kw)
        self.slots.append(slot)
        return slot.index


def _single_node_func(node: Node, index: int) -> Func:
    params: list[Value] = []
    for v in node.inputs:
        if v not in params:
            params.append(v)
    return Func(f"{node.op.name}_{index}", tuple(params), (node,), node.outputs,
                private=True, primitive=True)


class _Flattener:
    def __init__(self, module: Module) -> None:
        self.module = module
        self.program = Program(module.entry)
        self.synthetic_count = 0

    def run(self) -> Program:
        entry = self.module.entry
        env: dict[Value, int] = {}
        params = []
        for i, p in enumerate(entry.params):
            env[p] = self.program.new_slot(p.type, p.name or f"arg{i}", kind="param")
            params.append(env[p])
        self.program.params = tuple(params)
        self._inline(entry, env, depth=0)
        self.program.results = tuple(env[r] for r in entry.results)
        _mark_views(self.program)
        return self.program

    def _inline(self, func: Func, env: dict[Value, int], depth: int) -> None:
        if depth > 64:
            raise LoweringError(f"backend 'numba': calls nest deeper than 64 levels at @{func.name}")
        for node in func.nodes:
            if node.op.name == "constant":
                value = node.attrs["value"]
                env[node.output] = self.program.new_slot(
                    node.output.type, node.output.name or "const", kind="const",
                    const=np.array(value.array, copy=True))
                continue
            if node.op.name == CALL:
                callee = self.module[node.attrs["callee"]]
                if callee.primitive:
                    self._add_group(callee, node, env, synthetic=False)
                else:
                    inner = dict(zip(callee.params, (env[v] for v in node.inputs)))
                    self._inline(callee, inner, depth + 1)
                    for out, res in zip(node.outputs, callee.results):
                        env[out] = inner[res]
                continue
            self.synthetic_count += 1
            self._add_group(_single_node_func(node, self.synthetic_count), node, env,
                            synthetic=True)

    def _add_group(self, func: Func, node: Node, env: dict[Value, int], *, synthetic: bool) -> None:
        if synthetic:
            inputs = tuple(env[p] for p in func.params)
        else:
            inputs = tuple(env[v] for v in node.inputs)
        outputs = []
        for out in node.outputs:
            env[out] = self.program.new_slot(out.type, out.name or func.name)
            outputs.append(env[out])
        group = Group(len(self.program.groups), func, inputs, tuple(outputs), synthetic=synthetic)
        self.program.groups.append(group)


def _swaps_last_axes(node: Node) -> bool:
    rank = node.inputs[0].type.rank
    perm = node.attrs["perm"]
    if rank < 2:
        return False
    if perm is None:
        return rank == 2
    want = list(range(rank - 2)) + [rank - 1, rank - 2]
    return [p % rank for p in perm] == want


def _matmul_operand_params(func: Func) -> set[Value]:
    """Params of a group func that are read only as matmul operands."""
    only: set[Value] = set()
    for p in func.params:
        users = func.users.get(p, ())
        if users and all(u.op.name == "matmul" for u in users) and p not in func.results:
            only.add(p)
    return only


def _single_movement(g: Group) -> Node | None:
    """The node of a group that is one movement op applied to a parameter."""
    func = g.func
    if len(func.nodes) != 1 or len(func.results) != 1:
        return None
    node = func.nodes[0]
    if node.op.name not in VIEW_OPS and node.op.name != "transpose":
        return None
    if node.inputs[0] not in func.params or func.results[0] is not node.output:
        return None
    return node


def _mark_views(program: Program) -> None:
    consumers: dict[int, list[tuple[Group, int]]] = {}
    for g in program.groups:
        for pos, s in enumerate(g.inputs):
            consumers.setdefault(s, []).append((g, pos))
    results = set(program.results)
    for g in program.groups:
        node = _single_movement(g)
        if node is None:
            continue
        src = g.inputs[g.func.params.index(node.inputs[0])]
        out = g.outputs[0]
        if node.op.name in VIEW_OPS:
            g.view = "reshape"
        elif _swaps_last_axes(node) and out not in results:
            users = consumers.get(out, [])
            ok = bool(users)
            for user, pos in users:
                param = user.func.params[pos]
                if param not in _matmul_operand_params(user.func):
                    ok = False
            if ok:
                g.view = "swap_last_axes"
        if g.view is not None:
            base = program.slots[src].base
            program.slots[out].base = src if base is None else base


def flatten(module: Module) -> Program:
    """The module's entry function as groups over slots (see the module doc)."""
    return _Flattener(module).run()
