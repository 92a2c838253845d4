"""Tensor types and symbolic dimensions.

A dimension is either a non-negative ``int`` or a symbol (``str``):

* a named symbol such as ``N`` stands for one size that is the same
  wherever the symbol appears in a function's signature (one compiled kernel
  serves every batch size, and the executable checks that ``N`` binds
  consistently);
* ``?`` is an anonymous unknown size; two ``?`` are unrelated.

The helpers below implement the shape arithmetic every op's ``infer`` rule
needs (broadcasting, axis normalisation) with these symbolic rules.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Sequence, Union

from graphc.errors import ShapeError

from .dtypes import DType, dtype_of

Dim = Union[int, str]
Shape = tuple[Dim, ...]

UNKNOWN = "?"
_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_symbol(dim: Dim) -> bool:
    return isinstance(dim, str)


def check_dim(dim: object) -> Dim:
    """Validate one dimension: a non-negative int, ``?`` or an identifier."""
    if isinstance(dim, bool):
        raise ShapeError(f"invalid dimension {dim!r}: expected a non-negative int or a symbol")
    if isinstance(dim, int):
        if dim < 0:
            raise ShapeError(f"invalid dimension {dim}: dimensions must be >= 0")
        return dim
    if hasattr(dim, "__index__") and not isinstance(dim, str):
        return check_dim(int(dim))  # numpy integers
    if isinstance(dim, str) and (dim == UNKNOWN or _SYMBOL.match(dim)):
        return dim
    raise ShapeError(f"invalid dimension {dim!r}: expected a non-negative int, '?' "
                     "or a symbol name such as 'N'")


def format_dim(dim: Dim) -> str:
    return str(dim)


def format_shape(shape: Sequence[Dim]) -> str:
    """``(N, 784)`` -- the Python-tuple style used in user-facing messages."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(d) for d in shape) + ")"


@dataclass(frozen=True, slots=True)
class TensorType:
    """``dtype`` plus ``shape``; printed ``f32[N,784]`` (``f32[]`` for a scalar)."""

    dtype: DType
    shape: Shape

    def __init__(self, dtype: object, shape: Iterable[Dim] = ()) -> None:
        object.__setattr__(self, "dtype", dtype_of(dtype))
        object.__setattr__(self, "shape", tuple(check_dim(d) for d in shape))

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def is_static(self) -> bool:
        return all(isinstance(d, int) for d in self.shape)

    @property
    def size(self) -> int | None:
        """Element count, or None when a dimension is symbolic."""
        if not self.is_static:
            return None
        return math.prod(self.shape)  # type: ignore[arg-type]

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset(d for d in self.shape if isinstance(d, str) and d != UNKNOWN)

    def with_shape(self, shape: Iterable[Dim]) -> "TensorType":
        return TensorType(self.dtype, shape)

    def with_dtype(self, dtype: object) -> "TensorType":
        return TensorType(dtype, self.shape)

    def __str__(self) -> str:
        return f"{self.dtype.short}[{','.join(str(d) for d in self.shape)}]"

    def __repr__(self) -> str:
        return f"TensorType({self})"


def refines(recorded: TensorType, inferred: TensorType) -> bool:
    """True when ``recorded`` equals ``inferred`` or only replaces its ``?`` dims."""
    if recorded.dtype != inferred.dtype or recorded.rank != inferred.rank:
        return False
    return all(i == UNKNOWN or r == i for r, i in zip(recorded.shape, inferred.shape))


def broadcast_dims(a: Dim, b: Dim) -> Dim | None:
    """The broadcast of two dims, or None when they can never agree."""
    if a == b:
        return a if a != UNKNOWN else UNKNOWN
    if a == 1:
        return b
    if b == 1:
        return a
    if isinstance(a, int) and isinstance(b, int):
        return None
    # A symbol against an int n != 1 must be n (or 1) at run time; two different
    # symbols (or '?') give an unknown size.
    if isinstance(a, int):
        return a
    if isinstance(b, int):
        return b
    return UNKNOWN


def _op_prefix(op: str | None) -> str:
    return f"op '{op}': " if op else ""


def broadcast_shapes(*shapes: Sequence[Dim], op: str | None = None) -> Shape:
    """numpy broadcasting over symbolic shapes; raises ShapeError naming every
    shape (and ``op``, the op whose rule asks, when given)."""
    rank = max((len(s) for s in shapes), default=0)
    result: list[Dim] = []
    for i in range(rank):
        dim: Dim = 1
        for shape in shapes:
            k = i - (rank - len(shape))
            if k < 0:
                continue
            merged = broadcast_dims(dim, shape[k])
            if merged is None:
                listed = " and ".join(format_shape(s) for s in shapes)
                raise ShapeError(f"{_op_prefix(op)}shapes {listed} cannot be broadcast together "
                                 f"(dimension {dim} against {shape[k]} at axis {i - rank})")
            dim = merged
        result.append(dim)
    return tuple(result)


def normalize_axis(axis: int, rank: int, what: str = "axis", *, op: str | None = None) -> int:
    """Map a possibly negative axis into ``range(rank)`` or raise ShapeError
    (naming ``op`` when given)."""
    if not -rank <= axis < rank:
        expected = f"{-rank} <= {what} < {rank}" if rank else "none: it has no axes"
        raise ShapeError(f"{_op_prefix(op)}{what} {axis} is out of range for a tensor of "
                         f"rank {rank} (expected {expected})")
    return axis % rank


def normalize_axes(axes: Iterable[int], rank: int, what: str = "axes", *,
                   op: str | None = None) -> tuple[int, ...]:
    """Normalise several axes; duplicates are an error."""
    axes = tuple(axes)
    one = "axis" if what == "axes" else what.removesuffix("s")
    out: list[int] = []
    for axis in axes:
        norm = normalize_axis(axis, rank, one, op=op)
        if norm in out:
            raise ShapeError(f"{_op_prefix(op)}{what} {list(axes)} repeat axis {axis}")
        out.append(norm)
    return tuple(out)


def product(dims: Iterable[Dim]) -> Dim:
    """Product of dims: an int when all are ints, else ``?``."""
    total = 1
    for d in dims:
        if isinstance(d, str):
            return UNKNOWN
        total *= d
    return total
