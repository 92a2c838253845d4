"""Index arithmetic: the value of any IR value at an index, as kernel code.

Every array reaches a kernel as a typed pointer to C-ordered memory
(``pointers.py``; ``load_expr``/``store_expr`` convert storage types), so reading a
*leaf* (an array argument: a group parameter, a constant, or a value an
earlier loop nest materialized) at index ``(i0, i1, ...)`` is
``a[i0*s0 + i1*s1 + ...]`` with the strides of its shape.  Any other value is
computed where it is needed, by recursion through its producer:

* elementwise / broadcast ops map the index through numpy broadcasting
  (a static 1 reads index 0; a dim that is the same symbol or int reads the
  same index; anything else decides at run time);
* movement ops transform the index: transpose permutes it, slice scales and
  offsets it, expand_dims/squeeze drop or add zeros, reshape goes through
  the linear index, gather reads the index tensor, concat selects a piece.

Two index forms exist.  ``Flat(e)`` is the linear C-order index of the
whole value; it lets an elementwise nest run as one 1-D loop, and survives
elementwise ops on equal shapes and order-keeping reshapes.  A tuple of
per-axis expressions is the general form.  ``NotFlat`` is raised when a
flat index cannot be carried through an op; the caller then uses a nest.

Every subexpression is bound to a local once per (value, index) in the
current scope, so shared subexpressions are computed once per iteration.
Runtime sizes come from ``D``, an int64 vector the launcher fills from the
concrete shapes; static sizes are inlined as literals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence, Union

from graphc.errors import LoweringError

from ...ir.core import Func, Node, Value
from ...ir.dtypes import DType
from ...ir.types import UNKNOWN, Dim, normalize_axes, normalize_axis
from .rules import ELEMENTWISE_RULES, RuleContext


class NotFlat(Exception):
    """A flat index cannot be carried through this op."""


@dataclass(frozen=True)
class Flat:
    expr: str


Index = Union[Flat, tuple]


@dataclass(frozen=True)
class RuntimeScalar:
    """One entry of the kernel's ``D`` vector: computed by the launcher from
    the concrete shapes of the group's values."""

    text: str
    compute: Callable[[dict], int]


class SourceWriter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.preamble: list[str] = []   # loop-invariant loads, placed before every loop
        self.depth = 1

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def indent(self) -> "_Indent":
        return _Indent(self)


class _Indent:
    def __init__(self, w: SourceWriter) -> None:
        self.w = w

    def __enter__(self) -> None:
        self.w.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.w.depth -= 1


@dataclass
class KernelContext:
    """Names and runtime sizes shared by every nest of one kernel."""

    func: Func
    arg_names: dict[Value, str] = field(default_factory=dict)
    scalars: list[RuntimeScalar] = field(default_factory=list)
    scalar_keys: dict[object, str] = field(default_factory=dict)
    counter: int = 0
    uses_error_flag: bool = False

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def runtime(self, key: object, text: str, compute: Callable[[dict], int]) -> str:
        """A local holding a value from ``D`` (deduplicated by ``key``)."""
        if key not in self.scalar_keys:
            self.scalars.append(RuntimeScalar(text, compute))
            self.scalar_keys[key] = f"d{len(self.scalars)}"
        return self.scalar_keys[key]

    def dim(self, value: Value, axis: int) -> str:
        d = value.type.shape[axis]
        if isinstance(d, int):
            return str(d)
        key: object = ("sym", d) if d != UNKNOWN else ("dim", id(value), axis)
        return self.runtime(key, f"{d} (axis {axis} of {value.name or 'a value'})",
                            lambda shapes, v=value, a=axis: shapes[v][a])

    def size(self, value: Value, axes: Sequence[int] | None = None) -> str:
        axes = range(value.type.rank) if axes is None else axes
        return product([self.dim(value, a) for a in axes])

    def strides(self, value: Value) -> list[str]:
        rank = value.type.rank
        return [product([self.dim(value, k) for k in range(a + 1, rank)]) for a in range(rank)]


def _invariant(idx: Index) -> bool:
    """An index made of literal integers only (the same in every iteration)."""
    parts = (idx.expr,) if isinstance(idx, Flat) else idx
    return all(p.replace(" ", "").replace("*", "").replace("+", "").isdigit() for p in parts)


def load_expr(arr: str, pos: str, dtype: DType) -> str:
    """Read element ``pos`` of a kernel array in its compute type (arrays are
    typed pointers in storage types: f16 as uint16 bits, bool as uint8)."""
    if dtype is DType.f16:
        return f"f16_to_f32({arr}[{pos}])"
    if dtype is DType.bool:
        return f"({arr}[{pos}] != U8(0))"
    return f"{arr}[{pos}]"


def store_expr(expr: str, dtype: DType) -> str:
    """``expr`` (a compute-type value) converted to the storage type."""
    if dtype is DType.f16:
        return f"f32_to_f16({expr})"
    if dtype is DType.bool:
        return f"(U8(1) if {expr} else U8(0))"
    return expr


def product(factors: Sequence[str]) -> str:
    static = 1
    symbolic = []
    for f in factors:
        if f.isdigit():
            static *= int(f)
        else:
            symbolic.append(f)
    if static == 0:
        return "0"
    if static != 1 or not symbolic:
        symbolic.insert(0, str(static))
    return " * ".join(symbolic)


def linear(idx: Sequence[str], strides: Sequence[str]) -> str:
    terms = []
    for i, s in zip(idx, strides):
        if i == "0" or s == "0":
            continue
        terms.append(i if s == "1" else f"{i} * {s}" if " " not in s else f"{i} * ({s})")
    return " + ".join(terms) if terms else "0"


def same_shape(a: Value, b: Value) -> bool:
    """Statically known to have equal shapes (``?`` is never known equal)."""
    return a.type.shape == b.type.shape and UNKNOWN not in a.type.shape


def scalar_like(v: Value) -> bool:
    return all(d == 1 for d in v.type.shape)


class Emitter:
    """Builds expressions for values at indices, emitting let-bindings."""

    def __init__(self, ctx: KernelContext, w: SourceWriter, leaves: dict[Value, str],
                 written: frozenset[Value] = frozenset()) -> None:
        self.ctx = ctx
        self.w = w
        self.leaves = leaves
        self.written = written          # arrays this kernel stores: never hoisted
        self.producers = ctx.func.producers
        self.scopes: list[dict] = [{}]

    # -- scopes: a branch must not leak its locals to code after it ---------
    def push(self) -> None:
        self.scopes.append({})

    def pop(self) -> None:
        self.scopes.pop()

    def _cached(self, key: tuple) -> str | None:
        for scope in reversed(self.scopes):
            if key in scope:
                return scope[key]
        return None

    def bind(self, expr: str, prefix: str = "t") -> str:
        if expr.isidentifier():
            return expr
        name = self.ctx.fresh(prefix)
        self.w.line(f"{name} = {expr}")
        return name

    # -- reading -------------------------------------------------------------
    def at(self, v: Value, idx: Index) -> str:
        rank = v.type.rank
        if isinstance(idx, Flat) and rank <= 1:
            idx = (idx.expr,) if rank == 1 else ()
        key = (v, idx)
        hit = self._cached(key)
        if hit is not None:
            return hit
        if v in self.leaves and _invariant(idx) and v not in self.written:
            # read once before the loops: a load LLVM would otherwise repeat
            # (it cannot prove the kernel's stores leave the array alone).
            # An array an earlier stage of this kernel writes is read where it
            # is used, after that stage has run.
            name = self.ctx.fresh("h")
            self.w.preamble.append(f"{name} = {self.load(v, idx)}")
            self.scopes[0][key] = name
            return name
        if v in self.leaves:
            expr = self.load(v, idx)
        else:
            expr = self._compute(self.producers[v], v, idx)
        name = self.bind(expr)
        self.scopes[-1][key] = name
        return name

    def load(self, v: Value, idx: Index) -> str:
        pos = idx.expr if isinstance(idx, Flat) else linear(idx, self.ctx.strides(v))
        return load_expr(self.leaves[v], pos, v.type.dtype)

    def flat_index(self, v: Value, idx: Index) -> str:
        return idx.expr if isinstance(idx, Flat) else linear(idx, self.ctx.strides(v))

    # -- producers -----------------------------------------------------------
    def _compute(self, node: Node, v: Value, idx: Index) -> str:
        name = node.op.name
        if name == "constant":
            return self._constant(node, v, idx)
        rule = ELEMENTWISE_RULES.get(name)
        if rule is not None:
            args = [self.at(u, self.broadcast_index(u, v, idx)) for u in node.inputs]
            rc = RuleContext(v.type.dtype, tuple(u.type.dtype for u in node.inputs))
            return rule(rc, args, node.attrs)
        movement = getattr(self, f"_move_{name}", None)
        if movement is None:
            raise LoweringError(f"backend 'numba': op '{name}' cannot be computed inside a "
                                "loop nest (it must be materialized)")
        return movement(node, v, idx)

    def _constant(self, node: Node, v: Value, idx: Index) -> str:
        array = node.attrs["value"].array
        if array.size != 1:
            raise LoweringError("backend 'numba': a non-scalar constant must be a kernel argument")
        item = array.reshape(-1)[0].item()
        return RuleContext(v.type.dtype, ()).lit(item)

    def broadcast_index(self, u: Value, v: Value, idx: Index) -> Index:
        """Index into operand ``u`` of an op whose result ``v`` is read at ``idx``."""
        if isinstance(idx, Flat):
            if same_shape(u, v):
                return idx
            if scalar_like(u):
                return Flat("0")
            raise NotFlat
        out_rank, in_rank = v.type.rank, u.type.rank
        mapped = []
        for k in range(in_rank):
            i = idx[k + out_rank - in_rank]
            d_in, d_out = u.type.shape[k], v.type.shape[k + out_rank - in_rank]
            if d_in == 1:
                mapped.append("0")
            elif d_in == d_out and d_in != UNKNOWN:
                mapped.append(i)
            else:
                size = self.ctx.dim(u, k)
                mapped.append(i if i == "0" else f"({i} if {size} != 1 else 0)")
        return tuple(mapped)

    # -- movement ops ----------------------------------------------------------
    def _unravel(self, u: Value, lin: str) -> tuple:
        lin = self.bind(lin, "l")
        strides = self.ctx.strides(u)
        out = []
        for a in range(u.type.rank):
            s, d = strides[a], self.ctx.dim(u, a)
            q = lin if s == "1" else f"({lin} // ({s}))"
            out.append(self.bind(q if a == 0 else f"{q} % ({d})", "j"))
        return tuple(out)

    def unravel_flat(self, v: Value, lin: str) -> Index:
        """An index of ``v`` for linear position ``lin``: flat when ``v`` allows it."""
        if v in self.leaves or v.type.rank <= 1:
            return Flat(lin)
        return self._unravel(v, lin)

    def _move_reshape(self, node: Node, v: Value, idx: Index) -> str:
        u = node.inputs[0]
        flat = idx if isinstance(idx, Flat) else Flat(self.flat_index(v, idx))
        try:
            return self.at(u, flat)
        except NotFlat:
            if isinstance(idx, Flat):
                raise
            return self.at(u, self._unravel(u, flat.expr))

    _move_expand_dims = _move_reshape

    def _move_squeeze(self, node: Node, v: Value, idx: Index) -> str:
        if isinstance(idx, Flat):
            return self.at(node.inputs[0], idx)
        u = node.inputs[0]
        dropped = set(range(u.type.rank)) - set(_kept_axes(node, u))
        it = iter(idx)
        return self.at(u, tuple("0" if a in dropped else next(it) for a in range(u.type.rank)))

    def _move_broadcast_to(self, node: Node, v: Value, idx: Index) -> str:
        u = node.inputs[0]
        return self.at(u, self.broadcast_index(u, v, idx))

    def _move_transpose(self, node: Node, v: Value, idx: Index) -> str:
        if isinstance(idx, Flat):
            raise NotFlat
        u = node.inputs[0]
        perm = node.attrs["perm"]
        perm = tuple(reversed(range(u.type.rank))) if perm is None else \
            normalize_axes(perm, u.type.rank, "perm")
        mapped = [""] * u.type.rank
        for k, p in enumerate(perm):
            mapped[p] = idx[k]
        return self.at(u, tuple(mapped))

    def _move_slice(self, node: Node, v: Value, idx: Index) -> str:
        if isinstance(idx, Flat):
            raise NotFlat
        u = node.inputs[0]
        a = node.attrs
        axes = normalize_axes(a["axes"], u.type.rank)
        steps = tuple(a["steps"]) or (1,) * len(axes)
        mapped = list(idx)
        for ax, start, stop, step in zip(axes, a["starts"], a["stops"], steps):
            dim = u.type.shape[ax]
            if isinstance(dim, int):
                first = str(slice(start, stop, step).indices(dim)[0])
            else:
                first = self.ctx.runtime(
                    ("slice", id(node), ax), f"start of slice on axis {ax}",
                    lambda shapes, s=slice(start, stop, step), uu=u, k=ax:
                        s.indices(shapes[uu][k])[0])
            term = idx[ax] if step == 1 else f"{idx[ax]} * {step}"
            mapped[ax] = term if first == "0" else f"({first} + {term})"
        return self.at(u, tuple(mapped))

    def _move_gather(self, node: Node, v: Value, idx: Index) -> str:
        if isinstance(idx, Flat):
            raise NotFlat
        x, ind = node.inputs
        axis = normalize_axis(node.attrs["axis"], x.type.rank)
        k = ind.type.rank
        g = self.checked_index(self.at(ind, tuple(idx[axis:axis + k])), self.ctx.dim(x, axis))
        return self.at(x, tuple(idx[:axis]) + (g,) + tuple(idx[axis + k:]))

    def checked_index(self, raw: str, size: str) -> str:
        """A local holding index ``raw`` into an axis of ``size``: a negative
        index counts from the end; one out of range sets the error flag
        ``E[0]`` (the runtime raises after the kernel) and reads element 0."""
        g = self.ctx.fresh("g")
        self.ctx.uses_error_flag = True
        self.w.line(f"{g} = I64({raw})")
        self.w.line(f"if {g} < 0:")
        with self.w.indent():
            self.w.line(f"{g} += {size}")
        self.w.line(f"if {g} < 0 or {g} >= {size}:")
        with self.w.indent():
            self.w.line("E[0] = 1")
            self.w.line(f"{g} = 0")
        return g

    def _move_random_uniform(self, node: Node, v: Value, idx: Index) -> str:
        """A hash of the key and the element's C-order position (see mathlib)."""
        key = self.at(node.inputs[0], ())
        pos = self.bind(self.flat_index(v, idx), "l")
        expr = f"random_uniform_f32(I64({key}), I64({pos}))"
        return expr if v.type.dtype is DType.f32 else f"F64({expr})"

    def _move_concat(self, node: Node, v: Value, idx: Index) -> str:
        if isinstance(idx, Flat):
            raise NotFlat
        axis = normalize_axis(node.attrs["axis"], v.type.rank)
        result = self.ctx.fresh("c")
        offset = "0"
        pieces = list(node.inputs)
        for n, u in enumerate(pieces):
            size = self.ctx.dim(u, axis)
            end = size if offset == "0" else f"{offset} + {size}"
            last = n == len(pieces) - 1
            if len(pieces) == 1:
                head = "if True:"  # a one-input concat is a copy
            elif last:
                head = "else:"
            else:
                head = f"if {idx[axis]} < {end}:" if n == 0 else f"elif {idx[axis]} < {end}:"
            self.w.line(head)
            with self.w.indent():
                self.push()
                local = idx[axis] if offset == "0" else f"({idx[axis]} - ({offset}))"
                sub = tuple(idx[:axis]) + (local,) + tuple(idx[axis + 1:])
                self.w.line(f"{result} = {self.at(u, sub)}")
                self.pop()
            offset = end
        return result


def _kept_axes(node: Node, u: Value) -> list[int]:
    axes = node.attrs["axes"]
    if axes is None:
        drop = [i for i, d in enumerate(u.type.shape) if d == 1]
    else:
        drop = list(normalize_axes(axes, u.type.rank))
    return [a for a in range(u.type.rank) if a not in drop]


def dims_of(v: Value) -> tuple[Dim, ...]:
    return v.type.shape
