"""``graphc grad``: the printed gradient IR parses, verifies and computes the right
gradient; mistakes are one clear message."""

from __future__ import annotations

import os

import numpy as np

from graphc.backends import get_backend

from graphc.ir import parse_module, verify
from tests.cli.test_cli import run_cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOSS_FUNC = """\
func @loss(%x: f32[3], %w: f32[3]) -> (f32[]) {
  %0: f32[3] = mul(%x, %w)
  %1: f32[3] = exp(%0)
  %2: f32[] = sum(%1) {axes = none, keepdims = false}
  return %2
}
"""


def test_gradient_of_a_scalar_function(tmp_path, capsys):
    path = tmp_path / "loss.gir"
    path.write_text(LOSS_FUNC)
    status, out, err = run_cli(["grad", str(path), "--wrt", "w"], capsys)
    assert status == 0 and err == ""
    module = verify(parse_module(out))
    assert module.entry.name == "loss_grad"
    x, w = np.array([1.0, 2.0, -1.0], np.float32), np.array([0.5, -0.3, 2.0], np.float32)
    value, grad_w = get_backend("interpreter").compile(module)(x, w)
    np.testing.assert_allclose(value, np.exp(x * w).sum(), rtol=1e-6)
    np.testing.assert_allclose(grad_w, x * np.exp(x * w), rtol=1e-6)


def test_raw_and_vector_jacobian_forms(capsys):
    example = os.path.join(ROOT, "examples", "mlp.gir")
    status, out, _ = run_cli(["grad", example, "--seed", "param", "-p", "O0"], capsys)
    assert status == 0 and "%ct_0: f32[N,10]" in out and "-> (f32[N,10], f32[N,784]" in out
    status, out, _ = run_cli(["grad", example, "--reduce", "mean", "--wrt", "b"], capsys)
    assert status == 0 and "-> (f32[], f32[10])" in out


def test_python_model_with_a_loss(capsys):
    ref = os.path.join(ROOT, "examples", "digits_mlp.py") + ":build_model"
    status, out, err = run_cli(["grad", ref, "--loss", "sparse_categorical_crossentropy",
                                "--wrt", "digits/kernel", "digits/bias"], capsys)
    assert status == 0, err
    module = verify(parse_module(out))
    entry = module.entry
    assert [p.name for p in entry.params][-1] == "target_0"
    assert [str(t) for t in entry.result_types] == ["f32[]", "f32[64,10]", "f32[10]"]
    assert 'loc("digits_mlp/digits"' in out  # gradient nodes keep their layer's location


def test_mistakes_are_one_message(capsys):
    example = os.path.join(ROOT, "examples", "mlp.gir")
    status, _, err = run_cli(["grad", example], capsys)
    assert status == 1 and "returns f32[N,10], not one 0-d float (a loss); pass --loss" in err
    status, _, err = run_cli(["grad", example, "--reduce", "sum", "--wrt", "nope"], capsys)
    assert status == 1 and "has no input named 'nope'" in err and "x, w, b" in err
    status, _, err = run_cli(["grad", example, "--loss", "msee"], capsys)
    assert status == 1 and "unknown loss 'msee'" in err
    status, _, err = run_cli(["grad", example, "--reduce", "sum", "-p", "nosuchpass"], capsys)
    assert status == 1 and "Traceback" not in err
