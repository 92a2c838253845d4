"""The llvm backend's runtime and compiler: input checks, compile-time
errors, options, the in-process and on-disk caches, buffer plans, threads,
and what ``source()`` shows."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from graphc.backends import get_backend
from graphc.backends.llvm import SUPPORTED_OPS, backend as llvm_backend
from graphc.backends.llvm.objcache import ObjectCache
from graphc.errors import BackendError, InputError, LoweringError
from graphc.ir import all_ops, parse_module

from llvm_helpers import assert_matches

GELU = """
func @main(%x: f32[N], %s: f32[]) -> (f32[N]) {
  %y: f32[N] = mul(%x, %s)
  %z: f32[N] = gelu(%y) {approximate = true}
  return %z
}
"""

SOFTMAX = """
func @main(%x: f32[N,C]) -> (f32[N,C], f32[N]) {
  %p: f32[N,C] = softmax(%x) {axis = -1}
  %m: f32[N] = max(%x) {axes = [1]}
  return %p, %m
}
"""


def test_every_registered_op_is_lowered():
    ops = {op.name for op in all_ops()} - {"call"}
    assert ops <= SUPPORTED_OPS, sorted(ops - SUPPORTED_OPS)
    assert get_backend("llvm").supported_ops() == SUPPORTED_OPS


def test_f16_is_rejected_at_compile_time_naming_the_value(llvm_compile):
    src = ("func @main(%x: f16[N]) -> (f16[N]) {\n"
           "  %y: f16[N] = neg(%x)\n  return %y\n}\n")
    with pytest.raises(LoweringError, match=r"does not support dtype f16: parameter %x: "
                                            r"f16\[N\] in @main.*cast to f32"):
        llvm_compile(src)
    mixed = ("func @main(%x: f32[N]) -> (f32[N]) {\n"
             "  %h: f16[N] = cast(%x) {dtype = f16}\n"
             "  %y: f32[N] = cast(%h) {dtype = f32}\n  return %y\n}\n")
    with pytest.raises(LoweringError, match=r"op 'cast' produces f16\[N\]"):
        llvm_compile(mixed)


@pytest.mark.parametrize("options,message", [
    ({"opt_level": 1}, "opt_level expects 2 or 3"),
    ({"cache": "yes"}, "cache expects true or false"),
    ({"cache_dir": 3}, "cache_dir expects a path"),
    ({"threads": 0}, "threads expects an integer >= 1"),
    ({"parallel_min_size": -1}, "parallel_min_size expects"),
    ({"vectorize": True}, "has no option.*vectorize"),
])
def test_bad_options(options, message):
    with pytest.raises(BackendError, match=message):
        get_backend("llvm").compile(parse_module(GELU), options)


def test_inputs_are_checked(llvm_compile):
    exe = llvm_compile(GELU)
    x = np.ones(3, np.float32)
    with pytest.raises(InputError, match="takes 2 input"):
        exe(x)
    with pytest.raises(InputError, match="expects dtype float32"):
        exe(x.astype(np.float64), np.float32(1))
    with pytest.raises(InputError, match="rank"):
        exe(np.ones((2, 2), np.float32), np.float32(1))


def test_symbol_bound_inconsistently_is_an_input_error(llvm_compile):
    src = ("func @main(%x: f32[N], %y: f32[N]) -> (f32[N]) {\n"
           "  %z: f32[N] = add(%x, %y)\n  return %z\n}\n")
    exe = llvm_compile(src)
    with pytest.raises(InputError, match="symbol N was bound to 3"):
        exe(np.ones(3, np.float32), np.ones(4, np.float32))


def test_outputs_are_fresh_and_inputs_untouched(llvm_compile):
    exe = llvm_compile(SOFTMAX)
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    before = x.copy()
    a = exe(x)
    b = exe(x)
    np.testing.assert_array_equal(x, before)
    assert not any(np.shares_memory(p, q) for p in a for q in b)
    np.testing.assert_array_equal(a[0], b[0])


def test_intermediate_buffers_are_planned_once_per_signature(llvm_compile):
    src = """
func @main(%x: f32[N,8], %w: f32[8,8]) -> (f32[N,8]) {
  %a: f32[N,8] = matmul(%x, %w)
  %b: f32[N,8] = tanh(%a)
  %c: f32[N,8] = matmul(%b, %w)
  %d: f32[N,8] = relu(%c)
  %e: f32[N,8] = matmul(%d, %w)
  return %e
}
"""
    exe = llvm_compile(src)
    rng = np.random.default_rng(1)
    w = rng.standard_normal((8, 8)).astype(np.float32)
    for n in (5, 5, 3):
        assert_matches(src, exe, [rng.standard_normal((n, 8)).astype(np.float32), w],
                       rtol=1e-5, atol=1e-5)
    plans = {tuple(shape for _, shape in key): plan for key, plan in exe._runner.plans().items()}
    assert set(plans) == {((5, 8), (8, 8)), ((3, 8), (8, 8))}
    memory = plans[((5, 8), (8, 8))].memory
    # the intermediates %a..%d live in at most two blocks (lifetimes do not all overlap)
    assert len({m.base.ctypes.data for m in memory.values()}) <= 2 < len(memory) + 1


def test_non_contiguous_and_transposed_inputs(llvm_compile):
    src = """
func @main(%x: f32[N,M], %w: f32[M,K]) -> (f32[N,K], f32[N,M]) {
  %y: f32[N,K] = matmul(%x, %w)
  %z: f32[N,M] = exp(%x)
  return %y, %z
}
"""
    exe = llvm_compile(src)
    rng = np.random.default_rng(2)
    big = rng.standard_normal((6, 10)).astype(np.float32)
    w = rng.standard_normal((7, 5)).astype(np.float32)
    assert_matches(src, exe, [big[::2, 1:8], w.T.copy().T], rtol=1e-5, atol=1e-6)
    assert_matches(src, exe, [big.T[:7, :3].T, np.asfortranarray(w)], rtol=1e-5, atol=1e-6)


def test_concurrent_calls_from_threads(llvm_compile):
    exe = llvm_compile(SOFTMAX)
    rng = np.random.default_rng(3)
    inputs = [rng.standard_normal((n, 33)).astype(np.float32) for n in (1, 7, 64, 7)]
    expected = [exe(x) for x in inputs]
    failures: list = []

    def worker(k: int) -> None:
        try:
            for _ in range(30):
                x = inputs[k % len(inputs)]
                for got, want in zip(exe(x), expected[k % len(inputs)]):
                    np.testing.assert_array_equal(got, want)
        except Exception as exc:  # reported in the main thread
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[0]


@pytest.fixture
def empty_kernel_cache(monkeypatch):
    monkeypatch.setattr(llvm_backend, "_CACHE", {})


def test_object_cache_hit_skips_llvm(tmp_path, empty_kernel_cache):
    backend = get_backend("llvm")
    first = backend.compile(parse_module(SOFTMAX), {"cache_dir": str(tmp_path)})
    assert not first.compile_report.llvm.from_disk
    entries = list((tmp_path / "llvm").rglob("*.o"))
    assert len(entries) == 1
    llvm_backend._CACHE.clear()
    second = backend.compile(parse_module(SOFTMAX), {"cache_dir": str(tmp_path)})
    assert second.compile_report.llvm.from_disk
    x = np.random.default_rng(4).standard_normal((3, 5)).astype(np.float32)
    for a, b in zip(first(x), second(x)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_cache_dir_others_may_write_is_refused(tmp_path, empty_kernel_cache):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(BackendError, match="writable by other users"):
        get_backend("llvm").compile(parse_module(SOFTMAX), {"cache_dir": str(shared)})
    uncached = get_backend("llvm").compile(parse_module(SOFTMAX), {"cache": False})
    assert uncached(np.ones((2, 5), np.float32))[0].shape == (2, 5)


def test_corrupted_cache_entry_is_detected_and_rebuilt(tmp_path, empty_kernel_cache):
    backend = get_backend("llvm")
    backend.compile(parse_module(GELU), {"cache_dir": str(tmp_path)})
    (entry,) = list((tmp_path / "llvm").rglob("*.o"))
    data = bytearray(entry.read_bytes())
    data[-10] ^= 0xFF
    entry.write_bytes(bytes(data))
    llvm_backend._CACHE.clear()
    exe = backend.compile(parse_module(GELU), {"cache_dir": str(tmp_path)})
    assert not exe.compile_report.llvm.from_disk          # rebuilt, not loaded
    assert ObjectCache(tmp_path).load(entry.stem) is not None   # and stored again
    x = np.linspace(-3, 3, 11, dtype=np.float32)
    assert_matches(GELU, exe, [x, np.float32(1.5)])
    entry.write_bytes(b"short")
    assert ObjectCache(tmp_path).load(entry.stem) is None and not entry.exists()


def test_cache_key_covers_target_and_opt_level():
    key = ObjectCache.key
    assert key("ir", "cpu-a", 3) != key("ir", "cpu-b", 3)
    assert key("ir", "cpu-a", 3) != key("ir", "cpu-a", 2)
    assert key("ir", "cpu-a", 3) != key("ir2", "cpu-a", 3)


def test_source_shows_ir_steps_and_views(llvm_compile):
    src = """
func @main(%x: f32[N,4], %w: f32[3,4]) -> (f32[N,3]) {
  %t: f32[4,3] = transpose(%w) {perm = [1, 0]}
  %y: f32[N,3] = call @fused(%x, %t)
  return %y
}
func private @fused(%x: f32[N,4], %t: f32[4,3]) -> (f32[N,3]) attributes {primitive = true} {
  %m: f32[N,3] = matmul(%x, %t)
  %r: f32[N,3] = relu(%m)
  return %r
}
"""
    exe = llvm_compile(src)
    (runner,) = exe.runners.values()
    assert [b.role for b in runner.info.buffers] == ["param", "param", "result"]  # in place
    text = exe.source()
    assert "zero-copy view (swap_last_axes)" in text
    assert "numpy.matmul(out=...) -> BLAS" in text
    assert "define internal i32" in text and "noalias" in text
    rng = np.random.default_rng(5)
    assert_matches(src, exe, [rng.standard_normal((2, 4)).astype(np.float32),
                              rng.standard_normal((3, 4)).astype(np.float32)], rtol=1e-5)


def test_opt_level_2_gives_the_same_results(llvm_compile):
    exe2, exe3 = llvm_compile(SOFTMAX, opt_level=2), llvm_compile(SOFTMAX)
    x = np.random.default_rng(6).standard_normal((5, 9)).astype(np.float32)
    for a, b in zip(exe2(x), exe3(x)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_launches_split_over_threads_give_the_same_results(llvm_compile):
    src = """
func @main(%x: f32[N,C], %i: i64[K]) -> (f32[N,C], f32[N,C], f32[K,C]) {
  %p: f32[N,C] = softmax(%x) {axis = -1}
  %t: f32[N,C] = tanh(%x)
  %g: f32[K,C] = gather(%x, %i) {axis = 0}
  return %p, %t, %g
}
"""
    split = llvm_compile(src, threads=3, parallel_min_size=0)
    serial = llvm_compile(src, threads=1)
    rng = np.random.default_rng(7)
    for n in (1, 2, 7, 50):
        x = rng.standard_normal((n, 9)).astype(np.float32)
        idx = rng.integers(-n, n, 11)
        for a, b in zip(split(x, idx), serial(x, idx)):
            np.testing.assert_array_equal(a, b)
        assert_matches(src, split, [x, idx])
    from graphc.errors import ExecutionError
    with pytest.raises(ExecutionError, match="index 50 is out of range"):
        split(x, np.array([0, 50, 1] * 5, np.int64))


_FORKED: dict = {}


def _run_forked_gelu(x):
    return _FORKED["exe"](x, np.float32(1.5))[0]


def test_split_launches_work_in_a_forked_child(llvm_compile):
    import multiprocessing
    exe = _FORKED["exe"] = llvm_compile(GELU, threads=2, parallel_min_size=0)
    x = np.linspace(-3, 3, 64, dtype=np.float32)
    want = exe(x, np.float32(1.5))[0]        # starts the pool's worker in this process
    with multiprocessing.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(_run_forked_gelu, (x,)).get(timeout=60)
    np.testing.assert_array_equal(got, want)
