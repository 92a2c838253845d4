"""``constant`` and ``call``.

``constant() {value = ...}`` has no inputs; its type is the value's dtype and
shape.  ``call @f(args)`` invokes another Func of the same module; its result
types are the callee's, so it has no standalone ``infer`` rule: the Builder
and verifier read the callee's signature, and executors run the callee.
"""

from __future__ import annotations

import numpy as np

from graphc.errors import GraphcError

from ..attrs import FUNC, TENSOR, AttrSpec, TensorValue
from ..opdef import CALL, PURE, FusionKind, OpDef, define_ops
from ..types import TensorType

CONSTANT_LIKE = "constant-like"


def _infer_constant(*, value: TensorValue) -> TensorType:
    return TensorType(value.dtype, value.shape)


def _constant(*, value: TensorValue) -> np.ndarray:
    return value.array.copy()


def _infer_call(*types: TensorType, callee: str) -> TensorType:
    raise GraphcError(f"the result types of call @{callee} come from the callee's signature; "
                      "use Builder.call with the callee Func")


def _call(*arrays: np.ndarray, callee: str) -> np.ndarray:
    raise GraphcError(f"call @{callee} must be executed by the backend, not by a reference rule")


define_ops([
    OpDef(name="constant", arity=0, attrs=(AttrSpec("value", TENSOR),), infer=_infer_constant,
          reference=_constant, traits=frozenset({PURE, CONSTANT_LIKE}),
          fusion=FusionKind.OPAQUE, category="core", differentiable=False,
          doc="a literal tensor"),
    OpDef(name=CALL, arity=0, variadic=True, input_names=("args",),
          attrs=(AttrSpec("callee", FUNC),), infer=_infer_call, reference=_call,
          num_outputs=-1, fusion=FusionKind.OPAQUE, category="core",
          doc="invoke another function of the module (fused kernels are called this way)"),
])
