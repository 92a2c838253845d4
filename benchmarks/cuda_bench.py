"""``python benchmarks/cuda_bench.py``: the cuda backend against the numba CPU
backend and numpy on two workloads of ``workloads.py``:

W1  gelu_tanh(x*a + b) * c over 4M f32 (one fused elementwise kernel)
W2  MLP 784-512-512-10 forward, batch 256 (three tiled matmul kernels with
    their bias/relu epilogues, one softmax row kernel)

It runs only where numba.cuda drives a real GPU; anywhere else it prints
why and exits 0 (the simulator is far too slow to time anything).

Every graphc row is measured through the executable, host arrays in and
host arrays out, so cuda times include copying inputs to the device and
results back.  W2 also has "cuda, weights resident": the six weights
frozen (read-only) and kept on the device with
``keep_on_device(..., check="identity")``, so a call copies only x and the
result.  Each number is the median of ``--repeat`` timed calls after two
warm-up calls (the first compiles nothing: kernels are compiled by
``compile``, numba's by its cache); results are checked against numpy
first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads  # noqa: E402


def median_ms(fn, repeat: int) -> float:
    fn()
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def numpy_w1(x, a, b, c):
    y = x * a + b
    return 0.5 * y * (1.0 + np.tanh(np.float32(0.7978845608028654)
                                    * (y + np.float32(0.044715) * y * y * y))) * c


def numpy_w2(x, w1, b1, w2, b2, w3, b3):
    h = np.maximum(x @ w1 + b1, 0)
    h = np.maximum(h @ w2 + b2, 0)
    z = h @ w3 + b3
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def bench_workload(name: str, inputs: list, reference, repeat: int) -> dict[str, float]:
    from graphc.backends import get_backend
    from graphc.passes import run_pipeline

    module = run_pipeline(workloads.module(name), "default")
    want = reference(*inputs)
    rows: dict[str, float] = {"numpy": median_ms(lambda: reference(*inputs), repeat)}
    for backend in ("numba", "cuda"):
        exe = get_backend(backend).compile(module)
        got = exe(*inputs)[0]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{backend} disagrees with numpy on {name}")
        rows[f"graphc {backend}"] = median_ms(lambda: exe(*inputs), repeat)
        if backend == "cuda" and len(inputs) > 1 and name == "W2":
            for w in inputs[1:]:
                w.setflags(write=False)
            exe.keep_on_device(range(1, len(inputs)), check="identity")
            rows["graphc cuda, weights resident"] = median_ms(lambda: exe(*inputs), repeat)
            print(f"  (weight uploads during the resident run: {exe.transfer_stats.uploads})")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed calls per row")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    args = parser.parse_args(argv)
    from graphc.backends.cuda.target import gpu_problem
    problem = gpu_problem()
    if problem is not None:
        print(f"cuda_bench: skipped, it needs a real CUDA GPU: {problem}")
        return 0
    from numba import cuda
    print(f"device: {cuda.get_current_device().name.decode()}")
    rng = np.random.default_rng(0)
    results = {
        "W1": bench_workload("W1", workloads.w1_inputs(rng), numpy_w1, args.repeat),
        "W2": bench_workload("W2", workloads.w2_inputs(rng), numpy_w2, args.repeat),
    }
    for name, rows in results.items():
        print(f"\n{name}  (median ms over {args.repeat} calls; x = time / graphc cuda)")
        base = rows["graphc cuda"]
        for label, ms in rows.items():
            print(f"  {label:32s} {ms:9.3f} ms   x{ms / base:6.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
