"""Runtime contract (input checks, fresh outputs, threads, kernel pool) and
the on-disk cache (warm second process, corrupted / foreign entries,
directory permissions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from graphc.backends import get_backend
from graphc.backends.numba.compiler import clear_memory_cache
from graphc.backends.numba.kernelgen import lower_group
from graphc.errors import BackendError, InputError, LoweringError
from graphc.ir import Func, Node, OpDef, TensorType, Value, parse_module

from numba_test_helpers import assert_matches

GELU = """
func @main(%x: f32[N], %a: f32[], %b: f32[], %c: f32[]) -> (f32[N], f32[N]) {
  %0: f32[N] = mul(%x, %a)
  %1: f32[N] = add(%0, %b)
  %2: f32[N] = gelu(%1) {approximate = true}
  %3: f32[N] = mul(%2, %c)
  return %3, %x
}"""


FUSED_GELU = """
func private @fused_0(%x: f32[N], %a: f32[], %b: f32[], %c: f32[]) -> (f32[N]) attributes {primitive = true} {
  %0: f32[N] = mul(%x, %a)
  %1: f32[N] = add(%0, %b)
  %2: f32[N] = gelu(%1) {approximate = true}
  %3: f32[N] = mul(%2, %c)
  return %3
}
func @main(%x: f32[N], %a: f32[], %b: f32[], %c: f32[]) -> (f32[N]) {
  %0: f32[N] = call @fused_0(%x, %a, %b, %c)
  return %0
}"""


def _args(n):
    rng = np.random.default_rng(n)
    return [rng.standard_normal(n).astype(np.float32), np.float32(1.1), np.float32(0.2),
            np.float32(0.3)]


def test_inputs_checked_and_outputs_fresh(numba_compile):
    exe = numba_compile(GELU)
    x, a, b, c = _args(10)
    with pytest.raises(InputError, match="dtype float32"):
        exe(x.astype(np.float64), a, b, c)
    with pytest.raises(InputError, match="takes 4 input"):
        exe(x, a, b)
    out, echo = exe(x, a, b, c)
    assert echo is not x and not np.shares_memory(echo, x)
    out2, _ = exe(x, a, b, c)
    assert out2 is not out and not np.shares_memory(out, out2)
    np.testing.assert_array_equal(out, out2)
    strided = np.repeat(x, 2)[::2]          # non-contiguous, converted not misread
    assert_matches(GELU, exe, [strided, a, b, c])


def test_kernel_pool_split_and_threads(numba_compile):
    exe = numba_compile(GELU, parallel_min_size=0, threads=3)   # force chunking
    args = [_args(n) for n in (1, 2, 5, 1000, 4097)]
    for a in args:
        assert_matches(GELU, exe, a)
    want = [exe(*a)[0] for a in args]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            got = list(pool.map(lambda a: exe(*a)[0], args * 4))
            for g, w in zip(got, want * 4):
                np.testing.assert_array_equal(g, w)


def test_unknown_op_is_a_lowering_error():
    fake = OpDef(name="frobnicate", arity=1, infer=lambda x: x, reference=lambda x: x)
    x = Value(TensorType("f32", (3,)), "x")
    y = Value(TensorType("f32", (3,)), "y")
    func = Func("fused_9", (x,), (Node(fake, (x,), fake.make_attrs({}), (y,)),), (y,),
                private=True, primitive=True)
    with pytest.raises(LoweringError, match="frobnicate"):
        lower_group(func)


def test_every_registered_op_is_lowered():
    from graphc.ir import all_ops
    backend = get_backend("numba")
    missing = {op.name for op in all_ops()} - backend.supported_ops() - {"call"}
    assert not missing, f"ops the numba backend does not lower: {sorted(missing)}"


def test_bad_options_are_errors(tmp_path):
    backend = get_backend("numba")
    module = parse_module(GELU)
    with pytest.raises(BackendError, match="no option"):
        backend.compile(module, {"bogus": 1})
    with pytest.raises(BackendError, match="threads"):
        backend.compile(module, {"threads": 0})
    with pytest.raises(BackendError, match="parallel_min_size_blas"):
        backend.compile(module, {"parallel_min_size_blas": -1})


def test_blas_programs_use_their_own_split_threshold(numba_compile):
    mlp = """
func @main(%x: f32[N,4], %w: f32[4,3]) -> (f32[N,3]) {
  %0: f32[N,3] = matmul(%x, %w)
  %1: f32[N,3] = tanh(%0)
  return %1
}"""
    assert numba_compile(mlp, parallel_min_size_blas=7)._runner.min_size == 7
    assert numba_compile(GELU, parallel_min_size=5)._runner.min_size == 5
    x, w = np.ones((3000, 4), np.float32), np.ones((4, 3), np.float32)
    exe = numba_compile(mlp, parallel_min_size_blas=0, threads=2)   # split next to BLAS
    assert_matches(mlp, exe, [x, w], rtol=1e-6, atol=1e-6)


def _entries(root: Path) -> list[Path]:
    return [p for p in (root / "numba-v2").glob("*/*") if p.is_dir() and not p.name.startswith(".")]


def test_cache_corrupted_and_foreign_entries_are_rebuilt(tmp_path):
    backend = get_backend("numba")
    module = parse_module(FUSED_GELU)
    args = _args(64)
    clear_memory_cache()
    exe = backend.compile(module, {"cache_dir": str(tmp_path)})
    want = exe(*args)[0]
    (entry,) = _entries(tmp_path)
    assert not list(entry.parent.glob(".tmp-*"))             # published atomically
    data = entry / "program.o"
    data.write_bytes(data.read_bytes()[: len(data.read_bytes()) // 2])   # truncate
    clear_memory_cache()
    again = backend.compile(module, {"cache_dir": str(tmp_path)})
    assert again.compile_report.compiled == 1 and again.compile_report.from_disk == 0
    np.testing.assert_array_equal(again(*args)[0], want)
    # a foreign entry: right place, manifest of another key
    (entry,) = _entries(tmp_path)
    manifest = json.loads((entry / "manifest.json").read_text())
    manifest["key"] = "0" * 64
    (entry / "manifest.json").write_text(json.dumps(manifest))
    clear_memory_cache()
    third = backend.compile(module, {"cache_dir": str(tmp_path)})
    assert third.compile_report.compiled == 1
    np.testing.assert_array_equal(third(*args)[0], want)
    clear_memory_cache()
    warm = backend.compile(module, {"cache_dir": str(tmp_path)})
    assert warm.compile_report.from_disk == 1 and warm.compile_report.compiled == 0


def test_second_process_starts_warm(tmp_path):
    script = textwrap.dedent(f"""
        import json, numpy as np
        from graphc.backends import get_backend
        from graphc.ir import parse_module
        exe = get_backend("numba").compile(parse_module({FUSED_GELU!r}))
        r = exe.compile_report
        out = exe(np.arange(5, dtype=np.float32), np.float32(1.1), np.float32(0.2),
                  np.float32(0.3))[0]
        print(json.dumps({{"disk": r.from_disk, "compiled": r.compiled,
                          "out": out.tolist()}}))
    """)
    env = dict(os.environ, GRAPHC_CACHE_DIR=str(tmp_path))
    runs = [json.loads(subprocess.run([sys.executable, "-c", script], env=env, check=True,
                                      capture_output=True, text=True).stdout) for _ in range(2)]
    assert runs[0]["compiled"] >= 1
    assert runs[1]["compiled"] == 0 and runs[1]["disk"] >= 1
    assert runs[0]["out"] == runs[1]["out"]
    assert _entries(tmp_path)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_cache_dir_writable_by_others_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(BackendError, match="writable by other users"):
        get_backend("numba").compile(parse_module(GELU), {"cache_dir": str(shared)})
    uncached = get_backend("numba").compile(parse_module(GELU), {"cache": False})
    assert uncached(*_args(3))[0].shape == (3,)


def test_source_and_dump_kernels(numba_compile, tmp_path):
    exe = numba_compile(GELU)
    text = exe.source()
    assert "def kernel_1(lo, hi" in text and "gelu_tanh_f32" in text
    written = exe.dump_kernels(tmp_path / "k")
    assert written and all(p.read_text().startswith("# =====") for p in written)
