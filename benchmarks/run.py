"""``make bench``: W1-W3 side by side in one process -- graphc (numba; the
interpreter for reference) against numpy eager, a hand-fused numba kernel
(W1), PyTorch eager / torch.compile, JAX and ONNX Runtime when installed.

Prints one table per workload (median and 10th-90th percentile range of
interleaved runs, rate, each implementation's time divided by graphc's),
graphc's first call in fresh processes (cold and warm kernel cache), then
the issue's targets with the measured value and whether each is met.
Writes everything to JSON (``--json PATH``).  See ``measure.py`` for how
each number is taken.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import measure  # noqa: E402
import peers  # noqa: E402
import workloads  # noqa: E402

GRAPHC = "graphc-numba"
CEILING = "sgemm ceiling"
NOT_PEERS = {GRAPHC, "graphc-interpreter", "hand-fused numba", CEILING}

TARGETS = [
    # (workload, description, how the value is computed, comparison, threshold)
    ("W1", "graphc time / hand-fused numba time", ("ratio", GRAPHC, "hand-fused numba"), "<=", 1.25),
    ("W1", "torch.compile time / graphc time", ("ratio", "torch.compile", GRAPHC), ">=", 4.0),
    ("W1", "numpy time / graphc time", ("ratio", "numpy", GRAPHC), ">=", 20.0),
    ("W2", "graphc time / fastest peer's time", ("vs_fastest",), "<=", 1.0),
    ("W2", "% of the sgemm ceiling", ("ceiling",), ">=", 90.0),
    ("W3", "graphc time / fastest peer's time", ("vs_fastest",), "<=", 1.0),
    ("W3", "% of the sgemm ceiling", ("ceiling",), ">=", 76.0),
    ("W3", "first call, cold cache (s)", ("first", "cold"), "<", 3.0),
    ("W3", "first call, pristine: no numba cache either (s)", ("first", "pristine"), "<", 3.0),
    ("W3", "first call, warm cache (s)", ("first", "warm"), "<", 0.3),
]


def rate(name: str, median_ms: float) -> str:
    if name == "W1":
        return f"{workloads.W1_BYTES / median_ms / 1e6:.1f} GB/s"
    flop = workloads.W2_FLOP if name == "W2" else workloads.W3_FLOP
    return f"{flop / median_ms / 1e6:.1f} GFLOP/s"


def build(name: str, inputs, cache: str, notes: list[str]) -> dict:
    from graphc.backends import get_backend
    from graphc.passes import run_pipeline

    module = run_pipeline(workloads.module(name), "default")
    fns = {GRAPHC: get_backend("numba").compile(module, {"cache_dir": cache})}
    if name != "W1":
        fns["graphc-interpreter"] = get_backend("interpreter").compile(module)
    for label, factory in peers.factories(name, inputs):
        try:
            fns[label] = factory()
        except peers.Unavailable as exc:
            if label != "hand-fused numba":
                notes.append(f"{label}: skipped ({exc})")
    return fns


def print_table(name: str, rows: dict, ceiling: float | None) -> None:
    base = rows[GRAPHC]["median_ms"]
    head = f"  {'implementation':<20} {'median ms':>10} {'p10-p90 ms':>19} {'rate':>16}"
    print(head + f" {'time/graphc':>12} {'first call ms':>14}")
    for label, row in rows.items():
        row["ratio_to_graphc"] = row["median_ms"] / base
        row["rate"] = rate(name, row["median_ms"])
        extra = ""
        if ceiling is not None:
            flop = workloads.W2_FLOP if name == "W2" else workloads.W3_FLOP
            row["pct_of_sgemm_ceiling"] = 100 * flop / row["median_ms"] / 1e6 / ceiling
            extra = f"  {row['pct_of_sgemm_ceiling']:5.1f}% of sgemm"
        print(f"  {label:<20} {row['median_ms']:>10.3f} {row['p10_ms']:>9.3f}-{row['p90_ms']:<9.3f}"
              f" {row['rate']:>16} {row['ratio_to_graphc']:>11.2f}x {row['first_call_ms']:>14.1f}"
              + extra)


def print_first_calls(fc: dict) -> None:
    for label in ("pristine", "cold", "warm"):
        runs = fc[label]
        bad = [r["error"] for r in runs if "error" in r]
        if bad:
            print(f"  first call ({label} cache): failed: {bad[0]}")
            continue
        totals = [r["first_call_s"] for r in runs]
        last = runs[-1]
        print(f"  first call ({label} cache): median {statistics.median(totals):.3f} s over "
              f"{len(runs)} fresh process(es) (range {min(totals):.3f}-{max(totals):.3f}); last: "
              f"pipeline {last['pipeline_s']:.3f} s, backend compile {last['compile_s']:.3f} s "
              f"({'numba compile' if last['compiled'] else 'loaded from cache'}, "
              f"numba {'imported' if last['numba_imported'] else 'not imported'}), first run "
              f"{last['run_s']:.3f} s; imports before it {last['imports_s']:.2f} s")


def evaluate(report: dict) -> list[dict]:
    results = []
    for name, what, how, cmp, threshold in TARGETS:
        entry = report["workloads"].get(name)
        value, why = None, ""
        if entry is not None:
            rows = entry["rows"]
            if how[0] == "ratio":
                if how[1] in rows and how[2] in rows:
                    value = rows[how[1]]["median_ms"] / rows[how[2]]["median_ms"]
                else:
                    why = f"needs {how[1]} and {how[2]}"
            elif how[0] == "vs_fastest":
                peer_rows = {k: v for k, v in rows.items() if k not in NOT_PEERS}
                if peer_rows:
                    fastest = min(peer_rows, key=lambda k: peer_rows[k]["median_ms"])
                    value = rows[GRAPHC]["median_ms"] / peer_rows[fastest]["median_ms"]
                    what = f"{what} ({fastest})"
            elif how[0] == "ceiling":
                value = rows[GRAPHC].get("pct_of_sgemm_ceiling")
            elif how[0] == "first":
                runs = entry.get("first_call", {}).get(how[1], [])
                good = [r["first_call_s"] for r in runs if "error" not in r]
                value = statistics.median(good) if good else None
                why = "" if good else "not measured"
        met = None if value is None else (value <= threshold if cmp == "<=" else
                                          value >= threshold if cmp == ">=" else value < threshold)
        results.append({"workload": name, "target": what, "value": value, "cmp": cmp,
                        "threshold": threshold, "met": met, "why": why})
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds per workload")
    parser.add_argument("--block", type=int, default=5, help="timed calls per turn")
    parser.add_argument("--only", nargs="*", default=["W1", "W2", "W3"])
    parser.add_argument("--json", default=str(HERE / "results.json"))
    parser.add_argument("--no-first-call", action="store_true")
    args = parser.parse_args(argv)

    import tempfile

    from graphc.backends.numba.threads import blas_info, default_threads

    report = {"blas": blas_info(), "threads": default_threads(), "workloads": {}}
    print(f"BLAS: {report['blas']}")
    print(f"graphc numba kernels: {default_threads()} thread(s), numba threading layer unused")
    cache = tempfile.mkdtemp(prefix="graphc-bench-")
    rng = np.random.default_rng(0)
    for name in args.only:
        inputs = getattr(workloads, f"{name.lower()}_inputs")(rng)
        notes: list[str] = []
        fns = build(name, inputs, cache, notes)
        if name != "W1":
            fns[CEILING] = measure.sgemm_products(workloads.W2_GEMMS if name == "W2"
                                                  else workloads.W3_GEMMS)
        failures: dict[str, str] = {}
        rows = measure.interleaved(fns, inputs, args.rounds, args.block, failures=failures)
        notes += [f"{label}: failed ({msg})" for label, msg in failures.items()]
        ceiling = None
        if CEILING in rows:
            flop = workloads.W2_FLOP if name == "W2" else workloads.W3_FLOP
            ceiling = flop / rows[CEILING]["median_ms"] / 1e6
        print(f"\n{name}" + (f"   (sgemm ceiling: {ceiling:.1f} GFLOP/s: numpy matmul on its "
                            "products alone, interleaved with the rest)" if ceiling else ""))
        for note in notes:
            print(f"  note: {note}")
        if GRAPHC not in rows:
            print("  graphc-numba failed; nothing to compare")
            report["workloads"][name] = {"rows": rows, "notes": notes}
            continue
        print_table(name, rows, ceiling)
        entry = {"rows": rows, "notes": notes, "sgemm_ceiling_gflops": ceiling}
        if not args.no_first_call and name == "W3":
            entry["first_call"] = measure.first_calls(name)
            print_first_calls(entry["first_call"])
        report["workloads"][name] = entry
    report["targets"] = evaluate(report)
    print("\nTargets")
    for t in report["targets"]:
        shown = "n/a" if t["value"] is None else f"{t['value']:.3g}"
        verdict = {True: "met", False: "NOT met", None: f"not evaluated ({t['why']})"}[t["met"]]
        print(f"  {t['workload']}  {t['target']:<52} {shown:>8} {t['cmp']} {t['threshold']:<5}"
              f"  {verdict}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1))
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
