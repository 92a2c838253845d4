"""Where cuda kernels run: a real GPU through ``numba.cuda``, or numba's CUDA simulator.

A ``CudaTarget`` is the explicit context every other part of the backend
receives; nothing reads environment variables after it is built.  It holds

* ``api`` -- the module that jit-compiles kernels and allocates device
  arrays: ``numba.cuda`` for a GPU, ``numba.cuda.simulator`` for the
  simulator (imported as a library, so choosing the simulator for one
  executable changes nothing about ``numba.cuda`` for the rest of the
  process);
* ``launch`` -- the launch geometry kernels are generated for
  (``LaunchConfig``: threads per block, the grid cap, the matmul tile);
* ``namespace()`` -- the globals generated kernels run in (``mathlib.py``).

Resolution of the ``target`` option (``resolve_target``):

* ``"simulator"`` -- always available;
* ``"gpu"`` -- numba.cuda must be the real driver binding (not the
  simulator) and report a usable GPU;
* ``"auto"`` (the default) -- the simulator when ``numba.cuda`` itself *is*
  the simulator (``NUMBA_ENABLE_CUDASIM=1`` was set before numba.cuda was
  first imported), else the GPU when one is present, else unavailable with
  a reason naming both ways out.

Simulated launches run one block at a time, each CUDA thread a Python
thread.  ``launch_scope`` serializes them (the simulator supports one
launch at a time) and, for their duration only, lowers the interpreter's
thread switch interval: the simulator polls for threads blocked in
``syncthreads``, and with the default 5 ms interval every barrier costs
milliseconds.  The previous interval is restored when the scope ends.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterator

from graphc.errors import BackendError

TARGETS = ("auto", "gpu", "simulator")


@dataclass(frozen=True)
class LaunchConfig:
    """The geometry generated kernels assume.

    ``block``: threads per block of elementwise and row kernels (a power of
    two: row kernels reduce with a shared-memory tree); ``max_blocks``: the
    largest grid launched (kernels loop grid-stride past it); ``tile``: the
    edge of a matmul tile (a ``tile x tile`` block)."""

    block: int
    max_blocks: int
    tile: int

    def check(self) -> None:
        if self.block < 1 or self.block > 1024 or self.block & (self.block - 1):
            raise BackendError(f"backend 'cuda' option block_size expects a power of two "
                               f"from 1 to 1024, received {self.block}")
        if self.max_blocks < 1:
            raise BackendError(f"backend 'cuda' option max_blocks expects an integer >= 1, "
                               f"received {self.max_blocks}")
        if self.tile < 1 or self.tile * self.tile > 1024:
            raise BackendError(f"backend 'cuda' option tile expects an integer from 1 to 32 "
                               f"(tile * tile threads per block), received {self.tile}")


GPU_LAUNCH = LaunchConfig(block=256, max_blocks=65535, tile=16)
SIMULATOR_LAUNCH = LaunchConfig(block=4, max_blocks=2, tile=2)
"""Tiny blocks for the simulator: every simulated thread is a Python thread."""

_SIMULATOR_SWITCH_INTERVAL = 1e-5
_SIM_LOCK = threading.RLock()


def _numba_cuda() -> Any:
    try:
        from numba import cuda
    except Exception as exc:  # numba built without its cuda package
        raise BackendError(f"backend 'cuda' needs numba.cuda, which failed to import: "
                           f"{exc}") from None
    return cuda


def numba_cuda_is_simulator() -> bool:
    """True when ``numba.cuda`` was imported in simulator mode (NUMBA_ENABLE_CUDASIM=1)."""
    cuda = _numba_cuda()
    return getattr(cuda.is_available, "__module__", "") == "numba.cuda.simulator_init"


def gpu_problem() -> str | None:
    """None when numba.cuda drives a real GPU here, else why not."""
    if numba_cuda_is_simulator():
        return ("numba.cuda is running as its simulator (NUMBA_ENABLE_CUDASIM=1 was set before "
                "numba.cuda was imported), so no real GPU can be used in this process")
    cuda = _numba_cuda()
    try:
        if cuda.is_available():
            return None
        error = cuda.cuda_error()
    except Exception as exc:  # driver present but broken
        error = exc
    detail = " ".join(str(error).split()) if error else "no CUDA-capable device was found"
    return f"no usable CUDA GPU ({detail.split('. ')[0].rstrip('.')})"


class CudaTarget:
    """A place to run kernels; see the module docstring."""

    def __init__(self, kind: str, launch: LaunchConfig) -> None:
        if kind not in ("gpu", "simulator"):
            raise BackendError(f"unknown cuda target kind {kind!r}")
        self.kind = kind
        self.launch = launch

    @property
    def simulated(self) -> bool:
        return self.kind == "simulator"

    @cached_property
    def api(self) -> Any:
        if self.simulated:
            from numba.cuda import simulator
            return simulator
        return _numba_cuda()

    def namespace(self) -> dict[str, Any]:
        """A fresh copy of the globals kernels run in (helpers shared per process)."""
        from .mathlib import helper_namespace
        return dict(helper_namespace(self.simulated))

    # -- device memory -----------------------------------------------------
    def device_array(self, size: int, dtype: Any) -> Any:
        return self.api.device_array(max(int(size), 1), dtype=dtype)

    def to_device(self, host: Any) -> Any:
        return self.api.to_device(host)

    @contextlib.contextmanager
    def launch_scope(self) -> Iterator[None]:
        """Wrap the launches of one call (see the module docstring)."""
        if not self.simulated:
            yield
            return
        with _SIM_LOCK:
            previous = sys.getswitchinterval()
            sys.setswitchinterval(_SIMULATOR_SWITCH_INTERVAL)
            try:
                yield
            finally:
                sys.setswitchinterval(previous)

    def describe(self) -> str:
        where = "numba's CUDA simulator" if self.simulated else "a CUDA GPU (numba.cuda)"
        cfg = self.launch
        return (f"{where}; {cfg.block} threads per block, at most {cfg.max_blocks} blocks, "
                f"{cfg.tile}x{cfg.tile} matmul tiles")

    def __repr__(self) -> str:
        return f"<CudaTarget {self.kind}>"


def unavailable_reason(requested: str) -> str:
    """Empty when ``requested`` can run here, else why it cannot."""
    if requested == "simulator":
        return ""
    try:
        if requested == "auto" and numba_cuda_is_simulator():
            return ""
        problem = gpu_problem()
    except BackendError as exc:
        return str(exc)
    if problem is None:
        return ""
    if requested == "gpu":
        return problem
    return (f"{problem}; set NUMBA_ENABLE_CUDASIM=1 (before numba.cuda is imported) or pass "
            "the option target='simulator' to use numba's CUDA simulator")


def resolve_target(requested: str, *, block: int | None = None, max_blocks: int | None = None,
                   tile: int | None = None) -> CudaTarget:
    """The target for the ``target`` option, with the launch geometry of its kind
    unless overridden; BackendError when it cannot run here."""
    if requested not in TARGETS:
        raise BackendError(f"backend 'cuda' option target expects one of {', '.join(TARGETS)}, "
                           f"received {requested!r}")
    reason = unavailable_reason(requested)
    if reason:
        raise BackendError(f"backend 'cuda' is not available here: {reason}")
    simulated = requested == "simulator" or (requested == "auto" and numba_cuda_is_simulator())
    base = SIMULATOR_LAUNCH if simulated else GPU_LAUNCH
    config = LaunchConfig(block=base.block if block is None else block,
                          max_blocks=base.max_blocks if max_blocks is None else max_blocks,
                          tile=base.tile if tile is None else tile)
    config.check()
    return CudaTarget("simulator" if simulated else "gpu", config)
