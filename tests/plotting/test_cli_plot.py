"""``graphc plot MODEL -o out.svg [--ir]`` on saved models, Python models and .gir files."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from graphc.cli.main import main

from ..saving import zoo

SVG = "{http://www.w3.org/2000/svg}"


def cli(argv, capsys):
    status = main([str(a) for a in argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def node_ids(path):
    root = ET.parse(path).getroot()
    nodes = [g for g in root.iter(SVG + "g") if "node" in (g.get("class") or "").split()]
    return sorted(g.get("data-id") for g in nodes)


def test_plot_a_saved_model(tmp_path, capsys):
    model, _ = zoo.nested_models()
    model.save(tmp_path / "m.graphc")
    out_file = tmp_path / "m.svg"
    status, out, err = cli(["plot", tmp_path / "m.graphc", "-o", out_file], capsys)
    assert (status, out, err) == (0, f"wrote {out_file}\n", "")
    assert node_ids(out_file) == ["branch", "inner", "outer_in", "stacked"]
    status, _, _ = cli(["plot", tmp_path / "m.graphc", "-o", tmp_path / "e.png",
                        "--expand-nested", "--show-shapes", "--rankdir", "LR"], capsys)
    assert status == 0 and (tmp_path / "e.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_the_ir_of_a_python_model(tmp_path, capsys, monkeypatch):
    (tmp_path / "models.py").write_text(
        "import graphc\nfrom graphc import layers\n"
        "x = graphc.Input((4,), name='x')\n"
        "model = graphc.Model(x, layers.Dense(2, activation='relu', name='d')(x))\n")
    monkeypatch.chdir(tmp_path)
    status, _, _ = cli(["plot", "models.py:model", "-o", "ir.svg", "--ir"], capsys)
    assert status == 0
    root = ET.parse(tmp_path / "ir.svg").getroot()
    clusters = [g for g in root.iter(SVG + "g") if "cluster" in (g.get("class") or "").split()]
    assert [g.find(SVG + "title").text for g in clusters] == ["@fused_0"]
    status, _, _ = cli(["plot", "models.py:model", "-o", "raw.svg", "--ir", "-p", "O0"], capsys)
    assert status == 0 and len(node_ids(tmp_path / "raw.svg")) == 3 + 3 + 1


def test_plot_a_gir_file_draws_its_ir(tmp_path, capsys):
    (tmp_path / "f.gir").write_text("func @f(%x: f32[2]) -> (f32[2]) {\n"
                                    "  %0: f32[2] = exp(%x)\n  return %0\n}\n")
    status, _, _ = cli(["plot", tmp_path / "f.gir", "-o", tmp_path / "f.dot"], capsys)
    assert status == 0 and (tmp_path / "f.dot").read_text().startswith('digraph "f"')


def test_plot_errors_are_one_line(tmp_path, capsys):
    model, _ = zoo.sequential_mlp()
    model.save(tmp_path / "m.graphc")
    for argv, message in [
        (["plot", tmp_path / "m.graphc", "-o", tmp_path / "m.gif"], "cannot tell the format"),
        (["plot", tmp_path / "none.graphc", "-o", tmp_path / "m.svg"], "no such file"),
        (["plot", "no_reference", "-o", tmp_path / "m.svg"], "graphc plot needs a model"),
    ]:
        status, out, err = cli(argv, capsys)
        assert status == 1 and out == "" and message in err and err.count("\n") == 1
