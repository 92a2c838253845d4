"""``graphc bench``: compile a model on several backends and time its calls.

Algorithm: load the model (``.gir``, saved ``.graphc`` or Python reference)
and bind its inputs as ``graphc run`` does (``-i`` files, the model's own
weights, random data for the rest); run the pass pipeline once (timed) and
compile the optimized module on each backend (timed, with the first call).
The timed calls then go in rounds -- one call per backend per round -- so
load from other processes falls on every backend alike; the table reports
the median and the 10th-90th percentile spread of each backend's calls,
its time relative to the fastest, and the largest difference of its
results from the interpreter's on the unoptimized module (the oracle).

A backend that is not available here is listed with the reason and skipped.
``--json FILE`` writes every figure, including each call's time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from graphc.errors import GraphcError, InputError

from ..backends import checked_call, get_backend, list_backends
from ..ir import Module, verify
from ..passes import run_pipeline
from .cmd_info import format_table
from .cmd_ir import gather_inputs
from .loading import load_model_ref

DEFAULT_ROUNDS = 20


def register(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="time a model on several backends, side by side")
    bench.add_argument("model", metavar="MODEL", help="a .gir file, a saved model (.graphc) "
                       "or a Python model reference; a model's weights are bound from the model")
    bench.add_argument("--backend", "-b", action="append", default=[], metavar="NAME",
                       help="a backend to time (repeatable, or comma separated; default: "
                            "every backend available here)")
    bench.add_argument("-p", "--passes", dest="pipeline", default="default",
                       metavar="PIPELINE", help="pass pipeline run before compiling "
                       "(default: default; O0 runs the model as written)")
    bench.add_argument("-i", "--input", action="append", default=[], metavar="NAME=PATH.npy",
                       help="bind an input by parameter name (repeatable); the others are "
                            "seeded random data")
    bench.add_argument("--dim", action="append", default=[], metavar="SYMBOL=SIZE",
                       help="size of a symbolic dim such as the batch (default 1)")
    bench.add_argument("--seed", type=int, default=0, help="seed for random inputs (default 0)")
    bench.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                       help=f"timed calls per backend (default {DEFAULT_ROUNDS})")
    bench.add_argument("--warmup", type=int, default=2,
                       help="untimed calls per backend after the first (default 2)")
    bench.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    bench.set_defaults(handler=run_bench, random=True)


def _backend_names(requested: list[str]) -> list[str]:
    names = [n.strip() for item in requested for n in item.split(",") if n.strip()]
    if names:
        if len(set(names)) != len(names):
            raise InputError(f"--backend names a backend twice: {', '.join(names)}")
        return names
    return [source.name for source, backend, status in list_backends()
            if backend is not None and status == "available"]


def _percentile(times: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(times), q))


def _max_difference(got: tuple, want: tuple) -> float:
    worst = 0.0
    for g, w in zip(got, want):
        if g.shape != w.shape or g.dtype != w.dtype:
            return float("inf")
        if g.size:
            with np.errstate(invalid="ignore"):
                diff = np.abs(g.astype(np.float64) - w.astype(np.float64))
            both_nan = np.isnan(g.astype(np.float64)) & np.isnan(w.astype(np.float64))
            worst = max(worst, float(np.max(np.where(both_nan, 0.0, diff))))
    return worst


def run_bench(args: argparse.Namespace) -> int:
    if args.rounds < 1 or args.warmup < 0:
        raise InputError(f"--rounds expects at least 1 and --warmup at least 0; received "
                         f"{args.rounds} and {args.warmup}")
    loaded = load_model_ref(args.model)
    module = verify(loaded.module)
    assert isinstance(module, Module)
    arrays = gather_inputs(module, args, loaded.defaults)
    want = get_backend("interpreter").compile(module)(*arrays)

    start = time.perf_counter()
    optimized = run_pipeline(module, args.pipeline)
    pipeline_s = time.perf_counter() - start

    runs, skipped = [], []
    for name in _backend_names(args.backend):
        backend = get_backend(name)
        if not backend.is_available():
            skipped.append(f"{name}: not available here ({backend.unavailable_reason()})")
            continue
        start = time.perf_counter()
        executable = checked_call(backend, "compile", backend.compile, optimized)
        compile_s = time.perf_counter() - start
        start = time.perf_counter()
        got = checked_call(backend, "run", executable, *arrays)
        first_s = time.perf_counter() - start
        for _ in range(args.warmup):
            executable(*arrays)
        runs.append({"backend": name, "executable": executable, "compile_s": compile_s,
                     "first_call_s": first_s, "max_abs_diff": _max_difference(got, want),
                     "times_s": []})
    if not runs:
        raise GraphcError("no backend to time: " + "; ".join(skipped))

    for _ in range(args.rounds):
        for run in runs:
            start = time.perf_counter()
            run["executable"](*arrays)
            run["times_s"].append(time.perf_counter() - start)

    for run in runs:
        run["median_s"] = statistics.median(run["times_s"])
    fastest = min(run["median_s"] for run in runs)
    rows = []
    for run in runs:
        rows.append([run["backend"], f"{run['compile_s']:.3f}",
                     f"{run['first_call_s'] * 1e3:.3f}", f"{run['median_s'] * 1e3:.3f}",
                     f"{_percentile(run['times_s'], 10) * 1e3:.3f}-"
                     f"{_percentile(run['times_s'], 90) * 1e3:.3f}",
                     f"{run['median_s'] / fastest:.2f}x", f"{run['max_abs_diff']:.2g}"])
    print(f"{args.model}: pipeline '{args.pipeline}' {pipeline_s:.3f} s; "
          f"{args.rounds} timed call(s) per backend in rounds")
    print(format_table(["backend", "compile s", "first call ms", "median ms", "p10-p90 ms",
                        "vs fastest", "max |diff| vs interpreter"], rows))
    for note in skipped:
        print(f"skipped {note}")
    if args.json:
        figures = {"model": args.model, "pipeline": args.pipeline, "pipeline_s": pipeline_s,
                   "rounds": args.rounds, "skipped": skipped,
                   "backends": [{k: v for k, v in run.items() if k != "executable"}
                                for run in runs]}
        try:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(figures, fh, indent=2)
        except OSError as exc:
            raise GraphcError(f"cannot write {args.json}: {exc.strerror}") from None
    return 0
