"""Fixtures that several test folders share; a conftest imports the ones it wants."""

from __future__ import annotations

import numpy as np
import pytest

import graphc


@pytest.fixture(autouse=True)
def fresh_names():
    """Every test starts auto-naming from scratch (dense, dense_1 ...)."""
    graphc.reset_names()
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
