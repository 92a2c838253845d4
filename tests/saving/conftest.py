"""Saving tests: predictable auto-names, and the models of ``zoo.py``."""

from __future__ import annotations

import pytest

import graphc

from . import zoo


@pytest.fixture(autouse=True)
def fresh_names():
    graphc.reset_names()
    yield


@pytest.fixture(params=zoo.BUILDERS, ids=[b.__name__ for b in zoo.BUILDERS])
def built(request):
    """``(model, data)`` for every kind of model in the zoo."""
    return request.param()
