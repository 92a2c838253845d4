"""Accuracy of the vectorizable float32 math functions (``mathlib.py``).

Each function runs in a compiled kernel over ~1.5M float32 inputs -- random
bit patterns covering every exponent, a dense grid over [-20, 20] and the
special values -- and is compared with a float64 evaluation of the exact
function (numpy's float64 functions, ``math.erf``/``math.erfc``).  Error is
measured in ulp of the float32 result (``np.spacing``) for normal results;
subnormal results must be within 2**-149 * 4 absolutely.  Non-finite
results must be identical (inf/-inf) or both NaN.

The bounds asserted are the ones ``mathlib.py`` documents.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from llvm_helpers import kernel_module

ULP_BOUND = {"exp": 1.02, "log": 1.97, "tanh": 1.34, "sigmoid": 2.41, "erf": 2.48}
"""The maxima over all 2**32 float32 inputs, as mathlib.py documents them."""
_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


EXACT = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sigmoid": _sigmoid, "erf": _erf}


@pytest.fixture(scope="module")
def math_kernel(llvm_compile):
    ops = list(ULP_BOUND) + ["gelu", "gelu_tanh"]
    body = []
    for k, op in enumerate(ops):
        call = "gelu(%x) {approximate = true}" if op == "gelu_tanh" else f"{op}(%x)"
        body.append(f"%r{k}: f32[N] = {call}")
    module = kernel_module("%x: f32[N]", body, [(f"%r{k}", "f32[N]") for k in range(len(ops))])
    exe = llvm_compile(module)

    def run(x):
        return dict(zip(ops, exe(x)))
    return run


def _inputs(count: int, erf_like: bool = False) -> np.ndarray:
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2 ** 32, count, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    x = x[np.isfinite(x)]
    grid = np.linspace(-20, 20, count // 2, dtype=np.float32)
    specials = np.array([0.0, -0.0, 1e-45, -1e-45, 1.1754944e-38, 88.72, 88.73, -87.3, -103.9,
                         -104.0, 0.625, -0.625, 1.0, -1.0, 3.92, 9.9, 10.5, np.float32(3.4e38)],
                        dtype=np.float32)
    return np.concatenate([x, grid, specials])


@np.errstate(all="ignore")
def _ulp_error(got: np.ndarray, want: np.ndarray) -> tuple[float, np.ndarray]:
    w32 = want.astype(np.float32)
    normal = np.isfinite(w32) & (np.abs(want) >= 2.0 ** -126)
    ulp = np.spacing(np.abs(w32)).astype(np.float64)
    err = np.abs(got.astype(np.float64) - want) / ulp
    tiny = np.isfinite(w32) & ~normal
    assert np.all(np.abs(got[tiny].astype(np.float64) - want[tiny]) <= 4 * 2.0 ** -149)
    return float(err[normal].max()), ~np.isfinite(w32)


@pytest.mark.parametrize("name", list(ULP_BOUND))
def test_ulp_error_over_the_float_range(math_kernel, name):
    x = _inputs(1_000_000)
    if name == "erf":
        x = np.concatenate([x[np.abs(x) < 5][:200_000], x[np.abs(x) >= 5][:1000]])
    got = math_kernel(x)[name]
    with np.errstate(all="ignore"):
        want = EXACT[name](x.astype(np.float64))
    worst, special = _ulp_error(got, want)
    assert worst <= ULP_BOUND[name], f"{name}: {worst:.2f} ulp"
    with np.errstate(over="ignore"):
        w32 = want[special].astype(np.float32)
    same = (got[special] == w32) | (np.isnan(got[special]) & np.isnan(w32))
    assert same.all(), (x[special][~same][:5], got[special][~same][:5])


def test_nan_and_infinities(math_kernel):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], np.float32)
    out = math_kernel(x)
    assert all(np.isnan(v[0]) for v in out.values())
    np.testing.assert_array_equal(out["exp"][1:], [np.inf, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(out["log"][1:], [np.inf, np.nan, -np.inf, -np.inf])
    np.testing.assert_array_equal(out["tanh"][1:], [1.0, -1.0, 0.0, -0.0])
    assert np.signbit(out["tanh"][4])
    np.testing.assert_array_equal(out["sigmoid"][1:], [1.0, 0.0, 0.5, 0.5])
    np.testing.assert_array_equal(out["erf"][1:], [1.0, -1.0, 0.0, -0.0])
    np.testing.assert_array_equal(out["gelu"][1:2], [np.inf])


def test_gelu_forms_relative_accuracy(math_kernel):
    """gelu (erf form) and gelu_tanh against float64 evaluations of the exact
    functions, wherever the result is at least 1e-30: the erf form within
    1e-6 relative; the tanh form within (1 + |2u|) * 2e-7 relative, u =
    sqrt(2/pi) (x + 0.044715 x^3) -- rounding its float32 argument costs
    |2u| ulp of exp, which any float32 evaluation shares (numpy's float32
    formula 0.5 x (1 + tanh u) loses every digit for x < -5)."""
    x = np.linspace(-14, 14, 400_001, dtype=np.float32)
    out = math_kernel(x)
    x64 = x.astype(np.float64)
    two_u = 2 * math.sqrt(2 / math.pi) * (x64 + 0.044715 * x64 ** 3)
    exact = {"gelu": (0.5 * x64 * _erfc(-x64 / math.sqrt(2.0)), 1e-6),
             "gelu_tanh": (x64 / (1 + np.exp(-two_u)), (1 + np.abs(two_u)) * 2e-7)}
    for name, (want, bound) in exact.items():
        big = np.abs(want) >= 1e-30
        rel = np.abs(out[name] - want) / np.where(big, np.abs(want), 1.0)
        excess = np.where(big, rel / bound, 0.0)
        assert excess.max() < 1, (name, x[np.argmax(excess)], rel[np.argmax(excess)])
        assert np.all(np.abs(out[name][~big] - want[~big]) < 1e-35)
