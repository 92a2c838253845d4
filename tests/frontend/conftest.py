"""Front-end test fixtures: predictable auto-names and a numpy oracle helper."""

from __future__ import annotations

import numpy as np

from tests.common_fixtures import fresh_names, rng  # noqa: F401 (fixtures)

TOL = dict(rtol=1e-5, atol=1e-5)
"""Tolerance of every numerical front-end test: predict vs numpy from get_weights()."""




def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_relu(x):
    return np.maximum(x, 0)
