"""``graphc show file.py:attr`` / ``module:attr`` (and ``--summary``): the IR
or the layer table of a Python model, and one clear error line otherwise."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from graphc.cli.main import main
from graphc.cli.python_models import is_python_reference

MODELS = textwrap.dedent('''\
    import graphc
    from graphc import layers

    def build():
        x = graphc.Input(shape=(4,), name="x")
        return graphc.Model(x, layers.Dense(2, name="d")(x), name="tiny")

    model = graphc.Sequential([graphc.Input((3,), name="x"), layers.Dense(2, name="d")],
                              name="seq")
    not_a_model = 42
    lone_layer = layers.Dense(2)

    def needs_args(a):
        return a

    if __name__ == "__main__":
        raise SystemExit("the main block must not run")
''')


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "models.py").write_text(MODELS)
    (tmp_path / "boom.py").write_text("def f():\n    return 1 / 0\n\nmodel = f()\n")
    (tmp_path / "shapes.py").write_text(textwrap.dedent('''\
        import graphc
        from graphc import layers
        x = graphc.Input((4,), name="x")
        y = layers.Dense(2, name="d")(x)
        z = layers.Add(name="a")([y, x])
    '''))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(argv, capsys):
    status = main(argv)
    out = capsys.readouterr()
    return status, out.out, out.err


def test_show_file_attr_prints_ir_with_locs(workdir, capsys):
    status, out, err = run(["show", "models.py:model"], capsys)
    assert (status, err) == (0, "")
    assert out.startswith("func @seq(%x: f32[N,3], %d_kernel: f32[3,2], %d_bias: f32[2])")
    assert 'loc("seq/d", "models.py":8)' in out


def test_show_function_and_module_reference(workdir, capsys):
    status, out, _ = run(["show", "models.py:build"], capsys)
    assert status == 0 and out.startswith("func @tiny(")
    status, out, _ = run(["show", "models:build"], capsys)
    assert status == 0 and out.startswith("func @tiny(")


def test_show_summary(workdir, capsys):
    status, out, _ = run(["show", "models.py:build", "--summary"], capsys)
    assert status == 0 and 'Model: "tiny"' in out and "Total params: 10 (40.00 B)" in out


@pytest.mark.parametrize("ref, message", [
    ("models.py:nope", "models.py has no attribute 'nope'; models and functions it defines: "
                       "build, model, needs_args"),
    ("models.py:not_a_model", "models.py:not_a_model is int, expected a graphc Model"),
    ("models.py:lone_layer", "is a Dense layer, not a model"),
    ("models.py:needs_args", "calling needs_args() from models.py failed: TypeError"),
    ("models.py:build.x", "'build.x' cannot be resolved: no attribute 'x'"),
    ("missing.py:model", "cannot load model 'missing.py': no such file"),
    ("boom.py:model", "running boom.py failed: ZeroDivisionError: division by zero (at boom.py:2)"),
    ("no_such_module:model", "importing module 'no_such_module' failed: ModuleNotFoundError"),
    ("shapes.py:z", "Add 'a' expects inputs whose shapes are equal or broadcast together"),
    ("model.onnx", "expected a .gir file or a Python model reference"),
])
def test_errors_are_one_clear_line(workdir, capsys, ref, message):
    status, out, err = run(["show", ref], capsys)
    assert status == 1 and out == ""
    assert err.startswith("graphc: error: ") and message in err and "Traceback" not in err


def test_summary_needs_a_python_model(workdir, capsys):
    (workdir / "m.gir").write_text("func @f(%x: f32[2]) -> (f32[2]) {\n  return %x\n}\n")
    status, _, err = run(["show", "m.gir", "--summary"], capsys)
    assert status == 1 and "is not a Python model reference" in err


def test_reference_syntax():
    assert is_python_reference("path/to/file.py:model")
    assert is_python_reference("pkg.module:factory.attr")
    assert not is_python_reference("model.gir")
    assert not is_python_reference("file.py:")
    assert not is_python_reference("some/dir:model")


def test_installed_cli_entry_point(workdir):
    result = subprocess.run([sys.executable, "-m", "graphc.cli.main", "show", "models.py:build"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("func @tiny(")
