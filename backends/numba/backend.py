"""``NumbaBackend`` and its ``Executable``: the CPU backend's public face.

``compile(module, options)`` verifies the module, flattens the entry
function into groups (``program.py``), lowers every distinct primitive Func
once (``kernelgen.py``), numbers all their kernels into one program
(``programgen.py``), compiles or loads that program through the cache
(``compiler.py``) and returns a ``NumbaExecutable`` whose runtime
(``runtime.py``) plans buffers per input-shape signature.  Nothing here
imports numba: a process whose program is cached never does.

Options (all optional)::

    cache          bool, default True: use the on-disk kernel cache
    cache_dir      path of the cache root (default: $GRAPHC_CACHE_DIR, else
                   the user cache dir + /graphc)
    threads        int, default: the cores this process may use; kernel
                   launches are split over this many threads (1 = serial)
    parallel_min_size  int, default 32768: launches writing fewer elements
                   run on the calling thread only
    parallel_min_size_blas  int, default 1048576: the threshold instead of
                   parallel_min_size for programs that call BLAS (matmul): OpenBLAS's idle threads
                   spin for a while after every call, so a kernel split over
                   threads next to BLAS competes with them for the cores
                   (``threads.py``)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from graphc.errors import BackendError

from ...ir.core import Module
from ...ir.loc import fuse_locs
from ...ir.printer import print_func
from ...ir.verifier import verify
from ..base import Backend, Executable, write_kernel_files
from .cache import default_cache_dir
from .compiler import CompileReport, KernelCompiler
from .kernelgen import LoweredGroup, MatmulCall, lower_group
from ..program import Program, flatten
from .programgen import HEADER, program_source
from .rules import SUPPORTED_OPS
from .runtime import CompiledGroup, ProgramRunner
from .threads import default_threads, describe_thread_policy, get_pool


@dataclass(frozen=True)
class NumbaOptions:
    cache: bool = True
    cache_dir: Path | None = None
    threads: int = 0               # 0: default_threads()
    parallel_min_size: int = 32768
    parallel_min_size_blas: int = 1 << 20

    @classmethod
    def parse(cls, given: Mapping[str, Any] | None) -> "NumbaOptions":
        given = dict(given or {})
        known = {"cache", "cache_dir", "threads", "parallel_min_size", "parallel_min_size_blas"}
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
        sizes = []
        for name, default in (("parallel_min_size", 32768), ("parallel_min_size_blas", 1 << 20)):
            size = given.get(name, default)
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise BackendError(f"backend 'numba' option {name} expects an integer "
                                   f">= 0, received {size!r}")
            sizes.append(size)
        cache_dir = given.get("cache_dir")
        if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
            raise BackendError(f"backend 'numba' option cache_dir expects a path, received "
                               f"{cache_dir!r}")
        return cls(cache, Path(cache_dir).expanduser() if cache_dir is not None else None,
                   threads, *sizes)

    def cache_root(self) -> Path | None:
        if not self.cache:
            return None
        return self.cache_dir if self.cache_dir is not None else default_cache_dir()


def module_source(lowered: LoweredGroup) -> str:
    """A group's kernels as standalone functions, for reading (the program
    runs them as branches of one function; see ``programgen.py``)."""
    return HEADER + "".join("\n\n" + k.source for k in lowered.kernels)


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
                lines.append(f"# step: {seg.name} = program kernel {cg.kernel_ids[seg.name]} "
                             f"({seg.kind} over {seg.extent} outer iteration(s), {seg.work} "
                             "element(s))")
    lines += ["# IR:"] + ["#   " + line for line in print_func(func).rstrip().splitlines()]
    return "\n".join(lines) + "\n"


class NumbaExecutable(Executable):
    def __init__(self, module: Module, program: Program, compiled: list[CompiledGroup],
                 entry, source: str, report: CompileReport, options: NumbaOptions) -> None:
        super().__init__(module)
        self.program = program
        self.groups = compiled
        self.program_source = source
        self.compile_report = report
        self.options = options
        uses_blas = any(isinstance(seg, MatmulCall) for cg in compiled if cg.lowered
                        for seg in cg.lowered.segments)
        min_size = options.parallel_min_size_blas if uses_blas else options.parallel_min_size
        self._runner = ProgramRunner(program, compiled, entry, get_pool(options.threads),
                                     min_size)

    def __call__(self, *arrays: Any) -> tuple[np.ndarray, ...]:
        return self._runner(self.func, arrays)

    def profile(self, *arrays: Any, repeat: int = 20) -> list[tuple[str, float]]:
        """Run the program ``repeat`` times on ``arrays``; the median seconds of
        each step (kernel launch, BLAS call, copy), in execution order."""
        rows = self._runner.profile(self.func, arrays, max(1, repeat))
        return [(label, float(np.median(times))) for label, times in rows]

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
                f"{describe_thread_policy(self.options.threads, self._runner.min_size)}\n")
        return head + "\n\n".join(self.kernel_sources().values())

    def dump_kernels(self, directory: str | os.PathLike) -> list[Path]:
        """Write each group's annotated source to ``directory/<index>_<name>.py``."""
        return write_kernel_files(self.kernel_sources(), directory, ".py")


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
        program = flatten(module, "numba")
        lowered_by_func: dict[int, tuple[LoweredGroup, dict[str, int]]] = {}
        kernels = []
        kid_by_body: dict[str, int] = {}   # identical kernels share one branch
        compiled: list[CompiledGroup] = []
        for group in program.groups:
            if group.view is not None:
                compiled.append(CompiledGroup(group, None))
                continue
            known = lowered_by_func.get(id(group.func))
            if known is None:
                lowered = lower_group(group.func)
                ids = {}
                for k in lowered.kernels:
                    if k.body not in kid_by_body:
                        kid_by_body[k.body] = len(kernels)
                        kernels.append(k)
                    ids[k.name] = kid_by_body[k.body]
                known = lowered_by_func[id(group.func)] = (lowered, ids)
            compiled.append(CompiledGroup(group, known[0], known[1]))
        source = program_source(kernels)
        report = CompileReport(kernels=len(kernels))
        entry = None
        if kernels:
            entry = KernelCompiler(opts.cache_root()).compile_program(source, report)
        report.seconds = time.perf_counter() - start
        return NumbaExecutable(module, program, compiled, entry, source, report, opts)
