"""Compile a program's kernels with numba, through the on-disk cache.

A *program source* (``programgen.py``) is the Python text of one function,
``graphc_program(kid, lo, hi, P)``, that holds every kernel of a compiled
model as one branch of a dispatch on ``kid``.  Its text depends only on the
IR structure, dtypes and lowering rules -- never on names or source
locations -- so structurally equal models share one cache entry.

``KernelCompiler.compile_program`` returns a ctypes function pointer to it:

1. the cache key is computed (``cache.py`` lists what goes in);
2. an in-process memo answers repeated compiles of the same key at once;
3. a valid on-disk entry's object code is loaded by ``loader.py`` with
   llvmlite alone: a warm process never imports numba;
4. otherwise numba compiles the source as one C callback (``numba.cfunc``),
   its object code is written to a staging directory with the source and
   a manifest, the directory is published atomically, and the object is
   loaded exactly as a warm process would load it.

Why one function: numba's cost is mostly per compiled function (typing
set-up, the CPython wrapper, finalising and linking a library), so one
function with N branches compiles far faster than N functions, and a cache
entry is one object file to load.  Why a C callback: no CPython wrapper to
build or call; ctypes calls it with four integers and releases the GIL.

Compile flags: ``error_model="numpy"`` (no zero-division checks, which
would stop vectorization) and ``fastmath={"contract"}`` (fused multiply-add
only: never reassociation or "no NaN" assumptions, which would change the
results numpy gives).  Kernels run serial inside; ``threads.py`` splits
launches over threads and says why numba's threading layer is not used.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graphc.errors import BackendError, LoweringError

from .cache import OBJECT, SOURCE, KernelCache, read_manifest
from .loader import load_program
from .programgen import ENTRY

COMPILE_FLAGS = dict(error_model="numpy", fastmath={"contract"})


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _host_fingerprint() -> dict:
    import llvmlite
    import llvmlite.binding as llvm
    here = Path(__file__).parent
    code = hashlib.sha256()
    for path in sorted(here.glob("*.py")):
        code.update(path.name.encode() + b"\0" + path.read_bytes())
    return {"numba": _version("numba"), "llvmlite": llvmlite.__version__,
            "numpy": np.__version__, "python": platform.python_version(),
            "triple": llvm.get_process_triple(), "cpu": llvm.get_host_cpu_name(),
            "features": llvm.get_host_cpu_features().flatten(),
            "backend_code": code.hexdigest()}


_HOST: dict | None = None


def host_fingerprint() -> dict:
    global _HOST
    if _HOST is None:
        _HOST = _host_fingerprint()
    return _HOST


@dataclass
class CompileReport:
    """What the compiler did, for ``Executable.compile_report``."""

    modules: int = 0          # programs asked for (one per compile)
    from_memory: int = 0
    from_disk: int = 0
    compiled: int = 0
    kernels: int = 0          # kernels (dispatch branches) in the program
    seconds: float = 0.0


def _object_code(library) -> bytes:
    """The relocatable object numba produced for ``library`` (numba keeps it
    for its own cache; older versions need it emitted again)."""
    try:
        return bytes(library._get_compiled_object())
    except (AttributeError, RuntimeError, ValueError):
        return bytes(library._codegen._tm.emit_object(library._final_module))


def _numba_compile(source: str, key: str):
    """Compile ``source``'s entry with numba; returns (object code, symbol)."""
    import types as pytypes

    import numba
    from numba.core import types

    name = f"graphc_program_{key[:16]}"
    module = pytypes.ModuleType(name)
    module.__file__ = f"<graphc program {key[:12]}>"
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    signature = types.void(types.int64, types.int64, types.int64, types.CPointer(types.int64))
    try:
        compiled = numba.cfunc(signature, **COMPILE_FLAGS)(getattr(module, ENTRY))
    except Exception as exc:  # a lowering bug: show what failed to compile
        raise LoweringError(f"backend 'numba' generated a kernel numba cannot compile "
                            f"({type(exc).__name__}: {str(exc)[:2000]})\n--- program "
                            f"source ---\n{source}") from None
    return _object_code(compiled._library), compiled.native_name


class KernelCompiler:
    def __init__(self, cache_dir: Path | None) -> None:
        self.cache = KernelCache(cache_dir) if cache_dir is not None else None

    def key(self, source: str) -> str:
        material = {"source": source, "entry": ENTRY,
                    "flags": repr(sorted(COMPILE_FLAGS.items())), "host": host_fingerprint()}
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def compile_program(self, source: str, report: CompileReport):
        """The program's entry as a ctypes function (see the module docstring)."""
        key = self.key(source)
        report.modules += 1
        with _LOCK:
            memo = _MEMO.get(key)
            if memo is not None:
                report.from_memory += 1
                return memo
            result = None
            if self.cache is not None:
                entry = self.cache.lookup(key)
                if entry is not None:
                    result = self._load(entry.path, source)
                    if result is None:
                        self.cache.discard(entry.path)
                    else:
                        report.from_disk += 1
            if result is None:
                result = self._build(source, key)
                report.compiled += 1
            _MEMO[key] = result
            return result

    def _build(self, source: str, key: str):
        obj, symbol = _numba_compile(source, key)
        if self.cache is not None:
            staging = self.cache.staging(key)
            try:
                (staging / SOURCE).write_text(source)
                (staging / OBJECT).write_bytes(obj)
            except OSError:
                self.cache.discard(staging)
                raise
            self.cache.publish(staging, key, {"host": host_fingerprint(), "symbol": symbol})
        return load_program(obj, symbol)

    def _load(self, directory: Path, source: str):
        manifest = read_manifest(directory)
        symbol = manifest.get("symbol") if manifest else None
        if not isinstance(symbol, str) or (directory / SOURCE).read_text() != source:
            return None
        try:
            return load_program((directory / OBJECT).read_bytes(), symbol)
        except BackendError:    # an entry this process cannot link: rebuilt and replaced
            return None


_LOCK = threading.RLock()
_MEMO: dict[str, object] = {}


def clear_memory_cache() -> None:
    """Forget programs loaded in this process (tests use it to exercise the disk cache)."""
    with _LOCK:
        _MEMO.clear()
