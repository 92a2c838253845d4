"""Front-end test fixtures: predictable auto-names and a numpy oracle helper."""

from __future__ import annotations

import numpy as np
import pytest

import graphc

TOL = dict(rtol=1e-5, atol=1e-5)
"""Tolerance of every numerical front-end test: predict vs numpy from get_weights()."""


@pytest.fixture(autouse=True)
def fresh_names():
    graphc.reset_names()
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_relu(x):
    return np.maximum(x, 0)
