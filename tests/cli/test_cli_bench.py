"""``graphc bench`` (side-by-side timing with an oracle check) and
``graphc run -p PIPELINE``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from graphc.cli.main import main

from .test_cli import EXAMPLE, run_cli


def _table_rows(out: str) -> dict[str, list[str]]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("backend"))
    rows = {}
    for line in lines[start + 2:]:
        if not line or line.startswith("skipped"):
            break
        cells = line.split()
        rows[cells[0]] = cells[1:]
    return rows


def test_bench_times_each_backend_and_checks_it_against_the_interpreter(tmp_path, capsys):
    out_json = tmp_path / "bench.json"
    status, out, err = run_cli(["bench", EXAMPLE, "-b", "interpreter,numba", "-b", "llvm",
                                "--dim", "N=8", "--rounds", "3", "--json", str(out_json)],
                               capsys)
    assert status == 0, err
    assert "pipeline 'default'" in out
    rows = _table_rows(out)
    assert set(rows) == {"interpreter", "numba", "llvm"}
    ratios = [float(cells[4].rstrip("x")) for cells in rows.values()]
    assert min(ratios) == 1.0 and all(r >= 1.0 for r in ratios)
    for cells in rows.values():                     # float32 kernels vs the oracle
        assert float(cells[5]) < 1e-5
    figures = json.loads(out_json.read_text())
    assert [b["backend"] for b in figures["backends"]] == ["interpreter", "numba", "llvm"]
    for entry in figures["backends"]:
        assert len(entry["times_s"]) == 3
        assert entry["median_s"] == sorted(entry["times_s"])[1]


def test_bench_reports_an_unavailable_backend_and_times_the_rest(capsys):
    status, out, err = run_cli(["bench", EXAMPLE, "-b", "interpreter", "-b", "cuda",
                                "--rounds", "1"], capsys)
    if "skipped cuda" not in out:
        pytest.skip("a CUDA GPU is present: cuda is available")
    assert status == 0, err
    assert set(_table_rows(out)) == {"interpreter"}


@pytest.mark.parametrize("argv,message", [
    (["bench", EXAMPLE, "-b", "nope"], "unknown backend 'nope'"),
    (["bench", EXAMPLE, "-b", "numba,numba"], "--backend names a backend twice"),
    (["bench", EXAMPLE, "-p", "bogus"], "unknown pass 'bogus'"),
    (["bench", EXAMPLE, "--rounds", "0"], "--rounds expects at least 1"),
    (["bench", EXAMPLE, "-i", "x=/nonexistent.npy"], "/nonexistent.npy"),
])
def test_bench_errors_are_one_message(argv, message, capsys):
    status, out, err = run_cli(argv, capsys)
    assert status == 1 and message in err and "Traceback" not in err


def test_run_with_a_pipeline_gives_the_same_results(tmp_path, capsys):
    plain, fused = tmp_path / "plain", tmp_path / "fused"
    base = ["run", EXAMPLE, "--random", "--dim", "N=5", "-b", "numba"]
    assert run_cli(base + ["-o", str(plain)], capsys)[0] == 0
    status, _, err = run_cli(base + ["-p", "default", "-o", str(fused),
                                     "--dump-kernels", str(tmp_path / "k")], capsys)
    assert status == 0, err
    np.testing.assert_allclose(np.load(fused / "out0.npy"), np.load(plain / "out0.npy"),
                               rtol=1e-6, atol=1e-7)
    # the default pipeline fuses the bias add and softmax: fewer kernels than nodes
    assert 0 < len(list((tmp_path / "k").iterdir())) < 3
