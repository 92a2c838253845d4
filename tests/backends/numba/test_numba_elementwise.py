"""Elementwise, binary, comparison and cast ops against the interpreter.

Every op of a table lives in one primitive Func per dtype, so one kernel (one
numba compile) tests all of them; symbolic dims let that kernel run on
size-0, size-1 and larger shapes, and inputs include non-contiguous views.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.oracle import (COMPARE, ELEMENTWISE_SHAPES as SHAPES, FLOAT_BINARY,
                                     FLOAT_UNARY, INT_BINARY, INT_UNARY)
from numba_test_helpers import TOLERANCE, assert_matches, random_array


def _node(op: str, operands: str, dtype: str, shape: str) -> tuple[str, str]:
    attrs = ""
    if op == "gelu_tanh":
        op, attrs = "gelu", " {approximate = true}"
    return op, f"{op}({operands}){attrs}"


def unary_module(ops: list[str], dtype: str) -> str:
    lines, results = [], []
    for k, op in enumerate(ops):
        _, call = _node(op, "%x", dtype, "")
        lines.append(f"  %r{k}: {dtype}[N,M] = {call}")
        results.append(f"%r{k}")
    types = ", ".join([f"{dtype}[N,M]"] * len(ops))
    body = "\n".join(lines)
    return (f"func private @fused_0(%x: {dtype}[N,M]) -> ({types}) attributes {{primitive = true}} "
            f"{{\n{body}\n  return {', '.join(results)}\n}}\n"
            f"func @main(%x: {dtype}[N,M]) -> ({types}) {{\n"
            f"  {', '.join(f'%o{k}: {dtype}[N,M]' for k in range(len(ops)))} = call @fused_0(%x)\n"
            f"  return {', '.join(f'%o{k}' for k in range(len(ops)))}\n}}\n")


def binary_module(ops: list[str], dtype: str, out_dtype: str) -> str:
    lines, results = [], []
    for k, op in enumerate(ops):
        lines.append(f"  %r{k}: {out_dtype}[N,M] = {op}(%x, %y)")
        results.append(f"%r{k}")
    types = ", ".join([f"{out_dtype}[N,M]"] * len(ops))
    sig = f"%x: {dtype}[N,M], %y: {dtype}[M]"
    return (f"func private @fused_0({sig}) -> ({types}) attributes {{primitive = true}} {{\n"
            + "\n".join(lines) + f"\n  return {', '.join(results)}\n}}\n"
            f"func @main({sig}) -> ({types}) {{\n"
            f"  {', '.join(f'%o{k}: {out_dtype}[N,M]' for k in range(len(ops)))} = "
            f"call @fused_0(%x, %y)\n  return {', '.join(f'%o{k}' for k in range(len(ops)))}\n}}\n")


def _inputs(rng, dtype, shape, positive=False):
    x = random_array(rng, dtype, shape)
    if dtype.startswith("f") and x.size:
        flat = x.reshape(-1)
        specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-3, 20.0, -20.0], dtype=x.dtype)
        flat[:min(len(specials), flat.size)] = specials[:flat.size]
    return x


@pytest.mark.parametrize("dtype", ["f16", "f32", "f64"])
def test_float_unary_ops(numba_compile, dtype):
    module = unary_module(FLOAT_UNARY, dtype)
    exe = numba_compile(module)
    rng = np.random.default_rng(0)
    rtol, atol = TOLERANCE[dtype]
    for shape in SHAPES:
        x = _inputs(rng, dtype, shape)
        assert_matches(module, exe, [x], rtol=rtol, atol=atol)
    wide = _inputs(rng, dtype, (6, 10))
    assert_matches(module, exe, [wide[:, ::2]], rtol=rtol, atol=atol)   # non-contiguous


@pytest.mark.parametrize("dtype", ["i32", "i64"])
def test_int_unary_ops(numba_compile, dtype):
    module = unary_module(INT_UNARY, dtype)
    exe = numba_compile(module)
    rng = np.random.default_rng(1)
    for shape in SHAPES:
        assert_matches(module, exe, [random_array(rng, dtype, shape)])
    info = np.iinfo(dtype.replace("i", "int"))
    extremes = np.array([[info.min, info.max, -1, 0, 1]], dtype=info.dtype)
    assert_matches(module, exe, [extremes])   # wrap-around like numpy


@pytest.mark.parametrize("dtype", ["f16", "f32", "f64", "i32", "i64"])
def test_binary_ops_broadcast(numba_compile, dtype):
    ops = FLOAT_BINARY if dtype.startswith("f") else INT_BINARY
    module = binary_module(ops, dtype, dtype)
    exe = numba_compile(module)
    rng = np.random.default_rng(2)
    rtol, atol = TOLERANCE.get(dtype, (0, 0))
    for n, m in [(4, 5), (0, 3), (1, 1), (3, 0)]:
        x, y = random_array(rng, dtype, (n, m)), random_array(rng, dtype, (m,))
        if dtype.startswith("f"):
            x = np.abs(x)  # pow of a negative base is NaN in both, but keep values finite
        assert_matches(module, exe, [x, y], rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", ["f32", "i64", "bool"])
def test_comparisons(numba_compile, dtype):
    ops = COMPARE if dtype != "bool" else ["eq", "ne"]
    module = binary_module(ops, dtype, "bool")
    exe = numba_compile(module)
    rng = np.random.default_rng(3)
    for n, m in [(4, 5), (0, 2), (1, 1)]:
        assert_matches(module, exe, [random_array(rng, dtype, (n, m)),
                                     random_array(rng, dtype, (m,))])


def test_where_and_casts(numba_compile):
    module = """
func @main(%c: bool[N], %x: f32[N], %y: f32[], %i: i32[N], %h: f16[N]) -> (f32[N], i32[N], f64[N], bool[N], f16[N], f32[N], i64[N], f32[N]) {
  %0: f32[N] = where(%c, %x, %y)
  %1: i32[N] = cast(%x) {dtype = i32}
  %2: f64[N] = cast(%i) {dtype = f64}
  %3: bool[N] = cast(%x) {dtype = bool}
  %4: f16[N] = cast(%x) {dtype = f16}
  %5: f32[N] = cast(%c) {dtype = f32}
  %6: i64[N] = cast(%h) {dtype = i64}
  %7: f32[N] = cast(%h) {dtype = f32}
  return %0, %1, %2, %3, %4, %5, %6, %7
}"""
    exe = numba_compile(module)
    rng = np.random.default_rng(4)
    for n in (0, 1, 9):
        args = [rng.random(n) < 0.5, rng.uniform(-300, 70000, n).astype(np.float32),
                np.float32(2.5), rng.integers(-9, 9, n).astype(np.int32),
                rng.uniform(-100, 100, n).astype(np.float16)]
        assert_matches(module, exe, args)


def test_zero_d_elementwise(numba_compile):
    module = """
func @main(%x: f32[], %y: f32[]) -> (f32[], f32[]) {
  %0: f32[] = mul(%x, %y)
  %1: f32[] = tanh(%0)
  return %0, %1
}"""
    exe = numba_compile(module)
    assert_matches(module, exe, [np.float32(0.75), np.array(-2.0, np.float32)])
