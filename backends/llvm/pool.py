"""Run one kernel launch as chunks on several threads.

A generated function that is a single map or row stage takes a sub-range
``[lo, hi)`` of its outermost loop (``kernelgen.py``).  ``WorkerPool.run``
cuts the loop's extent into one contiguous chunk per thread, hands all but
the first to worker threads and runs the first on the calling thread;
ctypes releases the GIL during each call, so the chunks run in parallel.
Workers block on a queue between launches (they never spin, so they never
take cores from BLAS threads).  The first non-zero return code of the
chunks is the launch's result.

Launches writing fewer than ``min_size`` elements, or with an extent of 1,
run on the calling thread only: a hand-over costs tens of microseconds.
Several user threads may call ``run`` at once; their chunks share the
workers in arrival order.  A child process forked after the workers started
starts its own on its first split launch.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Callable

INT64_MAX = 2 ** 63 - 1


def default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _Chunk:
    __slots__ = ("call", "args", "code", "done")

    def __init__(self, call: Callable, args: tuple) -> None:
        self.call, self.args = call, args
        self.code = 0
        self.done = threading.Event()


class WorkerPool:
    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._tasks: queue.SimpleQueue = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _start(self) -> None:
        with self._lock:
            if self._pid != os.getpid():   # a forked child has none of the parent's threads
                self._tasks, self._workers, self._pid = queue.SimpleQueue(), [], os.getpid()
            while len(self._workers) < self.threads - 1:
                worker = threading.Thread(target=self._serve, daemon=True,
                                          name=f"graphc-llvm-{len(self._workers)}")
                worker.start()
                self._workers.append(worker)

    def _serve(self) -> None:
        while True:
            chunk = self._tasks.get()
            try:
                chunk.code = chunk.call(*chunk.args)
            except BaseException:  # pragma: no cover - a ctypes call does not raise
                chunk.code = -1
            chunk.done.set()

    def run(self, call: Callable, pointers: int, scalars: int, extent: int) -> int:
        """``call(pointers, scalars, lo, hi)`` over ``[0, extent)`` in chunks."""
        parts = min(self.threads, extent)
        if parts <= 1:
            return call(pointers, scalars, 0, INT64_MAX)
        self._start()
        bounds = [extent * k // parts for k in range(parts + 1)]
        chunks = [_Chunk(call, (pointers, scalars, bounds[k], bounds[k + 1]))
                  for k in range(1, parts)]
        for chunk in chunks:
            self._tasks.put(chunk)
        code = call(pointers, scalars, bounds[0], bounds[1])
        for chunk in chunks:
            chunk.done.wait()
            code = code or chunk.code
        return code


_POOLS: dict[int, WorkerPool] = {}
_POOLS_LOCK = threading.Lock()


def get_pool(threads: int) -> WorkerPool:
    with _POOLS_LOCK:
        if threads not in _POOLS:
            _POOLS[threads] = WorkerPool(threads)
        return _POOLS[threads]
