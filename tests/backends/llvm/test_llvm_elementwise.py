"""Elementwise, binary, comparison and cast ops against the interpreter.

All ops of one table share one primitive Func per dtype, so one compile
tests all of them; symbolic dims let that kernel run on size-0, size-1 and
larger shapes; inputs include 0, -0, +-inf, NaN, huge values and
non-contiguous views.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.oracle import (COMPARE, ELEMENTWISE_SHAPES as SHAPES, FLOAT_BINARY,
                                     FLOAT_UNARY, INT_BINARY, INT_UNARY)
from llvm_helpers import assert_matches, kernel_module, random_array, with_specials


def _call(op: str, operands: str) -> str:
    if op == "gelu_tanh":
        return f"gelu({operands}) {{approximate = true}}"
    return f"{op}({operands})"


def unary_module(ops: list[str], dtype: str) -> str:
    t = f"{dtype}[N,M]"
    body = [f"%r{k}: {t} = {_call(op, '%x')}" for k, op in enumerate(ops)]
    return kernel_module(f"%x: {t}", body, [(f"%r{k}", t) for k in range(len(ops))])


def binary_module(ops: list[str], dtype: str, out: str) -> str:
    body = [f"%r{k}: {out}[N,M] = {op}(%x, %y)" for k, op in enumerate(ops)]
    return kernel_module(f"%x: {dtype}[N,M], %y: {dtype}[M]", body,
                         [(f"%r{k}", f"{out}[N,M]") for k in range(len(ops))])


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_float_unary_ops(llvm_compile, dtype):
    module = unary_module(FLOAT_UNARY, dtype)
    exe = llvm_compile(module)
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        assert_matches(module, exe, [with_specials(random_array(rng, dtype, shape))])
    wide = with_specials(random_array(rng, dtype, (6, 10), -30, 30))
    assert_matches(module, exe, [wide[:, ::2]])            # non-contiguous input
    assert_matches(module, exe, [np.asfortranarray(wide)])


@pytest.mark.parametrize("dtype", ["i32", "i64"])
def test_int_unary_ops(llvm_compile, dtype):
    module = unary_module(INT_UNARY, dtype)
    exe = llvm_compile(module)
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype.replace("i", "int"))
    for shape in SHAPES:
        x = random_array(rng, dtype, shape)
        if x.size >= 2:          # wrap-around at the extremes, as numpy
            x.reshape(-1)[:2] = [info.min, info.max]
        assert_matches(module, exe, [x])


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_float_binary_and_compare_ops(llvm_compile, dtype):
    arith = binary_module(FLOAT_BINARY, dtype, dtype)
    compare = binary_module(COMPARE, dtype, "bool")
    rng = np.random.default_rng(2)
    for module in (arith, compare):
        exe = llvm_compile(module)
        for n, m in [(4, 5), (0, 5), (1, 1), (3, 0), (5, 17)]:
            x = with_specials(random_array(rng, dtype, (n, m)))
            y = random_array(rng, dtype, (m,), 0.1, 2.0)
            if m >= 3:
                y[:3] = [x.reshape(-1)[0] if x.size else 0, np.nan, -0.0]
            assert_matches(module, exe, [x, y])


@pytest.mark.parametrize("dtype", ["i32", "i64"])
def test_int_binary_and_compare_ops(llvm_compile, dtype):
    rng = np.random.default_rng(3)
    for module in (binary_module(INT_BINARY, dtype, dtype),
                   binary_module(COMPARE, dtype, "bool")):
        exe = llvm_compile(module)
        for n, m in [(4, 5), (0, 5), (1, 1), (6, 9)]:
            assert_matches(module, exe, [random_array(rng, dtype, (n, m)),
                                         random_array(rng, dtype, (m,))])


def test_bool_ops_and_where(llvm_compile):
    module = kernel_module(
        "%c: bool[N,M], %d: bool[M], %x: f32[N,M], %y: f32[]",
        ["%e: bool[N,M] = eq(%c, %d)", "%n: bool[N,M] = ne(%c, %d)",
         "%w: f32[N,M] = where(%c, %x, %y)", "%v: f32[N,M] = where(%n, %y, %x)"],
        [("%e", "bool[N,M]"), ("%n", "bool[N,M]"), ("%w", "f32[N,M]"), ("%v", "f32[N,M]")])
    exe = llvm_compile(module)
    rng = np.random.default_rng(4)
    for n, m in [(3, 4), (0, 4), (1, 1), (9, 31)]:
        assert_matches(module, exe, [random_array(rng, "bool", (n, m)),
                                     random_array(rng, "bool", (m,)),
                                     random_array(rng, "f32", (n, m)), np.float32(7.5)])


CAST_DTYPES = ["f32", "f64", "i32", "i64", "bool"]


@pytest.mark.parametrize("src", CAST_DTYPES)
def test_casts(llvm_compile, src):
    body = [f"%r{k}: {dst}[N] = cast(%x) {{dtype = {dst}}}" for k, dst in enumerate(CAST_DTYPES)]
    module = kernel_module(f"%x: {src}[N]", body,
                           [(f"%r{k}", f"{d}[N]") for k, d in enumerate(CAST_DTYPES)])
    exe = llvm_compile(module)
    rng = np.random.default_rng(5)
    x = random_array(rng, src, (40,), -1000, 1000)
    if src.startswith("f"):
        x[:6] = [0.0, -0.0, 0.5, -0.5, 2.5, -7.9]   # in range for every integer target
    assert_matches(module, exe, [x])
    assert_matches(module, exe, [x[:0]])


def test_zero_d_and_broadcast_shapes(llvm_compile):
    """0-d operands, size-1 axes broadcast, rank-extending broadcasts."""
    module = kernel_module(
        "%s: f32[], %c: f32[N,1], %r: f32[1,M], %v: f32[M]",
        ["%a: f32[N,M] = add(%c, %r)", "%b: f32[N,M] = mul(%a, %s)",
         "%d: f32[N,M] = sub(%b, %v)", "%e: f32[] = exp(%s)"],
        [("%d", "f32[N,M]"), ("%e", "f32[]"), ("%a", "f32[N,M]")])
    exe = llvm_compile(module)
    rng = np.random.default_rng(6)
    for n, m in [(3, 4), (1, 1), (0, 4), (5, 0)]:
        assert_matches(module, exe, [np.float32(1.5), random_array(rng, "f32", (n, 1)),
                                     random_array(rng, "f32", (1, m)),
                                     random_array(rng, "f32", (m,))])


def test_runtime_broadcast_of_unknown_dims(llvm_compile):
    """A '?' dim may be 1 or the full size at run time: both broadcast correctly."""
    module = kernel_module("%x: f32[?,4], %y: f32[?,4]",
                           ["%z: f32[?,4] = add(%x, %y)"], [("%z", "f32[?,4]")])
    exe = llvm_compile(module)
    rng = np.random.default_rng(7)
    a, b = random_array(rng, "f32", (3, 4)), random_array(rng, "f32", (1, 4))
    assert_matches(module, exe, [a, b])
    assert_matches(module, exe, [b, a])
    assert_matches(module, exe, [a, a])
