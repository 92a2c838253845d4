"""``matmul`` with numpy semantics.

Shapes ``(..., m, k) @ (..., k, n) -> (..., m, n)`` with the batch dims
broadcast; a 1-D left operand is a row vector and a 1-D right operand a
column vector, and the added axis is dropped from the result (so 1-D @ 1-D is
a 0-d dot product).  The contracted dims must agree: two different ints are
an error; a symbol against an int is accepted and checked when the
executable binds its inputs.
"""

from __future__ import annotations

import numpy as np

from graphc.errors import ShapeError

from ..opdef import FusionKind, OpDef, cast_result, define_ops
from ..types import TensorType, broadcast_shapes, format_shape
from .common import require_dtype, require_same_dtype
from .grad_util import swap_last_two, unbroadcast


def _infer_matmul(a: TensorType, b: TensorType) -> TensorType:
    dtype = require_same_dtype("matmul", (a, b))
    require_dtype("matmul", a, "numeric", "operands")
    if a.rank == 0 or b.rank == 0:
        raise ShapeError(f"op 'matmul' needs operands of rank >= 1, received "
                         f"{format_shape(a.shape)} and {format_shape(b.shape)}")
    a_shape = (1,) + a.shape if a.rank == 1 else a.shape
    b_shape = b.shape + (1,) if b.rank == 1 else b.shape
    k_a, k_b = a_shape[-1], b_shape[-2]
    if isinstance(k_a, int) and isinstance(k_b, int) and k_a != k_b:
        raise ShapeError(f"op 'matmul' contracts dimension {k_a} of {format_shape(a.shape)} "
                         f"with dimension {k_b} of {format_shape(b.shape)}; they must be equal")
    batch = broadcast_shapes(a_shape[:-2], b_shape[:-2], op="matmul")
    out = batch + (a_shape[-2], b_shape[-1])
    if a.rank == 1:
        out = out[:-2] + out[-1:]
    if b.rank == 1:
        out = out[:-1]
    return TensorType(dtype, out)


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cast_result(np.matmul(a, b), a.dtype)


def _matmul_vjp(b, node, g):
    """dA = g @ B^T, dB = A^T @ g, with 1-D operands promoted to matrices the
    way the forward rule does, and broadcast batch dims summed away."""
    a, bm = node.inputs
    a2 = b.emit("expand_dims", a, axes=(0,)) if a.type.rank == 1 else a
    b2 = b.emit("expand_dims", bm, axes=(-1,)) if bm.type.rank == 1 else bm
    g2 = g
    if a.type.rank == 1:
        g2 = b.emit("expand_dims", g2, axes=(g2.type.rank - 1 if bm.type.rank == 1 else -2,))
    if bm.type.rank == 1:
        g2 = b.emit("expand_dims", g2, axes=(-1,))
    ga = b.emit("matmul", g2, swap_last_two(b, b2))
    gb = b.emit("matmul", swap_last_two(b, a2), g2)
    ga = unbroadcast(b, ga, a2.type)
    gb = unbroadcast(b, gb, b2.type)
    if a.type.rank == 1:
        ga = b.emit("squeeze", ga, axes=(0,))
    if bm.type.rank == 1:
        gb = b.emit("squeeze", gb, axes=(-1,))
    return (ga, gb)


define_ops([
    OpDef(name="matmul", arity=2, input_names=("a", "b"), infer=_infer_matmul,
          reference=_matmul, fusion=FusionKind.OUT_FUSABLE, category="linalg",
          doc="batched matrix product, numpy semantics", vjp=_matmul_vjp),
])
