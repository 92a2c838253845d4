"""Compile generated kernels for a target, and check them for a GPU without one.

``program_source(kernels)`` is the text of every kernel of an executable
(``def`` after ``def``) under a header naming the globals they use.
``compile_program`` executes that text in a copy of the target's namespace
(``mathlib.py``) and returns one launchable per kernel name:

* GPU: ``numba.cuda.jit(signature)`` -- compiled eagerly at compile time,
  for the explicit signature every kernel has: 1-D C-contiguous arrays in
  storage types (bool as uint8, f16 as float16), the int64 error flag
  ``E``, then int64 sizes;
* simulator: the simulator's ``jit`` of a wrapper that runs the kernel under
  ``np.errstate(all="ignore")`` -- numpy's error state is per thread and
  every simulated CUDA thread is a new Python thread, so without it integer
  wrap-around or ``0/0`` would warn where the GPU is silent.  The simulated
  text differs from the GPU text in one way: shared-memory declarations run
  under a lock (``CudaKernel.simulator_source`` says why).

Programs are memoized per process by (target kind, source): recompiling a
structurally equal model costs nothing.  There is no on-disk cache; on a
GPU, numba.cuda's compile time (NVVM) is paid once per process.

``ptx_for(kernels, cc)`` compiles every kernel to PTX for a compute
capability with NVVM alone -- numba's full CUDA typing and lowering of the
generated code -- which catches any kernel the simulator would run but
numba.cuda would reject, on a machine without a GPU.  numba asks the
current device for its compute capability when it compiles a device
function; during the check that question is answered with ``cc``.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

import numpy as np

from graphc.errors import LoweringError

from ...ir.dtypes import DType
from .emitter import CudaKernel
from .mathlib import CONSTANTS, HELPERS, build_namespace
from .target import CudaTarget

HEADER = (
    '"""graphc cuda program (generated; see graphc.backends.cuda)."""\n'
    "# Globals: cuda (numba.cuda), math, np, "
    f"{', '.join(sorted(k for k in CONSTANTS if k != 'np'))}\n"
    f"# Device helpers (graphc.backends.cuda.mathlib): {', '.join(sorted(HELPERS))}\n"
    "# Every kernel takes its arrays flattened to 1-D (C order), then E (int64 error\n"
    "# flag), then d1, d2, ... (int64 sizes).\n"
)

_SIM_WRAPPER = ("def {name}__quiet(*args):\n"
                "    with np.errstate(all='ignore'):\n"
                "        {name}(*args)\n")


def storage_dtype(dtype: DType) -> np.dtype:
    """The element type of a kernel array for an IR dtype."""
    return np.dtype(np.uint8) if dtype is DType.bool else dtype.numpy


def program_source(kernels: list[CudaKernel]) -> str:
    return HEADER + "".join("\n\n" + k.source for k in kernels)


def signature(kernel: CudaKernel) -> Any:
    from numba import from_dtype, types
    arrays = [types.Array(from_dtype(storage_dtype(v.type.dtype)), 1, "C") for v in kernel.args]
    return types.void(*arrays, types.Array(types.int64, 1, "C"),
                      *([types.int64] * len(kernel.scalars)))


def _execute(source: str, namespace: dict[str, Any]) -> None:
    try:
        exec(compile(source, "<graphc cuda program>", "exec"), namespace)
    except SyntaxError as exc:  # a lowering bug: show the text
        raise LoweringError(f"backend 'cuda' generated invalid Python ({exc})\n--- program "
                            f"source ---\n{source}") from None


_LOCK = threading.Lock()
_SIM_SHARED_LOCK = threading.Lock()
_MEMO: dict[tuple[str, str], dict[str, Any]] = {}


def compile_program(target: CudaTarget, kernels: list[CudaKernel]) -> dict[str, Any]:
    """kernel name -> launchable (``launcher[blocks, threads](*args)``)."""
    source = program_source(kernels)
    key = (target.kind, source)
    with _LOCK:
        if key in _MEMO:
            return _MEMO[key]
    namespace = target.namespace()
    if target.simulated:
        namespace["SHARED_LOCK"] = _SIM_SHARED_LOCK
        _execute("".join("\n\n" + k.simulator_source() for k in kernels), namespace)
    else:
        _execute(source, namespace)
    launchers: dict[str, Any] = {}
    for kernel in kernels:
        if target.simulated:
            _execute(_SIM_WRAPPER.format(name=kernel.name), namespace)
            launchers[kernel.name] = target.api.jit(namespace[f"{kernel.name}__quiet"])
            continue
        try:
            launchers[kernel.name] = target.api.jit(signature(kernel))(namespace[kernel.name])
        except Exception as exc:  # numba rejected generated code: a lowering bug
            raise LoweringError(f"backend 'cuda' generated a kernel numba.cuda cannot compile "
                                f"({type(exc).__name__}: {str(exc)[:2000]})\n--- kernel "
                                f"---\n{kernel.source}") from None
    with _LOCK:
        return _MEMO.setdefault(key, launchers)


@contextlib.contextmanager
def _assumed_device(cc: tuple[int, int]) -> Iterator[None]:
    import numba.cuda.dispatcher as dispatcher

    class _Device:
        compute_capability = cc

    real = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: _Device()
    try:
        yield
    finally:
        dispatcher.get_current_device = real


def nvvm_problem() -> str | None:
    """None when NVVM (the CUDA toolkit's compiler library) can be loaded, else why not."""
    try:
        from numba.cuda.cudadrv import nvvm
        nvvm.NVVM()
    except Exception as exc:
        return " ".join(str(exc).split()) or type(exc).__name__
    return None


def ptx_for(kernels: list[CudaKernel], cc: tuple[int, int] = (8, 0),
            optimize: bool = True) -> dict[str, str]:
    """PTX of every kernel for compute capability ``cc`` (see the module docstring)."""
    from numba import cuda
    namespace = build_namespace(simulated=False)
    source = program_source(kernels)
    _execute(source, namespace)
    out: dict[str, str] = {}
    with _LOCK, _assumed_device(cc):
        for kernel in kernels:
            try:
                ptx, _ = cuda.compile_ptx(namespace[kernel.name], signature(kernel), cc=cc, opt=optimize)
            except Exception as exc:
                raise LoweringError(f"kernel {kernel.name} does not compile for sm_"
                                    f"{cc[0]}{cc[1]} ({type(exc).__name__}: "
                                    f"{str(exc)[:2000]})\n--- kernel ---\n{kernel.source}") \
                    from None
            out[kernel.name] = ptx
    return out
