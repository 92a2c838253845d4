"""Compile time and run time of the llvm backend against numba and numpy.

    python benchmarks/llvm_compare.py [--rounds 6] [--compiles 3] [--json out.json]

Workloads (``workloads.py``): W1 = gelu_tanh(x*a + b)*c over 4M float32,
W2 = the MLP 784-512-512-10 forward (relu, softmax) at batch 256; both run
through the ``default`` pass pipeline first.

* **compile**: a fresh Python process per measurement, with an empty cache
  directory, times ``backend.compile(module)`` (lowering + LLVM or numba
  compilation; imports excluded) -- the cost of a cold start.  The median
  of ``--compiles`` processes is reported, plus the llvm backend's warm
  start (object code from its on-disk cache) in one more process.
* **run**: one process, implementations take turns in rounds (an untimed
  call, then 5 timed calls each), so load from other processes on a shared
  machine hits all alike; median and 10th-90th percentile of the timed
  calls.  numpy is the straightforward numpy program of the same math.
"""

from __future__ import annotations

import argparse
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
sys.path.insert(0, str(HERE))
import workloads  # noqa: E402

COMPILE_SNIPPET = """
import json, sys, time
sys.path.insert(0, {here!r})
import numpy as np
import workloads
from graphc.backends import get_backend
from graphc.passes import run_pipeline
module = run_pipeline(workloads.module({name!r}), "default")
backend = get_backend({backend!r})
t = time.perf_counter()
exe = backend.compile(module, {{"cache_dir": {cache!r}}})
compile_s = time.perf_counter() - t
inputs = getattr(workloads, {inputs!r})(np.random.default_rng(0))
t = time.perf_counter()
exe(*inputs)
print(json.dumps({{"compile_s": compile_s, "first_run_s": time.perf_counter() - t}}))
"""


def compile_in_fresh_process(backend: str, name: str, cache: str) -> dict:
    code = COMPILE_SNIPPET.format(here=str(HERE), name=name, backend=backend, cache=cache,
                                  inputs=f"{name.lower()}_inputs")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "GRAPHC_CACHE_DIR": cache})
    if proc.returncode != 0:
        raise RuntimeError(f"{backend} {name}: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compile_times(name: str, repeats: int) -> dict:
    out: dict = {}
    for backend in ("llvm", "numba"):
        runs = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="graphc-llvm-compare-") as cache:
                runs.append(compile_in_fresh_process(backend, name, cache))
        out[backend] = statistics.median(r["compile_s"] for r in runs)
    with tempfile.TemporaryDirectory(prefix="graphc-llvm-compare-") as cache:
        compile_in_fresh_process("llvm", name, cache)
        out["llvm (warm disk cache)"] = compile_in_fresh_process("llvm", name, cache)["compile_s"]
    return out


def numpy_w1(x, a, b, c):
    u = x * a + b
    inner = np.float32(np.sqrt(2.0 / np.pi)) * (u + np.float32(0.044715) * u * u * u)
    return (np.float32(0.5) * u * (np.float32(1.0) + np.tanh(inner))) * c


def numpy_w2(x, w1, b1, w2, b2, w3, b3):
    h = np.maximum(x @ w1 + b1, 0)
    h = np.maximum(h @ w2 + b2, 0)
    z = h @ w3 + b3
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def run_times(name: str, rounds: int) -> dict:
    from graphc.backends import get_backend
    from graphc.passes import run_pipeline

    module = run_pipeline(workloads.module(name), "default")
    inputs = getattr(workloads, f"{name.lower()}_inputs")(np.random.default_rng(0))
    fns = {"llvm": get_backend("llvm").compile(module),
           "numba": get_backend("numba").compile(module),
           "numpy": numpy_w1 if name == "W1" else numpy_w2}
    reference = fns["numpy"](*inputs)
    for label in ("llvm", "numba"):
        got = fns[label](*inputs)[0]
        np.testing.assert_allclose(got, reference, rtol=1e-3, atol=1e-4, err_msg=label)
    times: dict[str, list[float]] = {label: [] for label in fns}
    for _ in range(rounds):
        for label, fn in fns.items():
            time.sleep(0.1)
            fn(*inputs)
            for _ in range(5):
                t = time.perf_counter()
                fn(*inputs)
                times[label].append(time.perf_counter() - t)
    out = {}
    for label, ts in times.items():
        ts = sorted(ts)
        out[label] = {"median_ms": statistics.median(ts) * 1e3,
                      "p10_ms": ts[len(ts) // 10] * 1e3, "p90_ms": ts[(9 * len(ts)) // 10] * 1e3,
                      "runs": len(ts)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="run-time rounds (5 calls each)")
    parser.add_argument("--compiles", type=int, default=3, help="fresh processes per compile time")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = {}
    for name in ("W1", "W2"):
        compiles = compile_times(name, args.compiles)
        runs = run_times(name, args.rounds)
        results[name] = {"compile_s": compiles, "run": runs}
        print(f"\n{name}: compile (cold, fresh process, median of {args.compiles})")
        for label, seconds in compiles.items():
            print(f"  {label:24s} {seconds * 1e3:9.1f} ms")
        print(f"{name}: run time (median, p10-p90 of {runs['llvm']['runs']} calls)")
        for label, r in runs.items():
            print(f"  {label:24s} {r['median_ms']:9.2f} ms   ({r['p10_ms']:.2f} - "
                  f"{r['p90_ms']:.2f})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
