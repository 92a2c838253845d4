"""Accuracy of the vectorizable f32 math helpers (``mathlib.py``) over the
whole float range, against numpy/math in f64.

Inputs: every 4099th positive float32 bit pattern and its negation (about
a million values from the smallest subnormal to the largest finite
number), plus infinities, NaN and signed zeros.  Errors are in ulps of the
correctly rounded f32 result (``np.spacing``); the bounds are the measured
maxima rounded up, and the module docstring of ``mathlib.py`` quotes them:

=================  ==========  ==============================================
helper             max error   note
=================  ==========  ==============================================
exp_f32            1 ulp       normal results
tanh_f32           6 ulp       rational approximation; 5.3 ulp at |x| = 8.79
                               is the maximum of an exhaustive check of every
                               float in [0, 10) (too slow to run here)
sigmoid_f32        2 ulp
erf_f32            1 ulp
erfc_f32           64 ulp      1 - erf(x) below x = 2 cancels (worst at 1.94)
gelu_tanh_f32      2 ulp for x >= -0.5, 5 ulp down to -1; below, 1 + tanh
                   cancels: the absolute error is < 4 ulp(1) |x| / 2, the
                   same kind of error numpy's f32 formula makes
gelu_erf_f32       128 ulp     via erfc for x < 0 (worst near -2.8)
=================  ==========  ==============================================
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from graphc.backends.numba import mathlib

_ERF = np.vectorize(math.erf, otypes=[np.float64])
_ERFC = np.vectorize(math.erfc, otypes=[np.float64])


def _sample() -> np.ndarray:
    bits = np.arange(0, 0x7F800000, 4099, dtype=np.int64).astype(np.uint32)
    pos = bits.view(np.float32)
    return np.concatenate([pos, -pos])


X = _sample()


def _apply(fn, x: np.ndarray) -> np.ndarray:
    @numba.njit(error_model="numpy", fastmath={"contract"})
    def run(xs, out):
        for i in range(xs.size):
            out[i] = fn(xs[i])

    out = np.empty_like(x)
    run(x, out)
    return out


def _ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    spacing = np.spacing(np.abs(want.astype(np.float32))).astype(np.float64)
    return np.abs(got.astype(np.float64) - want) / spacing


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))


def _gelu_erf(x):
    return 0.5 * x * _ERFC(-x / math.sqrt(2.0))


CASES = [
    # name, reference, input range, max ulp, stride (erf references are slow)
    ("exp_f32", np.exp, (-103.9, 88.7), 1.0, 1),
    ("tanh_f32", np.tanh, None, 6.0, 1),
    ("sigmoid_f32", lambda x: 1.0 / (1.0 + np.exp(-x)), None, 2.0, 1),
    ("erf_f32", _ERF, (-6.0, 6.0), 1.0, 8),
    ("erfc_f32", _ERFC, (-6.0, 9.1), 64.0, 8),
    ("gelu_tanh_f32", _gelu_tanh, (-0.5, 1e30), 2.0, 1),
    ("gelu_tanh_f32", _gelu_tanh, (-1.0, -0.5), 5.0, 1),
    ("gelu_erf_f32", _gelu_erf, (-9.0, 1e30), 128.0, 8),
]


@pytest.mark.parametrize("name, reference, bounds, max_ulp, stride", CASES,
                         ids=[f"{c[0]}{'' if c[2] is None else list(c[2])}" for c in CASES])
def test_helper_accuracy(name, reference, bounds, max_ulp, stride):
    x = X if bounds is None else X[(X >= bounds[0]) & (X <= bounds[1])]
    x = x[::stride]
    got = _apply(getattr(mathlib, name), x)
    with np.errstate(all="ignore"):
        want = reference(x.astype(np.float64))
    normal = np.isfinite(want) & (np.abs(want) >= np.finfo(np.float32).tiny)
    err = _ulps(got[normal], want[normal])
    worst = int(np.argmax(err))
    assert err.max() <= max_ulp, f"{name}: {err.max():.2f} ulp at x={x[normal][worst]!r}"
    # results below the normal range: absolute error within one f32 subnormal step
    tiny = np.isfinite(want) & ~normal
    assert np.all(np.abs(got[tiny] - want[tiny]) <= 2.0 ** -148)


def test_gelu_tanh_negative_tail_absolute_error():
    x = X[(X < -1.0) & (X > -1e4)]
    got = _apply(mathlib.gelu_tanh_f32, x).astype(np.float64)
    want = _gelu_tanh(x.astype(np.float64))
    assert np.all(np.abs(got - want) <= 4 * 2.0 ** -24 * np.abs(x) / 2 + 2.0 ** -149)


@pytest.mark.parametrize("name", ["exp_f32", "tanh_f32", "sigmoid_f32", "erf_f32", "erfc_f32",
                                  "gelu_tanh_f32", "gelu_erf_f32"])
def test_helper_special_values(name):
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], np.float32)
    got = _apply(getattr(mathlib, name), special)
    ref = {"exp_f32": np.exp, "tanh_f32": np.tanh, "sigmoid_f32": lambda v: 1 / (1 + np.exp(-v)),
           "erf_f32": _ERF, "erfc_f32": _ERFC, "gelu_tanh_f32": _gelu_tanh,
           "gelu_erf_f32": _gelu_erf}[name]
    with np.errstate(all="ignore"):
        want = ref(special.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = ~np.isnan(want)
    np.testing.assert_array_equal(got[finite], want[finite])
    if name == "tanh_f32":  # odd: the sign of zero survives
        assert np.signbit(got[4]) and not np.signbit(got[3])


def test_tanh_saturates_exactly():
    x = np.array([8.5, 9.0, 50.0, 3e38, -8.5, -9.0, -3e38], np.float32)
    np.testing.assert_array_equal(_apply(mathlib.tanh_f32, x), np.sign(x))
