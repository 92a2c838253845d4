"""Fused groups on the cuda backend (simulator) against the interpreter.

Models from the front end go through ``run_pipeline(module, "default")``, so
the kernels are the primitive Funcs the ``fuse`` pass makes: matmul with
its epilogue, softmax, layer norm.  Each such group must become exactly one
kernel; groups that do not fit one kernel (reductions over two domains, a
reduction read through a transposed index) fall back to staged kernels,
which must be just as correct.  Symbolic batch: one compile serves every
batch size.  Tolerances: the reduction table of ``cuda_test_helpers``.
"""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc.backends.cuda import CudaBackend
from graphc.passes import run_pipeline

from cuda_test_helpers import REDUCTION_TOL, assert_matches, compile_sim, reference


def _mlp(activation: str = "relu") -> graphc.Model:
    return graphc.Sequential([
        graphc.Input((6,)),
        graphc.layers.Dense(8, activation=activation),
        graphc.layers.LayerNormalization(),
        graphc.layers.Dense(5, activation="softmax"),
    ])


def _strategies(exe) -> list[str]:
    return [ge.lowered.strategy for ge in exe.groups if ge.lowered is not None]


@pytest.mark.parametrize("activation", ["relu", "gelu", "sigmoid", "tanh"])
def test_mlp_with_layer_norm_and_softmax(activation):
    model = _mlp(activation)
    module = run_pipeline(model.to_ir(), "default")
    exe = compile_sim(module)
    assert all(s.startswith("fused") for s in _strategies(exe)), _strategies(exe)
    assert len(exe.kernels) == len(_strategies(exe))  # one kernel per fused group
    weights = model.get_weights()
    rng = np.random.default_rng(1)
    for batch in (3, 1):
        x = rng.standard_normal((batch, 6)).astype(np.float32)
        got = assert_matches(module, exe, [x, *weights], REDUCTION_TOL)
        np.testing.assert_allclose(got[0].sum(axis=-1), 1.0, rtol=1e-5)


def test_one_compile_serves_every_batch_size():
    model = _mlp()
    module = run_pipeline(model.to_ir(), "default")
    exe = compile_sim(module)
    weights = model.get_weights()
    kernels = list(exe.kernels)
    for batch in (2, 5, 0, 2):
        x = np.random.default_rng(batch).standard_normal((batch, 6)).astype(np.float32)
        got = assert_matches(module, exe, [x, *weights], REDUCTION_TOL)
        assert got[0].shape == (batch, 5)
    assert exe.kernels == kernels
    assert len(exe._runner._plans) == 3  # one shape plan (and buffer set) per batch size


def test_graphc_compile_runs_a_model_on_the_simulator():
    model = _mlp()
    x = np.random.default_rng(2).standard_normal((4, 6)).astype(np.float32)
    compiled = graphc.compile(model, backend=CudaBackend(target="simulator"))
    want = graphc.compile(model, backend="interpreter")(x)
    np.testing.assert_allclose(compiled(x), want, rtol=1e-5, atol=1e-6)


LAYER_NORM_DROPPED_DIMS = """
func private @fused_0(%x: f32[N,T,C], %g: f32[C]) -> (f32[N,T,C], f32[N,T]) attributes {primitive = true} {
  %m: f32[N,T] = mean(%x) {axes = [2]}
  %me: f32[N,T,1] = expand_dims(%m) {axes = [2]}
  %d: f32[N,T,C] = sub(%x, %me)
  %sq: f32[N,T,C] = square(%d)
  %v: f32[N,T,1] = mean(%sq) {axes = [-1], keepdims = true}
  %e: f32[] = constant() {value = 0.00001}
  %ve: f32[N,T,1] = add(%v, %e)
  %r: f32[N,T,1] = rsqrt(%ve)
  %y: f32[N,T,C] = mul(%d, %r)
  %out: f32[N,T,C] = mul(%y, %g)
  %mx: f32[N,T] = max(%x) {axes = [2]}
  %row: f32[N,T] = add(%mx, %m)
  return %out, %row
}
func @main(%x: f32[N,T,C], %g: f32[C]) -> (f32[N,T,C], f32[N,T]) {
  %0: f32[N,T,C], %1: f32[N,T] = call @fused_0(%x, %g)
  return %0, %1
}
"""


def test_layer_norm_over_two_kept_axes_is_one_row_kernel():
    exe = compile_sim(LAYER_NORM_DROPPED_DIMS)
    assert _strategies(exe) == ["fused rows"] and len(exe.kernels) == 1
    rng = np.random.default_rng(3)
    for shape in [(2, 3, 5), (1, 1, 1), (2, 1, 6)]:
        x = rng.standard_normal(shape).astype(np.float32)
        g = rng.standard_normal(shape[-1:]).astype(np.float32)
        assert_matches(LAYER_NORM_DROPPED_DIMS, exe, [x, g], REDUCTION_TOL)


SOFTMAX_FAMILY = """
func private @fused_0(%x: DT[A,B]) -> (DT[A,B], DT[A,B], DT[B], i64[1,B]) attributes {primitive = true} {
  %s: DT[A,B] = softmax(%x) {axis = 0}
  %l: DT[A,B] = log_softmax(%x) {axis = 0}
  %t: DT[A,B] = add(%s, %l)
  %loss: DT[B] = sum(%l) {axes = [0]}
  %nl: DT[B] = neg(%loss)
  %am: i64[1,B] = argmax(%x) {axis = 0, keepdims = true}
  return %s, %t, %nl, %am
}
func @main(%x: DT[A,B]) -> (DT[A,B], DT[A,B], DT[B], i64[1,B]) {
  %0: DT[A,B], %1: DT[A,B], %2: DT[B], %3: i64[1,B] = call @fused_0(%x)
  return %0, %1, %2, %3
}
"""


@pytest.mark.parametrize("dtype", ["f16", "f32", "f64"])
def test_softmax_log_softmax_and_loss_along_axis_0(dtype):
    module = SOFTMAX_FAMILY.replace("DT", dtype)
    exe = compile_sim(module)
    assert _strategies(exe) == ["fused rows"]
    rng = np.random.default_rng(4)
    for shape in [(5, 3), (1, 2), (3, 1)]:
        x = rng.uniform(-3, 3, shape).astype(dtype.replace("f", "float"))
        assert_matches(module, exe, [x], REDUCTION_TOL)
    x = rng.uniform(-3, 3, (4, 3)).astype(dtype.replace("f", "float"))
    x[1, 2] = np.nan  # NaN reaches its whole column, argmax finds it
    x[:, 0] = -np.inf  # an all -inf column: numpy's NaN softmax, argmax 0
    assert_matches(module, exe, [x], REDUCTION_TOL)


ROW_SUM_ALONG_LAST = """
func private @fused_0(%x: f32[K,K]) -> (f32[K,K]) attributes {primitive = true} {
  %s: f32[K] = sum(%x) {axes = [1]}
  %y: f32[K,K] = sub(%x, %s)
  return %y
}
func @main(%x: f32[K,K]) -> (f32[K,K]) {
  %0: f32[K,K] = call @fused_0(%x)
  return %0
}
"""


def test_reduction_read_by_another_row_falls_back_to_stages():
    """``x - sum(x, axis=1)`` broadcasts the row sums along the *last* axis: a row's
    kernel would need other rows' sums, so the group is lowered in two launches."""
    exe = compile_sim(ROW_SUM_ALONG_LAST)
    assert _strategies(exe) == ["staged (2 kernels)"]
    x = np.random.default_rng(5).standard_normal((4, 4)).astype(np.float32)
    assert_matches(ROW_SUM_ALONG_LAST, exe, [x], REDUCTION_TOL)


LOSS = """
func private @fused_0(%x: f32[N,C], %y: f32[N,C]) -> (f32[], f32[N]) attributes {primitive = true} {
  %ls: f32[N,C] = log_softmax(%x) {axis = -1}
  %p: f32[N,C] = mul(%ls, %y)
  %r: f32[N] = sum(%p) {axes = [1]}
  %n: f32[N] = neg(%r)
  %m: f32[] = mean(%n)
  return %m, %n
}
func @main(%x: f32[N,C], %y: f32[N,C]) -> (f32[], f32[N]) {
  %0: f32[], %1: f32[N] = call @fused_0(%x, %y)
  return %0, %1
}
"""


def test_row_losses_then_their_mean_are_staged():
    exe = compile_sim(LOSS)
    assert _strategies(exe)[0].startswith("staged")
    rng = np.random.default_rng(6)
    for n in (3, 1, 0):
        x = rng.standard_normal((n, 4)).astype(np.float32)
        y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, n)]
        assert_matches(LOSS, exe, [x, y], REDUCTION_TOL)


MATMUL_EPILOGUES = """
func private @fused_0(%a: DT[B,M,K], %w: DT[K,N], %bias: DT[N], %res: DT[B,M,N]) -> (DT[B,M,N], DT[B,M,N]) attributes {primitive = true} {
  %0: DT[B,M,N] = matmul(%a, %w)
  %1: DT[B,M,N] = add(%0, %bias)
  %2: DT[B,M,N] = ACT(%1)
  %3: DT[B,M,N] = add(%2, %res)
  return %3, %0
}
func @main(%a: DT[B,M,K], %w: DT[K,N], %bias: DT[N], %res: DT[B,M,N]) -> (DT[B,M,N], DT[B,M,N]) {
  %0: DT[B,M,N], %1: DT[B,M,N] = call @fused_0(%a, %w, %bias, %res)
  return %0, %1
}
"""


@pytest.mark.parametrize("dtype,act", [("f32", "relu"), ("f64", "tanh"), ("f16", "sigmoid"),
                                       ("i32", "relu"), ("i64", "neg")])
def test_batched_matmul_with_epilogue_is_one_kernel(dtype, act):
    module = MATMUL_EPILOGUES.replace("DT", dtype).replace("ACT", act)
    exe = compile_sim(module)
    assert _strategies(exe) == ["fused matmul"] and len(exe.kernels) == 1
    rng = np.random.default_rng(7)
    np_dtype = {"f16": np.float16, "f32": np.float32, "f64": np.float64, "i32": np.int32,
                "i64": np.int64}[dtype]
    for b, m, k, n in [(2, 3, 5, 4), (1, 1, 1, 1), (1, 2, 0, 3)]:
        arrays = [rng.uniform(-2, 2, s).astype(np_dtype) if dtype[0] == "f"
                  else rng.integers(-9, 9, s).astype(np_dtype)
                  for s in [(b, m, k), (k, n), (n,), (b, m, n)]]
        assert_matches(module, exe, arrays, REDUCTION_TOL)


def test_int32_matmul_wraps_like_numpy():
    module = MATMUL_EPILOGUES.replace("DT", "i32").replace("ACT", "relu")
    exe = compile_sim(module)
    a = np.full((1, 2, 3), 2 ** 20, np.int32)
    w = np.full((3, 2), 2 ** 12, np.int32)
    assert_matches(module, exe, [a, w, np.zeros(2, np.int32), np.zeros((1, 2, 2), np.int32)])


VECTOR_MATMULS = """
func @main(%v: f32[K], %m: f32[K,N], %bm: f32[B,K,N]) -> (f32[], f32[N], f32[B,N], f32[K,B]) {
  %0: f32[] = matmul(%v, %v)
  %1: f32[N] = matmul(%v, %m)
  %2: f32[B,N] = matmul(%v, %bm)
  %t: f32[B,N,K] = transpose(%bm) {perm = [0, 2, 1]}
  %3: f32[B,N] = matmul(%t, %v)
  %mb: f32[N,B] = transpose(%3)
  %4: f32[K,B] = matmul(%m, %mb)
  return %0, %1, %2, %4
}
"""


def test_vector_and_transposed_matmuls_unfused():
    """Nodes of the entry function, each its own kernel; the transposes that feed a
    matmul are groups the numba backend runs as views (here: copy kernels)."""
    exe = compile_sim(VECTOR_MATMULS)
    rng = np.random.default_rng(8)
    for k, n, b in [(3, 4, 2), (1, 1, 1), (0, 2, 2)]:
        arrays = [rng.standard_normal(s).astype(np.float32) for s in [(k,), (k, n), (b, k, n)]]
        assert_matches(VECTOR_MATMULS, exe, arrays, REDUCTION_TOL)


ELEMENTWISE_MANY_SHAPES = """
func private @fused_0(%x: f32[N,3], %c: f32[3], %k: i64[]) -> (f32[N,3], f32[3,N], f32[3], f32[N,3], f32[N,2]) attributes {primitive = true} {
  %e: f32[N,3] = exp(%x)
  %a: f32[N,3] = add(%e, %c)
  %t: f32[3,N] = transpose(%a)
  %g: f32[3] = gelu(%c) {approximate = true}
  %u: f32[N,3] = random_uniform(%k, %x)
  %cst: f32[2] = constant() {value = [1.0, -2.0]}
  %sl: f32[N,2] = slice(%a) {axes = [1], starts = [1], stops = [none]}
  %z: f32[N,2] = mul(%sl, %cst)
  return %a, %t, %g, %u, %z
}
func @main(%x: f32[N,3], %c: f32[3], %k: i64[]) -> (f32[N,3], f32[3,N], f32[3], f32[N,3], f32[N,2]) {
  %0: f32[N,3], %1: f32[3,N], %2: f32[3], %3: f32[N,3], %4: f32[N,2] = call @fused_0(%x, %c, %k)
  return %0, %1, %2, %3, %4
}
"""


def test_elementwise_group_with_several_result_shapes_is_one_kernel():
    exe = compile_sim(ELEMENTWISE_MANY_SHAPES)
    assert _strategies(exe) == ["fused elementwise"] and len(exe.kernels) == 1
    rng = np.random.default_rng(9)
    for n in (2, 5, 0):
        x = rng.standard_normal((n, 3)).astype(np.float32)
        c = rng.standard_normal(3).astype(np.float32)
        got = assert_matches(ELEMENTWISE_MANY_SHAPES, exe, [x, c, np.int64(1234567)])
        ref = reference(ELEMENTWISE_MANY_SHAPES, x, c, np.int64(1234567))
        np.testing.assert_array_equal(got[3], ref[3])  # random bits are identical


@pytest.mark.parametrize("geometry", [dict(block_size=1, tile=1, max_blocks=1),
                                      dict(block_size=8, tile=3, max_blocks=3)])
def test_launch_geometry_does_not_change_results(geometry):
    """Blocks of one thread, odd tiles, grids smaller than the work: the grid-stride
    and block-stride loops and the reduction trees must cover every element."""
    model = _mlp("gelu")
    module = run_pipeline(model.to_ir(), "default")
    exe = compile_sim(module, **geometry)
    x = np.random.default_rng(10).standard_normal((5, 6)).astype(np.float32)
    assert_matches(module, exe, [x, *model.get_weights()], REDUCTION_TOL)


UNKNOWN_DIMS = """
func private @fused_0(%x: f32[N,4]) -> (f32[2,?], f32[2], f32[2,1]) attributes {primitive = true} {
  %r: f32[2,?] = reshape(%x) {shape = [2, -1]}
  %s: f32[2,?] = softmax(%r) {axis = 1}
  %t: f32[2] = sum(%r) {axes = [1]}
  %m: f32[2,1] = max(%r) {axes = [1], keepdims = true}
  return %s, %t, %m
}
func @main(%x: f32[N,4], %w: f32[?,3]) -> (f32[2,?], f32[2], f32[2,1], f32[2,3]) {
  %0: f32[2,?], %1: f32[2], %2: f32[2,1] = call @fused_0(%x)
  %r: f32[2,?] = reshape(%x) {shape = [2, -1]}
  %3: f32[2,3] = matmul(%r, %w)
  return %0, %1, %2, %3
}
"""


def test_unknown_dims_are_lowered_in_stages():
    """``?`` dims cannot be proved equal, so nothing relies on two of them agreeing."""
    exe = compile_sim(UNKNOWN_DIMS)
    rng = np.random.default_rng(11)
    for n in (1, 3):
        x = rng.standard_normal((n, 4)).astype(np.float32)
        w = rng.standard_normal((2 * n, 3)).astype(np.float32)
        assert_matches(UNKNOWN_DIMS, exe, [x, w], REDUCTION_TOL)
