"""Helpers shared by the numba backend tests (compare with the interpreter)."""

from __future__ import annotations

from tests.backends.oracle import assert_same_results, random_array, reference

__all__ = ["TOLERANCE", "assert_matches", "random_array", "reference"]

TOLERANCE = {"f16": (2e-3, 1e-3), "f32": (2e-6, 1e-6), "f64": (1e-12, 1e-12)}
"""(rtol, atol) per float dtype: f16 allows a 1-ulp difference from fused
rounding, f32 a few ulp from the vectorized math helpers and FMA."""


def assert_matches(module, exe, arrays, rtol=1e-6, atol=1e-6):
    """Run ``exe`` and the interpreter on ``arrays``; compare every result
    (every float dtype within ``rtol``/``atol``)."""
    got = exe(*arrays)
    tol = {name: (rtol, atol) for name in ("float16", "float32", "float64")}
    assert_same_results(got, reference(module, *arrays), tol)
    return got
