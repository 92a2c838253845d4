"""``NumbaBackend`` and its ``Executable``: the CPU backend's public face.

``compile(module, options)`` verifies the module, flattens the entry function into groups
(``program.py``), lowers every distinct primitive Func once
(``kernelgen.py``), compiles the kernel modules through the cache
(``compiler.py``) and returns a ``NumbaExecutable`` whose runtime
(``runtime.py``) plans buffers per input-shape signature.

Options (all optional)::

    cache          bool, default True: use the on-disk kernel cache
    cache_dir      path of the cache root (default: $GRAPHC_CACHE_DIR, else
                   the user cache dir + /graphc)
    threads        int, default: the cores this process may use; kernel
                   launches are split over this many threads (1 = serial)
    parallel_min_size  int, default 32768: launches writing fewer elements
                   run on the calling thread only
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from graphc.errors import BackendError

from ...ir.core import Func, Module
from ...ir.printer import print_func
from ...ir.loc import fuse_locs
from ...ir.verifier import verify
from ..base import Backend, Executable
from .cache import default_cache_dir
from .compiler import CompileReport, KernelCompiler, KernelSpec
from .kernelgen import KernelFunction, LoweredGroup, MatmulCall, lower_group
from .mathlib import HELPERS
from .program import Program, flatten
from .rules import SUPPORTED_OPS
from .runtime import CompiledGroup, ProgramRunner, arg_dtypes
from .threads import default_threads, describe_thread_policy, get_pool

MODULE_HEADER = (
    '"""graphc numba kernels (generated; see graphc.backends.numba.kernelgen)."""\n'
    "import math\n"
    "import numpy as np\n"
    "from numba import prange\n"
    f"from graphc.backends.numba.mathlib import {', '.join(sorted(HELPERS))}\n"
    "F32 = np.float32\nF64 = np.float64\nI32 = np.int32\nI64 = np.int64\n"
    "INF = np.inf\nNAN = np.nan\n"
)


@dataclass(frozen=True)
class NumbaOptions:
    cache: bool = True
    cache_dir: Path | None = None
    threads: int = 0               # 0: default_threads()
    parallel_min_size: int = 32768

    @classmethod
    def parse(cls, given: Mapping[str, Any] | None) -> "NumbaOptions":
        given = dict(given or {})
        known = {"cache", "cache_dir", "threads", "parallel_min_size"}
        unknown = sorted(set(given) - known)
        if unknown:
            raise BackendError(f"backend 'numba' has no option(s) {', '.join(unknown)}; "
                               f"options are {', '.join(sorted(known))}")
        cache = given.get("cache", True)
        if not isinstance(cache, bool):
            raise BackendError(f"backend 'numba' option cache expects true or false, "
                               f"received {cache!r}")
        threads = given.get("threads", default_threads())
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise BackendError(f"backend 'numba' option threads expects an integer >= 1, "
                               f"received {threads!r}")
        size = given.get("parallel_min_size", 32768)
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise BackendError(f"backend 'numba' option parallel_min_size expects an integer "
                               f">= 0, received {size!r}")
        cache_dir = given.get("cache_dir")
        if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
            raise BackendError(f"backend 'numba' option cache_dir expects a path, received "
                               f"{cache_dir!r}")
        return cls(cache, Path(cache_dir).expanduser() if cache_dir is not None else None,
                   threads, size)

    def cache_root(self) -> Path | None:
        if not self.cache:
            return None
        return self.cache_dir if self.cache_dir is not None else default_cache_dir()


def module_source(lowered: LoweredGroup) -> str:
    return MODULE_HEADER + "".join("\n\n" + k.source for k in lowered.kernels)


def _annotation(program: Program, cg: CompiledGroup) -> str:
    g = cg.group
    func = g.func
    ops = [n.op.name for n in func.nodes]
    loc = fuse_locs(n.loc for n in func.nodes)
    lines = [f"# ===== group {g.index}: @{func.name} ({len(ops)} op(s): {', '.join(ops)})"]
    if loc is not None:
        lines.append(f"# from: {loc.describe()}")
    ins = ", ".join(program.slots[s].name for s in g.inputs)
    outs = ", ".join(program.slots[s].name for s in g.outputs)
    lines.append(f"# reads: {ins or '-'}; writes: {outs}")
    if g.view is not None:
        lines.append(f"# runs as a zero-copy view ({g.view}); no kernel")
    else:
        for seg in cg.lowered.segments:
            if isinstance(seg, MatmulCall):
                lines.append("# step: numpy.matmul(out=...) -> BLAS"
                             + (" (epilogue rewrites the result in place)"
                                if seg.out in cg.lowered.aliases else ""))
            else:
                lines.append(f"# step: {seg.name} ({seg.kind} over {seg.extent} outer "
                             f"iteration(s), {seg.work} element(s))")
    lines += ["# IR:"] + ["#   " + line for line in print_func(func).rstrip().splitlines()]
    return "\n".join(lines) + "\n"


class NumbaExecutable(Executable):
    def __init__(self, module: Module, program: Program, compiled: list[CompiledGroup],
                 report: CompileReport, options: NumbaOptions) -> None:
        super().__init__(module)
        self.program = program
        self.groups = compiled
        self.compile_report = report
        self.options = options
        self._runner = ProgramRunner(program, compiled, get_pool(options.threads),
                                     options.parallel_min_size)

    def __call__(self, *arrays: Any) -> tuple[np.ndarray, ...]:
        return self._runner(self.func, arrays)

    def kernel_sources(self) -> dict[str, str]:
        """One annotated text per group: ``"<index>_<name>"`` -> source."""
        out = {}
        for cg in self.groups:
            text = _annotation(self.program, cg)
            if cg.lowered is not None and cg.lowered.kernels:
                text += "\n" + module_source(cg.lowered)
            out[f"{cg.group.index:03d}_{cg.group.func.name}"] = text
        return out

    def source(self) -> str:
        head = (f"# graphc numba executable for @{self.func.name}: {len(self.groups)} group(s); "
                f"{describe_thread_policy(self.options.threads, self.options.parallel_min_size)}\n")
        return head + "\n\n".join(self.kernel_sources().values())

    def dump_kernels(self, directory: str | os.PathLike) -> list[Path]:
        """Write each group's annotated source to ``directory/<index>_<name>.py``."""
        path = Path(directory)
        try:
            path.mkdir(parents=True, exist_ok=True)
            written = []
            for name, text in self.kernel_sources().items():
                target = path / f"{name}.py"
                target.write_text(text)
                written.append(target)
        except OSError as exc:
            raise BackendError(f"cannot write kernels to {path}: {exc.strerror}") from None
        return written


class NumbaBackend(Backend):
    name = "numba"
    description = "fused CPU kernels generated for numba, BLAS matmul, on-disk kernel cache"

    def supported_ops(self) -> frozenset[str]:
        return SUPPORTED_OPS

    def compile(self, module: Module, options: Mapping[str, Any] | None = None) -> Executable:
        opts = NumbaOptions.parse(options)
        start = time.perf_counter()
        verify(module)
        self.check_supported(module)
        program = flatten(module)
        compiler = KernelCompiler(opts.cache_root())
        report = CompileReport()
        lowered_by_func: dict[int, LoweredGroup] = {}
        compiled: list[CompiledGroup] = []
        for group in program.groups:
            if group.view is not None:
                compiled.append(CompiledGroup(group, None))
                continue
            lowered = lowered_by_func.get(id(group.func))
            if lowered is None:
                lowered = lower_group(group.func)
                lowered_by_func[id(group.func)] = lowered
            cg = CompiledGroup(group, lowered)
            if lowered.kernels:
                specs = [KernelSpec(k.name, arg_dtypes(k)) for k in lowered.kernels]
                cg.kernels = compiler.compile_module(module_source(lowered), specs, report)
            compiled.append(cg)
        report.seconds = time.perf_counter() - start
        return NumbaExecutable(module, program, compiled, report, opts)


def kernel_names(lowered: LoweredGroup) -> list[str]:
    return [k.name for k in lowered.kernels if isinstance(k, KernelFunction)]


def entry_func(module: Module) -> Func:
    return module.entry
