"""Functions whose kernels together use every lowered op and every kind of dtype
handling, for the PTX check (``test_cuda_target.py``): few functions, many ops
each, so numba.cuda and NVVM compile few kernels."""

from __future__ import annotations

import numpy as np

from graphc.ir import Builder, Func, TensorType
from graphc.ir.attrs import TensorValue

FLOATS = ("f16", "f32", "f64")
INTS = ("i32", "i64")
UNARY_FLOAT = ("exp", "log", "sqrt", "rsqrt", "reciprocal", "tanh", "sigmoid", "erf")
UNARY_NUMERIC = ("neg", "abs", "square", "relu", "sign")
BINARY_NUMERIC = ("add", "sub", "mul", "maximum", "minimum")
COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")


def _movement(b: Builder, x, i64) -> list:
    """Every movement op applied to ``x`` (shape [N,3])."""
    return [
        b.emit("reshape", x, shape=["N", 3, 1]),
        b.emit("transpose", x),
        b.emit("broadcast_to", x, shape=[2, "N", 3]),
        b.emit("concat", x, x, axis=1),
        b.emit("slice", x, axes=[1], starts=[2], stops=[None], steps=[-1]),
        b.emit("gather", x, i64, axis=1),
        b.emit("squeeze", b.emit("expand_dims", x, axes=[0]), axes=[0]),
    ]


def elementwise(dtype: str) -> Func:
    b = Builder(f"elementwise_{dtype}")
    x = b.param(TensorType(dtype, ("N", 3)), "x")
    y = b.param(TensorType(dtype, ("N", 3)), "y")
    cond = b.param(TensorType("bool", ("N", 3)), "c")
    idx = b.param(TensorType("i64", (2,)), "i")
    key = b.param(TensorType("i64", ()), "k")
    out = [b.emit("where", cond, x, y)] + _movement(b, x, idx)
    out += [b.emit(op, x, y) for op in COMPARE if dtype != "bool" or op in ("eq", "ne")]
    out += [b.emit("cast", x, dtype=target) for target in FLOATS + INTS + ("bool",)]
    out.append(b.emit("random_uniform", key, x))
    if dtype != "bool":
        out += [b.emit(op, x) for op in UNARY_NUMERIC]
        out += [b.emit(op, x, y) for op in BINARY_NUMERIC]
    if dtype in FLOATS:
        out += [b.emit(op, x) for op in UNARY_FLOAT]
        out += [b.emit("div", x, y), b.emit("pow", x, y),
                b.emit("gelu", x, approximate=True), b.emit("gelu", x, approximate=False)]
        out.append(b.emit("mul", x, b.emit("constant",
                                          value=TensorValue(np.arange(3.0), dtype))))
    return b.finish(*out)


def reductions(dtype: str) -> Func:
    b = Builder(f"reductions_{dtype}")
    x = b.param(TensorType(dtype, ("N", 5)), "x")
    ops = ["sum", "max", "min"] + (["mean"] if dtype in FLOATS else [])
    out = [b.emit(op, x, axes=[1], keepdims=op == "max") for op in ops]
    out.append(b.emit("argmax", x, axis=1))
    if dtype in FLOATS:
        out += [b.emit("softmax", x, axis=1), b.emit("log_softmax", x, axis=1)]
    return b.finish(*out)


def matmul(dtype: str) -> Func:
    b = Builder(f"matmul_{dtype}")
    a = b.param(TensorType(dtype, (2, "N", 4)), "a")
    w = b.param(TensorType(dtype, (4, 3)), "w")
    bias = b.param(TensorType(dtype, (3,)), "bias")
    return b.finish(b.emit("relu", b.emit("add", b.emit("matmul", a, w), bias)))


def scatter(dtype: str) -> Func:
    b = Builder(f"scatter_{dtype}")
    x = b.param(TensorType(dtype, (4, 3)), "x")
    idx = b.param(TensorType("i64", ("K",)), "i")
    upd = b.param(TensorType(dtype, ("K", 3)), "u")
    return b.finish(b.emit("scatter_add", x, idx, upd, axis=0))


def all_functions() -> list[Func]:
    """f16 stands for f32 too (the same helpers, plus rounding), i32 for i64 (plus
    wrapping): NVVM time is the price of each kernel."""
    funcs = [elementwise(dt) for dt in ("f16", "f64", "i32", "bool")]
    funcs += [reductions(dt) for dt in ("f16", "i64")]
    funcs += [matmul(dt) for dt in ("f16", "i32")]
    funcs += [scatter(dt) for dt in ("f16", "f64", "i32")]
    return funcs
