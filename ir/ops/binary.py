"""Binary ops with numpy broadcasting, comparisons and ``where``.

Operands must share one dtype: graphc never promotes implicitly (the front
end inserts casts), so a node's result dtype is always evident from its
inputs.  Comparisons return ``bool``.  ``div`` and ``pow`` are defined on
floats only, which keeps their semantics free of integer-division corner
cases.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..opdef import COMMUTATIVE, PURE, FusionKind, OpDef, cast_result, define_ops
from ..types import TensorType, broadcast_shapes
from .common import require_dtype, require_same_dtype
from .grad_util import scalar, unbroadcast


# -- gradients: vjp(b, node, g) -> (dx, dy), each summed back to its input's shape -----

def _pair(b, node, gx, gy):
    x, y = node.inputs
    return (None if gx is None else unbroadcast(b, gx, x.type),
            None if gy is None else unbroadcast(b, gy, y.type))


def _add_vjp(b, node, g):
    return _pair(b, node, g, g)


def _sub_vjp(b, node, g):
    return _pair(b, node, g, b.emit("neg", g))


def _mul_vjp(b, node, g):
    x, y = node.inputs
    return _pair(b, node, b.emit("mul", g, y), b.emit("mul", g, x))


def _div_vjp(b, node, g):  # d(x/y) = dx / y - dy * (x/y) / y
    y = node.inputs[1]
    gx = b.emit("div", g, y)
    return _pair(b, node, gx, b.emit("neg", b.emit("mul", gx, node.output)))


def _pow_vjp(b, node, g):
    x, y = node.inputs
    one = scalar(b, 1.0, x.type.dtype)
    gx = b.emit("mul", g, b.emit("mul", y, b.emit("pow", x, b.emit("sub", y, one))))
    # d/dy x**y = x**y log x, taken as 0 where x == 0 (the limit for y > 0)
    zero = scalar(b, 0.0, x.type.dtype)
    x_is_zero = b.emit("eq", x, zero)
    safe_log = b.emit("where", x_is_zero, zero,
                      b.emit("log", b.emit("where", x_is_zero, one, x)))
    gy = b.emit("mul", g, b.emit("mul", node.output, safe_log))
    return _pair(b, node, gx, gy)


def _select_vjp(first: str) -> Callable:
    """maximum/minimum: the cotangent goes to the selected operand; ties split it."""

    def rule(b, node, g):
        x, y = node.inputs
        dtype = g.type.dtype
        wins = b.emit("cast", b.emit(first, x, y), dtype=dtype)
        ties = b.emit("cast", b.emit("eq", x, y), dtype=dtype)
        share_x = b.emit("add", wins, b.emit("mul", ties, scalar(b, 0.5, dtype)))
        share_y = b.emit("sub", scalar(b, 1.0, dtype), share_x)
        return _pair(b, node, b.emit("mul", g, share_x), b.emit("mul", g, share_y))

    return rule


def _where_vjp(b, node, g):
    cond, x, y = node.inputs
    zero = scalar(b, 0.0, g.type.dtype)
    gx = unbroadcast(b, b.emit("where", cond, g, zero), x.type)
    gy = unbroadcast(b, b.emit("where", cond, zero, g), y.type)
    return (None, gx, gy)


def _binary(name: str, dtype_class: str, fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
            doc: str, *, commutative: bool = False, compare: bool = False,
            vjp: Callable | None = None) -> OpDef:
    def infer(x: TensorType, y: TensorType) -> TensorType:
        dtype = require_same_dtype(name, (x, y))
        require_dtype(name, x, dtype_class, "operands")
        shape = broadcast_shapes(x.shape, y.shape, op=name)
        return TensorType("bool" if compare else dtype, shape)

    def reference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return cast_result(fn(x, y), np.bool_ if compare else x.dtype)

    traits = frozenset({PURE, COMMUTATIVE}) if commutative else frozenset({PURE})
    return OpDef(name=name, arity=2, input_names=("x", "y"), infer=infer, reference=reference,
                 traits=traits, fusion=FusionKind.BROADCAST,
                 category="comparison" if compare else "binary", doc=doc,
                 differentiable=not compare, vjp=vjp)


def _infer_where(cond: TensorType, x: TensorType, y: TensorType) -> TensorType:
    require_dtype("where", cond, "bool", "a condition")
    dtype = require_same_dtype("where", (x, y))
    return TensorType(dtype, broadcast_shapes(cond.shape, x.shape, y.shape, op="where"))


def _where(cond: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return cast_result(np.where(cond, x, y), x.dtype)


define_ops([
    _binary("add", "numeric", np.add, "x + y", commutative=True, vjp=_add_vjp),
    _binary("sub", "numeric", np.subtract, "x - y", vjp=_sub_vjp),
    _binary("mul", "numeric", np.multiply, "x * y", commutative=True, vjp=_mul_vjp),
    _binary("div", "float", np.divide, "x / y (true division)", vjp=_div_vjp),
    _binary("pow", "float", np.power, "x ** y", vjp=_pow_vjp),
    _binary("maximum", "numeric", np.maximum, "elementwise max (NaN propagates)",
            commutative=True, vjp=_select_vjp("gt")),
    _binary("minimum", "numeric", np.minimum, "elementwise min (NaN propagates)",
            commutative=True, vjp=_select_vjp("lt")),
    _binary("eq", "any", np.equal, "x == y", commutative=True, compare=True),
    _binary("ne", "any", np.not_equal, "x != y", commutative=True, compare=True),
    _binary("lt", "numeric", np.less, "x < y", compare=True),
    _binary("le", "numeric", np.less_equal, "x <= y", compare=True),
    _binary("gt", "numeric", np.greater, "x > y", compare=True),
    _binary("ge", "numeric", np.greater_equal, "x >= y", compare=True),
    OpDef(name="where", arity=3, input_names=("cond", "x", "y"), infer=_infer_where,
          reference=_where, fusion=FusionKind.BROADCAST, category="binary",
          doc="x where cond else y, broadcasting all three", vjp=_where_vjp),
])
