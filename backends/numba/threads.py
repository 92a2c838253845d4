"""graphc's thread policy for numba kernels next to BLAS, and its pool.

What the policy must prevent: a numba kernel and a BLAS call (numpy's
OpenBLAS) run one after the other, each wanting every core.  Numba's own
``parallel=True`` runs on an OpenMP (or TBB/workqueue) pool whose idle
workers spin after each kernel and take the cores the BLAS threads need; a
naive numba MLP measured over 10x slower than numpy that way.  Parallel
numba kernels also compile about 5x slower than serial ones (measured here:
~1.0 s against ~0.2 s per kernel), which alone would break the cold-start
budget of a training step.

So graphc never starts numba's threading layer.  Kernels are compiled
serial, each taking a ``lo:hi`` range of its outermost loop, and a pool
runs large launches over several threads:

* ``nativepool.NativePool`` (x86-64 Linux): native workers claim blocks of
  the range without the GIL; the caller starts at once, workers join within
  ~10 us, spin briefly for the next launch and sleep on a futex when the
  runtime *parks* them before every BLAS call and at the end of each call,
  so they never compete with BLAS threads for cores;
* ``KernelPool`` (elsewhere): the same idea with Python threads -- one chunk
  per thread, idle workers blocked on a condition variable (never
  spinning).  A hand-over costs ~130 us there, so only large launches gain.

Launches smaller than ``min_size`` elements, or with a single outer
iteration, run on the calling thread only.  In programs that call BLAS
the threshold is ``parallel_min_size_blas`` (default 2**20 elements):
OpenBLAS's idle threads keep spinning (yielding) for a long while after
each call, so a kernel split over threads right after a matmul shares its
cores with them; on the 2-core development machine the W3 train step ran
6.3 ms with its kernels serial and 6.8 ms with them split.  BLAS keeps its own thread
settings (printed by ``blas_info``); its threads and the pool's never run at
the same time within one call.  Calls from several threads at once are
safe: the Python pool serves launches in arrival order, the native pool
runs one launch at a time and a caller that finds it busy runs alone.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from typing import Callable, Sequence


class _Launch:
    __slots__ = ("fn", "chunks", "pending", "error", "done")

    def __init__(self, fn: Callable, chunks: list[tuple[int, int]]) -> None:
        self.fn = fn
        self.chunks = chunks
        self.pending = len(chunks)
        self.error: BaseException | None = None
        self.done = threading.Event()


class KernelPool:
    """Splits ``fn(lo, hi)`` over ``threads`` threads (the caller included)."""

    def __init__(self, threads: int) -> None:
        self.threads = max(1, threads)
        self._work: deque = deque()
        self._cond = threading.Condition()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []

    def _start(self) -> None:
        with self._lock:
            while len(self._workers) < self.threads - 1:
                t = threading.Thread(target=self._serve, name=f"graphc-kernel-{len(self._workers)}",
                                     daemon=True)
                t.start()
                self._workers.append(t)

    def _serve(self) -> None:
        while True:
            with self._cond:
                while not self._work:
                    self._cond.wait()
                launch, lo, hi = self._work.popleft()
            self._run_chunk(launch, lo, hi)

    @staticmethod
    def _run_chunk(launch: _Launch, lo: int, hi: int) -> None:
        try:
            launch.fn(lo, hi)
        except BaseException as exc:  # reported to the caller
            launch.error = exc
        finally:
            with _COUNT_LOCK:
                launch.pending -= 1
                last = launch.pending == 0
            if last:
                launch.done.set()

    def launch(self, entry_address: int, direct, kid: int, extent: int, table: int,
               work: int) -> None:
        """Run kernel ``kid`` of a program over ``0:extent`` (``direct`` is the
        program's callable entry; the native pool uses its address)."""
        self.run(lambda lo, hi: direct(kid, lo, hi, table), extent)

    def park(self) -> None:
        """Nothing to do: idle Python workers always block."""

    def run(self, fn: Callable[[int, int], None], extent: int) -> None:
        """Run ``fn`` over ``range(extent)`` split into one chunk per thread."""
        parts = min(self.threads, extent)
        if parts <= 1:
            fn(0, extent)
            return
        if len(self._workers) < self.threads - 1:
            self._start()
        bounds = [extent * i // parts for i in range(parts + 1)]
        chunks = [(bounds[i], bounds[i + 1]) for i in range(parts)]
        launch = _Launch(fn, chunks)
        with self._cond:
            for lo, hi in chunks[1:]:
                self._work.append((launch, lo, hi))
            self._cond.notify(parts - 1)
        self._run_chunk(launch, *chunks[0])
        launch.done.wait()
        if launch.error is not None:
            raise launch.error


_COUNT_LOCK = threading.Lock()
_POOLS: dict[int, object] = {}
_POOLS_LOCK = threading.Lock()


def default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def get_pool(threads: int):
    """The process-wide pool with ``threads`` threads (shared by executables):
    native where ``nativepool.supported()``, else ``KernelPool``."""
    from . import nativepool
    with _POOLS_LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            kind = nativepool.NativePool if nativepool.supported() else KernelPool
            pool = _POOLS[threads] = kind(threads)
        return pool


def blas_info() -> str:
    """numpy's BLAS library and its thread settings, for benchmark reports."""
    import numpy as np
    name = "unknown"
    try:
        config = np.show_config(mode="dicts")  # type: ignore[call-arg]
        blas = config.get("Build Dependencies", {}).get("blas", {})
        name = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # numpy without dict mode
        pass
    keys: Sequence[str] = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                           "OPENBLAS_CORETYPE")
    env = ", ".join(f"{k}={os.environ[k]}" for k in keys if k in os.environ) or \
        "no BLAS thread variables set: BLAS uses every core"
    return f"{name} ({env}; cores={default_threads()})"


def describe_thread_policy(threads: int, min_size: int) -> str:
    from . import nativepool
    kind = "native" if nativepool.supported() else "Python"
    return (f"kernels: serial numba kernels split over {threads} thread(s) ({kind} pool) when "
            f"they write >= {min_size} elements; numba's threading layer unused; BLAS: "
            f"{blas_info()}")
