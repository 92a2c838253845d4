"""Program-level behaviour: outlined transposes as BLAS views, shared
kernels, column reductions, the workspace keeping every address it hands to
kernels alive, ``profile``, and an autodiff train step against the
interpreter."""

from __future__ import annotations

import numpy as np
import pytest

from graphc.backends.numba import mathlib, pointers, programgen
from graphc.backends.numba.workspace import Workspace
from graphc.ir import Builder, Module, TensorType, parse_module

from numba_test_helpers import TOLERANCE, assert_matches, random_array

OUTLINED = """
func private @fused_0(%w: f32[M,K]) -> (f32[K,M]) attributes {primitive = true} {
  %0: f32[K,M] = transpose(%w) {perm = [1, 0]}
  return %0
}
func private @fused_1(%a: f32[N,K], %wt: f32[K,M], %b: f32[M]) -> (f32[N,M]) attributes {primitive = true} {
  %1: f32[N,M] = matmul(%a, %wt)
  %2: f32[N,M] = add(%1, %b)
  return %2
}
func private @fused_2(%x: f32[N,M], %y: f32[N,M]) -> (f32[N,M]) attributes {primitive = true} {
  %0: f32[N,M] = mul(%x, %y)
  return %0
}
func @main(%a: f32[N,K], %w: f32[M,K], %b: f32[M], %c: f32[N,K]) -> (f32[N,M], f32[N,M], f32[N,M]) {
  %wt: f32[K,M] = call @fused_0(%w)
  %p: f32[N,M] = call @fused_1(%a, %wt, %b)
  %q: f32[N,M] = call @fused_1(%c, %wt, %b)
  %r: f32[N,M] = call @fused_2(%p, %q)
  %s: f32[N,M] = call @fused_2(%q, %p)
  return %r, %s, %p
}"""


def test_outlined_transpose_is_a_view_and_kernels_are_shared(numba_compile):
    exe = numba_compile(OUTLINED)
    assert exe.groups[0].group.view == "swap_last_axes"      # no kernel, BLAS flag
    assert exe.groups[0].lowered is None
    # fused_1 is called twice and fused_2 twice: one kernel each in the program
    assert exe.compile_report.kernels == 2
    assert exe.program_source.count("if kid ==") == 2
    rng = np.random.default_rng(0)
    for n in (5, 1, 0):
        args = [random_array(rng, "f32", s) for s in [(n, 6), (7, 6), (7,), (n, 6)]]
        assert_matches(OUTLINED, exe, args, rtol=1e-5, atol=1e-5)


COLUMNS = """
func @main(%x: DT[N,M], %y: DT[T,N,M]) -> (DT[M], DT[1,M], DT[M], DT[M], DT[M], DT[1,1,M]) {
  %0: DT[M] = sum(%x) {axes = [0]}
  %1: DT[1,M] = mean(%x) {axes = [0], keepdims = true}
  %2: DT[M] = max(%x) {axes = [0]}
  %3: DT[M] = min(%x) {axes = [0]}
  %e: DT[T,N,M] = mul(%y, %y)
  %4: DT[M] = sum(%e) {axes = [0, 1]}
  %5: DT[1,1,M] = max(%y) {axes = [0, 1], keepdims = true}
  return %0, %1, %2, %3, %4, %5
}"""


@pytest.mark.parametrize("dtype", ["f32", "f64", "f16", "i32"])
def test_column_reductions(numba_compile, dtype):
    text = COLUMNS.replace("DT", dtype)
    if dtype == "i32":     # mean of ints is not defined in the IR: use sum
        text = text.replace("mean(%x) {axes = [0], keepdims = true}",
                            "sum(%x) {axes = [0], keepdims = true}")
    exe = numba_compile(text)
    assert "stack_" in exe.program_source        # the blocked column form was used
    rng = np.random.default_rng(1)
    rtol, atol = TOLERANCE.get(dtype, (0, 0))
    # f16: numpy's own reference rounds to f16 after every row it adds, so
    # long columns drift from the f64-accumulated result; keep them short
    shapes = [(5, 3), (7, 130), (1, 64), (3, 0)] if dtype == "f16" else \
        [(5, 3), (70, 130), (1, 64), (3, 0), (257, 65)]
    for n, m in shapes:
        x = random_array(rng, dtype, (n, m))
        y = random_array(rng, dtype, (2, n, m))
        if dtype.startswith("f") and x.size:
            x[n // 2, m // 2] = np.nan        # NaN propagates through its column
        assert_matches(text, exe, [x, y], rtol=rtol * 10, atol=atol * 10)


def test_workspace_keeps_every_address_alive(numba_compile):
    """Kernel tables hold raw addresses: each one the workspace fills in must
    point into an array the workspace itself references (a freed buffer
    would be reused by the allocator while kernels still write to it)."""
    from graphc.passes import run_pipeline
    module = run_pipeline(parse_module(COLUMNS.replace("DT", "f32")), "default")
    exe = numba_compile(module)
    exe(np.ones((4, 3), np.float32), np.ones((2, 4, 3), np.float32))
    (plan,) = exe._runner._plans.values()
    ws = Workspace(plan)
    held = list(ws.buffers) + ws.pinned + [ws.error_flag]
    spans = [(a.ctypes.data, a.ctypes.data + max(a.nbytes, 1)) for a in held]
    per_call = {(id(table), entry) for entries in ws.patches.values()
                for table, entry in entries}
    checked = 0
    for step in ws.steps:
        if not hasattr(step, "table"):
            continue
        for entry in range(step.addresses):
            if (id(step.table), entry) in per_call:
                continue
            address = int(step.table[entry])
            assert any(lo <= address < hi for lo, hi in spans), f"{address:#x} is not held"
            checked += 1
    assert checked


def test_profile_reports_every_step(numba_compile):
    exe = numba_compile(OUTLINED)
    rng = np.random.default_rng(2)
    args = [random_array(rng, "f32", s) for s in [(4, 6), (7, 6), (7,), (4, 6)]]
    rows = exe.profile(*args, repeat=3)
    labels = [label for label, _ in rows]
    assert sum("matmul" in label for label in labels) == 2
    assert sum("kernel" in label for label in labels) == 4
    assert all(seconds >= 0 for _, seconds in rows)


def test_generated_header_names_every_helper():
    assert set(programgen.MATH_HELPERS) == set(mathlib.HELPERS)
    assert set(programgen.POINTER_HELPERS) == set(pointers.POINTER_HELPERS)


def _mlp_train_step() -> Module:
    """A two-layer MLP's SGD step built with vjp_func, as benchmarks/W3 is."""
    from graphc.passes.autodiff import vjp_func
    from graphc.passes.inline import inline_calls
    forward = parse_module("""
func @loss(%x: f32[N,6], %y: f32[N,3], %w1: f32[6,5], %b1: f32[5], %w2: f32[5,3], %b2: f32[3]) -> (f32[]) {
  %0: f32[N,5] = matmul(%x, %w1)
  %1: f32[N,5] = add(%0, %b1)
  %2: f32[N,5] = relu(%1)
  %3: f32[N,3] = matmul(%2, %w2)
  %4: f32[N,3] = add(%3, %b2)
  %5: f32[N,3] = log_softmax(%4) {axis = -1}
  %6: f32[N,3] = mul(%y, %5)
  %7: f32[N] = sum(%6) {axes = [1]}
  %8: f32[] = mean(%7)
  %9: f32[] = neg(%8)
  return %9
}""").entry
    weights = ("w1", "b1", "w2", "b2")
    grad = vjp_func(forward, weights, name="loss_grad").replace(private=True)
    b = Builder("step")
    params = [b.param(p.type, p.name) for p in forward.params]
    lr = b.param(TensorType("f32", ()), "lr")
    loss, *grads = b.call(grad, *params)
    by_name = {p.name: p for p in params}
    new = [b.emit("sub", by_name[w], b.emit("mul", lr, g)) for w, g in zip(weights, grads)]
    step = b.finish(loss, *new)
    return Module([inline_calls(step, Module([step, grad]))])


def test_autodiff_train_step_matches_interpreter(numba_compile):
    from graphc.passes import run_pipeline
    module = run_pipeline(_mlp_train_step(), "default")
    exe = numba_compile(module)
    kinds = [k.kind for cg in exe.groups if cg.lowered for k in cg.lowered.kernels]
    # the loss and its gradient share row loops; the scalar loss runs as one serial kernel
    assert "rows" in kinds
    rng = np.random.default_rng(3)
    for n in (8, 1, 33):
        x = random_array(rng, "f32", (n, 6))
        y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]
        ws = [random_array(rng, "f32", s, -0.5, 0.5) for s in [(6, 5), (5,), (5, 3), (3,)]]
        assert_matches(module, exe, [x, y, *ws, np.float32(0.1)], rtol=1e-5, atol=1e-6)


def test_dropped_results_are_recycled_and_live_ones_never(numba_compile):
    exe = numba_compile("""
func @main(%x: f32[N]) -> (f32[N]) {
  %0: f32[N] = exp(%x)
  return %0
}""")
    x = np.linspace(-1, 1, 50_000, dtype=np.float32)
    first = exe(x)[0]
    address = first.ctypes.data
    kept = exe(x)[0]                            # `first` is alive: a new array
    assert not np.shares_memory(first, kept)
    view = kept[::2]                            # a view keeps `kept` alive too
    del first
    again = exe(x)[0]                           # `first` was dropped: its memory returns
    assert again.ctypes.data == address
    assert not np.shares_memory(again, view) and not np.shares_memory(again, kept)
    np.testing.assert_allclose(again, np.exp(x), rtol=2e-7)
    np.testing.assert_allclose(view, np.exp(x)[::2], rtol=2e-7)
