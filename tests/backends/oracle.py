"""The interpreter as oracle for backend tests: run it, compare results with it.

Every backend's test helpers build on these three functions, so "matches the
interpreter" means the same thing everywhere: result count, dtypes and
shapes exactly; integer and bool values exactly; float values within a
per-dtype ``(rtol, atol)`` table the backend's helpers state (NaNs equal).
"""

from __future__ import annotations

import numpy as np

from graphc.backends import get_backend
from graphc.ir import Module, parse_module

SHORT_DTYPES = {"f16": "float16", "f32": "float32", "f64": "float64", "i32": "int32",
                "i64": "int64", "bool": "bool"}


def as_module(module: Module | str) -> Module:
    return parse_module(module) if isinstance(module, str) else module


def reference(module: Module | str, *arrays):
    """The interpreter's results for ``module`` on ``arrays``."""
    return get_backend("interpreter").compile(as_module(module))(*arrays)


def assert_same_results(got, want, tol: dict[str, tuple[float, float]]) -> None:
    """Compare result tuples; ``tol`` maps a numpy dtype name to (rtol, atol)."""
    assert len(got) == len(want), f"{len(got)} results, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        assert isinstance(g, np.ndarray), f"result {i} is {type(g).__name__}"
        assert g.dtype == w.dtype, f"result {i}: dtype {g.dtype} != {w.dtype}"
        assert g.shape == w.shape, f"result {i}: shape {g.shape} != {w.shape}"
        if w.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=f"result {i}")
        else:
            rtol, atol = tol[w.dtype.name]
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=rtol,
                                       atol=atol, equal_nan=True, err_msg=f"result {i}")


def random_array(rng, dtype: str, shape, low=-3.0, high=3.0):
    """Random values of a short dtype name (``f32``, ``i64``, ``bool`` ...):
    floats uniform in [low, high), ints in [-20, 20), bools fair."""
    np_dtype = np.dtype(SHORT_DTYPES[dtype])
    if np_dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np_dtype.kind == "i":
        return rng.integers(-20, 20, shape).astype(np_dtype)
    return rng.uniform(low, high, shape).astype(np_dtype)


# The elementwise op sets every compiled backend is tested on, per operand kind
# ("gelu_tanh" is gelu with approximate = true), and the shapes they run at
# (size-0 and size-1 included).
FLOAT_UNARY = ["neg", "abs", "exp", "log", "sqrt", "rsqrt", "square", "reciprocal", "tanh",
               "sigmoid", "relu", "erf", "sign", "gelu", "gelu_tanh"]
INT_UNARY = ["neg", "abs", "square", "relu", "sign"]
FLOAT_BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"]
INT_BINARY = ["add", "sub", "mul", "maximum", "minimum"]
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"]
ELEMENTWISE_SHAPES = [(4, 5), (0, 3), (1, 1), (3, 0), (7, 33)]
