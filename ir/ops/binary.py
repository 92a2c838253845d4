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


def _binary(name: str, dtype_class: str, fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
            doc: str, *, commutative: bool = False, compare: bool = False) -> OpDef:
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
                 differentiable=not compare)


def _infer_where(cond: TensorType, x: TensorType, y: TensorType) -> TensorType:
    require_dtype("where", cond, "bool", "a condition")
    dtype = require_same_dtype("where", (x, y))
    return TensorType(dtype, broadcast_shapes(cond.shape, x.shape, y.shape, op="where"))


def _where(cond: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return cast_result(np.where(cond, x, y), x.dtype)


define_ops([
    _binary("add", "numeric", np.add, "x + y", commutative=True),
    _binary("sub", "numeric", np.subtract, "x - y"),
    _binary("mul", "numeric", np.multiply, "x * y", commutative=True),
    _binary("div", "float", np.divide, "x / y (true division)"),
    _binary("pow", "float", np.power, "x ** y"),
    _binary("maximum", "numeric", np.maximum, "elementwise max (NaN propagates)",
            commutative=True),
    _binary("minimum", "numeric", np.minimum, "elementwise min (NaN propagates)",
            commutative=True),
    _binary("eq", "any", np.equal, "x == y", commutative=True, compare=True),
    _binary("ne", "any", np.not_equal, "x != y", commutative=True, compare=True),
    _binary("lt", "numeric", np.less, "x < y", compare=True),
    _binary("le", "numeric", np.less_equal, "x <= y", compare=True),
    _binary("gt", "numeric", np.greater, "x > y", compare=True),
    _binary("ge", "numeric", np.greater_equal, "x >= y", compare=True),
    OpDef(name="where", arity=3, input_names=("cond", "x", "y"), infer=_infer_where,
          reference=_where, fusion=FusionKind.BROADCAST, category="binary",
          doc="x where cond else y, broadcasting all three"),
])
