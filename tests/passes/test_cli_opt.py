"""``graphc opt`` and ``graphc passes`` end to end (in-process through main)."""

from __future__ import annotations

import re

import pytest

from graphc.cli.main import main
from graphc.ir import parse_file, print_module, structural_equal
from graphc.passes import parse_pipeline
from graphc.passes.canonicalize import CANONICAL_RULES

from .util import mlp

PIPELINE_DEFAULT = [p.spec() for p in parse_pipeline("default")]


def graphc(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def mlp_file(tmp_path):
    path = tmp_path / "mlp.gir"
    path.write_text(print_module(mlp()))
    return path


def test_output_round_trips_through_show_run_and_opt(tmp_path, mlp_file, capsys):
    out = tmp_path / "out.gir"
    status, stdout, err = graphc(capsys, "opt", str(mlp_file), "-p", "default", "-o", str(out))
    assert (status, stdout, err) == (0, "", "")
    status, shown, _ = graphc(capsys, "show", str(out))
    assert status == 0 and shown == out.read_text()
    assert structural_equal(parse_file(str(out)), parse_file(str(out)))
    status, again, _ = graphc(capsys, "opt", str(out), "-p", "default")
    assert status == 0 and again == out.read_text()
    status, ran, err = graphc(capsys, "run", str(out), "--random", "--dim", "N=3")
    assert status == 0, err
    assert ran.startswith("out0: float32(3, 10)")


def test_stdout_result_equals_the_file_result(tmp_path, mlp_file, capsys):
    _, stdout, _ = graphc(capsys, "opt", str(mlp_file))
    graphc(capsys, "opt", str(mlp_file), "-o", str(tmp_path / "o.gir"))
    assert stdout == (tmp_path / "o.gir").read_text()


def test_print_ir_after_all_shows_every_pass_on_stderr(mlp_file, capsys):
    status, stdout, err = graphc(capsys, "opt", str(mlp_file), "-p", "default",
                                 "--print-ir-after-all")
    assert status == 0
    headers = re.findall(r"^// ----- IR after (\S+) \(pass (\d+)/7\)", err, re.M)
    assert [h[0] for h in headers] == PIPELINE_DEFAULT
    assert [int(h[1]) for h in headers] == list(range(1, 8))
    assert stdout.startswith("func @mlp(")  # stdout stays valid IR


def test_dump_dir_and_time_passes(tmp_path, mlp_file, capsys):
    status, _, err = graphc(capsys, "opt", str(mlp_file), "--dump-dir", str(tmp_path / "d"),
                            "--time-passes")
    assert status == 0
    assert len(list((tmp_path / "d").glob("*.gir"))) == 8
    timing = [line for line in err.splitlines() if re.match(r"//\s+\d+\.\d{4}\s+\d+\.\d%", line)]
    assert [line.split()[-1] for line in timing] == PIPELINE_DEFAULT


def test_debug_rewrites_points_at_the_rule_source(tmp_path, capsys):
    path = tmp_path / "f.gir"
    path.write_text("func @f(%x: f32[2]) -> (f32[2]) {\n  %0: f32[2] = neg(%x)\n"
                    "  %1: f32[2] = neg(%0)\n  return %1\n}\n")
    status, stdout, err = graphc(capsys, "opt", str(path), "-p", "canonicalize",
                                 "--debug-rewrites")
    assert status == 0 and "return %x" in stdout
    (line,) = err.splitlines()
    match = re.match(r"rewrite: neg-neg \((passes/rules_arith\.py):(\d+)\) on %1 = neg\(%0\)",
                     line)
    assert match, line
    (rule,) = [r for r in CANONICAL_RULES if r.name == "neg-neg"]
    assert rule.where == f"{match.group(1)}:{match.group(2)}"
    import graphc.passes.rules_arith as source
    text = open(source.__file__).read().splitlines()[int(match.group(2)) - 1]
    assert '"neg-neg"' in text


def test_fusion_report_without_fuse_says_so(mlp_file, capsys):
    status, _, err = graphc(capsys, "opt", str(mlp_file), "-p", "simplify", "--fusion-report")
    assert status == 0 and "runs no 'fuse' pass" in err


def test_bind_specializes_and_no_verify_each_is_accepted(mlp_file, capsys):
    status, stdout, _ = graphc(capsys, "opt", str(mlp_file), "-p", "infer-shapes",
                               "--bind", "N=8", "--no-verify-each")
    assert status == 0 and "%x: f32[8,784]" in stdout


def test_python_model_reference(tmp_path, capsys):
    import graphc as g
    if not hasattr(g, "Sequential"):
        pytest.skip("the Keras-style front end is not available")
    src = tmp_path / "model_def.py"
    src.write_text("import graphc\n"
                   "model = graphc.Sequential([graphc.Input((6,)),\n"
                   "    graphc.layers.Dense(4, activation='relu'),\n"
                   "    graphc.layers.Dense(2, activation='softmax')])\n")
    status, stdout, err = graphc(capsys, "opt", f"{src}:model", "-p", "default",
                                 "--fusion-report")
    assert status == 0, err
    assert stdout.count("attributes {primitive = true}") == 3
    assert "fusion report for @" in err and "layers: " in err


def test_invalid_model_file_is_one_clear_error(tmp_path, capsys):
    path = tmp_path / "bad.gir"
    path.write_text("func @f(%x: f32[2]) -> (f32[2]) {\n  %0: f32[2] = nope(%x)\n  return %0\n}\n")
    status, stdout, err = graphc(capsys, "opt", str(path))
    assert status == 1 and stdout == "" and "unknown op 'nope'" in err
    assert "Traceback" not in err


def test_passes_lists_passes_options_and_pipelines(capsys):
    status, out, _ = graphc(capsys, "passes")
    assert status == 0
    for name in ("infer-shapes", "canonicalize", "fold-constants", "cse", "dce", "fuse",
                 "max-elements: int = 4096", "fast-math: bool = false", "bind: bindings",
                 "max-ops: int = 256", "O0", "simplify", "default"):
        assert name in out
    assert out.count("built-in") == 6
