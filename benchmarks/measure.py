"""How ``make bench`` measures: interleaved repetitions, the sgemm ceiling,
and first calls in fresh processes.

* ``interleaved``: implementations take turns in blocks: per round each
  one makes an untimed call, then ``block`` timed calls.  Rounds repeat, so
  a burst of load from other processes on a shared machine hits every
  implementation alike instead of whichever ran at that moment.  The
  pause before each turn and the untimed call absorb the hand-over from
  the previous library: several peers keep their worker threads spinning
  for a while after a call (OpenMP in PyTorch and numba's parallel loops,
  ONNX Runtime's and XLA's pools, OpenBLAS), which would otherwise tax
  whoever runs next on a machine with few cores.  Each
  implementation's very first call is timed apart (it includes compiling,
  for the peers that compile) and followed by warm-up calls.  Reported:
  median, 10th-90th percentile range, number of timed calls.
* ``sgemm_products``: numpy's BLAS on the workload's own matrix products
  alone (same shapes, same order, nothing else), timed as one more entry of
  the interleaved rounds so it meets the same machine conditions: the most
  any implementation built on that BLAS can reach.  W2/W3 rates are quoted
  as a percentage of its rate (the "sgemm ceiling").
* ``first_calls``: ``firstcall.py`` in fresh processes: *cold* (an empty
  graphc cache, each run its own; numba's cache of graphc's math helpers,
  kept next to the package like .pyc files, is whatever earlier runs on the
  machine left), *pristine* (numba's helper cache empty too: the first
  compile after installing graphc) and *warm* (graphc's cache present).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def summarize(times: list[float]) -> dict:
    ordered = sorted(times)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"median_ms": statistics.median(ordered) * 1e3, "p10_ms": pick(0.1) * 1e3,
            "p90_ms": pick(0.9) * 1e3, "runs": len(ordered)}


def interleaved(fns: dict, args: list, rounds: int, block: int = 5, warmup: int = 3,
                failures: dict | None = None, pause: float = 0.25) -> dict:
    """``{label: summary}`` (plus ``first_call_ms``) for every fn that runs."""
    first: dict[str, float] = {}
    live = {}
    for label, fn in fns.items():
        try:
            t = time.perf_counter()
            fn(*args)
            first[label] = time.perf_counter() - t
            for _ in range(warmup):
                fn(*args)
            live[label] = fn
        except Exception as exc:  # a failing peer is reported, never fatal
            if failures is not None:
                failures[label] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    times: dict[str, list[float]] = {label: [] for label in live}
    for _ in range(rounds):
        for label, fn in live.items():
            time.sleep(pause)
            fn(*args)
            for _ in range(block):
                t = time.perf_counter()
                fn(*args)
                times[label].append(time.perf_counter() - t)
    return {label: {**summarize(ts), "first_call_ms": first[label] * 1e3}
            for label, ts in times.items()}


def sgemm_products(shapes: list[tuple[int, int, int]]):
    """A callable running numpy matmul over ``shapes`` ((m, k, n) per product)
    into preallocated outputs: the workload's products and nothing else."""
    rng = np.random.default_rng(1)
    ops = [(rng.standard_normal((m, k)).astype(np.float32),
            rng.standard_normal((k, n)).astype(np.float32),
            np.empty((m, n), np.float32)) for m, k, n in shapes]

    def run(*_ignored):
        for a, b, c in ops:
            np.matmul(a, b, out=c)

    return run


def _firstcall(name: str, cache: str, env: dict | None = None) -> dict:
    proc = subprocess.run([sys.executable, str(HERE / "firstcall.py"), name, cache],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def first_calls(name: str, cold_runs: int = 3, warm_runs: int = 3) -> dict:
    """A pristine run, cold runs (each with an empty graphc cache), then warm
    runs on the last cache."""
    out: dict[str, list[dict]] = {"pristine": [], "cold": [], "warm": []}
    with tempfile.TemporaryDirectory(prefix="graphc-bench-cache-") as root:
        pristine = Path(root) / "pristine"
        (pristine / "numba").mkdir(mode=0o700, parents=True)
        env = dict(os.environ, NUMBA_CACHE_DIR=str(pristine / "numba"))
        out["pristine"].append(_firstcall(name, str(pristine), env))
        for i in range(cold_runs):
            cache = Path(root) / f"cold{i}"
            cache.mkdir(mode=0o700)
            out["cold"].append(_firstcall(name, str(cache)))
        for _ in range(warm_runs):
            out["warm"].append(_firstcall(name, str(cache)))
    return out
