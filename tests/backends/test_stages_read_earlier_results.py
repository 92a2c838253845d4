"""A fused kernel whose later stage reads what an earlier stage of the same
kernel wrote -- at one index for every iteration (a 0-d or keepdims
reduction broadcast back).  The gradient of ``max`` has exactly this shape:
``eq(x, max(x)) / sum(eq(x, max(x)))``.  A compiled backend must read the
earlier result after it is written, not hoist the load above the stage that
writes it -- and, when the reduction keeps a size-1 axis, recognise the
value it just computed however the later read spells the index (the
gradient of a softmax over an axis of size 1).  Every compiled backend is
compared with the interpreter."""

from __future__ import annotations

import numpy as np
import pytest

from graphc.backends import get_backend
from graphc.ir import parse_module
from graphc.passes import run_pipeline
from tests.backends.oracle import assert_same_results, reference

BACKENDS = [("numba", {}), ("llvm", {}), ("cuda", {"target": "simulator"})]
TOL = {"float32": (1e-6, 1e-6), "float64": (1e-12, 1e-12)}

MAX_GRADIENT = """
func @main(%x: DT[N,M]) -> (DT[], DT[N,M]) {
  %0: DT[] = max(%x) {axes = none, keepdims = false}
  %1: DT[1,1] = expand_dims(%0) {axes = [0, 1]}
  %2: bool[N,M] = eq(%1, %x)
  %3: DT[N,M] = cast(%2) {dtype = DT}
  %4: DT[1,1] = sum(%3) {axes = [0, 1], keepdims = true}
  %5: DT[N,M] = div(%3, %4)
  return %0, %5
}
"""

ROW_MAX_GRADIENT = """
func @main(%x: DT[N,M]) -> (DT[N,M]) {
  %0: DT[N,1] = max(%x) {axes = [1], keepdims = true}
  %1: bool[N,M] = eq(%x, %0)
  %2: DT[N,M] = cast(%1) {dtype = DT}
  %3: DT[N,1] = sum(%2) {axes = [1], keepdims = true}
  %4: DT[N,M] = div(%2, %3)
  %5: DT[] = sum(%4) {axes = none, keepdims = false}
  %6: DT[N,M] = mul(%4, %5)
  return %6
}
"""

SOFTMAX_GRADIENT = """
func @main(%x: DT[N,1], %ct: DT[N,1]) -> (DT[N,1], DT[N,1]) {
  %s: DT[N,1] = softmax(%x) {axis = -1}
  %0: DT[N,1] = mul(%ct, %s)
  %1: DT[N,1] = sum(%0) {axes = [-1], keepdims = true}
  %2: DT[N,1] = sub(%ct, %1)
  %3: DT[N,1] = mul(%s, %2)
  return %s, %3
}
"""


@pytest.mark.parametrize("backend,options", BACKENDS, ids=[b for b, _ in BACKENDS])
@pytest.mark.parametrize("text", [MAX_GRADIENT, ROW_MAX_GRADIENT, SOFTMAX_GRADIENT,
                                  SOFTMAX_GRADIENT.replace("N,1", "1,1")],
                         ids=["max", "row-max", "softmax", "softmax-1x1"])
@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_later_stage_reads_the_earlier_result(backend, options, text, dtype, tmp_path):
    module = parse_module(text.replace("DT", dtype))
    fused = run_pipeline(module, "default")
    assert any(f.primitive for f in fused.funcs), "the pattern should fuse into one kernel"
    exe = get_backend(backend).compile(fused, {**options, "cache_dir": str(tmp_path)}
                                       if backend != "cuda" else options)
    rng = np.random.default_rng(3)
    for n, m in [(5, 3), (1, 1), (4, 40)]:
        sizes = {"N": n, "M": m}
        arrays = [rng.normal(size=[sizes.get(d, d) for d in p.type.shape])
                  .astype(dtype.replace("f", "float")) for p in module.entry.params]
        if arrays[0].shape[0] != n:
            continue
        x = arrays[0]
        x[0, 0] = x.max()      # a tie: the gradient is shared between the maxima
        assert_same_results(exe(*arrays), reference(module, *arrays), TOL)
