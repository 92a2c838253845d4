"""Helpers shared by the cuda backend tests: compile on numba's CUDA simulator
and compare with the reference interpreter.

The simulator is chosen with the backend option ``target="simulator"``,
which imports ``numba.cuda.simulator`` as a library: ``numba.cuda`` itself,
and so every other test of the session, is left as it was (see
``graphc.backends.cuda.target``).  Nothing here sets NUMBA_ENABLE_CUDASIM;
the one test of that path runs in a subprocess.

Tolerances against the interpreter (``assert_allclose``: |got - want| <=
atol + rtol * |want|, NaN matches NaN), per dtype and kind of op:

=========  ==================  ==================================
dtype      elementwise         reductions, softmax, matmul
=========  ==================  ==================================
f16        rtol 2e-3 atol 1e-3 rtol 1e-2 atol 1e-2 (f32 accumulator
                               vs numpy's f16 arithmetic)
f32        rtol 2e-6 atol 1e-6 rtol 1e-5 atol 1e-5 (summation order)
f64        rtol 1e-12          rtol 1e-12 atol 1e-12
int, bool  exact               exact
=========  ==================  ==================================

On a GPU the f32 column widens to rtol 1e-5 for transcendental functions
(libdevice is accurate to a few ulp; the simulator uses numpy's).
"""

from __future__ import annotations

from graphc.backends import get_backend
from graphc.ir import Module
from tests.backends.oracle import as_module, reference
from tests.backends.oracle import assert_same_results as compare

__all__ = ["ELEMENTWISE_TOL", "REDUCTION_TOL", "SIMULATOR", "as_module", "assert_matches",
           "assert_same_results", "compile_sim", "reference"]

SIMULATOR = {"target": "simulator"}

ELEMENTWISE_TOL = {"float16": (2e-3, 1e-3), "float32": (2e-6, 1e-6),
                   "float64": (1e-12, 1e-12)}
REDUCTION_TOL = {"float16": (1e-2, 1e-2), "float32": (1e-5, 1e-5),
                 "float64": (1e-12, 1e-12)}


def compile_sim(module: Module | str, **options):
    return get_backend("cuda").compile(as_module(module), {**SIMULATOR, **options})


def assert_same_results(got, want, tol=None) -> None:
    """Compare result tuples: dtypes and shapes exactly, values within ``tol``
    (a {numpy dtype name: (rtol, atol)} table; default: the elementwise one)."""
    compare(got, want, tol or ELEMENTWISE_TOL)


def assert_matches(module: Module | str, exe, arrays, tol=None):
    """Run ``exe`` and the interpreter on ``arrays``; compare every result."""
    got = exe(*arrays)
    assert_same_results(got, reference(module, *arrays), tol)
    return got
