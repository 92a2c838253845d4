"""Compile generated kernel modules with numba, through the on-disk cache.

A *kernel module* is the Python source of every kernel of one lowered group
(``kernelgen.LoweredGroup``).  Its text depends only on the IR structure,
dtypes and lowering options -- never on names or source locations -- so
structurally equal groups of different models share one cache entry.

``compile_module`` returns ``{function name: dispatcher}``:

1. the cache key is computed (``cache.py`` lists what goes in);
2. an in-process memo answers repeated compiles of the same key at once;
3. a valid on-disk entry is imported from its directory, and numba's own
   cache files inside it (read through ``_EntryLocator``, which pins numba's
   cache to the entry directory and stamps it by content) supply the
   machine code without compiling;
4. otherwise the module is written to a staging directory, imported and
   compiled there (numba saves its cache files alongside) and the directory
   is published atomically.

Every kernel is compiled eagerly for one explicit signature (``lo, hi``,
1-D C-contiguous arrays, then ``D`` and ``E``), serial (``threads.py`` says
why), with ``error_model="numpy"``
(no zero-division checks, which would stop vectorization), ``nogil=True``
(callers on several threads run kernels concurrently), and
``fastmath={"contract"}`` (fused multiply-add only: never reassociation or
"no NaN" assumptions, which would change results numpy gives).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import llvmlite
import numba
import numpy as np
from numba.core import types
from numba.core.caching import CompileResultCacheImpl, FunctionCache, _CacheLocator

from graphc.errors import LoweringError

from .cache import SOURCE, KernelCache, sha256_file

COMPILE_FLAGS = dict(error_model="numpy", nogil=True, fastmath={"contract"}, cache=False)


class _EntryLocator(_CacheLocator):
    """Pins numba's cache files of a kernel module to the module's own directory."""

    def __init__(self, py_func, py_file: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno

    def ensure_cache_path(self) -> None:
        os.makedirs(self.get_cache_path(), exist_ok=True)

    def get_cache_path(self) -> str:
        return os.path.dirname(self._py_file)

    def get_source_stamp(self):
        return sha256_file(Path(self._py_file))  # by content, not mtime: entries move

    def get_disambiguator(self) -> str:
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file: str):
        return cls(py_func, py_file) if os.path.basename(py_file) == SOURCE else None


class _EntryCacheImpl(CompileResultCacheImpl):
    _locator_classes = [_EntryLocator]


class _EntryFunctionCache(FunctionCache):
    _impl_class = _EntryCacheImpl


def _host_fingerprint() -> dict:
    from numba.core.registry import cpu_target
    triple, cpu, features = cpu_target.target_context.codegen().magic_tuple()
    here = Path(__file__).parent
    code = hashlib.sha256()
    for path in sorted(here.glob("*.py")):
        code.update(path.name.encode() + b"\0" + path.read_bytes())
    return {"numba": numba.__version__, "llvmlite": llvmlite.__version__,
            "numpy": np.__version__, "python": platform.python_version(),
            "triple": triple, "cpu": cpu, "features": features,
            "backend_code": code.hexdigest()}


_HOST: dict | None = None


def host_fingerprint() -> dict:
    global _HOST
    if _HOST is None:
        _HOST = _host_fingerprint()
    return _HOST


@dataclass(frozen=True)
class KernelSpec:
    """One function of a kernel module and the numba types of its arguments."""

    name: str
    arg_dtypes: tuple[np.dtype, ...]

    def signature(self):
        arrays = [types.Array(numba.from_dtype(d), 1, "C") for d in self.arg_dtypes]
        index = types.Array(types.int64, 1, "C")
        return types.void(types.int64, types.int64, *arrays, index, index)

    def describe(self) -> str:
        return f"{self.name}(lo, hi, {', '.join(d.name for d in self.arg_dtypes)}, D, E)"


@dataclass
class CompileReport:
    """What the compiler did, for ``Executable.compile_report``."""

    modules: int = 0
    from_memory: int = 0
    from_disk: int = 0
    compiled: int = 0
    seconds: float = 0.0


class KernelCompiler:
    def __init__(self, cache_dir: Path | None) -> None:
        self.cache = KernelCache(cache_dir) if cache_dir is not None else None

    def key(self, source: str, specs: list[KernelSpec]) -> str:
        material = {"source": source, "specs": [s.describe() for s in specs],
                    "flags": repr(sorted(COMPILE_FLAGS.items())), "host": host_fingerprint()}
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def compile_module(self, source: str, specs: list[KernelSpec],
                       report: CompileReport) -> dict[str, object]:
        key = self.key(source, specs)
        report.modules += 1
        with _LOCK:
            memo = _MEMO.get(key)
            if memo is not None:
                report.from_memory += 1
                return memo
            if self.cache is None:
                result = self._build(source, specs, key, directory=None)
                report.compiled += 1
            else:
                entry = self.cache.lookup(key)
                result = None
                if entry is not None:
                    result = self._load(entry.path, source, specs, key)
                    if result is None:  # numba did not accept its own files: rebuild
                        self.cache.discard(entry.path)
                    else:
                        report.from_disk += 1
                if result is None:
                    staging = self.cache.staging(key)
                    try:
                        result = self._build(source, specs, key, directory=staging)
                    except BaseException:
                        self.cache.discard(staging)
                        raise
                    self.cache.publish(staging, key, {"host": host_fingerprint()})
                    report.compiled += 1
            _MEMO[key] = result
            return result

    # -- internals -------------------------------------------------------------
    def _import(self, directory: Path | None, source: str, key: str):
        name = f"graphc_kernels_{key[:24]}"
        if directory is None:
            module = type(sys)(name)
            module.__file__ = f"<graphc kernels {key[:12]}>"
            exec(compile(source, module.__file__, "exec"), module.__dict__)
            return module
        path = directory / SOURCE
        if not path.exists():
            path.write_text(source)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        # numba's cached code finds its globals by importing the module by name
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    def _dispatchers(self, module, specs: list[KernelSpec], cached: bool) -> dict[str, object]:
        out = {}
        for spec in specs:
            py_func = getattr(module, spec.name)
            disp = numba.njit(**COMPILE_FLAGS)(py_func)
            if cached:
                disp._cache = _EntryFunctionCache(py_func)
            out[spec.name] = (disp, spec.signature())
        return out

    def _build(self, source: str, specs: list[KernelSpec], key: str,
               directory: Path | None) -> dict[str, object]:
        module = self._import(directory, source, key)
        result = {}
        for name, (disp, sig) in self._dispatchers(module, specs, directory is not None).items():
            try:
                disp.compile(sig)
            except Exception as exc:  # a lowering bug: show what failed to compile
                raise LoweringError(f"backend 'numba' generated a kernel numba cannot compile "
                                    f"({type(exc).__name__}: {str(exc)[:2000]})\n--- kernel "
                                    f"source ---\n{source}") from None
            result[name] = disp
        return result

    def _load(self, directory: Path, source: str, specs: list[KernelSpec],
              key: str) -> dict[str, object] | None:
        if (directory / SOURCE).read_text() != source:
            return None
        module = self._import(directory, source, key)
        result = {}
        for name, (disp, sig) in self._dispatchers(module, specs, True).items():
            try:
                disp.compile(sig)
            except Exception:
                return None
            if sum(disp.stats.cache_hits.values()) == 0:
                return None
            result[name] = disp
        return result


_LOCK = threading.RLock()
_MEMO: dict[str, dict[str, object]] = {}


def clear_memory_cache() -> None:
    """Forget kernels compiled in this process (tests use it to exercise the disk cache)."""
    with _LOCK:
        _MEMO.clear()
