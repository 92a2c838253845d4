"""Plotting tests: predictable names; no Graphviz unless a test installs a fake one."""

from __future__ import annotations

import shutil

import pytest

import graphc

_REAL_WHICH = shutil.which


@pytest.fixture(autouse=True)
def fresh_names():
    graphc.reset_names()
    yield


@pytest.fixture(autouse=True)
def no_graphviz(monkeypatch):
    """Tests run as on a fresh machine: ``dot`` is not on PATH."""
    monkeypatch.setattr(shutil, "which",
                        lambda name, *a, **k: None if name == "dot" else _REAL_WHICH(name, *a, **k))
