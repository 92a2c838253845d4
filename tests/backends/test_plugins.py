"""Backend plugins found through the ``graphc.backends`` entry-point group.

The test installs a tiny plugin distribution the way pip would leave it on
disk (a package plus a ``*.dist-info`` with ``entry_points.txt``) in a temp
directory on ``sys.path``, then runs a model on it through the public API and
the CLI.
"""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

import graphc.ir as ir
from graphc.backends import backend_sources, get_backend, list_backends
from graphc.cli.main import main
from graphc.errors import BackendError

PLUGIN = textwrap.dedent('''
    import numpy as np
    from graphc.backends import Backend, Executable

    class DoublingExecutable(Executable):
        """Runs only `neg` -- enough to prove the plugin's code is what ran."""
        def __call__(self, *arrays):
            (x,) = arrays
            return (np.negative(x) * 1,)
        def source(self):
            return "plugin"

    class TinyBackend(Backend):
        name = "tiny"
        description = "test plugin"
        def supported_ops(self):
            return frozenset({"neg"})
        def compile(self, module, options=None):
            self.check_supported(module)
            return DoublingExecutable(module)

    class InitBoom(TinyBackend):
        name = "initboom"
        def __init__(self):
            raise RuntimeError("init exploded")

    class AvailBoom(TinyBackend):
        name = "availboom"
        def is_available(self):
            raise RuntimeError("probe exploded")

    class OpsBoom(TinyBackend):
        name = "opsboom"
        def supported_ops(self):
            raise RuntimeError("ops exploded")
        def compile(self, module, options=None):
            raise RuntimeError("compile exploded")
''')


def install_plugin(root, dist_name, entries):
    pkg = root / dist_name.replace("-", "_")
    pkg.mkdir()
    (pkg / "__init__.py").write_text(PLUGIN)
    info = root / f"{dist_name.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 0.1\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entries)
    (info / "entry_points.txt").write_text(f"[graphc.backends]\n{lines}\n")


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in list(sys.modules):
        if name.startswith(("tiny_plugin", "other_plugin")):
            del sys.modules[name]


def neg_module():
    b = ir.Builder("f")
    x = b.param(ir.TensorType("f32", (3,)), "x")
    return ir.Module([b.finish(b.emit("neg", x))])


def test_plugin_backend_runs_a_model(plugin_path, capsys):
    install_plugin(plugin_path, "tiny-plugin", [("tiny", "tiny_plugin:TinyBackend")])
    assert backend_sources()["tiny"].origin == "plugin tiny-plugin"
    (out,) = get_backend("tiny").compile(neg_module())(np.array([1, 2, 3], np.float32))
    np.testing.assert_array_equal(out, [-1, -2, -3])
    assert main(["backends"]) == 0
    listing = capsys.readouterr().out
    assert "tiny" in listing and "plugin tiny-plugin" in listing and "available" in listing


def test_plugin_that_cannot_lower_an_op_fails_at_compile_time(plugin_path):
    install_plugin(plugin_path, "tiny-plugin", [("tiny", "tiny_plugin:TinyBackend")])
    b = ir.Builder("f")
    x = b.param(ir.TensorType("f32", (3,)), "x")
    module = ir.Module([b.finish(b.emit("exp", x))])
    with pytest.raises(BackendError, match="cannot lower op 'exp'"):
        get_backend("tiny").compile(module)


def test_duplicate_backend_name_is_an_error(plugin_path):
    install_plugin(plugin_path, "other-plugin",
                   [("interpreter", "other_plugin:TinyBackend")])
    with pytest.raises(BackendError) as info:
        get_backend("interpreter")
    assert "registered twice" in str(info.value)
    assert "built-in" in str(info.value) and "plugin other-plugin" in str(info.value)


def test_broken_plugin_is_reported_by_name(plugin_path):
    install_plugin(plugin_path, "tiny-plugin", [("broken", "tiny_plugin:NoSuchClass")])
    with pytest.raises(BackendError, match="backend 'broken' .*failed to load"):
        get_backend("broken")
    rows = {source.name: status for source, _, status in list_backends()}
    assert rows["broken"].startswith("failed to load")
    assert rows["interpreter"] == "available"


def test_a_plugin_that_raises_is_named_and_the_rest_still_work(plugin_path, capsys):
    install_plugin(plugin_path, "tiny-plugin", [("initboom", "tiny_plugin:InitBoom"),
                                                ("availboom", "tiny_plugin:AvailBoom"),
                                                ("opsboom", "tiny_plugin:OpsBoom")])
    with pytest.raises(BackendError, match="backend 'initboom' .*init exploded"):
        get_backend("initboom")
    rows = {source.name: status for source, _, status in list_backends()}
    assert "init exploded" in rows["initboom"] and "probe exploded" in rows["availboom"]
    assert rows["interpreter"] == "available"
    assert main(["backends"]) == 0
    assert main(["ops"]) == 0
    captured = capsys.readouterr()
    assert "interpreter" in captured.out and "opsboom" in captured.err
    example = str(plugin_path.parent / "m.gir")
    with open(example, "w") as fh:
        fh.write(ir.print_module(neg_module()))
    assert main(["run", example, "--random", "--backend", "opsboom"]) == 1
    err = capsys.readouterr().err
    assert "backend 'opsboom' (plugin tiny-plugin) failed in compile: RuntimeError" in err
    assert "Traceback" not in err and "internal error" not in err

