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

import numpy as np

from graphc.backends import get_backend
from graphc.ir import Module, parse_module

SIMULATOR = {"target": "simulator"}

ELEMENTWISE_TOL = {"float16": (2e-3, 1e-3), "float32": (2e-6, 1e-6),
                   "float64": (1e-12, 1e-12)}
REDUCTION_TOL = {"float16": (1e-2, 1e-2), "float32": (1e-5, 1e-5),
                 "float64": (1e-12, 1e-12)}


def as_module(module: Module | str) -> Module:
    return parse_module(module) if isinstance(module, str) else module


def compile_sim(module: Module | str, **options):
    return get_backend("cuda").compile(as_module(module), {**SIMULATOR, **options})


def reference(module: Module | str, *arrays):
    return get_backend("interpreter").compile(as_module(module))(*arrays)


def assert_same_results(got, want, tol=None) -> None:
    """Compare result tuples: dtypes and shapes exactly, values within ``tol``
    (a {numpy dtype name: (rtol, atol)} table; default: the elementwise one)."""
    tol = tol or ELEMENTWISE_TOL
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert isinstance(g, np.ndarray), f"result {i} is {type(g).__name__}"
        assert g.dtype == w.dtype, f"result {i}: dtype {g.dtype} != {w.dtype}"
        assert g.shape == w.shape, f"result {i}: shape {g.shape} != {w.shape}"
        if w.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=f"result {i}")
        else:
            rtol, atol = tol[w.dtype.name]
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=rtol,
                                       atol=atol, equal_nan=True, err_msg=f"result {i}")


def assert_matches(module: Module | str, exe, arrays, tol=None):
    """Run ``exe`` and the interpreter on ``arrays``; compare every result."""
    got = exe(*arrays)
    assert_same_results(got, reference(module, *arrays), tol)
    return got
