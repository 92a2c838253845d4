"""The pass registry: built-ins, ``register_pass`` and entry-point plugins
(a real ``*.dist-info`` on ``sys.path``, used through the CLI)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pytest

from graphc.cli.main import main
from graphc.errors import PassError
from graphc.passes import (FuncPass, get_pass_class, known_pass_names, list_passes,
                           parse_pipeline, register_pass, unregister_pass)

PLUGIN_SOURCE = '''
from dataclasses import dataclass
from graphc.passes import FuncPass


@dataclass(frozen=True)
class StripLocs(FuncPass):
    name = "strip-locs"
    summary = "drop source locations"

    def run_func(self, func, ctx):
        if all(n.loc is None for n in func.nodes):
            return func
        return func.replace(nodes=tuple(n.replace(loc=None) for n in func.nodes))


class NotAPass:
    name = "not-a-pass"
'''

GIR = """\
func @f(%x: f32[2]) -> (f32[2]) {
  %0: f32[2] = neg(%x) loc("layer")
  return %0
}
"""


def install_plugin(tmp_path, monkeypatch, entries: str) -> None:
    dist = tmp_path / "graphc_demo_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: graphc-demo-plugin\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text("[graphc.passes]\n" + textwrap.dedent(entries))
    (tmp_path / "demo_plugin_passes.py").write_text(PLUGIN_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))


def test_builtins_are_listed():
    assert set(known_pass_names()) >= {"infer-shapes", "canonicalize", "fold-constants", "cse",
                                       "dce", "fuse"}
    assert all(cls is not None and not problem for _, cls, problem in list_passes())


def test_plugin_pass_is_accepted_by_the_cli(tmp_path, monkeypatch, capsys):
    install_plugin(tmp_path, monkeypatch, "strip-locs = demo_plugin_passes:StripLocs\n")
    (tmp_path / "f.gir").write_text(GIR)
    assert main(["opt", str(tmp_path / "f.gir"), "-p", "strip-locs,cse"]) == 0
    out = capsys.readouterr().out
    assert "neg(%x)\n" in out and "loc(" not in out
    assert main(["passes"]) == 0
    listing = capsys.readouterr().out
    assert "strip-locs" in listing and "plugin graphc-demo-plugin" in listing


def test_broken_plugins_are_named(tmp_path, monkeypatch):
    install_plugin(tmp_path, monkeypatch, """\
        missing = demo_plugin_missing:Nothing
        not-a-pass = demo_plugin_passes:NotAPass
        misnamed = demo_plugin_passes:StripLocs
        """)
    with pytest.raises(PassError, match="'missing' .*failed to load: ModuleNotFoundError"):
        parse_pipeline("missing")
    with pytest.raises(PassError, match="not a graphc.passes.Pass subclass"):
        get_pass_class("not-a-pass")
    with pytest.raises(PassError, match="its class says name = 'strip-locs'"):
        get_pass_class("misnamed")
    problems = {s.name: p for s, _, p in list_passes() if p}
    assert set(problems) == {"missing", "not-a-pass", "misnamed"}


def test_plugin_with_a_builtin_name_is_an_error(tmp_path, monkeypatch):
    install_plugin(tmp_path, monkeypatch, "cse = demo_plugin_passes:StripLocs\n")
    with pytest.raises(PassError, match="pass name 'cse' is registered twice"):
        parse_pipeline("cse")


def test_register_pass_in_process():
    @dataclass(frozen=True)
    class Nothing(FuncPass):
        name = "test-nothing"

        def run_func(self, func, ctx):
            return func

    register_pass(Nothing)
    try:
        assert parse_pipeline("test-nothing,cse")[0] == Nothing()
        with pytest.raises(PassError, match="already registered"):
            @dataclass(frozen=True)
            class Other(FuncPass):
                name = "test-nothing"
            register_pass(Other)
        with pytest.raises(PassError, match="already registered"):
            @dataclass(frozen=True)
            class Shadow(FuncPass):
                name = "cse"
            register_pass(Shadow)
    finally:
        unregister_pass("test-nothing")
    with pytest.raises(PassError, match="unknown pass 'test-nothing'"):
        parse_pipeline("test-nothing")


def test_register_pass_rejects_non_passes():
    with pytest.raises(PassError, match="expects a Pass subclass"):
        register_pass(int)  # type: ignore[arg-type]


def test_option_types_are_checked_when_listed():
    @dataclass(frozen=True)
    class BadOption(FuncPass):
        name = "bad-option"
        weights: list = None  # type: ignore[assignment]

    with pytest.raises(PassError, match="pass options must be one of"):
        BadOption.options()
