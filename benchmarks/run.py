"""``make bench``: W1-W3 side by side in one process -- graphc (numba, and
the interpreter for reference), numpy eager, a hand-fused numba kernel (W1)
and PyTorch / JAX / onnxruntime when installed.  Prints a table (median and
min-max of repeated runs after warm-up, GFLOP/s or GB/s, ratio of each peer's
time to graphc-numba's) and writes JSON (``--json PATH``).  graphc's
first-call time is measured in fresh processes: cold (empty kernel cache)
and warm (cache present).

W3's graphc step is hand-written forward+backward IR (autodiff will
generate it later); the peers differentiate their own way.
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

import peers  # noqa: E402
import workloads  # noqa: E402


def optimize(module):
    """The default pass pipeline (with fuse) when graphc.passes provides it."""
    try:
        from graphc.passes import run_pipeline
    except ImportError:
        return module, "unoptimized IR (graphc.passes.run_pipeline missing)"
    try:
        return run_pipeline(module, "default"), "pipeline 'default'"
    except Exception as exc:  # report, and measure the unfused IR instead
        return module, f"unoptimized IR (pipeline failed: {type(exc).__name__}: {exc})"


def timeit(fn, args, repeat: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn(*args)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return times


def first_call(name: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="graphc-bench-cache-") as cache:
        out = {}
        for label in ("cold", "warm"):
            proc = subprocess.run([sys.executable, str(HERE / "firstcall.py"), name, cache],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                out[label] = {"error": proc.stderr.strip().splitlines()[-1:]}
            else:
                out[label] = json.loads(proc.stdout)
        return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", nargs="*", default=["W1", "W2", "W3"])
    parser.add_argument("--json", default="benchmarks/results.json")
    parser.add_argument("--no-first-call", action="store_true")
    args = parser.parse_args(argv)

    from graphc.backends import get_backend
    from graphc.backends.numba.threads import blas_info, default_threads
    from graphc.ir import parse_module

    rng = np.random.default_rng(0)
    report = {"blas": blas_info(), "threads": default_threads(), "workloads": {}}
    print(f"BLAS: {report['blas']}")
    print(f"graphc numba kernels: {default_threads()} thread(s), numba threading layer unused")
    cache = tempfile.mkdtemp(prefix="graphc-bench-")
    for name in args.only:
        ir = getattr(workloads, f"{name}_IR")
        inputs = getattr(workloads, f"{name.lower()}_inputs")(rng)
        module, how = optimize(parse_module(ir))
        rows = {}
        notes = [f"graphc IR: {how}"]
        fns = {"graphc-numba": get_backend("numba").compile(module, {"cache_dir": cache}),
               "numpy": getattr(peers, f"numpy_{name.lower()}")}
        if name != "W1":
            fns["graphc-interpreter"] = get_backend("interpreter").compile(module)
        if name == "W1":
            fns["hand-fused numba"] = peers.hand_numba_w1()
        for label, factory in [("torch eager", lambda: peers.torch_fns(name, False)),
                               ("torch.compile", lambda: peers.torch_fns(name, True)),
                               ("jax.jit", lambda: peers.jax_fns(name)),
                               ("onnxruntime", lambda: peers.onnxruntime_fns(name))]:
            try:
                fns[label] = factory()
            except peers.Unavailable as exc:
                notes.append(f"{label}: skipped ({exc})")
        for label, fn in fns.items():
            repeat = args.repeat if label != "graphc-interpreter" else max(3, args.repeat // 4)
            try:
                times = timeit(fn, inputs, repeat)
            except Exception as exc:  # a peer failing is reported, not fatal
                notes.append(f"{label}: failed ({type(exc).__name__}: {exc})")
                continue
            med = statistics.median(times)
            if name == "W1":
                rate = f"{2 * workloads.W1_SIZE * 4 / med / 1e9:.1f} GB/s"
            else:
                flop = workloads.W2_FLOP if name == "W2" else workloads.W3_FLOP
                rate = f"{flop / med / 1e9:.1f} GFLOP/s"
            rows[label] = {"median_ms": med * 1e3, "min_ms": min(times) * 1e3,
                           "max_ms": max(times) * 1e3, "rate": rate, "runs": len(times)}
        base = rows.get("graphc-numba", {}).get("median_ms")
        print(f"\n{name}  ({'; '.join(notes)})")
        print(f"  {'implementation':<20} {'median ms':>10} {'min-max ms':>17} {'rate':>15} "
              f"{'time / graphc':>14}")
        for label, row in rows.items():
            ratio = row["median_ms"] / base if base else float("nan")
            row["ratio_to_graphc"] = ratio
            print(f"  {label:<20} {row['median_ms']:>10.3f} "
                  f"{row['min_ms']:>8.3f}-{row['max_ms']:<8.3f} {row['rate']:>15} {ratio:>13.2f}x")
        entry = {"rows": rows, "notes": notes}
        if not args.no_first_call:
            fc = first_call(name)
            entry["first_call"] = fc
            for label, data in fc.items():
                if "error" in data:
                    print(f"  first call ({label}): failed: {data['error']}")
                else:
                    print(f"  first call ({label} cache): {data['first_call_s']:.3f} s "
                          f"(compiled {data['compiled']}, from disk {data['from_disk']} of "
                          f"{data['kernel_modules']} kernel module(s); imports "
                          f"{data['imports_s']:.2f} s not included)")
        report["workloads"][name] = entry
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1))
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
