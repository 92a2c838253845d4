"""Loading object code without numba (symbol checks before MCJIT sees the
object) and the two kernel pools (native and the Python fallback)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from graphc.backends import get_backend
from graphc.backends.numba import loader, nativepool
from graphc.backends.numba.threads import KernelPool
from graphc.errors import BackendError
from graphc.ir import parse_module


def _object_calling(symbol: str) -> bytes:
    """A relocatable object whose function ``graphc_test_entry`` calls ``symbol``."""
    import llvmlite.binding as llvm
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    module = llvm.parse_assembly(f"""
declare void @{symbol}()
define void @graphc_test_entry(i64 %k, i64 %lo, i64 %hi, i64* %p) {{
  call void @{symbol}()
  ret void
}}""")
    machine = llvm.Target.from_default_triple().create_target_machine(codemodel="jitdefault")
    return machine.emit_object(module)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads ELF objects")
def test_undefined_symbols_are_read_from_the_object():
    obj = _object_calling("graphc_no_such_function")
    assert "graphc_no_such_function" in loader.undefined_symbols(obj)
    assert loader.undefined_symbols(b"not an object") is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads ELF objects")
def test_unresolvable_symbol_is_refused_before_loading():
    # MCJIT would abort the process on this symbol; the loader must refuse first
    with pytest.raises(BackendError, match="graphc_no_such_function"):
        loader.load_program(_object_calling("graphc_no_such_function"), "graphc_test_entry")


def test_known_symbols_load():
    entry = loader.load_program(_object_calling("sched_yield"), "graphc_test_entry")
    entry(0, 0, 0, None)


GELU = """
func private @fused_0(%x: f32[N]) -> (f32[N]) attributes {primitive = true} {
  %0: f32[N] = gelu(%x) {approximate = true}
  return %0
}
func @main(%x: f32[N]) -> (f32[N]) {
  %0: f32[N] = call @fused_0(%x)
  return %0
}"""


def test_warm_process_never_imports_numba(tmp_path):
    script = textwrap.dedent(f"""
        import json, sys, numpy as np
        from graphc.backends import get_backend
        from graphc.ir import parse_module
        exe = get_backend("numba").compile(parse_module({GELU!r}))
        out = exe(np.linspace(-3, 3, 100000, dtype=np.float32))[0]
        print(json.dumps({{"compiled": exe.compile_report.compiled,
                          "numba": "numba" in sys.modules, "sum": float(out.sum())}}))
    """)
    env = dict(os.environ, GRAPHC_CACHE_DIR=str(tmp_path))
    cold, warm = (json.loads(subprocess.run([sys.executable, "-c", script], env=env, check=True,
                                            capture_output=True, text=True).stdout)
                  for _ in range(2))
    assert cold["compiled"] == 1 and cold["numba"]
    assert warm["compiled"] == 0 and not warm["numba"]
    assert warm["sum"] == cold["sum"]


def test_warm_process_links_kernels_that_need_numbas_runtime(tmp_path):
    # exact gelu's float32 erf links numba's runtime helpers (NRT_*): the loader
    # provides them in a process that starts from the cache
    script = textwrap.dedent(f"""
        import json, numpy as np
        from graphc.backends import get_backend
        from graphc.ir import parse_module
        text = {GELU!r}.replace(" {{approximate = true}}", "")
        exe = get_backend("numba").compile(parse_module(text))
        out = exe(np.linspace(-3, 3, 1000, dtype=np.float32))[0]
        print(json.dumps({{"compiled": exe.compile_report.compiled,
                          "disk": exe.compile_report.from_disk, "sum": float(out.sum())}}))
    """)
    env = dict(os.environ, GRAPHC_CACHE_DIR=str(tmp_path))
    cold, warm = (json.loads(subprocess.run([sys.executable, "-c", script], env=env, check=True,
                                            capture_output=True, text=True).stdout)
                  for _ in range(2))
    assert cold["compiled"] == 1
    assert warm["compiled"] == 0 and warm["disk"] == 1 and warm["sum"] == cold["sum"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads ELF objects")
def test_a_cache_entry_that_cannot_be_linked_is_rebuilt(tmp_path):
    from graphc.backends.numba.compiler import clear_memory_cache
    backend = get_backend("numba")
    module = parse_module(GELU)
    x = np.linspace(-3, 3, 50, dtype=np.float32)
    clear_memory_cache()
    want = backend.compile(module, {"cache_dir": str(tmp_path)})(x)[0]
    (entry,) = [p for p in (tmp_path / "numba-v2").glob("*/*") if p.is_dir()]
    # a well-formed entry (digests match) whose object needs a symbol no process has
    obj = _object_calling("graphc_no_such_function")
    (entry / "program.o").write_bytes(obj)
    manifest = json.loads((entry / "manifest.json").read_text())
    manifest["symbol"] = "graphc_test_entry"
    manifest["files"]["program.o"] = hashlib.sha256(obj).hexdigest()
    (entry / "manifest.json").write_text(json.dumps(manifest))
    clear_memory_cache()
    again = backend.compile(module, {"cache_dir": str(tmp_path)})
    assert again.compile_report.compiled == 1 and again.compile_report.from_disk == 0
    np.testing.assert_array_equal(again(x)[0], want)
    clear_memory_cache()
    assert backend.compile(module, {"cache_dir": str(tmp_path)}).compile_report.from_disk == 1


def _record_pool(pool, extent: int, work: int) -> np.ndarray:
    """Launch a program whose kernel marks every index it is given."""
    import ctypes
    hits = np.zeros(extent, np.int64)
    lock = threading.Lock()

    @ctypes.CFUNCTYPE(None, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p)
    def entry(kid, lo, hi, table):
        with lock:
            hits[lo:hi] += 1

    address = ctypes.cast(entry, ctypes.c_void_p).value
    pool.launch(address, entry, 7, extent, 0, work)
    return hits


@pytest.mark.parametrize("kind", ["native", "python"])
def test_pools_cover_every_index_once(kind):
    if kind == "native" and not nativepool.supported():
        pytest.skip("native pool is x86-64 Linux only")
    pool = nativepool.NativePool(3) if kind == "native" else KernelPool(3)
    for extent, work in [(1, 1), (2, 1 << 20), (17, 1 << 20), (1000, 1 << 22), (65536, 1 << 30)]:
        np.testing.assert_array_equal(_record_pool(pool, extent, work), np.ones(extent))
        pool.park()


def test_native_pool_busy_caller_runs_alone():
    if not nativepool.supported():
        pytest.skip("native pool is x86-64 Linux only")
    pool = nativepool.NativePool(2)
    results = []

    def worker():
        for _ in range(50):
            results.append(_record_pool(pool, 64, 1 << 20))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 150 and all((r == 1).all() for r in results)
