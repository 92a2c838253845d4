"""Helpers shared by the llvm backend tests: compare with the interpreter.

Tolerances (rtol, atol) per dtype, used unless a test states its own:
f32 allows a few ulp (the vectorized float32 math functions are within
3 ulp; reassociated sums differ from numpy's pairwise sums in the last
bits), f64 is tight (libm math, plain IEEE arithmetic), integer and bool
results must be equal.
"""

from __future__ import annotations

import re

import numpy as np

from tests.backends.oracle import assert_same_results, random_array, reference

__all__ = ["TOLERANCE", "assert_matches", "kernel_module", "random_array", "reference",
           "with_specials"]

TOLERANCE = {"f32": (1e-5, 1e-6), "f64": (1e-12, 1e-12)}


def assert_matches(module, exe, arrays, rtol=None, atol=None):
    """Run ``exe`` and the interpreter on ``arrays``; compare every result
    (``rtol``/``atol`` replace the per-dtype TOLERANCE when given)."""
    got = exe(*arrays)
    tol = {}
    for short, name in (("f32", "float32"), ("f64", "float64")):
        r, a = TOLERANCE[short]
        tol[name] = (r if rtol is None else rtol, a if atol is None else atol)
    assert_same_results(got, reference(module, *arrays), tol)
    return got


def with_specials(x):
    """``x`` with 0, -0, +-inf, NaN and a few large values written over its first elements."""
    if x.dtype.kind == "f" and x.size:
        flat = x.reshape(-1)
        specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-3, 20.0, -20.0, 90.0,
                             -110.0], dtype=x.dtype)
        flat[:min(len(specials), flat.size)] = specials[:flat.size]
    return x


def kernel_module(params: str, body: list[str], results: list[tuple[str, str]]) -> str:
    """A primitive Func ``@fused_0`` holding ``body`` and a ``@main`` calling it.

    ``params`` is the signature text (``%x: f32[N,M], ...``); ``results``
    lists (value name, type) pairs."""
    names = re.findall(r"(%\w+)\s*:", params)
    types = ", ".join(t for _, t in results)
    outs = ", ".join(f"%o{k}: {t}" for k, (_, t) in enumerate(results))
    return (f"func private @fused_0({params}) -> ({types}) attributes {{primitive = true}} {{\n"
            + "".join(f"  {line}\n" for line in body)
            + f"  return {', '.join(v for v, _ in results)}\n}}\n"
            f"func @main({params}) -> ({types}) {{\n"
            f"  {outs} = call @fused_0({', '.join(names)})\n"
            f"  return {', '.join(f'%o{k}' for k in range(len(results)))}\n}}\n")
