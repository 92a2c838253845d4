"""Regenerate the polynomial coefficients of ``mathlib.py`` (a developer tool).

Not imported by the backend.  Run ``python -m graphc.backends.llvm.mathfit``
to refit every approximation and print the coefficient tuples to paste into
``mathlib.py``, together with each fit's maximum relative error in float64.

Method: Lawson's iteratively reweighted least squares on a dense Chebyshev
grid, which converges to the minimax (equi-oscillating) polynomial for the
*relative* error of each target.  Every target is written so that the fitted
part is smooth and the exactly representable leading terms are kept outside
the fit:

* ``exp``:  exp(r) = 1 + r + r^2 q(r)            on |r| <= ln2/2
* ``log``:  log((1+s)/(1-s)) = 2s + s^3 q(s^2)    on |s| <= 3 - 2 sqrt 2
* ``tanh``: tanh(x) = x + x^3 q(x^2)              on |x| <= TANH_SMALL
* ``erf``:  erf(x) = x q(x^2)                     on |x| <= 1
* ``erfc``: erfc(x) = exp(-x^2) / x * q(v)        on 1 <= x <= ERFC_MAX, with
  v = (1/x - ERFC_CENTER) / ERFC_HALF_WIDTH in [-1, 1] (centring keeps the
  coefficients small, so Horner's rule in float32 loses no accuracy)
"""

from __future__ import annotations

import math

import numpy as np

TANH_SMALL = 0.625
ERFC_MAX = 10.0
ERFC_CENTER = (1.0 + 1.0 / ERFC_MAX) / 2
ERFC_HALF_WIDTH = (1.0 - 1.0 / ERFC_MAX) / 2


def _lawson(basis: np.ndarray, target: np.ndarray, scale: np.ndarray,
            iterations: int = 60) -> np.ndarray:
    """Coefficients c minimising max |(basis @ c - target) / scale| (approx.)."""
    weights = np.ones(len(target))
    coeffs = np.zeros(basis.shape[1])
    for _ in range(iterations):
        w = np.sqrt(weights) / scale
        coeffs, *_ = np.linalg.lstsq(basis * w[:, None], target * w, rcond=None)
        err = np.abs(basis @ coeffs - target) / scale
        weights = weights * (err + 1e-300)
        weights /= weights.sum()
    return coeffs


def _grid(lo: float, hi: float, n: int = 4000) -> np.ndarray:
    k = np.arange(n)
    return 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos(np.pi * (k + 0.5) / n)


def fit_exp(degree: int = 4) -> tuple[np.ndarray, float]:
    r = _grid(-math.log(2) / 2, math.log(2) / 2)
    r = r[np.abs(r) > 1e-6]
    target = (np.exp(r) - 1 - r) / r**2
    basis = np.stack([r**k for k in range(degree + 1)], axis=1)
    c = _lawson(basis, target, np.exp(r) / r**2)
    err = np.max(np.abs(1 + r + r**2 * (basis @ c) - np.exp(r)) / np.exp(r))
    return c, err


def fit_log(degree: int = 3) -> tuple[np.ndarray, float]:
    smax = 3 - 2 * math.sqrt(2)
    s = _grid(1e-4, smax)
    exact = np.log((1 + s) / (1 - s))
    target = (exact - 2 * s) / s**3
    basis = np.stack([s**(2 * k) for k in range(degree + 1)], axis=1)
    c = _lawson(basis, target, exact / s**3)
    err = np.max(np.abs(2 * s + s**3 * (basis @ c) - exact) / exact)
    return c, err


def fit_tanh(degree: int = 5) -> tuple[np.ndarray, float]:
    x = _grid(1e-4, TANH_SMALL)
    exact = np.tanh(x)
    target = (exact - x) / x**3
    basis = np.stack([x**(2 * k) for k in range(degree + 1)], axis=1)
    c = _lawson(basis, target, exact / x**3)
    err = np.max(np.abs(x + x**3 * (basis @ c) - exact) / exact)
    return c, err


def fit_erf(degree: int = 6) -> tuple[np.ndarray, float]:
    x = _grid(1e-4, 1.0)
    exact = np.array([math.erf(v) for v in x])
    basis = np.stack([x**(2 * k) for k in range(degree + 1)], axis=1)
    c = _lawson(basis, exact / x, exact / x)
    err = np.max(np.abs(x * (basis @ c) - exact) / exact)
    return c, err


def fit_erfc(degree: int = 11) -> tuple[np.ndarray, float]:
    x = _grid(1.0, ERFC_MAX)
    v = (1.0 / x - ERFC_CENTER) / ERFC_HALF_WIDTH
    target = np.array([math.erfc(t) * t * math.exp(t * t) for t in x])
    basis = np.stack([v**k for k in range(degree + 1)], axis=1)
    c = _lawson(basis, target, target)
    err = np.max(np.abs(basis @ c - target) / target)
    return c, err


def main() -> None:
    for name, fit in [("EXP", fit_exp), ("LOG", fit_log), ("TANH", fit_tanh),
                      ("ERF", fit_erf), ("ERFC", fit_erfc)]:
        coeffs, err = fit()
        body = ", ".join(repr(float(v)) for v in coeffs)
        print(f"{name}_COEFFS = ({body})  # max rel err {err:.2e}")


if __name__ == "__main__":
    main()
