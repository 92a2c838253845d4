"""``CudaBackend`` and its ``Executable``: the cuda backend's public face.

``compile(module, options)`` resolves the target (a GPU, or numba's CUDA
simulator; ``target.py``), verifies the module, flattens the entry function
into groups over slots (the numba backend's ``program.flatten``, shared),
lowers every distinct primitive Func once (``lowering.py``), compiles all
kernels as one program (``compiler.py``) and returns a ``CudaExecutable``
whose runtime (``runtime.py``) plans device buffers per input-shape
signature.

Options (all optional)::

    target       "auto" (default), "gpu" or "simulator" -- see target.py
    block_size   threads per block of elementwise and row kernels (a power
                 of two; default 256 on a GPU, 4 in the simulator)
    max_blocks   the largest grid (default 65535 on a GPU, 2 in the simulator)
    tile         matmul tile edge (default 16 on a GPU, 2 in the simulator)

``CudaExecutable.keep_on_device(indices, check="content")`` keeps those
parameters (typically a model's weights) on the device across calls under
the rules of ``residency.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from graphc.errors import BackendError

from ...ir.core import Module
from ...ir.loc import fuse_locs
from ...ir.printer import print_func
from ...ir.verifier import verify
from ..base import Backend, Executable, write_kernel_files
from ..program import Program, flatten
from .compiler import HEADER, compile_program
from .emitter import CudaKernel
from .lowering import LoweredGroup, lower_group
from .residency import Residency, ResidencyStats
from .rules import check_func, supported_ops
from .runtime import GroupExec, ProgramRunner
from .target import TARGETS, LaunchConfig, resolve_target, unavailable_reason

_OPTIONS = ("target", "block_size", "max_blocks", "tile")


def _int_option(given: Mapping[str, Any], name: str) -> int | None:
    value = given.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise BackendError(f"backend 'cuda' option {name} expects an integer, received {value!r}")
    return int(value)


def parse_options(options: Mapping[str, Any] | None) -> tuple[str, dict[str, int | None]]:
    given = dict(options or {})
    unknown = sorted(set(given) - set(_OPTIONS))
    if unknown:
        raise BackendError(f"backend 'cuda' has no option(s) {', '.join(unknown)}; options "
                           f"are {', '.join(_OPTIONS)}")
    target = given.get("target", "auto")
    if target not in TARGETS:
        raise BackendError(f"backend 'cuda' option target expects one of {', '.join(TARGETS)}, "
                           f"received {target!r}")
    return target, {name: _int_option(given, name) for name in _OPTIONS[1:]}


def _annotation(program: Program, ge: GroupExec) -> str:
    g, func = ge.group, ge.group.func
    ops = [n.op.name for n in func.nodes]
    lines = [f"# ===== group {g.index}: @{func.name} ({len(ops)} op(s): {', '.join(ops)})"]
    loc = fuse_locs(n.loc for n in func.nodes)
    if loc is not None:
        lines.append(f"# from: {loc.describe()}")
    ins = ", ".join(program.slots[s].name for s in g.inputs)
    outs = ", ".join(program.slots[s].name for s in g.outputs)
    lines.append(f"# reads: {ins or '-'}; writes: {outs}")
    if ge.lowered is None:
        lines.append("# a reshape of a flat buffer: no kernel, no copy")
    else:
        lines.append(f"# lowering: {ge.lowered.strategy}")
        for k in ge.lowered.kernels:
            lines.append(f"# kernel {k.name}: {k.kind}" + (f" ({k.note})" if k.note else ""))
    lines += ["# IR:"] + ["#   " + line for line in print_func(func).rstrip().splitlines()]
    return "\n".join(lines) + "\n"


class CudaExecutable(Executable):
    def __init__(self, module: Module, target, program: Program, groups: list[GroupExec],
                 kernels: list[CudaKernel], launchers: dict[str, Any]) -> None:
        super().__init__(module)
        self.target = target
        self.program = program
        self.groups = groups
        self.kernels = kernels
        self.residency = Residency(len(self.func.params))
        self._runner = ProgramRunner(target, program, groups, launchers, self.residency)

    def __call__(self, *arrays: Any) -> tuple[np.ndarray, ...]:
        return self._runner(self.func, arrays)

    # -- weights resident on the device ---------------------------------------------
    def keep_on_device(self, param_indices: Iterable[int], check: str = "content") -> None:
        """Keep these entry parameters on the device across calls (see residency.py)."""
        self.residency.keep(param_indices, check)

    def release_device_copies(self, param_indices: Iterable[int] | None = None) -> None:
        """Forget kept device copies (all, or of some parameters) and stop keeping them."""
        self.residency.release(param_indices)

    @property
    def transfer_stats(self) -> ResidencyStats:
        return self.residency.stats

    # -- inspection -------------------------------------------------------------------
    def kernel_sources(self, header: bool = True) -> dict[str, str]:
        """One annotated text per group: ``"<index>_<name>"`` -> source (each with the
        program header, so it reads on its own, unless ``header`` is False)."""
        out = {}
        for ge in self.groups:
            text = _annotation(self.program, ge)
            if ge.lowered is not None and ge.lowered.kernels:
                kernels = "".join("\n\n" + k.source for k in ge.lowered.kernels)
                text += ("\n" + HEADER if header else "") + kernels
            out[f"{ge.group.index:03d}_{ge.group.func.name}"] = text
        return out

    def source(self) -> str:
        head = (f"# graphc cuda executable for @{self.func.name}: {len(self.groups)} group(s), "
                f"{len(self.kernels)} kernel(s), on {self.target.describe()}\n{HEADER}\n")
        return head + "\n\n".join(self.kernel_sources(header=False).values())

    def dump_kernels(self, directory: str | os.PathLike) -> list[Path]:
        """Write each group's annotated source to ``directory/<index>_<name>.py``."""
        return write_kernel_files(self.kernel_sources(), directory, ".py")


def lower_program(module: Module, launch: LaunchConfig) -> tuple[Program, list[GroupExec],
                                                                  list[CudaKernel]]:
    """Flatten and lower ``module`` (no target needed: this is pure code generation)."""
    program = flatten(module, "cuda")
    groups: list[GroupExec] = []
    kernels: list[CudaKernel] = []
    lowered_by_func: dict[int, LoweredGroup] = {}
    for group in program.groups:
        if group.view == "reshape":
            groups.append(GroupExec(group, None))
            continue
        lowered = lowered_by_func.get(id(group.func))
        if lowered is None:
            lowered = lower_group(group.func, f"g{group.index}_{group.func.name}", launch)
            lowered_by_func[id(group.func)] = lowered
            kernels += lowered.kernels
        groups.append(GroupExec(group, lowered))
    return program, groups, kernels


class CudaBackend(Backend):
    """The cuda backend.  ``CudaBackend(**options)`` makes an instance whose
    ``compile`` starts from these options (per-call options override them),
    so ``graphc.compile(model, backend=CudaBackend(target="simulator"))``
    runs a model on the simulator; the registered instance has none."""

    name = "cuda"
    description = ("numba.cuda kernels per fused group (tiled matmul with epilogues, "
                   "block-per-row reductions), weights kept on the device")

    def __init__(self, **options: Any) -> None:
        parse_options(options)
        self.options = dict(options)

    def _requested(self) -> str:
        return self.options.get("target", "auto")

    def is_available(self) -> bool:
        return not unavailable_reason(self._requested())

    def unavailable_reason(self) -> str:
        return unavailable_reason(self._requested())

    def supported_ops(self) -> frozenset[str]:
        return supported_ops()

    def check_supported(self, module: Module) -> None:
        """LoweringError naming the first op without a lowering, and why."""
        for func in module.funcs:
            check_func(func)

    def compile(self, module: Module, options: Mapping[str, Any] | None = None) -> Executable:
        requested, sizes = parse_options({**self.options, **(options or {})})
        target = resolve_target(requested, block=sizes["block_size"],
                                max_blocks=sizes["max_blocks"], tile=sizes["tile"])
        verify(module)
        self.check_supported(module)
        program, groups, kernels = lower_program(module, target.launch)
        launchers = compile_program(target, kernels)
        return CudaExecutable(module, target, program, groups, kernels, launchers)
