"""Helpers shared by the numba backend tests (compare with the interpreter)."""

from __future__ import annotations

import numpy as np

from graphc.backends import get_backend
from graphc.ir import parse_module


def reference(module, *arrays):
    if isinstance(module, str):
        module = parse_module(module)
    return get_backend("interpreter").compile(module)(*arrays)


def assert_matches(module, exe, arrays, rtol=1e-6, atol=1e-6):
    """Run ``exe`` and the interpreter on ``arrays``; compare every result."""
    want = reference(module, *arrays)
    got = exe(*arrays)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype, f"result {i}: dtype {g.dtype} != {w.dtype}"
        assert g.shape == w.shape, f"result {i}: shape {g.shape} != {w.shape}"
        if w.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=f"result {i}")
        else:
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=rtol,
                                       atol=atol, equal_nan=True, err_msg=f"result {i}")
    return got


TOLERANCE = {"f16": (2e-3, 1e-3), "f32": (2e-6, 1e-6), "f64": (1e-12, 1e-12)}
"""(rtol, atol) per float dtype: f16 allows a 1-ulp difference from fused
rounding, f32 a few ulp from the vectorized math helpers and FMA."""


def random_array(rng, dtype: str, shape, low=-3.0, high=3.0):
    np_dtype = np.dtype({"f16": "float16", "f32": "float32", "f64": "float64", "i32": "int32",
                         "i64": "int64", "bool": "bool"}[dtype])
    if np_dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np_dtype.kind == "i":
        return rng.integers(-20, 20, shape).astype(np_dtype)
    return rng.uniform(low, high, shape).astype(np_dtype)
