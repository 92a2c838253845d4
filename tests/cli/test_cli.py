"""The graphc CLI: show/verify/run/backends/ops, exit statuses, and errors
that are one clear message (never a traceback)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from graphc.cli.main import main
from graphc.ir import all_ops

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "mlp.gir")
DESIGN_EXAMPLE = """\
func @mlp(%x: f32[N,784], %w: f32[784,10], %b: f32[10]) -> (f32[N,10]) {
  %0: f32[N,10] = matmul(%x, %w)
  %1: f32[N,10] = add(%0, %b)
  %2: f32[N,10] = softmax(%1) {axis = -1}
  return %2
}
"""


def run_cli(argv, capsys):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_show_roundtrips_the_design_example(tmp_path, capsys):
    path = tmp_path / "mlp.gir"
    path.write_text(DESIGN_EXAMPLE)
    status, out, err = run_cli(["show", str(path)], capsys)
    assert (status, out, err) == (0, DESIGN_EXAMPLE, "")


def test_run_matches_numpy(tmp_path, capsys):
    rng = np.random.default_rng(3)
    arrays = {"x": rng.standard_normal((5, 784)).astype(np.float32),
              "w": (rng.standard_normal((784, 10)) * 0.05).astype(np.float32),
              "b": rng.standard_normal(10).astype(np.float32)}
    argv = ["run", EXAMPLE, "--backend", "interpreter", "-o", str(tmp_path / "out")]
    for name, array in arrays.items():
        np.save(tmp_path / f"{name}.npy", array)
        argv += ["-i", f"{name}={tmp_path / (name + '.npy')}"]
    status, out, err = run_cli(argv, capsys)
    assert status == 0, err
    assert out.startswith("out0: float32(5, 10) -> ")
    result = np.load(tmp_path / "out" / "out0.npy")
    logits = arrays["x"].astype(np.float64) @ arrays["w"] + arrays["b"]
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(result, expected, atol=1e-6, rtol=0)


def test_verify_reports_ok(capsys):
    status, out, _ = run_cli(["verify", EXAMPLE], capsys)
    assert status == 0 and "ok (1 function(s), 3 node(s))" in out


def test_type_mismatch_is_reported_with_the_expected_type(tmp_path, capsys):
    path = tmp_path / "bad.gir"
    path.write_text(DESIGN_EXAMPLE.replace("%1: f32[N,10] = add", "%1: f32[N,11] = add"))
    status, _, err = run_cli(["verify", str(path)], capsys)
    assert status == 1
    assert f"{path}:3:3: error: verifier invariant 4" in err
    assert "expected type f32[N,10]" in err


@pytest.mark.parametrize("argv, message", [
    (["run", EXAMPLE], "missing input 'x' (f32[N,784]); pass -i x=PATH.npy or --random"),
    (["run", EXAMPLE, "-i", "z=a.npy"], "@mlp has no parameter z; its parameters are x, w, b"),
    (["run", EXAMPLE, "-i", "x"], "-i expects NAME=VALUE, received 'x'"),
    (["run", EXAMPLE, "-i", "x=/nonexistent.npy", "--random"],
     "input 'x': no such file /nonexistent.npy"),
    (["run", EXAMPLE, "--random", "--backend", "nope"], "unknown backend 'nope'"),
    (["run", EXAMPLE, "--random", "--dim", "N=-3"], "expects a non-negative integer"),
    (["run", EXAMPLE, "--random", "--dim", "Q=3"],
     "--dim names Q, which no parameter of @mlp has; its symbolic dims are N"),
    (["show", "missing.gir"], "cannot read missing.gir: no such file"),
    (["show", "model.onnx"], "expected a .gir file"),
])
def test_user_errors_exit_1_with_one_message(argv, message, capsys):
    status, _, err = run_cli(argv, capsys)
    assert status == 1
    assert err.startswith("graphc: error: ")
    assert message in err
    assert "Traceback" not in err


def test_wrong_array_shape_from_file(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((5, 783), np.float32))
    status, _, err = run_cli(["run", EXAMPLE, "--random", "-i", f"x={tmp_path}/x.npy"], capsys)
    assert status == 1
    assert "input 0 ('x') expected shape (N, 784), received (5, 783)" in err


def test_pickled_npy_is_refused(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    status, _, err = run_cli(["run", EXAMPLE, "--random", "-i", f"x={tmp_path}/x.npy"], capsys)
    assert status == 1 and "not a readable .npy array" in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_backends_and_ops_listings(capsys):
    status, out, _ = run_cli(["backends"], capsys)
    assert status == 0
    assert re.search(r"^interpreter +available +built-in", out, re.M), out
    status, out, _ = run_cli(["ops"], capsys)
    assert status == 0
    assert "concat(*inputs) {axis: int = 0}" in out
    assert "gelu(x) {approximate: bool = false}" in out
    count = len(all_ops())
    assert f"interpreter: {count}/{count} ops lowered" in out


def test_random_run_with_dims(capsys):
    status, out, _ = run_cli(["run", EXAMPLE, "--random", "--dim", "N=3"], capsys)
    assert status == 0 and out.strip() == "out0: float32(3, 10)"


def test_real_process_prints_no_traceback(tmp_path):
    bad = tmp_path / "bad.gir"
    bad.write_bytes(b"func @f(%x: f32[2]) -> (f32[2]) {\n  \xff\xfe\n")
    exe = os.path.join(os.path.dirname(sys.executable), "graphc")
    proc = subprocess.run([exe, "verify", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert f"{bad}:2:3: error: the file is not UTF-8 text (invalid byte 0xff)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_running_out_of_memory_is_an_error_not_a_crash(tmp_path, capsys, monkeypatch):
    import graphc.cli.cmd_ir as cmd_ir

    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 37.3 GiB")

    monkeypatch.setattr(cmd_ir, "gather_inputs", exhausted)
    status, _, err = run_cli(["run", EXAMPLE, "--random"], capsys)
    assert status == 1
    assert err.startswith("graphc: error: not enough memory to finish (Unable to allocate")
    assert "internal error" not in err
