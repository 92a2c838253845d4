"""Reductions, softmax, movement ops and matmul against the interpreter:
as fused primitive Funcs (several stages in one group) and as standalone
nodes of the entry function (one group each, views where possible)."""

from __future__ import annotations

import numpy as np
import pytest

from graphc.errors import ExecutionError

from numba_test_helpers import TOLERANCE, assert_matches, random_array

REDUCTIONS = """
func private @fused_0(%x: DT[N,M,K]) -> (DT[N,K], DT[N,1,K], DT[], DT[M,K], DT[N,M], DT[N,M,K], DT[N,M,K], i64[N,K]) attributes {primitive = true} {
  %e: DT[N,M,K] = mul(%x, %x)
  %0: DT[N,K] = sum(%e) {axes = [1]}
  %1: DT[N,1,K] = max(%x) {axes = [1], keepdims = true}
  %2: DT[] = min(%x)
  %3: DT[M,K] = mean(%x) {axes = [0]}
  %4: DT[N,M] = sum(%x) {axes = [-1]}
  %5: DT[N,M,K] = softmax(%x) {axis = -1}
  %6: DT[N,M,K] = log_softmax(%x) {axis = 1}
  %7: i64[N,K] = argmax(%x) {axis = 1}
  return %0, %1, %2, %3, %4, %5, %6, %7
}
func @main(%x: DT[N,M,K]) -> (DT[N,K], DT[N,1,K], DT[], DT[M,K], DT[N,M], DT[N,M,K], DT[N,M,K], i64[N,K]) {
  %a: DT[N,K], %b: DT[N,1,K], %c: DT[], %d: DT[M,K], %e: DT[N,M], %f: DT[N,M,K], %g: DT[N,M,K], %h: i64[N,K] = call @fused_0(%x)
  return %a, %b, %c, %d, %e, %f, %g, %h
}
"""


@pytest.mark.parametrize("dtype", ["f16", "f32", "f64"])
def test_reductions_and_softmax(numba_compile, dtype):
    module = REDUCTIONS.replace("DT", dtype)
    exe = numba_compile(module)
    rng = np.random.default_rng(5)
    rtol, atol = TOLERANCE[dtype]
    for shape in [(2, 3, 4), (1, 1, 1), (3, 5, 1), (2, 64, 33)]:
        x = random_array(rng, dtype, shape)
        assert_matches(module, exe, [x], rtol=rtol * 10, atol=atol * 10)
    x = random_array(rng, dtype, (2, 3, 4))
    x[0, 1, 2] = np.nan  # NaN propagates through max/min/softmax, argmax finds it
    assert_matches(module, exe, [x], rtol=rtol * 10, atol=atol * 10)


def test_integer_reductions_wrap(numba_compile):
    module = """
func @main(%x: i32[N,M]) -> (i32[N], i32[], i64[M], i32[M]) {
  %0: i32[N] = sum(%x) {axes = [1]}
  %1: i32[] = sum(%x)
  %2: i64[M] = argmax(%x) {axis = 0}
  %3: i32[M] = max(%x) {axes = [0]}
  return %0, %1, %2, %3
}"""
    exe = numba_compile(module)
    big = np.array([[2**31 - 1, 5], [2**31 - 1, -7]], dtype=np.int32)
    assert_matches(module, exe, [big])
    assert_matches(module, exe, [np.ones((1, 3), np.int32)])


MOVEMENT = """
func private @fused_0(%x: f32[N,6], %i: i64[K], %y: f32[6,N]) -> (f32[N,6], f32[6,N], f32[N,3], f32[K,6], f32[N,2,3], f32[2,N,6], f32[N,12], f32[1,N,6], f32[N,6]) attributes {primitive = true} {
  %s: f32[N,6] = sigmoid(%x)
  %r: f32[N,6] = add(%s, %x)
  %t: f32[6,N] = transpose(%r)
  %u: f32[6,N] = add(%t, %y)
  %sl: f32[N,3] = slice(%r) {axes = [1], starts = [5], stops = [none], steps = [-2]}
  %g: f32[K,6] = gather(%r, %i) {axis = 0}
  %rs: f32[N,2,3] = reshape(%r) {shape = [N, 2, 3]}
  %bc: f32[2,N,6] = broadcast_to(%r) {shape = [2, N, 6]}
  %cc: f32[N,12] = concat(%r, %x) {axis = 1}
  %ed: f32[1,N,6] = expand_dims(%r) {axes = [0]}
  %sq: f32[N,6] = squeeze(%ed) {axes = [0]}
  return %r, %u, %sl, %g, %rs, %bc, %cc, %ed, %sq
}
func @main(%x: f32[N,6], %i: i64[K], %y: f32[6,N]) -> (f32[N,6], f32[6,N], f32[N,3], f32[K,6], f32[N,2,3], f32[2,N,6], f32[N,12], f32[1,N,6], f32[N,6]) {
  %0: f32[N,6], %1: f32[6,N], %2: f32[N,3], %3: f32[K,6], %4: f32[N,2,3], %5: f32[2,N,6], %6: f32[N,12], %7: f32[1,N,6], %8: f32[N,6] = call @fused_0(%x, %i, %y)
  return %0, %1, %2, %3, %4, %5, %6, %7, %8
}
"""


def test_movement_ops_fused(numba_compile):
    exe = numba_compile(MOVEMENT)
    rng = np.random.default_rng(6)
    for n, k in [(3, 4), (1, 1), (0, 0), (5, 0)]:
        x = random_array(rng, "f32", (n, 6))
        idx = rng.integers(-n, n, k) if n else np.zeros(0, np.int64)
        y = random_array(rng, "f32", (6, n))
        assert_matches(MOVEMENT, exe, [x, idx.astype(np.int64), y])


def test_gather_out_of_range_is_an_error(numba_compile):
    exe = numba_compile(MOVEMENT)
    x = np.ones((2, 6), np.float32)
    with pytest.raises(ExecutionError, match="gather"):
        exe(x, np.array([0, 2], np.int64), np.ones((6, 2), np.float32))


STANDALONE = """
func @main(%x: f32[N,4], %w: f32[4,3], %i: i32[M]) -> (f32[3,N], f32[N,2,2], f32[4,3], f32[M,4], f32[N,1,4], f32[N,4], f32[2,N,4], f32[N,4]) {
  %t: f32[N,4] = tanh(%x)
  %tt: f32[4,N] = transpose(%t)
  %m: f32[3,N] = matmul(transpose(%w), %tt)
  %r: f32[N,2,2] = reshape(%t) {shape = [N, 2, 2]}
  %wt: f32[3,4] = transpose(%w)
  %ww: f32[4,3] = transpose(%wt)
  %g: f32[M,4] = gather(%t, %i) {axis = 0}
  %e: f32[N,1,4] = expand_dims(%t) {axes = [1]}
  %s: f32[N,4] = squeeze(%e) {axes = [1]}
  %c: f32[2,N,4] = broadcast_to(%x) {shape = [2, N, 4]}
  %sl: f32[N,4] = slice(%x) {axes = [0], starts = [none], stops = [none], steps = [1]}
  return %m, %r, %ww, %g, %e, %s, %c, %sl
}"""


def test_standalone_movement_and_views(numba_compile):
    text = STANDALONE.replace("matmul(transpose(%w), %tt)", "matmul(%wt, %tt)")
    text = text.replace("  %m: f32[3,N] = matmul(%wt, %tt)\n", "")
    text = text.replace("  %wt: f32[3,4] = transpose(%w)\n",
                        "  %wt: f32[3,4] = transpose(%w)\n  %m: f32[3,N] = matmul(%wt, %tt)\n")
    exe = numba_compile(text)
    views = [g.group.view for g in exe.groups if g.group.view]
    assert "swap_last_axes" in views and "reshape" in views
    rng = np.random.default_rng(7)
    for n in (3, 1, 0):
        x, w = random_array(rng, "f32", (n, 4)), random_array(rng, "f32", (4, 3))
        i = rng.integers(-n, n, 5).astype(np.int32) if n else np.zeros(0, np.int32)
        outs = assert_matches(text, exe, [x, w, i], rtol=1e-5, atol=1e-5)
        assert all(o.flags.c_contiguous and o.flags.owndata for o in outs)


MLP_FUSED = """
func private @fused_0(%x: DT[N,K], %w: DT[K,H], %b: DT[H]) -> (DT[N,H]) attributes {primitive = true} {
  %0: DT[N,H] = matmul(%x, %w)
  %1: DT[N,H] = add(%0, %b)
  %2: DT[N,H] = relu(%1)
  return %2
}
func private @fused_1(%h: DT[N,H], %w: DT[H,C]) -> (DT[N,C], DT[N,C]) attributes {primitive = true} {
  %0: DT[N,C] = matmul(%h, %w)
  %1: DT[N,C] = softmax(%0) {axis = -1}
  return %0, %1
}
func @main(%x: DT[N,K], %w1: DT[K,H], %b1: DT[H], %w2: DT[H,C]) -> (DT[N,C], DT[N,C]) {
  %h: DT[N,H] = call @fused_0(%x, %w1, %b1)
  %l: DT[N,C], %p: DT[N,C] = call @fused_1(%h, %w2)
  return %l, %p
}
"""


@pytest.mark.parametrize("dtype", ["f32", "f64", "i64"])
def test_matmul_with_epilogue(numba_compile, dtype):
    module = MLP_FUSED.replace("DT", dtype)
    if dtype == "i64":
        module = module.replace("  %1: i64[N,C] = softmax(%0) {axis = -1}\n",
                                "  %1: i64[N,C] = neg(%0)\n")
    exe = numba_compile(module)
    fused0 = exe.groups[0].lowered
    assert fused0.aliases, "the bias+relu epilogue should run in place in the matmul output"
    rng = np.random.default_rng(8)
    for n in (5, 1, 0, 300):
        args = [random_array(rng, dtype, s) for s in [(n, 7), (7, 9), (9,), (9, 4)]]
        assert_matches(module, exe, args, rtol=1e-4, atol=1e-5)


def test_batched_and_vector_matmul(numba_compile):
    module = """
func @main(%a: f32[B,N,K], %b: f32[K,M], %v: f32[K], %c: f32[B,K,M]) -> (f32[B,N,M], f32[B,N], f32[], f32[B,N,M]) {
  %0: f32[B,N,M] = matmul(%a, %b)
  %1: f32[B,N] = matmul(%a, %v)
  %2: f32[] = matmul(%v, %v)
  %3: f32[B,N,M] = matmul(%a, %c)
  return %0, %1, %2, %3
}"""
    exe = numba_compile(module)
    rng = np.random.default_rng(9)
    a, b = random_array(rng, "f32", (2, 3, 4)), random_array(rng, "f32", (4, 5))
    v, c = random_array(rng, "f32", (4,)), random_array(rng, "f32", (2, 4, 5))
    assert_matches(module, exe, [a, b, v, c], rtol=1e-5, atol=1e-5)


def test_scatter_add(numba_compile):
    module = """
func @main(%x: f32[N,3], %i: i64[K], %u: f32[K,3], %y: i32[4]) -> (f32[N,3], i32[4]) {
  %e: f32[N,3] = exp(%x)
  %0: f32[N,3] = scatter_add(%e, %i, %u) {axis = 0}
  %1: i32[4] = scatter_add(%y, %i, %y) {axis = 0}
  return %0, %1
}"""
    exe = numba_compile(module)
    rng = np.random.default_rng(10)
    x, u = random_array(rng, "f32", (4, 3)), random_array(rng, "f32", (4, 3))
    idx = np.array([0, -1, 0, 2], np.int64)      # repeats accumulate, negatives wrap
    assert_matches(module, exe, [x, idx, u, np.arange(4, dtype=np.int32)], rtol=1e-6)
    with pytest.raises(ExecutionError):
        exe(x, np.array([0, 9, 0, 0], np.int64), u, np.arange(4, dtype=np.int32))


def test_default_pipeline_output(numba_compile):
    """The fuse pass's primitive Funcs compile and agree with the interpreter."""
    run_pipeline = pytest.importorskip("graphc.passes").run_pipeline
    from graphc.ir import parse_module
    text = MLP_FUSED.replace("DT", "f32")
    module = run_pipeline(parse_module(text), "default")
    exe = numba_compile(module)
    rng = np.random.default_rng(11)
    args = [random_array(rng, "f32", s) for s in [(6, 7), (7, 9), (9,), (9, 4)]]
    assert_matches(parse_module(text), exe, args, rtol=1e-5, atol=1e-6)


SINGLE_CONCAT = """
func private @fused_0(%x: f32[N,3]) -> (f32[N,3]) attributes {primitive = true} {
  %0: f32[N,3] = concat(%x) {axis = 0}
  %1: f32[N,3] = neg(%0)
  return %1
}
func @main(%x: f32[N,3]) -> (f32[N,3]) {
  %y: f32[N,3] = call @fused_0(%x)
  return %y
}
"""


def test_concat_of_a_single_input_is_a_copy(numba_compile):
    exe = numba_compile(SINGLE_CONCAT)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    assert_matches(SINGLE_CONCAT, exe, [x])
