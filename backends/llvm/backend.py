"""``LlvmBackend`` and its Executable: the llvmlite backend's public face.

``compile(module, options)`` verifies the module, rejects ops and dtypes it
cannot lower (``LoweringError`` naming them), flattens the entry function
into groups (``program.py``), lowers every primitive Func not already in
the in-process kernel cache into one LLVM module (``kernelgen.py``),
compiles that module once (``compiler.py``, optionally through the
on-disk object cache) and returns an ``LlvmExecutable``.

In-process kernel cache: compiled kernels by
``(structural_hash(func, ignore_name=True), opt_level)``, shared by every
executable of the process, so recompiling a model -- or compiling another
model with the same layers -- costs no LLVM work.

Options (all optional)::

    opt_level   2 or 3 (default 3): the LLVM pipeline level
    cache       bool (default True): use the on-disk object cache
    cache_dir   its root directory (default $GRAPHC_CACHE_DIR, else
                ~/.cache/graphc); entries live under <root>/llvm
    threads     int (default: the cores this process may use): a map or row
                launch over at least ``parallel_min_size`` elements is split
                over this many threads (1 = always serial)
    parallel_min_size  int (default 2**20)
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from graphc.errors import BackendError

from ...ir.core import Module
from ...ir.equality import structural_hash
from ...ir.loc import fuse_locs
from ...ir.printer import print_func
from ...ir.verifier import verify
from ..base import Backend, Executable, write_kernel_files
from .compiler import CompileStats, compile_ir
from .irtypes import check_dtypes
from .kernelgen import CallStep, KernelModule
from .objcache import ObjectCache, default_cache_dir
from .pool import default_threads, get_pool
from ..program import Program, flatten
from .rules import ELEMENTWISE_RULES
from .movement import MOVEMENT_RULES
from .runtime import CompiledKernel, GroupRunner, ProgramRunner

SUPPORTED_OPS = frozenset(ELEMENTWISE_RULES) | frozenset(MOVEMENT_RULES) | frozenset(
    {"sum", "mean", "max", "min", "argmax", "softmax", "log_softmax", "matmul",
     "scatter_add", "constant"})
"""Every op this backend lowers (``call`` is resolved by the program flattener)."""

NUMPY_OPS = {"matmul": "numpy.matmul into a preallocated buffer (BLAS), epilogue in LLVM"}
"""Ops that run through numpy rather than generated code, and why."""

_CACHE: dict[tuple[str, int], CompiledKernel] = {}
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class LlvmOptions:
    opt_level: int = 3
    cache: bool = True
    cache_dir: Path | None = None
    threads: int = 1
    parallel_min_size: int = 1 << 20

    @classmethod
    def parse(cls, given: Mapping[str, Any] | None) -> "LlvmOptions":
        given = dict(given or {})
        known = {"opt_level", "cache", "cache_dir", "threads", "parallel_min_size"}
        unknown = sorted(set(given) - known)
        if unknown:
            raise BackendError(f"backend 'llvm' has no option(s) {', '.join(unknown)}; "
                               f"options are {', '.join(sorted(known))}")
        level = given.get("opt_level", 3)
        if isinstance(level, bool) or level not in (2, 3):
            raise BackendError(f"backend 'llvm' option opt_level expects 2 or 3, "
                               f"received {level!r}")
        cache = given.get("cache", True)
        if not isinstance(cache, bool):
            raise BackendError(f"backend 'llvm' option cache expects true or false, "
                               f"received {cache!r}")
        cache_dir = given.get("cache_dir")
        if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
            raise BackendError(f"backend 'llvm' option cache_dir expects a path, "
                               f"received {cache_dir!r}")
        counts = {}
        for name, default in (("threads", default_threads()), ("parallel_min_size", 1 << 20)):
            value = given.get(name, default)
            lowest = 1 if name == "threads" else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
                raise BackendError(f"backend 'llvm' option {name} expects an integer >= "
                                   f"{lowest}, received {value!r}")
            counts[name] = value
        return cls(level, cache, Path(cache_dir).expanduser() if cache_dir else None,
                   counts["threads"], counts["parallel_min_size"])

    def object_cache(self) -> ObjectCache | None:
        if not self.cache:
            return None
        return ObjectCache(self.cache_dir or default_cache_dir())


@dataclass
class CompileReport:
    seconds: float = 0.0
    kernels: int = 0               # distinct kernels the executable runs
    compiled: int = 0              # of those, lowered by this compile
    reused: int = 0                # taken from the in-process cache
    llvm: CompileStats = field(default_factory=CompileStats)


def _kernel_key(func, opts: LlvmOptions) -> tuple[str, int]:
    return structural_hash(func, ignore_name=True), opts.opt_level


def compile_kernels(program: Program, opts: LlvmOptions,
                    report: CompileReport) -> dict[int, CompiledKernel]:
    """The compiled kernel of every non-view group, compiling what the cache lacks."""
    keys = {g.index: _kernel_key(g.func, opts) for g in program.groups if g.view is None}
    with _CACHE_LOCK:
        missing: dict[tuple[str, int], Any] = {}
        for g in program.groups:
            if g.view is None and keys[g.index] not in _CACHE:
                missing.setdefault(keys[g.index], g.func)
        report.kernels = len(set(keys.values()))
        report.compiled = len(missing)
        report.reused = report.kernels - report.compiled
        if missing:
            kernels = KernelModule()
            infos = {key: kernels.add(func, f"graphc_{key[0][:16]}_o{key[1]}")
                     for key, func in missing.items()}
            jit = compile_ir(kernels.text(), opts.opt_level, opts.object_cache())
            report.llvm = jit.stats
            for key, info in infos.items():
                _CACHE[key] = CompiledKernel(info, jit)
        return {index: _CACHE[key] for index, key in keys.items()}


class LlvmExecutable(Executable):
    def __init__(self, module: Module, program: Program, runners: dict[int, GroupRunner],
                 report: CompileReport) -> None:
        super().__init__(module)
        self.program = program
        self.runners = runners
        self.compile_report = report
        self._runner = ProgramRunner(program, runners)

    def __call__(self, *arrays: Any) -> tuple[np.ndarray, ...]:
        return self._runner(arrays)

    def kernel_sources(self) -> dict[str, str]:
        """One annotated text per group: ``"<index>_<name>"`` -> LLVM IR and notes."""
        out = {}
        slots = self.program.slots
        for g in self.program.groups:
            func = g.func
            lines = [f"; ===== group {g.index}: @{func.name} "
                     f"({', '.join(n.op.name for n in func.nodes)})"]
            loc = fuse_locs(n.loc for n in func.nodes)
            if loc is not None:
                lines.append(f"; from: {loc.describe()}")
            lines.append(f"; reads: {', '.join(slots[s].name for s in g.inputs) or '-'}; "
                         f"writes: {', '.join(slots[s].name for s in g.outputs)}")
            text = ""
            if g.view is not None:
                lines.append(f"; runs as a zero-copy view ({g.view}); no kernel")
            else:
                info = self.runners[g.index].info
                lines.append(f"; stages: {', '.join(info.stage_kinds)}")
                for step in info.steps:
                    lines.append(f"; step: call @{step.symbol}" if isinstance(step, CallStep)
                                 else "; step: numpy.matmul(out=...) -> BLAS")
                text = "\n" + info.source
            lines += ["; IR:"] + [";   " + ln for ln in print_func(func).rstrip().splitlines()]
            out[f"{g.index:03d}_{func.name}"] = "\n".join(lines) + "\n" + text
        return out

    def dump_kernels(self, directory: str | os.PathLike) -> list[Path]:
        """Write each group's annotated LLVM IR to ``directory/<index>_<name>.ll``."""
        return write_kernel_files(self.kernel_sources(), directory, ".ll")

    def source(self) -> str:
        head = (f"; graphc llvm executable for @{self.func.name}: "
                f"{len(self.program.groups)} group(s); float32 math helpers "
                "(graphc.exp.f32 ...) are inlined internal functions\n")
        return head + "\n\n".join(self.kernel_sources().values())


class LlvmBackend(Backend):
    name = "llvm"
    description = "llvmlite emits vectorized LLVM IR per fused group; fast compile; BLAS matmul"

    def supported_ops(self) -> frozenset[str]:
        return SUPPORTED_OPS

    def compile(self, module: Module, options: Mapping[str, Any] | None = None) -> Executable:
        opts = LlvmOptions.parse(options)
        start = time.perf_counter()
        verify(module)
        self.check_supported(module)
        check_dtypes(module)
        program = flatten(module, "llvm")
        report = CompileReport()
        kernels = compile_kernels(program, opts, report)
        pool = get_pool(opts.threads) if opts.threads > 1 else None
        runners = {g.index: GroupRunner(g, kernels[g.index], pool, opts.parallel_min_size)
                   for g in program.groups if g.view is None}
        report.seconds = time.perf_counter() - start
        return LlvmExecutable(module, program, runners, report)
