"""Inline evaluation: the value of any IR value at one index, as LLVM IR.

``Evaluator.at(value, index)`` returns the element of ``value`` at
``index`` (a tuple of i64 values, one per axis) inside the loop nest being
built.  Leaves (``plan.leaf``: parameters, constants, reduction and matmul
outputs, materialized values) are loaded from their buffer in C order;
softmax outputs are computed from their row statistics; every other value
is computed from its producer's operands, each read at the index its op
maps to:

* elementwise/broadcast ops read operands with numpy broadcasting (a
  static size-1 axis reads index 0; a symbolic axis that may be 1 at run
  time reads ``select(size == 1, 0, i)``), then apply ``rules.py``;
* movement ops (``movement.py``) compute their input's index.

A leaf is loaded only where its buffer is complete (``KernelPlan.in_memory``):
a stage running before the one that stores a value computes it inline.

Results are memoized per (value, index) in *scopes* that follow the loop
structure: ``with ev.scope():`` around a loop body (or a branch) keeps
values computed there from being reused where they do not dominate.

``Flat`` marks the index of a flat map stage: one i64 running over every
element of the stage's shape, which every value it reaches has (or is a
broadcast scalar, read at index 0).

Sizes come from ``dims``: static dims are constants; symbolic ones are
i64 *scalars* the runtime passes in (``ScalarTable``), loaded once in the
function's entry block.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from llvmlite import ir

from ...ir.core import Value
from .alignment import same_dim
from .irtypes import I1, I8, I64, i64, storage_type
from .mathlib import MathLib
from .rules import ELEMENTWISE_RULES, RuleContext
from .staging import Buffer, KernelPlan, is_splat
from . import movement


class Flat(tuple):
    """The index of a flat loop: ``(i,)`` with i running over all elements."""


class ScalarTable:
    """The i64 run-time scalars of one kernel, by key (shared by its functions)."""

    def __init__(self) -> None:
        self.keys: list[tuple] = []
        self._index: dict[tuple, int] = {}

    def index(self, key: tuple) -> int:
        if key not in self._index:
            self._index[key] = len(self.keys)
            self.keys.append(key)
        return self._index[key]


class ErrorTable:
    """Run-time checks of one kernel: code k (1-based) -> (kind, node index, axis)."""

    def __init__(self) -> None:
        self.sites: list[tuple[str, int, int]] = []

    def code(self, kind: str, node_index: int, axis: int) -> int:
        self.sites.append((kind, node_index, axis))
        return len(self.sites)


class Evaluator:
    def __init__(self, plan: KernelPlan, b: ir.IRBuilder, entry: ir.IRBuilder,
                 math: MathLib, buffers: list[ir.Value], scalars_ptr: ir.Value,
                 scalars: ScalarTable, errors: ErrorTable, error_slot) -> None:
        self.plan, self.b, self.entry, self.math = plan, b, entry, math
        self.buffers, self.scalars_ptr, self.scalars = buffers, scalars_ptr, scalars
        self.errors, self.error_slot = errors, error_slot
        self.values = {n: v for v, n in plan.numbering.items()}
        self.node_index = {id(n): i for i, n in enumerate(plan.func.nodes)}
        self._loaded: dict[int, ir.Value] = {}
        self._consts: dict[int, ir.Constant] = {}
        self._scopes: list[dict] = [{}]
        self.stage = 0
        """Index (in ``plan.stages``) of the stage being emitted: which leaves are in memory."""

    # -- sizes --------------------------------------------------------------------------

    def const(self, n: int) -> ir.Constant:
        if n not in self._consts:
            self._consts[n] = i64(n)
        return self._consts[n]

    def scalar(self, key: tuple) -> ir.Value:
        slot = self.scalars.index(key)
        if slot not in self._loaded:
            ptr = self.entry.gep(self.scalars_ptr, [i64(slot)], source_etype=I64)
            self._loaded[slot] = self.entry.load(ptr, typ=I64, name=f"s{slot}")
        return self._loaded[slot]

    def dim(self, value: Value, axis: int) -> ir.Value:
        d = value.type.shape[axis]
        if isinstance(d, int):
            return self.const(d)
        if d == "?":
            return self.scalar(("dim", self.plan.numbering[value], axis))
        return self.scalar(("sym", d))

    def dims(self, value: Value) -> list[ir.Value]:
        return [self.dim(value, a) for a in range(value.type.rank)]

    def buffer_dims(self, buf: Buffer) -> list[ir.Value]:
        dims = self.dims(self.values[buf.shape_of])
        if buf.drop_axis is not None:
            del dims[buf.drop_axis]
        return dims

    def product(self, dims: list[ir.Value]) -> ir.Value:
        total = self.const(1)
        for d in dims:
            total = self.b.mul(total, d, flags=("nuw", "nsw"))
        return total

    def offset(self, dims: list[ir.Value], index: tuple) -> ir.Value:
        """Element offset of ``index`` in a C-ordered array of ``dims``."""
        if isinstance(index, Flat):
            return index[0]
        if not index:
            return self.const(0)
        off = index[0]
        for d, i in zip(dims[1:], index[1:]):
            off = self.b.add(self.b.mul(off, d, flags=("nuw", "nsw")), i, flags=("nuw", "nsw"))
        return off

    def zeros(self, rank: int) -> tuple:
        return (self.const(0),) * rank

    # -- memory -------------------------------------------------------------------------

    def pointer(self, buf: Buffer, offset: ir.Value) -> ir.Value:
        return self.b.gep(self.buffers[buf.index], [offset], inbounds=True,
                          source_etype=storage_type(buf.dtype))

    def load(self, buf: Buffer, offset: ir.Value) -> ir.Value:
        raw = self.b.load(self.pointer(buf, offset), typ=storage_type(buf.dtype))
        if raw.type == I8:
            return self.b.icmp_unsigned("!=", raw, ir.Constant(I8, 0))
        return raw

    def store(self, buf: Buffer, offset: ir.Value, value: ir.Value) -> None:
        if value.type == I1:
            value = self.b.zext(value, I8)
        self.b.store(value, self.pointer(buf, offset))

    def fail_if(self, bad: ir.Value, kind: str, node_index: int, axis: int) -> None:
        """Record run-time error ``kind`` when ``bad`` holds (checked when the kernel returns)."""
        code = ir.Constant(self.error_slot.typ, self.errors.code(kind, node_index, axis))
        self.error_slot.set(self.b.select(bad, code, self.error_slot.get()))

    # -- evaluation ---------------------------------------------------------------------

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        self._scopes.append({})
        try:
            yield
        finally:
            self._scopes.pop()

    def at(self, value: Value, index: tuple) -> ir.Value:
        key = (value, isinstance(index, Flat), tuple(id(i) for i in index))
        for memo in reversed(self._scopes):
            if key in memo:
                return memo[key][0]
        result = self._compute(value, index)
        self._scopes[-1][key] = (result, index)   # keep index objects alive with the key
        return result

    def _compute(self, value: Value, index: tuple) -> ir.Value:
        plan = self.plan
        if plan.in_memory(value, self.stage):
            buf = plan.leaf[value]
            return self.load(buf, self.offset(self.dims(value), index))
        if value in plan.softmax:
            return movement.softmax_value(self, value, index)
        node = plan.producer[value]
        name = node.op.name
        if name == "constant":
            array = node.attrs["value"].array
            assert is_splat(array)
            first = array.reshape(-1)[0] if array.size else 0
            return movement.typed_const(value.type.dtype, first)
        if name in movement.MOVEMENT_RULES:
            return movement.MOVEMENT_RULES[name](self, node, index)
        operands = [self.at(u, self.broadcast_index(u, value, index)) for u in node.inputs]
        ctx = RuleContext(self.b, self.math, value.type.dtype,
                          tuple(u.type.dtype for u in node.inputs))
        return ELEMENTWISE_RULES[name](ctx, operands, node.attrs)

    def broadcast_index(self, operand: Value, out: Value, index: tuple) -> tuple:
        """The index of ``operand`` when ``out`` at ``index`` reads it with broadcasting."""
        op_shape, out_shape = operand.type.shape, out.type.shape
        if isinstance(index, Flat):
            return index if len(op_shape) == len(out_shape) and all(
                same_dim(a, b) for a, b in zip(op_shape, out_shape)) else \
                self.zeros(len(op_shape))
        shift = len(out_shape) - len(op_shape)
        result = []
        for j, d in enumerate(op_shape):
            i = index[j + shift]
            if d == 1:
                result.append(self.const(0))
            elif same_dim(d, out_shape[j + shift]) or isinstance(d, int):
                result.append(i)
            else:  # a symbol that may be 1 at run time
                is_one = self.b.icmp_signed("==", self.dim(operand, j), self.const(1))
                result.append(self.b.select(is_one, self.const(0), i))
        return tuple(result)
