"""Shared tables for the op tests: one list of type-inference cases per op.

``CASES`` holds, for every registered op except ``call``, input types with
concrete shapes plus attributes; ``test_registry.py`` checks that ``infer``
agrees with the numpy ``reference`` on each of them.  A new op without an
entry here makes ``test_every_op_has_cases`` fail.

``ACCEPTED`` states independently (from the module docstrings) which dtypes
each op accepts on its dtype-checked input, so that a change of an op's dtype
rules is noticed.

Types are written in the IR's own spelling: ``t("f32[2,3]")``, ``t("i64[]")``,
``t("f32[N,?]")``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphc.ir import TensorType
from graphc.ir.attrs import TensorValue

FLOAT = ("f16", "f32", "f64")
INT = ("i32", "i64")
NUMERIC = FLOAT + INT
ANY = NUMERIC + ("bool",)
ALL = ANY

_TYPE = re.compile(r"(\w+)\[(.*)\]\Z")


def t(text: str) -> TensorType:
    """``"f32[2,N]"`` -> TensorType('f32', (2, 'N')); ``"f32[]"`` is 0-d."""
    match = _TYPE.match(text.replace(" ", ""))
    assert match, f"bad type text {text!r}"
    dtype, dims = match.groups()
    shape = [] if not dims else [int(d) if d.lstrip("-").isdigit() else d
                                 for d in dims.split(",")]
    return TensorType(dtype, shape)


@dataclass(frozen=True)
class Case:
    op: str
    inputs: tuple[TensorType, ...]
    attrs: dict = field(default_factory=dict)
    label: str = ""

    @property
    def id(self) -> str:
        ins = ",".join(str(x) for x in self.inputs)
        attrs = ",".join(f"{k}={_short(v)}" for k, v in sorted(self.attrs.items()))
        text = f"{self.op}({ins})"
        if attrs:
            text += "{" + attrs + "}"
        if self.label:
            text += "-" + self.label
        return text


def _short(value: Any) -> str:
    if isinstance(value, TensorValue):
        return f"{value.dtype}{list(value.shape)}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join("none" if v is None else str(v) for v in value) + "]"
    return str(value)


def case(op: str, *inputs: str, label: str = "", **attrs: Any) -> Case:
    return Case(op, tuple(t(x) for x in inputs), attrs, label)


# ---------------------------------------------------------------- dtype rules

ACCEPTED: dict[str, tuple[str, ...]] = {
    # elementwise
    "neg": NUMERIC, "abs": NUMERIC, "square": NUMERIC, "relu": NUMERIC, "sign": NUMERIC,
    "exp": FLOAT, "log": FLOAT, "sqrt": FLOAT, "rsqrt": FLOAT, "reciprocal": FLOAT,
    "tanh": FLOAT, "sigmoid": FLOAT, "gelu": FLOAT, "erf": FLOAT, "cast": ANY,
    # binary
    "add": NUMERIC, "sub": NUMERIC, "mul": NUMERIC, "div": FLOAT, "pow": FLOAT,
    "maximum": NUMERIC, "minimum": NUMERIC, "where": ANY,
    "eq": ANY, "ne": ANY, "lt": NUMERIC, "le": NUMERIC, "gt": NUMERIC, "ge": NUMERIC,
    # reductions
    "sum": NUMERIC, "mean": FLOAT, "max": NUMERIC, "min": NUMERIC, "argmax": NUMERIC,
    "softmax": FLOAT, "log_softmax": FLOAT,
    # linalg
    "matmul": NUMERIC,
    # movement (gather's indices are checked separately)
    "reshape": ANY, "transpose": ANY, "broadcast_to": ANY, "concat": ANY, "slice": ANY,
    "gather": ANY, "expand_dims": ANY, "squeeze": ANY, "scatter_add": NUMERIC,
    "constant": ANY,
    # random (the checked input is ``like``; the key is always i64[])
    "random_uniform": ANY,
}

UNARY = ("neg", "abs", "exp", "log", "sqrt", "rsqrt", "square", "reciprocal", "tanh",
         "sigmoid", "relu", "gelu", "erf", "sign")
BINARY = ("add", "sub", "mul", "div", "pow", "maximum", "minimum")
COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")
REDUCE = ("sum", "mean", "max", "min")
SOFTMAX = ("softmax", "log_softmax")

DIFFERENTIABLE = frozenset({
    "neg", "abs", "exp", "log", "sqrt", "rsqrt", "square", "reciprocal", "tanh", "sigmoid",
    "relu", "gelu", "erf", "cast",
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "where",
    "sum", "mean", "max", "min", "softmax", "log_softmax",
    "matmul",
    "reshape", "transpose", "broadcast_to", "concat", "slice", "gather", "expand_dims",
    "squeeze", "scatter_add",
})
"""Ops that will need a vjp rule (``call`` excluded: it is differentiated through its callee)."""


def dtype_probe(op: str, dtype: str) -> tuple[list[TensorType], dict]:
    """Inputs/attrs for ``op`` whose dtype-checked input has ``dtype`` (for ACCEPTED)."""
    x = TensorType(dtype, (2, 3))
    if op in BINARY or op in COMPARE:
        return [x, x], {}
    if op == "where":
        return [TensorType("bool", (2, 3)), x, x], {}
    if op == "matmul":
        return [x, TensorType(dtype, (3, 2))], {}
    if op == "cast":
        return [x], {"dtype": "f32"}
    if op in ("reshape", "broadcast_to"):
        return [x], {"shape": [2, 3]}
    if op == "concat":
        return [x, x], {}
    if op == "slice":
        return [x], {"axes": [0], "starts": [0], "stops": [1]}
    if op == "gather":
        return [x, TensorType("i64", (2,))], {}
    if op == "scatter_add":
        return [x, TensorType("i64", (2,)), TensorType(dtype, (2, 3))], {}
    if op == "expand_dims":
        return [x], {"axes": [0]}
    if op == "random_uniform":
        return [TensorType("i64", ()), x], {}
    if op == "constant":
        return [], {"value": TensorValue(np.zeros((2, 3)), dtype)}
    return [x], {}


# ---------------------------------------------------------------- the table

def _elementwise_cases() -> list[Case]:
    out: list[Case] = []
    for op in UNARY:
        for dt in ACCEPTED[op]:
            out.append(case(op, f"{dt}[2,3]"))
        out += [
            case(op, "f32[]", label="0d"),
            case(op, "f32[0]", label="size0"),
            case(op, "f64[4,0,2]", label="size0"),
            case(op, "f32[1,1]", label="size1"),
            case(op, "f64[2,3,4]"),
        ]
    out += [case("gelu", "f32[3,4]", approximate=True),
            case("gelu", "f64[3,4]", approximate=False),
            case("gelu", "f64[]", approximate=True, label="0d")]
    for src in ANY:
        for dst in ANY:
            out.append(case("cast", f"{src}[2,3]", dtype=dst))
    out += [case("cast", "f32[]", dtype="i32", label="0d"),
            case("cast", "i64[0,3]", dtype="f64", label="size0"),
            case("cast", "bool[1]", dtype="f16", label="size1"),
            case("cast", "f32[2]", dtype="float64", label="numpy-spelling")]
    return out


def _binary_cases() -> list[Case]:
    shapes = [  # (x, y) -> broadcasting, size 0, size 1, 0-d
        ("[2,3]", "[2,3]"), ("[2,3]", "[3]"), ("[3]", "[2,3]"), ("[2,1]", "[1,3]"),
        ("[4,1,3]", "[2,1]"), ("[]", "[2,3]"), ("[2,3]", "[]"), ("[]", "[]"),
        ("[1]", "[1]"), ("[1,1]", "[5]"), ("[0]", "[0]"), ("[0,3]", "[1,3]"), ("[0,3]", "[3]"),
        ("[2,0]", "[1]"), ("[1]", "[0]"), ("[]", "[0,2]"),
    ]
    out: list[Case] = []
    for op in BINARY + COMPARE:
        for dt in ACCEPTED[op]:
            out.append(case(op, f"{dt}[2,3]", f"{dt}[2,3]"))
        dt = "f32" if "f32" in ACCEPTED[op] else ACCEPTED[op][0]
        for xs, ys in shapes:
            out.append(case(op, dt + xs, dt + ys))
    for dt in ANY:
        out.append(case("where", "bool[2,3]", f"{dt}[2,3]", f"{dt}[2,3]"))
    out += [
        case("where", "bool[3]", "f32[2,1]", "f32[]", label="broadcast3"),
        case("where", "bool[]", "f64[2]", "f64[2]", label="0d-cond"),
        case("where", "bool[2,1,1]", "i32[3,1]", "i32[4]", label="broadcast3"),
        case("where", "bool[]", "f32[]", "f32[]", label="0d"),
        case("where", "bool[0,3]", "f32[3]", "f32[1]", label="size0"),
        case("where", "bool[1]", "f32[1,1]", "f32[1]", label="size1"),
    ]
    return out


def _reduce_cases() -> list[Case]:
    out: list[Case] = []
    for op in REDUCE:
        for dt in ACCEPTED[op]:
            out.append(case(op, f"{dt}[2,3]"))
        out += [
            case(op, "f32[2,3]", axes=[0]),
            case(op, "f32[2,3]", axes=[1]),
            case(op, "f32[2,3]", axes=[-1], label="negative-axis"),
            case(op, "f32[2,3]", axes=[0, -1]),
            case(op, "f32[2,3]", axes=1, label="single-int"),
            case(op, "f32[2,3]", axes=[], label="no-axes"),
            case(op, "f32[2,3]", axes=[1], keepdims=True),
            case(op, "f32[2,3]", axes=None, keepdims=True),
            case(op, "f64[2,3,4]", axes=[-3, 2], keepdims=True, label="negative-axis"),
            case(op, "f64[2,3,4]", axes=[1]),
            case(op, "f32[]", label="0d"),
            case(op, "f32[]", axes=[], label="0d"),
            case(op, "f32[]", keepdims=True, label="0d"),
            case(op, "f32[1,1]", label="size1"),
            case(op, "f32[1]", axes=[0], keepdims=True, label="size1"),
            case(op, "f32[0,3]", axes=[1], label="size0-kept-axis"),
            case(op, "f32[3,0]", axes=[0], keepdims=True, label="size0-kept-axis"),
        ]
        if op in ("sum", "mean"):  # an empty axis has an identity (sum) or gives NaN (mean)
            out += [case(op, "f32[0,3]", axes=[0], label="size0-reduced"),
                    case(op, "f64[0]", label="size0-reduced"),
                    case(op, "f32[2,0]", keepdims=True, label="size0-reduced")]
    for dt in ACCEPTED["argmax"]:
        out.append(case("argmax", f"{dt}[2,3]"))
    out += [
        case("argmax", "f32[2,3]", axis=0),
        case("argmax", "f32[2,3]", axis=-2, label="negative-axis"),
        case("argmax", "f32[2,3]", axis=1, keepdims=True),
        case("argmax", "f64[2,3,4]", axis=-1, keepdims=True),
        case("argmax", "f32[5]"),
        case("argmax", "f32[1]", label="size1"),
        case("argmax", "f32[0,3]", axis=1, label="size0-kept-axis"),
        case("argmax", "f32[0,3]", axis=1, keepdims=True, label="size0-kept-axis"),
    ]
    for op in SOFTMAX:
        for dt in ACCEPTED[op]:
            out.append(case(op, f"{dt}[2,3]"))
        out += [
            case(op, "f32[2,3]", axis=0),
            case(op, "f32[2,3]", axis=-2, label="negative-axis"),
            case(op, "f64[2,3,4]", axis=1),
            case(op, "f32[5]"),
            case(op, "f32[1]", label="size1"),
            case(op, "f32[1,1]", axis=0, label="size1"),
            case(op, "f32[0,3]", label="size0"),
            case(op, "f32[3,0]", label="size0-axis"),
        ]
    return out


def _matmul_cases() -> list[Case]:
    out = [case("matmul", f"{dt}[2,3]", f"{dt}[3,4]") for dt in ACCEPTED["matmul"]]
    out += [
        case("matmul", "f32[3]", "f32[3]", label="vec-vec"),
        case("matmul", "f32[3]", "f32[3,4]", label="vec-mat"),
        case("matmul", "f32[2,3]", "f32[3]", label="mat-vec"),
        case("matmul", "f32[5,2,3]", "f32[3,4]", label="batch"),
        case("matmul", "f32[2,3]", "f32[5,3,4]", label="batch"),
        case("matmul", "f64[2,1,2,3]", "f64[4,3,5]", label="batch-broadcast"),
        case("matmul", "f32[3]", "f32[2,3,4]", label="vec-batch"),
        case("matmul", "f32[2,4,3]", "f32[3]", label="batch-vec"),
        case("matmul", "f32[0,3]", "f32[3,4]", label="size0"),
        case("matmul", "f32[2,0]", "f32[0,4]", label="size0-contract"),
        case("matmul", "f32[2,3]", "f32[3,0]", label="size0"),
        case("matmul", "f32[0]", "f32[0]", label="size0-vec"),
        case("matmul", "f32[0,2,3]", "f32[3,4]", label="size0-batch"),
        case("matmul", "f32[1,1]", "f32[1,1]", label="size1"),
        case("matmul", "f32[1]", "f32[1]", label="size1-vec"),
    ]
    return out


def _shape_cases() -> list[Case]:
    out: list[Case] = []
    for dt in ANY:
        out += [case("reshape", f"{dt}[2,3]", shape=[3, 2]),
                case("transpose", f"{dt}[2,3]"),
                case("broadcast_to", f"{dt}[3]", shape=[2, 3]),
                case("concat", f"{dt}[2,3]", f"{dt}[1,3]"),
                case("slice", f"{dt}[5,2]", axes=[0], starts=[1], stops=[4]),
                case("gather", f"{dt}[5,3]", "i64[2]"),
                case("expand_dims", f"{dt}[2,3]", axes=[0]),
                case("squeeze", f"{dt}[1,3]"),
                Case("constant", (), {"value": TensorValue(np.zeros((2, 3)), dt)})]
    out += [
        # reshape
        case("reshape", "f32[2,3]", shape=[6]),
        case("reshape", "f32[2,3]", shape=[-1]),
        case("reshape", "f32[2,3]", shape=[3, -1]),
        case("reshape", "f32[2,3]", shape=[1, 6, 1]),
        case("reshape", "f32[2,3,4]", shape=[-1, 4]),
        case("reshape", "f32[]", shape=[1], label="0d"),
        case("reshape", "f32[]", shape=[-1], label="0d"),
        case("reshape", "f32[1,1]", shape=[], label="to-0d"),
        case("reshape", "f32[1]", shape=[1, 1, -1], label="size1"),
        case("reshape", "f32[0,3]", shape=[3, 0], label="size0"),
        case("reshape", "f32[0,3]", shape=[-1, 3], label="size0"),
        case("reshape", "f32[0]", shape=[0, 5], label="size0"),
        # transpose
        case("transpose", "f32[2,3]", perm=[1, 0]),
        case("transpose", "f32[2,3]", perm=[-1, 0], label="negative-axis"),
        case("transpose", "f32[2,3,4]", perm=[0, 2, 1]),
        case("transpose", "f32[2,3,4]"),
        case("transpose", "f32[]", label="0d"),
        case("transpose", "f32[]", perm=[], label="0d"),
        case("transpose", "f32[0,3]", label="size0"),
        case("transpose", "f32[1,1]", perm=[1, 0], label="size1"),
        # broadcast_to
        case("broadcast_to", "f32[1]", shape=[4]),
        case("broadcast_to", "f32[2,1]", shape=[2, 5]),
        case("broadcast_to", "f32[2,3]", shape=[2, 3]),
        case("broadcast_to", "f32[3]", shape=[4, 2, 3]),
        case("broadcast_to", "f32[]", shape=[2, 2], label="0d"),
        case("broadcast_to", "f32[]", shape=[], label="0d"),
        case("broadcast_to", "f32[1]", shape=[0], label="size0"),
        case("broadcast_to", "f32[0]", shape=[2, 0], label="size0"),
        case("broadcast_to", "f32[1,1]", shape=[1, 1], label="size1"),
        # concat
        case("concat", "f32[2,3]", "f32[2,3]", axis=1),
        case("concat", "f32[2,3]", "f32[2,4]", axis=-1, label="negative-axis"),
        case("concat", "f32[2,3]", "f32[4,3]", "f32[1,3]", label="three"),
        case("concat", "f32[2,3]", label="single"),
        case("concat", "f32[3]", "f32[2]"),
        case("concat", "f32[0,3]", "f32[2,3]", label="size0"),
        case("concat", "f32[2,0]", "f32[2,3]", axis=1, label="size0"),
        case("concat", "f32[0,3]", "f32[0,3]", label="size0"),
        case("concat", "f32[1]", "f32[1]", label="size1"),
        # slice
        case("slice", "f32[5]", axes=[0], starts=[None], stops=[None], steps=[-1]),
        case("slice", "f32[5]", axes=[0], starts=[None], stops=[-1]),
        case("slice", "f32[5]", axes=[-1], starts=[-3], stops=[None], label="negative-axis"),
        case("slice", "f32[5]", axes=[0], starts=[10], stops=[20], label="clamped"),
        case("slice", "f32[5]", axes=[0], starts=[3], stops=[1], label="empty"),
        case("slice", "f32[5]", axes=[0], starts=[4], stops=[0], steps=[-2]),
        case("slice", "f32[4,6]", axes=[1, 0], starts=[1, 0], stops=[None, 2], steps=[2, 1]),
        case("slice", "f32[4,6]", axes=[], starts=[], stops=[], label="no-axes"),
        case("slice", "f32[0,3]", axes=[1], starts=[1], stops=[2], label="size0"),
        case("slice", "f32[1]", axes=[0], starts=[0], stops=[1], label="size1"),
        # gather
        case("gather", "f32[5,3]", "i32[2,2]", axis=1),
        case("gather", "f32[5,3]", "i64[4]", axis=-1, label="negative-axis"),
        case("gather", "f32[5,3]", "i32[]", label="0d-indices"),
        case("gather", "f32[5]", "i64[]", label="0d-result"),
        case("gather", "f32[5,3]", "i64[0]", label="size0-indices"),
        case("gather", "f32[0,3]", "i64[2]", axis=1, label="size0"),
        case("gather", "f32[0]", "i64[0]", label="size0-axis"),
        case("gather", "f32[1]", "i64[1]", label="size1"),
        # scatter_add (updates shaped like gather's result)
        case("scatter_add", "f32[5,3]", "i64[2]", "f32[2,3]"),
        case("scatter_add", "f64[5,3]", "i32[2,2]", "f64[5,2,2]", axis=1),
        case("scatter_add", "i32[4]", "i64[]", "i32[]", label="0d-indices"),
        case("scatter_add", "f32[4,2]", "i64[0]", "f32[0,2]", label="size0-indices"),
        case("scatter_add", "f32[0,2]", "i64[0]", "f32[0,2]", label="size0"),
        case("scatter_add", "f32[1]", "i64[1]", "f32[1]", axis=-1, label="size1"),
        case("scatter_add", "f16[3]", "i64[2]", "f16[2]", label="f16"),
        case("scatter_add", "i64[3,2]", "i32[1]", "i64[1,2]", label="i64"),
        # expand_dims
        case("expand_dims", "f32[2,3]", axes=[-1], label="negative-axis"),
        case("expand_dims", "f32[2,3]", axes=[1, 3]),
        case("expand_dims", "f32[2,3]", axes=[0, -1]),
        case("expand_dims", "f32[2,3]", axes=[]),
        case("expand_dims", "f32[]", axes=[0], label="0d"),
        case("expand_dims", "f32[]", axes=[-1, 0], label="0d"),
        case("expand_dims", "f32[0,3]", axes=[1], label="size0"),
        case("expand_dims", "f32[1]", axes=[0], label="size1"),
        # squeeze
        case("squeeze", "f32[1,3,1]"),
        case("squeeze", "f32[1,3,1]", axes=[0]),
        case("squeeze", "f32[1,3,1]", axes=[-1], label="negative-axis"),
        case("squeeze", "f32[1,3,1]", axes=[]),
        case("squeeze", "f32[2,3]", label="nothing-to-squeeze"),
        case("squeeze", "f32[1]", label="size1-to-0d"),
        case("squeeze", "f32[1,1]", axes=[0, 1], label="size1"),
        case("squeeze", "f32[]", label="0d"),
        case("squeeze", "f32[0,1]", axes=[1], label="size0"),
        case("squeeze", "f32[0,1]", label="size0"),
        # constant
        Case("constant", (), {"value": TensorValue(2.0, "f32")}, "0d"),
        Case("constant", (), {"value": TensorValue(np.zeros((0, 3)), "f64")}, "size0"),
        Case("constant", (), {"value": TensorValue([[1]], "i32")}, "size1"),
        Case("constant", (), {"value": TensorValue(np.arange(24.0).reshape(2, 3, 4), "f32")}),
    ]
    return out


def _random_cases() -> list[Case]:
    out = [case("random_uniform", "i64[]", f"{dt}[2,3]") for dt in ANY]
    out += [
        case("random_uniform", "i64[]", "f32[2,3]", dtype="f64"),
        case("random_uniform", "i64[]", "f64[]", label="0d"),
        case("random_uniform", "i64[]", "i32[0,4]", label="size0"),
        case("random_uniform", "i64[]", "bool[1]", dtype="f32", label="size1"),
        case("random_uniform", "i64[]", "f32[3,4,5]"),
    ]
    return out


CASES: list[Case] = (_elementwise_cases() + _binary_cases() + _reduce_cases()
                     + _matmul_cases() + _shape_cases() + _random_cases())


# ---------------------------------------------------------------- data

def random_array(ty: TensorType, rng: np.random.Generator) -> np.ndarray:
    """An array of exactly ``ty`` (static shape) with unremarkable values."""
    shape = tuple(ty.shape)
    dt = ty.dtype.numpy
    if ty.dtype.is_float:
        return rng.uniform(0.25, 2.0, size=shape).astype(dt)  # valid for log/sqrt/pow
    if ty.dtype.is_int:
        return rng.integers(-5, 6, size=shape).astype(dt)
    return rng.random(size=shape) < 0.5


def arrays_for(c: Case, rng: np.random.Generator) -> list[np.ndarray]:
    """Inputs for ``c``; gather gets in-range (including negative) indices."""
    arrays = [random_array(ty, rng) for ty in c.inputs]
    if c.op in ("gather", "scatter_add"):
        x, idx_type = c.inputs[:2]
        size = x.shape[c.attrs.get("axis", 0)]
        shape = tuple(idx_type.shape)
        if math.prod(shape):
            arrays[1] = rng.integers(-size, size, size=shape).astype(idx_type.dtype.numpy)
    return arrays
