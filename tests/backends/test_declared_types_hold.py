"""Every backend refuses to return a result that breaks the types the IR
declares: here ``add`` broadcasts ``M`` rows into a result recorded as
``f32[N,3]``, which only holds when M == N or one of them is 1 in the right
place.  The interpreter (the oracle) raises ExecutionError; so must the rest."""

from __future__ import annotations

import numpy as np
import pytest

from graphc.backends import get_backend
from graphc.errors import GraphcError
from graphc.ir import parse_module

TWO_SYMBOLS = """
func @f(%x: f32[N,3], %y: f32[M,3]) -> (f32[N,3]) {
  %0: f32[N,3] = add(%x, %y)
  return %0
}
"""
BACKENDS = [("interpreter", {}), ("numba", {}), ("llvm", {}), ("cuda", {"target": "simulator"})]


@pytest.mark.parametrize("backend,options", BACKENDS, ids=[b for b, _ in BACKENDS])
def test_a_result_that_breaks_its_recorded_symbol_is_an_error(backend, options, tmp_path):
    if backend in ("numba", "llvm"):
        options = {"cache_dir": str(tmp_path)}
    exe = get_backend(backend).compile(parse_module(TWO_SYMBOLS), options)
    ones = np.ones((1, 3), np.float32)
    rows = np.arange(9, dtype=np.float32).reshape(3, 3)
    np.testing.assert_array_equal(exe(rows, ones)[0], rows + 1)      # N=3, M=1: fits
    with pytest.raises(GraphcError, match=r"f32\[N,3\]"):
        exe(ones, rows)                                               # N=1, M=3: (3, 3)
