"""Fixtures for the numba backend tests.

Kernels compile once per test session into a session-scoped temporary cache
directory (never the user's real cache: the root conftest points
``GRAPHC_CACHE_DIR`` at a temporary directory before any test runs), so a
test that compiles a kernel another test already built loads it from memory
or disk.
"""

from __future__ import annotations

import pytest

from graphc.backends import get_backend
from graphc.ir import parse_module

@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("kernel-cache")


@pytest.fixture(scope="session")
def numba_compile(cache_dir):
    backend = get_backend("numba")

    def compile_(module, **options):
        if isinstance(module, str):
            module = parse_module(module)
        return backend.compile(module, {"cache_dir": str(cache_dir), **options})

    return compile_
