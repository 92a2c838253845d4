"""Training test fixtures: predictable names, small data sets, tolerances.

Tolerances used across these tests:

* finite differences: central differences in f64 along one random direction,
  ``eps = 1e-6``; ``|fd - <grad, d>| <= 1e-6 + 1e-5 |fd|``;
* numba vs the interpreter on the same training step: relative 1e-5 in f32;
* the same seed on the same backend: bit for bit (``array_equal``).

Most tests train on the ``interpreter`` backend (no compile time); the ones
about the default backend name it explicitly and reuse small models, so their
numba kernels compile once per session.
"""

from __future__ import annotations

import numpy as np

import graphc
from tests.common_fixtures import fresh_names, rng  # noqa: F401 (fixtures)
from graphc import initializers, layers

INTERP = "interpreter"




def blobs(n: int = 120, classes: int = 3, features: int = 4, seed: int = 0):
    """Well separated Gaussian blobs: (x float32 (n, features), y int64 (n,))."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (classes, features))
    y = rng.integers(0, classes, n)
    x = centers[y] + rng.normal(0, 0.5, (n, features))
    return x.astype(np.float32), y.astype(np.int64)


def small_mlp(features: int = 4, classes: int = 3, hidden: int = 8, dropout: float = 0.0,
              softmax: bool = True, seed: int = 0) -> graphc.Sequential:
    """A seeded MLP (so every test starts from the same weights)."""
    stack = [graphc.Input((features,)),
             layers.Dense(hidden, activation="relu",
                          kernel_initializer=initializers.GlorotUniform(seed=seed))]
    if dropout:
        stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(classes, activation="softmax" if softmax else None,
                              kernel_initializer=initializers.GlorotUniform(seed=seed + 1)))
    return graphc.Sequential(stack)


def finite_difference_check(f, x: np.ndarray, grad: np.ndarray, rng, eps: float = 1e-6) -> None:
    """Compare ``grad`` (of the scalar ``f`` at ``x``) with a central difference."""
    d = rng.standard_normal(x.shape)
    fd = (f(x + eps * d) - f(x - eps * d)) / (2 * eps)
    analytic = float(np.sum(grad * d))
    assert abs(fd - analytic) <= 1e-6 + 1e-5 * abs(fd), (fd, analytic)
