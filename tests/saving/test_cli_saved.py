"""The CLI on saved models: ``show`` (IR, --summary, --config), ``run`` with
the model's own weights, ``opt``, ``verify``; and ``run`` on Python models."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from graphc.cli.main import main

from . import zoo


def cli(argv, capsys):
    status = main([str(a) for a in argv])
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.fixture
def saved(tmp_path):
    model, data = zoo.two_in_two_out()
    path = tmp_path / "m.graphc"
    model.save(path)
    np.save(tmp_path / "image.npy", data[0])
    np.save(tmp_path / "meta.npy", data[1])
    return model, data, path


def test_show_prints_the_ir_by_default_and_with_ir(saved, capsys):
    model, _, path = saved
    status, out, err = cli(["show", path], capsys)
    assert (status, err) == (0, "")
    assert out.startswith("func @two_by_two(%image: f32[N,6], %meta: f32[N,3], "
                          "%features_kernel: f32[6,5]")
    assert f'loc("two_by_two/features", "{path}")' in out or 'm.graphc")' in out
    assert cli(["show", path, "--ir"], capsys)[1] == out


def test_show_summary_and_config(saved, capsys):
    model, _, path = saved
    status, out, _ = cli(["show", path, "--summary"], capsys)
    assert status == 0 and 'Model: "two_by_two"' in out and "features (Dense)" in out
    status, out, _ = cli(["show", path, "--config"], capsys)
    assert status == 0 and json.loads(out) == json.loads(model.to_json())


def test_run_uses_the_weights_in_the_file(saved, capsys, tmp_path):
    model, data, path = saved
    status, out, err = cli(["run", path, "-i", f"image={tmp_path / 'image.npy'}", "-i",
                            f"meta={tmp_path / 'meta.npy'}", "-o", tmp_path / "out"], capsys)
    assert (status, err) == (0, "")
    assert out.splitlines()[0].startswith("out0: float32(3, 4)")
    want = model.compiled("interpreter", None)(data)
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "out0.npy"), want[0])
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "out1.npy"), want[1])


def test_run_random_fills_only_inputs_and_an_i_overrides_a_weight(saved, capsys, tmp_path):
    model, data, path = saved
    status, out, _ = cli(["run", path, "--random", "--dim", "N=2", "-o", tmp_path / "r"], capsys)
    assert status == 0 and out.splitlines()[0].startswith("out0: float32(2, 4)")
    np.save(tmp_path / "zero.npy", np.zeros(1, np.float32))
    status, _, _ = cli(["run", path, "-i", f"image={tmp_path / 'image.npy'}", "-i",
                        f"meta={tmp_path / 'meta.npy'}", "-i",
                        f"score/bias={tmp_path / 'zero.npy'}", "-o", tmp_path / "z"], capsys)
    assert status == 0
    weights = {w.path: w.numpy() for w in model.weights}
    shifted = model.compiled("interpreter", None)(data)[1] - weights["score/bias"]
    np.testing.assert_allclose(np.load(tmp_path / "z" / "out1.npy"), shifted, rtol=1e-6,
                               atol=1e-6)


def test_run_without_inputs_names_the_missing_one(saved, capsys):
    status, _, err = cli(["run", saved[2]], capsys)
    assert status == 1
    assert err == "graphc: error: missing input 'image' (f32[N,6]); pass -i image=PATH.npy " \
                  "or --random\n"


def test_opt_and_verify_accept_saved_models(saved, capsys):
    status, out, _ = cli(["opt", saved[2], "-p", "default"], capsys)
    assert status == 0 and "call @fused_0" in out
    status, out, _ = cli(["verify", saved[2]], capsys)
    assert status == 0 and out.endswith("ok (1 function(s), 9 node(s))\n")


def test_bad_saved_files_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "junk.graphc").write_bytes(b"junk")
    for argv in (["show", tmp_path / "junk.graphc"], ["run", tmp_path / "junk.graphc"],
                 ["show", tmp_path / "none.graphc", "--config"]):
        status, out, err = cli(argv, capsys)
        assert status == 1 and out == "" and err.count("\n") == 1
        assert err.startswith("graphc: error: ")


def test_summary_and_config_need_a_model_with_layers(tmp_path, capsys):
    (tmp_path / "m.gir").write_text("func @f(%x: f32[2]) -> (f32[2]) {\n  return %x\n}\n")
    status, _, err = cli(["show", tmp_path / "m.gir", "--config"], capsys)
    assert status == 1 and "show --config needs a model with layers" in err


def test_run_on_a_python_model_uses_its_own_weights(tmp_path, capsys, monkeypatch):
    (tmp_path / "models.py").write_text(textwrap.dedent('''\
        import graphc
        from graphc import initializers, layers
        x = graphc.Input((2,), name="x")
        model = graphc.Model(x, layers.Dense(1, kernel_initializer=initializers.Constant(2.0),
                                             bias_initializer=initializers.Constant(1.0),
                                             name="d")(x), name="lin")
    '''))
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "x.npy", np.array([[1.0, 3.0]], np.float32))
    status, out, err = cli(["run", "models.py:model", "-i", "x=x.npy", "-o", "out"], capsys)
    assert (status, err) == (0, "")
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "out0.npy"), [[9.0]])
