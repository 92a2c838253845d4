"""The cuda backend on a real GPU: larger shapes than the simulator can run,
correctness only (timings belong to ``benchmarks/cuda_bench.py``).

Marked ``gpu``: skipped where numba.cuda sees no GPU; on a GPU machine run
``pytest -m gpu tests/backends/cuda``.  Kernels use the default GPU launch
geometry (256 threads per block, 16x16 matmul tiles).  Tolerances against
the interpreter: f32 elementwise rtol 1e-5 / atol 1e-6 (libdevice is within
a few ulp), f32 reductions and matmuls rtol 1e-4 / atol 1e-4 (long sums in
another order), f64 rtol 1e-10; integers exact.
"""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc.backends import get_backend
from graphc.backends.cuda.target import gpu_problem
from graphc.passes import run_pipeline

from cuda_test_helpers import assert_same_results, reference

_PROBLEM = gpu_problem()
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(_PROBLEM is not None, reason=f"needs a CUDA GPU: {_PROBLEM}")]

ELEMENTWISE = {"float32": (1e-5, 1e-6), "float64": (1e-10, 1e-10)}
REDUCTIONS = {"float32": (1e-4, 1e-4), "float64": (1e-10, 1e-10)}


def _gpu_compile(module):
    exe = get_backend("cuda").compile(module, {"target": "gpu"})
    assert exe.target.kind == "gpu"
    return exe


def test_w1_elementwise_over_a_million_elements():
    module = graphc.ir.parse_module("""
func @w1(%x: f32[N], %a: f32[], %b: f32[], %c: f32[]) -> (f32[N]) {
  %0: f32[N] = mul(%x, %a)
  %1: f32[N] = add(%0, %b)
  %2: f32[N] = gelu(%1) {approximate = true}
  %3: f32[N] = mul(%2, %c)
  return %3
}""")
    module = run_pipeline(module, "default")
    exe = _gpu_compile(module)
    assert len(exe.kernels) == 1
    x = np.random.default_rng(0).standard_normal(1 << 20).astype(np.float32)
    args = [x, np.float32(1.1), np.float32(0.2), np.float32(0.3)]
    assert_same_results(exe(*args), reference(module, *args), ELEMENTWISE)


def test_mlp_forward_with_layer_norm():
    model = graphc.Sequential([
        graphc.Input((300,)),
        graphc.layers.Dense(257, activation="gelu"),
        graphc.layers.LayerNormalization(),
        graphc.layers.Dense(10, activation="softmax"),
    ])
    module = run_pipeline(model.to_ir(), "default")
    exe = _gpu_compile(module)
    weights = model.get_weights()
    for batch in (1, 129):
        x = np.random.default_rng(batch).standard_normal((batch, 300)).astype(np.float32)
        assert_same_results(exe(x, *weights), reference(module, x, *weights), REDUCTIONS)


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_batched_matmul_with_odd_sizes_and_epilogue(dtype):
    module = graphc.ir.parse_module("""
func @main(%a: DT[B,M,K], %w: DT[K,N], %bias: DT[N]) -> (DT[B,M,N]) {
  %0: DT[B,M,N] = matmul(%a, %w)
  %1: DT[B,M,N] = add(%0, %bias)
  %2: DT[B,M,N] = tanh(%1)
  return %2
}""".replace("DT", dtype))
    module = run_pipeline(module, "default")
    exe = _gpu_compile(module)
    assert len(exe.kernels) == 1
    rng = np.random.default_rng(1)
    np_dtype = np.float32 if dtype == "f32" else np.float64
    args = [rng.standard_normal((3, 301, 517)).astype(np_dtype) / 10,
            rng.standard_normal((517, 203)).astype(np_dtype) / 10,
            rng.standard_normal(203).astype(np_dtype)]
    assert_same_results(exe(*args), reference(module, *args), REDUCTIONS)


def test_reductions_softmax_and_argmax_on_long_rows():
    module = graphc.ir.parse_module("""
func @main(%x: f32[R,C]) -> (f32[R], f32[C], f32[R,C], i64[R], f32[]) {
  %0: f32[R] = sum(%x) {axes = [1]}
  %1: f32[C] = max(%x) {axes = [0]}
  %2: f32[R,C] = log_softmax(%x) {axis = -1}
  %3: i64[R] = argmax(%x) {axis = 1}
  %4: f32[] = mean(%x)
  return %0, %1, %2, %3, %4
}""")
    exe = _gpu_compile(run_pipeline(module, "default"))
    x = np.random.default_rng(2).standard_normal((513, 1000)).astype(np.float32)
    assert_same_results(exe(x), reference(module, x), REDUCTIONS)


def test_weights_stay_on_the_device_between_calls():
    module = graphc.ir.parse_module("""
func @main(%x: f32[N,64], %w: f32[64,64]) -> (f32[N,64]) {
  %0: f32[N,64] = matmul(%x, %w)
  return %0
}""")
    exe = _gpu_compile(module)
    rng = np.random.default_rng(3)
    w = rng.standard_normal((64, 64)).astype(np.float32)
    exe.keep_on_device([1])
    for batch in (8, 8, 16):
        x = rng.standard_normal((batch, 64)).astype(np.float32)
        assert_same_results(exe(x, w), reference(module, x, w), REDUCTIONS)
    assert exe.transfer_stats.uploads == 1
    w *= 2
    x = rng.standard_normal((8, 64)).astype(np.float32)
    assert_same_results(exe(x, w), reference(module, x, w), REDUCTIONS)
    assert exe.transfer_stats.uploads == 2
