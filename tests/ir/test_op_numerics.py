"""Interpreter numerics for every op, against numpy computations written here.

Each test builds a one-node Func with ``graphc.ir.Builder``, compiles it with
the ``interpreter`` backend and calls it with numpy arrays, so the real path
(attribute checking, ``infer``, input binding, result-type checks) runs.
The oracles below never call an op's ``reference`` rule: float oracles are
computed in f64 (``math.erf`` for erf/gelu) and rounded to the tested dtype.

Tolerances (``assert_allclose``: |actual - expected| <= atol + rtol * |expected|,
NaN matches NaN, infinities must match exactly):

=================  ==========  ==========
kind               f32         f64
=================  ==========  ==========
exact (movement)   0           0
arithmetic         rtol 1e-6   rtol 1e-12
                   atol 1e-6   atol 1e-12
transcendental     rtol 2e-6   rtol 1e-12
                   atol 1e-6   atol 1e-12
reduction/matmul   rtol 1e-5   rtol 1e-12
                   atol 1e-5   atol 1e-12
=================  ==========  ==========

f16 (unary and binary elementwise only): rtol 2e-3, atol 1e-3.
Integer and bool results must be equal exactly.
"""

from __future__ import annotations

import math
import warnings
import zlib

import numpy as np
import pytest

from graphc.backends import get_backend
from graphc.errors import InputError
from graphc.ir import Builder, Module, TensorType, all_ops

INF, NAN = np.inf, np.nan

TOL = {
    ("f16", "arith"): (2e-3, 1e-3), ("f16", "transc"): (2e-3, 1e-3),
    ("f32", "arith"): (1e-6, 1e-6), ("f32", "transc"): (2e-6, 1e-6),
    ("f32", "reduce"): (1e-5, 1e-5),
    ("f64", "arith"): (1e-12, 1e-12), ("f64", "transc"): (1e-12, 1e-12),
    ("f64", "reduce"): (1e-12, 1e-12),
}

_INTERPRETER = get_backend("interpreter")
_erf = np.vectorize(math.erf, otypes=[np.float64])


def run(op: str, *arrays: np.ndarray, **attrs) -> np.ndarray:
    """Build ``op(params...)``, compile it with the interpreter and run it."""
    b = Builder("t")
    params = [b.param(TensorType(a.dtype, a.shape), f"x{i}") for i, a in enumerate(arrays)]
    out = b.emit(op, *params, **attrs)
    exe = _INTERPRETER.compile(Module([b.finish(out)]))
    (result,) = exe(*arrays)
    assert isinstance(result, np.ndarray)
    assert result.dtype == out.type.dtype.numpy
    assert result.shape == tuple(out.type.shape)
    return result


def check(actual: np.ndarray, expected, dtype: str, kind: str = "arith") -> None:
    """Compare with the oracle, which is rounded to ``dtype`` first."""
    with np.errstate(all="ignore"):
        expected = np.asarray(expected).astype(np.dtype(_NUMPY[dtype]))
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if dtype in ("f16", "f32", "f64") and kind != "exact":
        rtol, atol = TOL[(dtype, kind)]
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(actual, expected)


_NUMPY = {"f16": "float16", "f32": "float32", "f64": "float64", "i32": "int32",
          "i64": "int64", "bool": "bool"}


def arr(values, dtype: str) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.array(values, dtype=_NUMPY[dtype])


def f64(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64)


def _seed(*parts) -> int:
    """A seed that does not depend on PYTHONHASHSEED."""
    return zlib.crc32(repr(parts).encode())


# ================================================================ unary elementwise

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.75, 1e-3, -1e-3, 20.0, -20.0, 100.0, -100.0,
         1e4, -1e4, INF, -INF, NAN]


def _relu(x):
    return np.where(np.isnan(x), x, np.where(x > 0, x, 0))


def _sign(x):
    return np.where(x > 0, 1, np.where(x < 0, -1, np.where(x == 0, 0, x)))


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _gelu_exact(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _gelu_tanh(x):
    # 0.5 * (1 + tanh(z)) == sigmoid(2 z): an independent spelling of the tanh formula
    z = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)
    return x * _sigmoid(2.0 * z)


UNARY = {  # name: (oracle on f64 or integer input, kind, dtypes, attrs)
    "neg": (lambda x: -x, "arith", ("f32", "f64", "i32", "i64"), {}),
    "abs": (lambda x: np.where(x < 0, -x, x), "arith", ("f32", "f64", "i32", "i64"), {}),
    "square": (lambda x: x * x, "arith", ("f32", "f64", "i32", "i64"), {}),
    "relu": (_relu, "arith", ("f32", "f64", "i32", "i64"), {}),
    "sign": (_sign, "arith", ("f32", "f64", "i32", "i64"), {}),
    "reciprocal": (lambda x: 1.0 / x, "arith", ("f32", "f64"), {}),
    "sqrt": (np.sqrt, "arith", ("f32", "f64"), {}),
    "rsqrt": (lambda x: 1.0 / np.sqrt(x), "transc", ("f32", "f64"), {}),
    "exp": (np.exp, "transc", ("f32", "f64"), {}),
    "log": (np.log, "transc", ("f32", "f64"), {}),
    "tanh": (np.tanh, "transc", ("f32", "f64"), {}),
    "sigmoid": (_sigmoid, "transc", ("f32", "f64"), {}),
    "erf": (_erf, "transc", ("f32", "f64"), {}),
    "gelu": (_gelu_exact, "transc", ("f32", "f64"), {}),
    "gelu-tanh": (_gelu_tanh, "transc", ("f32", "f64"), {"approximate": True}),
}


def _unary_input(name: str, dtype: str, layout: str) -> np.ndarray:
    rng = np.random.default_rng(_seed(name, dtype, layout))
    if dtype in ("i32", "i64"):
        values = {"edges": [0, 1, -1, 7, -7, 100, -100, 3000, -3000],
                  "matrix": rng.integers(-50, 51, size=(3, 4)),
                  "0d": -3, "size0": np.zeros((0, 3))}[layout]
        return arr(values, dtype)
    edges = [v for v in EDGES if not (name.startswith("gelu") and v == -INF)]
    # (gelu(-inf) is -inf * 0 = NaN by the formula, as in numpy/PyTorch; not pinned here)
    values = {"edges": edges,
              "matrix": rng.standard_normal((3, 4)) * 3,
              "0d": -0.75,
              "size0": np.zeros((0, 3))}[layout]
    return arr(values, dtype)


UNARY_PARAMS = [pytest.param(name, dtype, layout, id=f"{name}-{dtype}-{layout}")
                for name, (_, _, dtypes, _) in UNARY.items()
                for dtype in dtypes
                for layout in ("edges", "matrix", "0d", "size0")]


@pytest.mark.parametrize("name, dtype, layout", UNARY_PARAMS)
def test_unary(name, dtype, layout):
    oracle, kind, _, attrs = UNARY[name]
    x = _unary_input(name, dtype, layout)
    actual = run(name.split("-")[0], x, **attrs)
    with np.errstate(all="ignore"):
        expected = oracle(x if dtype in ("i32", "i64") else f64(x))
    check(actual, expected, dtype, kind)


@pytest.mark.parametrize("name", ["neg", "abs", "exp", "tanh", "sigmoid", "erf", "gelu", "sqrt",
                                  "log", "reciprocal"])
def test_unary_f16(name):
    oracle, _, _, attrs = UNARY[name]
    x = arr([0.0, 0.5, -1.25, 2.0, 3.0, -6.0, 0.01, INF, NAN], "f16")
    if name in ("sqrt", "log"):
        x = np.abs(x)
    actual = run(name, x, **attrs)
    with np.errstate(all="ignore"):
        check(actual, oracle(f64(x)), "f16", "transc")


def test_sigmoid_is_stable_for_large_magnitudes():
    x = arr([-1e30, -1e4, -500.0, -100.0, -88.0, 88.0, 100.0, 1e4, 1e30], "f32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings escape
        actual = run("sigmoid", x)
    assert np.all(np.isfinite(actual)) and np.all((actual >= 0) & (actual <= 1))
    assert actual[0] == 0.0 and actual[-1] == 1.0
    check(actual, _sigmoid(f64(x)), "f32", "transc")


def test_gelu_exact_and_tanh_differ_slightly():
    x = arr(np.linspace(-4, 4, 33), "f64")
    exact, approx = run("gelu", x), run("gelu", x, approximate=True)
    check(exact, _gelu_exact(x), "f64", "transc")
    check(approx, _gelu_tanh(x), "f64", "transc")
    assert 0 < np.max(np.abs(exact - approx)) < 1e-3


# ---------------------------------------------------------------- cast

CAST_VALUES = [0.0, 1.0, -1.0, 2.7, -2.7, 0.5, 100.25, -0.0]


def _wrap(values, bits):
    return [((int(v) + 2 ** (bits - 1)) % 2 ** bits) - 2 ** (bits - 1) for v in values]


@pytest.mark.parametrize("src", ["f32", "f64"])
@pytest.mark.parametrize("dst", ["f16", "f32", "f64", "i32", "i64", "bool"])
def test_cast_from_float(src, dst):
    x = arr(CAST_VALUES, src)
    actual = run("cast", x, dtype=dst)
    if dst in ("i32", "i64"):
        expected = [math.trunc(v) for v in CAST_VALUES]          # toward zero
    elif dst == "bool":
        expected = [v != 0 for v in CAST_VALUES]
    else:
        expected = f64(x)
    check(actual, expected, dst, "arith")


@pytest.mark.parametrize("dst", ["f32", "f64", "i32", "i64", "bool"])
def test_cast_from_int_and_bool(dst):
    ints = [0, 1, -1, 7, -300, 2 ** 31, -(2 ** 31) - 1, 2 ** 40]
    actual = run("cast", arr(ints, "i64"), dtype=dst)
    if dst == "i32":
        expected = _wrap(ints, 32)                           # two's complement wrap
    elif dst == "bool":
        expected = [v != 0 for v in ints]
    else:
        expected = ints
    check(actual, expected, dst, "arith")
    flags = [True, False, True]
    check(run("cast", arr(flags, "bool"), dtype=dst), [int(f) for f in flags], dst)


def test_cast_special_values_and_shapes():
    x = arr([INF, -INF, NAN, 1e30], "f64")
    check(run("cast", x, dtype="f32"), [INF, -INF, NAN, 1e30], "f32")
    check(run("cast", x, dtype="bool"), [True, True, True, True], "bool")  # NaN is truthy
    check(run("cast", arr(1.5, "f32"), dtype="i64"), 1, "i64")
    check(run("cast", np.zeros((0, 2), np.int32), dtype="f64"), np.zeros((0, 2)), "f64")


# ================================================================ binary

BINARY = {  # name: (oracle, kind, dtypes)
    "add": (lambda x, y: x + y, "arith", ("f32", "f64", "i32", "i64")),
    "sub": (lambda x, y: x - y, "arith", ("f32", "f64", "i32", "i64")),
    "mul": (lambda x, y: x * y, "arith", ("f32", "f64", "i32", "i64")),
    "div": (lambda x, y: x / y, "arith", ("f32", "f64")),
    "pow": (lambda x, y: x ** y, "transc", ("f32", "f64")),
    "maximum": (lambda x, y: np.where(np.isnan(x) | np.isnan(y), NAN, np.where(x > y, x, y)),
                "arith", ("f32", "f64", "i32", "i64")),
    "minimum": (lambda x, y: np.where(np.isnan(x) | np.isnan(y), NAN, np.where(x < y, x, y)),
                "arith", ("f32", "f64", "i32", "i64")),
}
COMPARE = {
    "eq": (lambda x, y: x == y, ("f32", "f64", "i32", "i64", "bool")),
    "ne": (lambda x, y: x != y, ("f32", "f64", "i32", "i64", "bool")),
    "lt": (lambda x, y: x < y, ("f32", "f64", "i32", "i64")),
    "le": (lambda x, y: x <= y, ("f32", "f64", "i32", "i64")),
    "gt": (lambda x, y: x > y, ("f32", "f64", "i32", "i64")),
    "ge": (lambda x, y: x >= y, ("f32", "f64", "i32", "i64")),
}

SHAPE_PAIRS = {
    "same": ((3, 4), (3, 4)),
    "row": ((3, 4), (4,)),
    "outer": ((3, 1), (1, 4)),
    "rank3": ((2, 1, 4), (3, 1)),
    "scalar-left": ((), (3, 4)),
    "scalar-right": ((3, 4), ()),
    "0d": ((), ()),
    "size1": ((1,), (1, 1)),
    "size0": ((0, 4), (4,)),
    "size0-bcast": ((1,), (0,)),
}


def _binary_inputs(name, dtype, xs, ys, rng):
    if dtype in ("i32", "i64"):
        return (arr(rng.integers(-20, 21, size=xs), dtype),
                arr(rng.integers(-20, 21, size=ys), dtype))
    if dtype == "bool":
        return arr(rng.random(xs) < 0.5, dtype), arr(rng.random(ys) < 0.5, dtype)
    if name == "pow":
        return arr(rng.uniform(0.1, 3.0, size=xs), dtype), arr(rng.uniform(-2, 2, size=ys), dtype)
    x = rng.standard_normal(xs) * 4
    y = rng.standard_normal(ys) * 4
    if name in COMPARE:  # small integers in a float dtype: ties are likely
        x, y = np.round(x / 4), np.round(y / 4)
    return arr(x, dtype), arr(y, dtype)


BINARY_PARAMS = [pytest.param(name, dtype, pair, id=f"{name}-{dtype}-{pair}")
                 for name, spec in list(BINARY.items()) + list(COMPARE.items())
                 for dtype in spec[-1]
                 for pair in SHAPE_PAIRS]


@pytest.mark.parametrize("name, dtype, pair", BINARY_PARAMS)
def test_binary(name, dtype, pair):
    xs, ys = SHAPE_PAIRS[pair]
    rng = np.random.default_rng(_seed(name, dtype, pair))
    x, y = _binary_inputs(name, dtype, xs, ys, rng)
    actual = run(name, x, y)
    if name in COMPARE:
        check(actual, COMPARE[name][0](x, y), "bool")
        return
    oracle, kind, _ = BINARY[name]
    with np.errstate(all="ignore"):
        expected = oracle(x, y) if dtype in ("i32", "i64") else oracle(f64(x), f64(y))
    check(actual, expected, dtype, kind)


@pytest.mark.parametrize("name", ["add", "mul", "div", "maximum"])
def test_binary_f16(name):
    x = arr([0.5, -1.25, 3.0, 1000.0, INF, NAN], "f16")
    y = arr([2.0, 0.75, -3.0, 100.0, 1.0, 1.0], "f16")
    oracle, kind, _ = BINARY[name]
    check(run(name, x, y), oracle(f64(x), f64(y)), "f16", kind)


SPECIAL_X = [1.0, -1.0, 0.0, 0.0, INF, -INF, INF, NAN, 2.0, 1e30, -0.0, 5.0]
SPECIAL_Y = [0.0, 0.0, 0.0, -1.0, INF, 2.0, 1.0, 1.0, NAN, 1e30, 0.0, -INF]


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum",
                                  "eq", "ne", "lt", "le", "gt", "ge"])
def test_binary_special_values(name, dtype):
    """0, +-inf, NaN, overflow (1e30 * 1e30 is inf in f32)."""
    x, y = arr(SPECIAL_X, dtype), arr(SPECIAL_Y, dtype)
    actual = run(name, x, y)
    with np.errstate(all="ignore"):
        if name in COMPARE:
            check(actual, COMPARE[name][0](f64(x), f64(y)), "bool")
        else:
            # f32 overflow must come out as inf, so the f64 oracle is rounded to f32
            check(actual, BINARY[name][0](f64(x), f64(y)), dtype, BINARY[name][1])


def test_div_and_pow_edge_results():
    x = arr([1.0, -1.0, 0.0, 0.0, -8.0, 4.0, 2.0, 0.0], "f32")
    y = arr([0.0, 0.0, 0.0, -1.0, 1 / 3, 0.5, -1.0, 0.0], "f32")
    check(run("div", x, y), [INF, -INF, NAN, -0.0, -24.0, 8.0, -2.0, NAN], "f32")
    check(run("pow", x, y), [1.0, 1.0, 1.0, INF, NAN, 2.0, 0.5, 1.0], "f32", "transc")


_I32 = [2 ** 31 - 1, -(2 ** 31), 5]


@pytest.mark.parametrize("name, y, exact", [
    ("add", [1, -1, 2], lambda a, b: a + b),
    ("sub", [-1, 1, 2], lambda a, b: a - b),
    ("mul", [2, -1, 3], lambda a, b: a * b),
])
def test_int32_arithmetic_wraps(name, y, exact):
    """Fixed-width two's complement, checked against Python's unbounded ints."""
    expected = _wrap([exact(a, b) for a, b in zip(_I32, y)], 32)
    check(run(name, arr(_I32, "i32"), arr(y, "i32")), expected, "i32")


WHERE_SHAPES = {
    "same": ((3, 4), (3, 4), (3, 4)),
    "bcast": ((4,), (3, 1), ()),
    "cond0d": ((), (2, 3), (2, 3)),
    "0d": ((), (), ()),
    "size0": ((0, 3), (3,), (1,)),
}


@pytest.mark.parametrize("dtype", ["f32", "f64", "i32", "i64", "bool"])
@pytest.mark.parametrize("shapes", WHERE_SHAPES)
def test_where(shapes, dtype):
    cs, xs, ys = WHERE_SHAPES[shapes]
    rng = np.random.default_rng(7)
    cond = rng.random(cs) < 0.5
    x = arr(rng.integers(-9, 10, size=xs), dtype)
    y = arr(rng.integers(-9, 10, size=ys), dtype)
    out_shape = np.broadcast_shapes(cs, xs, ys)
    c_b, x_b, y_b = (np.broadcast_to(a, out_shape) for a in (cond, x, y))
    expected = np.empty(out_shape, x.dtype)
    for index in np.ndindex(*out_shape):
        expected[index] = x_b[index] if c_b[index] else y_b[index]
    check(run("where", np.asarray(cond), x, y), expected, dtype, "exact")


def test_where_keeps_nan_and_inf():
    cond = np.array([True, False, True, False])
    x = arr([NAN, 1.0, -INF, 2.0], "f32")
    y = arr([0.0, NAN, 0.0, INF], "f32")
    check(run("where", cond, x, y), [NAN, NAN, -INF, INF], "f32", "exact")


# ================================================================ reductions

REDUCE_AXES = [
    ("all", (2, 3, 4), None, False),
    ("all-keep", (2, 3, 4), None, True),
    ("axis0", (2, 3, 4), [0], False),
    ("neg-axis", (2, 3, 4), [-1], False),
    ("two-axes-keep", (2, 3, 4), [0, -1], True),
    ("no-axes", (2, 3), [], False),
    ("0d", (), None, False),
    ("0d-keep", (), [], True),
    ("size1", (1, 1), [1], True),
    ("size0-kept", (0, 5), [1], False),
    ("long", (1000,), None, False),
]


def _reduce_oracle(name, x, axes, keepdims):
    axes_t = None if axes is None else tuple(a % max(x.ndim, 1) for a in axes)
    if x.dtype.kind == "f":
        work = f64(x)
    else:
        work = x.astype(np.int64)
    if name == "sum":
        return work.sum(axis=axes_t, keepdims=keepdims)
    if name == "mean":
        count = math.prod(x.shape[a] for a in (range(x.ndim) if axes_t is None else axes_t))
        with np.errstate(all="ignore"):
            return work.sum(axis=axes_t, keepdims=keepdims) / count
    if name == "max":
        return np.amax(work, axis=axes_t, keepdims=keepdims)
    return np.amin(work, axis=axes_t, keepdims=keepdims)


REDUCE_PARAMS = [pytest.param(name, dtype, label, id=f"{name}-{dtype}-{label}")
                 for name, dtypes in [("sum", ("f32", "f64", "i32", "i64")),
                                      ("mean", ("f32", "f64")),
                                      ("max", ("f32", "f64", "i32", "i64")),
                                      ("min", ("f32", "f64", "i32", "i64"))]
                 for dtype in dtypes
                 for label, *_ in REDUCE_AXES]


@pytest.mark.parametrize("name, dtype, label", REDUCE_PARAMS)
def test_reduction(name, dtype, label):
    shape, axes, keepdims = next(r[1:] for r in REDUCE_AXES if r[0] == label)
    rng = np.random.default_rng(3)
    if dtype in ("i32", "i64"):
        x = arr(rng.integers(-100, 101, size=shape), dtype)
    elif label == "long":
        x = arr(rng.uniform(0.5, 1.5, size=shape), dtype)  # no cancellation in a long sum
    else:
        x = arr(rng.standard_normal(shape), dtype)
    attrs = {"keepdims": keepdims} | ({} if axes is None else {"axes": axes})
    actual = run(name, x, **attrs)
    check(actual, _reduce_oracle(name, x, axes, keepdims), dtype, "reduce")


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_reductions_over_empty_axes(dtype):
    x = arr(np.zeros((0, 3)), dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # mean of an empty axis is NaN, silently
        check(run("sum", x, axes=[0]), [0.0, 0.0, 0.0], dtype, "exact")
        check(run("sum", x), 0.0, dtype, "exact")
        check(run("mean", x, axes=[0], keepdims=True), [[NAN, NAN, NAN]], dtype, "exact")
        check(run("mean", x), NAN, dtype, "exact")
    check(run("sum", arr(np.zeros((2, 0)), "i32")), 0, "i32")


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_reductions_with_nan_and_inf(dtype):
    x = arr([[1.0, NAN, 3.0], [INF, -1.0, 2.0], [-INF, -INF, 0.0]], dtype)
    check(run("max", x, axes=[1]), [NAN, INF, 0.0], dtype, "exact")
    check(run("min", x, axes=[1]), [NAN, -1.0, -INF], dtype, "exact")
    check(run("sum", x, axes=[1]), [NAN, INF, -INF], dtype, "exact")
    check(run("mean", x, axes=[0]), [NAN, NAN, 5.0 / 3.0], dtype, "reduce")


def test_sum_int32_wraps_in_its_dtype():
    x = arr([2 ** 31 - 1, 1, 1], "i32")
    check(run("sum", x), _wrap([2 ** 31 + 1], 32)[0], "i32")


def test_mean_f32_accuracy_on_many_elements():
    x = arr(np.full(100_000, 0.1), "f32")
    check(run("mean", x), 0.1, "f32", "reduce")


# ---------------------------------------------------------------- argmax

def _argmax_oracle(x: np.ndarray, axis: int, keepdims: bool) -> np.ndarray:
    moved = np.moveaxis(x, axis, -1)
    out = np.zeros(moved.shape[:-1], np.int64)
    for index in np.ndindex(*moved.shape[:-1]):
        row = list(moved[index])
        out[index] = row.index(max(row))      # the first maximum
    return np.expand_dims(out, axis) if keepdims else out


@pytest.mark.parametrize("dtype", ["f32", "f64", "i32", "i64"])
@pytest.mark.parametrize("shape, axis, keepdims", [
    ((3, 5), -1, False), ((3, 5), 0, False), ((3, 5), 1, True), ((2, 3, 4), -2, True),
    ((7,), 0, False), ((1,), -1, True), ((0, 4), 1, False),
], ids=lambda v: str(v))
def test_argmax(dtype, shape, axis, keepdims):
    rng = np.random.default_rng(11)
    x = arr(rng.integers(-3, 4, size=shape), dtype)  # small range: ties are common
    check(run("argmax", x, axis=axis, keepdims=keepdims), _argmax_oracle(x, axis, keepdims), "i64")


def test_argmax_of_infinities_and_ties():
    x = arr([[-INF, -INF], [1.0, INF], [2.0, 2.0]], "f32")
    check(run("argmax", x), [0, 1, 0], "i64")


# ---------------------------------------------------------------- softmax

def _log_softmax_oracle(x: np.ndarray, axis: int) -> np.ndarray:
    # log-sum-exp by np.logaddexp.reduce, a different route from exp/sum/log
    lse = np.logaddexp.reduce(x, axis=axis, keepdims=True)
    return x - lse


SOFTMAX_INPUTS = {
    "matrix": ((3, 5), -1),
    "axis0": ((3, 5), 0),
    "rank3": ((2, 3, 4), 1),
    "size1": ((4, 1), -1),
    "size0-rows": ((0, 5), -1),
    "size0-axis": ((3, 0), -1),
}


@pytest.mark.parametrize("dtype", ["f32", "f64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("label", SOFTMAX_INPUTS)
def test_softmax(name, dtype, label):
    shape, axis = SOFTMAX_INPUTS[label]
    x = arr(np.random.default_rng(5).standard_normal(shape) * 3, dtype)
    expected = _log_softmax_oracle(f64(x), axis)
    if name == "softmax":
        expected = np.exp(expected)
    check(run(name, x, axis=axis), expected, dtype, "transc")


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_softmax_is_stable(dtype):
    x = arr([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4], [88.0, 89.0, 90.0],
             [-INF, 0.0, 1.0], [3.0, -INF, -INF]], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        soft = run("softmax", x)
        logs = run("log_softmax", x)
    with np.errstate(all="ignore"):
        expected = _log_softmax_oracle(f64(x), -1)
    check(logs, expected, dtype, "transc")
    check(soft, np.exp(expected), dtype, "transc")
    assert np.all(np.isfinite(soft))
    np.testing.assert_allclose(soft.sum(axis=-1), 1.0, rtol=1e-6)
    assert soft[0, 0] == 1.0 and soft[4, 0] == 1.0 and soft[3, 0] == 0.0
    assert logs[3, 0] == -INF and logs[0, 2] == -2000.0


def test_softmax_0d_is_rejected():
    from graphc.errors import ShapeError
    with pytest.raises(ShapeError, match="op 'softmax'"):
        run("softmax", arr(1.0, "f32"))


# ================================================================ matmul

MATMUL_SHAPES = {
    "mat-mat": ((3, 4), (4, 5)),
    "vec-vec": ((4,), (4,)),
    "vec-mat": ((4,), (4, 5)),
    "mat-vec": ((3, 4), (4,)),
    "batch": ((2, 3, 4), (4, 5)),
    "batch-bcast": ((2, 1, 3, 4), (6, 4, 5)),
    "vec-batch": ((4,), (2, 4, 5)),
    "size0-rows": ((0, 4), (4, 5)),
    "size0-contract": ((3, 0), (0, 5)),
    "size0-vec": ((0,), (0,)),
    "size1": ((1, 1), (1, 1)),
    "long-k": ((2, 300), (300, 3)),
}


def _matmul_oracle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a3 = np.broadcast_to(a2, batch + a2.shape[-2:])
    b3 = np.broadcast_to(b2, batch + b2.shape[-2:])
    # explicit multiply-and-sum over the contracted axis
    out = (a3[..., :, :, None] * b3[..., None, :, :]).sum(axis=-2)
    if a.ndim == 1:
        out = out[..., 0, :]
    if b.ndim == 1:
        out = out[..., 0]
    return out


@pytest.mark.parametrize("dtype", ["f32", "f64", "i32", "i64"])
@pytest.mark.parametrize("label", MATMUL_SHAPES)
def test_matmul(label, dtype):
    sa, sb = MATMUL_SHAPES[label]
    rng = np.random.default_rng(2)
    if dtype in ("i32", "i64"):
        a, b = arr(rng.integers(-9, 10, sa), dtype), arr(rng.integers(-9, 10, sb), dtype)
        expected = _matmul_oracle(a.astype(np.int64), b.astype(np.int64))
    else:
        a, b = arr(rng.standard_normal(sa), dtype), arr(rng.standard_normal(sb), dtype)
        expected = _matmul_oracle(f64(a), f64(b))
    check(run("matmul", a, b), expected, dtype, "reduce")


# ================================================================ movement ops (exact)

ANY = ("f32", "f64", "i32", "i64", "bool")


def _data(shape, dtype):
    values = np.arange(math.prod(shape)).reshape(shape)
    return arr(values % 2 == 1 if dtype == "bool" else values * 1.5 if dtype[0] == "f"
               else values, dtype)


@pytest.mark.parametrize("dtype", ANY)
@pytest.mark.parametrize("shape, target, expected_shape", [
    ((2, 3), [3, 2], (3, 2)),
    ((2, 3), [-1], (6,)),
    ((2, 3, 4), [4, -1], (4, 6)),
    ((), [1, 1], (1, 1)),
    ((1, 1), [], ()),
    ((0, 3), [3, 0], (3, 0)),
    ((0, 3), [-1, 3], (0, 3)),
], ids=str)
def test_reshape(dtype, shape, target, expected_shape):
    x = _data(shape, dtype)
    flat = [x[i] for i in np.ndindex(*shape)]  # row-major order
    expected = np.array(flat, dtype=x.dtype).reshape(expected_shape)
    check(run("reshape", x, shape=target), expected, dtype, "exact")


@pytest.mark.parametrize("dtype", ANY)
@pytest.mark.parametrize("shape, perm", [
    ((2, 3), None), ((2, 3), [1, 0]), ((2, 3, 4), [2, 0, 1]), ((2, 3, 4), [-1, 0, -2]),
    ((), None), ((), []), ((0, 3), None), ((1, 1), [1, 0]),
], ids=str)
def test_transpose(dtype, shape, perm):
    x = _data(shape, dtype)
    p = list(range(x.ndim))[::-1] if perm is None else [a % x.ndim for a in perm]
    out_shape = tuple(shape[a] for a in p)
    expected = np.empty(out_shape, x.dtype)
    for index in np.ndindex(*out_shape):
        src = [0] * x.ndim
        for out_axis, in_axis in enumerate(p):
            src[in_axis] = index[out_axis]
        expected[index] = x[tuple(src)]
    attrs = {} if perm is None else {"perm": perm}
    actual = run("transpose", x, **attrs)
    check(actual, expected, dtype, "exact")
    assert actual.flags.c_contiguous


@pytest.mark.parametrize("dtype", ANY)
@pytest.mark.parametrize("shape, target", [
    ((3,), [2, 3]), ((2, 1), [2, 4]), ((), [2, 2]), ((), []), ((1,), [0]), ((0,), [2, 0]),
    ((1, 3), [2, 1, 3]),
], ids=str)
def test_broadcast_to(dtype, shape, target):
    x = _data(shape, dtype)
    expected = np.empty(tuple(target), x.dtype)
    offset = len(target) - x.ndim
    for index in np.ndindex(*target):
        src = tuple(0 if x.shape[k] == 1 else index[offset + k] for k in range(x.ndim))
        expected[index] = x[src]
    actual = run("broadcast_to", x, shape=target)
    check(actual, expected, dtype, "exact")
    assert actual.flags.writeable and actual.flags.c_contiguous


@pytest.mark.parametrize("dtype", ANY)
@pytest.mark.parametrize("shapes, axis", [
    ([(2, 3), (1, 3)], 0), ([(2, 3), (2, 4)], 1), ([(2, 3), (2, 2), (2, 1)], -1),
    ([(3,)], 0), ([(0, 3), (2, 3)], 0), ([(2, 0), (2, 0)], 1), ([(1,), (1,)], 0),
], ids=str)
def test_concat(dtype, shapes, axis):
    xs = [_data(s, dtype) + (0 if dtype == "bool" else i * 100) for i, s in enumerate(shapes)]
    xs = [arr(x, dtype) for x in xs]
    ax = axis % len(shapes[0])
    total = sum(s[ax] for s in shapes)
    out_shape = list(shapes[0])
    out_shape[ax] = total
    expected = np.empty(out_shape, xs[0].dtype)
    start = 0
    for x in xs:
        index = [slice(None)] * len(out_shape)
        index[ax] = slice(start, start + x.shape[ax])
        expected[tuple(index)] = x
        start += x.shape[ax]
    check(run("concat", *xs, axis=axis), expected, dtype, "exact")


@pytest.mark.parametrize("dtype", ANY)
@pytest.mark.parametrize("shape, axes, starts, stops, steps", [
    ((6,), [0], [1], [4], []),
    ((6,), [0], [None], [None], [-1]),
    ((6,), [-1], [-3], [None], []),
    ((6,), [0], [10], [20], []),
    ((6,), [0], [4], [0], [-2]),
    ((6,), [0], [3], [1], []),
    ((4, 6), [1, 0], [1, 0], [None, 2], [2, 1]),
    ((4, 6), [], [], [], []),
    ((0, 3), [1], [1], [2], []),
], ids=str)
def test_slice(dtype, shape, axes, starts, stops, steps):
    x = _data(shape, dtype)
    index = [slice(None)] * x.ndim
    for k, (a, s, e) in enumerate(zip(axes, starts, stops)):
        index[a % x.ndim] = slice(s, e, steps[k] if steps else None)
    expected = x[tuple(index)]
    check(run("slice", x, axes=axes, starts=starts, stops=stops, steps=steps), expected, dtype,
          "exact")


@pytest.mark.parametrize("dtype", ANY)
@pytest.mark.parametrize("index_dtype", ["i32", "i64"])
@pytest.mark.parametrize("shape, indices, axis", [
    ((5, 3), [4, 0, 0, -1], 0),
    ((5, 3), [[2, 1], [0, -3]], 1),
    ((5, 3), 3, 0),
    ((5,), -5, -1),
    ((5, 3), [], 0),
    ((0, 3), [2, 0], 1),
    ((2, 3, 4), [[3], [1]], -1),
], ids=str)
def test_gather(dtype, index_dtype, shape, indices, axis):
    x = _data(shape, dtype)
    idx = arr(indices, index_dtype)
    ax = axis % x.ndim
    expected = x[(slice(None),) * ax + (idx,)]   # fancy indexing, not np.take
    check(run("gather", x, idx, axis=axis), expected, dtype, "exact")


@pytest.mark.parametrize("dtype", ("f32", "f64", "i32", "i64"))
@pytest.mark.parametrize("shape, indices, axis", [
    ((5, 3), [0, 4, 0, -1], 0), ((2, 3, 4), [[3, 3], [1, 0]], -1), ((4,), 2, 0), ((0, 2), [], 1),
], ids=str)
def test_scatter_add(dtype, shape, indices, axis):
    x = _data(shape, dtype)
    idx = arr(indices, "i64")
    ax = axis % x.ndim
    updates = _data(x.shape[:ax] + idx.shape + x.shape[ax + 1:], dtype)
    expected = x.copy()
    # An independent oracle: accumulate one index at a time.
    moved_x = np.moveaxis(expected, ax, 0)
    moved_u = np.moveaxis(updates.reshape(x.shape[:ax] + (idx.size,) + x.shape[ax + 1:]), ax, 0)
    for k, i in enumerate(idx.reshape(-1)):
        moved_x[i] += moved_u[k]
    check(run("scatter_add", x, idx, updates, axis=axis), expected, dtype, "exact")


def test_gather_out_of_range_is_an_execution_error():
    from graphc.errors import ExecutionError
    with pytest.raises(ExecutionError, match="index 5 is out of range for axis 0 of size 5"):
        run("gather", _data((5,), "f32"), arr([0, 5], "i64"))


@pytest.mark.parametrize("dtype", ANY)
@pytest.mark.parametrize("shape, axes, expected_shape", [
    ((2, 3), [0], (1, 2, 3)), ((2, 3), [-1], (2, 3, 1)), ((2, 3), [1, 3], (2, 1, 3, 1)),
    ((), [0], (1,)), ((), [0, -1], (1, 1)), ((0, 3), [1], (0, 1, 3)), ((2, 3), [], (2, 3)),
], ids=str)
def test_expand_dims(dtype, shape, axes, expected_shape):
    x = _data(shape, dtype)
    check(run("expand_dims", x, axes=axes), x.reshape(expected_shape), dtype, "exact")


@pytest.mark.parametrize("dtype", ANY)
@pytest.mark.parametrize("shape, axes, expected_shape", [
    ((1, 3, 1), None, (3,)), ((1, 3, 1), [0], (3, 1)), ((1, 3, 1), [-1], (1, 3)),
    ((1,), None, ()), ((), None, ()), ((0, 1), [1], (0,)), ((2, 3), None, (2, 3)),
], ids=str)
def test_squeeze(dtype, shape, axes, expected_shape):
    x = _data(shape, dtype)
    attrs = {} if axes is None else {"axes": axes}
    check(run("squeeze", x, **attrs), x.reshape(expected_shape), dtype, "exact")


# ================================================================ constant

@pytest.mark.parametrize("dtype", ANY + ("f16",))
@pytest.mark.parametrize("value", [2.5, [[1.0, -2.0, 0.0]], np.zeros((0, 2)), [[[1.0]]]],
                         ids=["0d", "matrix", "size0", "size1"])
def test_constant(dtype, value):
    b = Builder("c")
    out = b.constant(value, dtype)
    exe = _INTERPRETER.compile(Module([b.finish(out)]))
    (actual,) = exe()
    expected = arr(value, dtype)
    check(actual, expected, dtype, "exact")
    actual[...] = 0  # the result is a fresh, writable array: the next call is unaffected
    (again,) = exe()
    check(again, expected, dtype, "exact")


def test_constant_special_values():
    b = Builder("c")
    out = b.constant([INF, -INF, NAN, -0.0], "f32")
    (actual,) = _INTERPRETER.compile(Module([b.finish(out)]))()
    check(actual, [INF, -INF, NAN, 0.0], "f32", "exact")
    assert np.signbit(actual[3])


# ================================================================ symbolic dims

@pytest.mark.parametrize("n", [1, 4, 0])
def test_symbolic_reshape_runs_for_every_batch_size(n):
    b = Builder("f")
    x = b.param(TensorType("f32", ("N", 3)), "x")
    y = b.emit("reshape", x, shape=["N", -1])
    assert y.type == TensorType("f32", ("N", 3))
    exe = _INTERPRETER.compile(Module([b.finish(y)]))
    data = arr(np.arange(n * 3).reshape(n, 3), "f32")
    (out,) = exe(data)
    check(out, data, "f32", "exact")


@pytest.mark.parametrize("n", [0, 1, 3])
def test_symbolic_pipeline_runs_for_every_batch_size(n):
    """reshape -> matmul -> add (broadcast) -> softmax -> sum over a symbolic batch."""
    b = Builder("mlp")
    x = b.param(TensorType("f32", ("N", 2, 3)), "x")
    w = b.param(TensorType("f32", (6, 4)), "w")
    bias = b.param(TensorType("f32", (4,)), "b")
    flat = b.emit("reshape", x, shape=[-1, 6])
    assert flat.type == TensorType("f32", ("N", 6))
    h = b.emit("add", b.emit("matmul", flat, w), bias)
    p = b.emit("softmax", h, axis=-1)
    s = b.emit("sum", p, axes=[0])
    flat2 = b.emit("reshape", p, shape=["N", 2, -1])
    assert flat2.type == TensorType("f32", ("N", 2, 2))
    exe = _INTERPRETER.compile(Module([b.finish(p, s, flat2)]))
    rng = np.random.default_rng(n)
    xs = arr(rng.standard_normal((n, 2, 3)), "f32")
    ws = arr(rng.standard_normal((6, 4)), "f32")
    bs = arr(rng.standard_normal(4), "f32")
    probs, total, flat_out = exe(xs, ws, bs)
    logits = f64(xs).reshape(n, 6) @ f64(ws) + f64(bs)
    expected = np.exp(_log_softmax_oracle(logits, -1))
    check(probs, expected, "f32", "reduce")
    check(total, expected.sum(axis=0), "f32", "reduce")
    check(flat_out, expected.reshape(n, 2, 2), "f32", "reduce")


def test_symbol_binding_mismatch_is_an_input_error():
    b = Builder("f")
    x = b.param(TensorType("f32", ("N", 3)), "x")
    y = b.param(TensorType("f32", ("N",)), "y")
    out = b.emit("add", b.emit("sum", x, axes=[1]), y)
    exe = _INTERPRETER.compile(Module([b.finish(out)]))
    check(exe(arr(np.ones((2, 3)), "f32"), arr([1.0, 2.0], "f32"))[0], [4.0, 5.0], "f32")
    with pytest.raises(InputError, match="symbol N was bound to 2"):
        exe(arr(np.ones((2, 3)), "f32"), arr([1.0, 2.0, 3.0], "f32"))


# ================================================================ random_uniform

def _uniform_oracle(key: int, count: int) -> np.ndarray:
    """The hash of ``ir/ops/random.py``'s docstring, element by element in Python ints."""
    m = 2**32 - 1

    def mix(x: int) -> int:
        x ^= x >> 16
        x = (x * 0x21F0AAAD) & m
        x ^= x >> 15
        x = (x * 0x735A2D97) & m
        return x ^ (x >> 15)

    k1 = mix((key & m) ^ mix((key >> 32) & m))
    k2 = mix(k1 ^ 0x9E3779B9)
    return np.array([(mix((mix((i & m) ^ k1) + ((i >> 32) & m) + k2) & m) >> 8) / 2.0**24
                     for i in range(count)])


@pytest.mark.parametrize("key", [0, 1, -1, 2**40 + 3, -(2**63)])
@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_random_uniform(key, dtype):
    like = arr(np.full((3, 4), 7.0), "f32")
    out = run("random_uniform", arr(key, "i64"), like, dtype=dtype)
    check(out, _uniform_oracle(key, 12).reshape(3, 4), dtype, "exact")


def test_random_uniform_is_positional_and_ignores_like_values():
    key = arr(123, "i64")
    a = run("random_uniform", key, arr(np.zeros((4, 5)), "f32"))
    b = run("random_uniform", key, arr(np.ones(20), "i32"))
    check(a.reshape(-1), b, "f32", "exact")
    c = run("random_uniform", arr(124, "i64"), arr(np.zeros((4, 5)), "f32"))
    assert np.mean(a == c) < 0.05  # another key: other numbers


def test_random_uniform_statistics():
    """10^5 draws: within [0, 1), mean and variance of U(0, 1) within 5 sigma, and
    neighbouring positions uncorrelated."""
    u = run("random_uniform", arr(7, "i64"), arr(np.zeros(100_000), "f32")).astype(np.float64)
    assert u.min() >= 0.0 and u.max() < 1.0
    n = u.size
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / n)
    corr = np.corrcoef(u[:-1], u[1:])[0, 1]
    assert abs(corr) < 5 / np.sqrt(n)


def test_random_uniform_empty_and_0d():
    assert run("random_uniform", arr(1, "i64"), arr(np.zeros((0, 3)), "f32")).shape == (0, 3)
    check(run("random_uniform", arr(5, "i64"), arr(0.0, "f64"), dtype="f64"),
          _uniform_oracle(5, 1)[0], "f64", "exact")


# ================================================================ coverage

COVERED = ({n.split("-")[0] for n in UNARY} | set(BINARY) | set(COMPARE) | {
    "cast", "where", "sum", "mean", "max", "min", "argmax", "softmax", "log_softmax", "matmul",
    "reshape", "transpose", "broadcast_to", "concat", "slice", "gather", "expand_dims", "squeeze",
    "scatter_add", "constant", "random_uniform"})


def test_every_op_has_numerics():
    """Every registered op except ``call`` is exercised by a test above (update
    COVERED when adding the tests of a new op)."""
    names = {op.name for op in all_ops()} - {"call"}
    assert names - COVERED == set()
