"""Fixtures for the llvm backend tests: a compile function bound to a
session-private object cache (never the user's cache directory)."""

from __future__ import annotations

import pytest

from graphc.backends import get_backend
from graphc.ir import parse_module


@pytest.fixture(scope="session")
def llvm_cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("llvm-cache")


@pytest.fixture(scope="session")
def llvm_compile(llvm_cache_dir):
    backend = get_backend("llvm")

    def compile_(module, **options):
        if isinstance(module, str):
            module = parse_module(module)
        return backend.compile(module, {"cache_dir": str(llvm_cache_dir), **options})

    return compile_
