"""Hostile and broken model files: each is a ``LoadError`` with a clear
message, and loading runs no code and writes nothing (proved with an audit
hook in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import graphc
from graphc.saving import LoadLimits

from .hostile import HOSTILE, make_good, npz, replaced, zip_of


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "good.graphc"
    return make_good(path)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_file_is_a_load_error(case, good, tmp_path):
    build, message = HOSTILE[case]
    path = tmp_path / f"{case}.graphc"
    path.write_bytes(build(good))
    with pytest.raises(graphc.LoadError) as info:
        graphc.models.load_model(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert os.listdir(tmp_path) == [path.name]  # nothing extracted or written


def test_size_caps_are_adjustable(good, tmp_path):
    bomb = replaced(good, weights_npz=zip_of([("hidden/kernel.npy", b"\0" * (4 << 20))]))
    path = tmp_path / "bomb.graphc"
    path.write_bytes(bomb)
    assert path.stat().st_size < 64 << 10  # 4 MiB of zeros, compressed
    with pytest.raises(graphc.LoadError, match="would expand to 4,194,304 bytes, over the "
                                               "1,0[0-9,]+ bytes this load may still read"):
        graphc.models.load_model(path, limits=LoadLimits(max_total_bytes=1 << 20))
    with pytest.raises(graphc.LoadError, match="'metadata.json' declares [0-9,]+ bytes, more than "
                                               "the 100 allowed"):
        graphc.models.load_model(tmp_path / "bomb.graphc", limits=LoadLimits(max_json_bytes=100))
    many = zip_of([(f"w{i}.npy", b"") for i in range(20)])
    (tmp_path / "many.graphc").write_bytes(replaced(good, weights_npz=many))
    with pytest.raises(graphc.LoadError, match="20 members, more than the 5 allowed"):
        graphc.models.load_model(tmp_path / "many.graphc", limits=LoadLimits(max_arrays=5))


def test_big_endian_and_fortran_weights_are_read_correctly(good, tmp_path):
    model = graphc.models.load_model(_write(tmp_path, "good.graphc", good))
    arrays = {k.replace("/", "/"): w for k, w in
              zip(["hidden/kernel", "hidden/bias", "out/kernel", "out/bias"], model.weights)}
    stored = {k: np.asfortranarray(w.numpy()).astype(">f4") for k, w in arrays.items()}
    path = _write(tmp_path, "be.graphc", replaced(good, weights_npz=npz(stored)))
    loaded = graphc.models.load_model(path)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        assert a.dtype == np.float32 and a.flags.c_contiguous
        np.testing.assert_array_equal(a, b)


def _write(folder, name, data):
    path = folder / name
    path.write_bytes(data)
    return path


AUDITED = textwrap.dedent('''
    import json, os, pickle, sys
    import graphc

    WATCHED = ("import", "exec", "compile", "pickle.find_class", "marshal.loads", "os.system",
               "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
               "ctypes.dlopen", "os.remove", "os.rename", "os.mkdir", "shutil.", "os.chmod")
    events = []

    def hook(event, args):
        if event.startswith(WATCHED):
            events.append(f"{event} {str(args)[:80]}")
        elif event == "open" and isinstance(args[1], str) and set(args[1]) & set("wax+"):
            events.append(f"open for writing {args[0]}")

    good, paths = sys.argv[1], sys.argv[2:]
    graphc.models.load_model(good)  # first load: lazy imports happen here, unwatched
    for path in paths:
        try:
            graphc.models.load_model(path)
        except graphc.LoadError:   # expected: the audit hook watches for side effects
            pass
    sys.addaudithook(hook)
    report = {}
    for path in [good] + paths:
        events.clear()
        try:
            graphc.models.load_model(path)
            outcome = "loaded"
        except graphc.LoadError as exc:
            outcome = "LoadError"
        except Exception as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        report[os.path.basename(path)] = [outcome, list(events)]
    events.clear()
    pickle.loads(pickle.dumps(graphc.Model))  # the hook must see these: a self-check
    exec("1")
    report["self-check"] = ["done", list(events)]
    print(json.dumps(report))
''')


def test_loading_runs_no_code_and_writes_nothing(good, tmp_path):
    good_path = _write(tmp_path, "good.graphc", good)
    paths = [str(_write(tmp_path, f"{name}.graphc", build(good)))
             for name, (build, _) in sorted(HOSTILE.items())]
    done = subprocess.run([sys.executable, "-c", AUDITED, str(good_path)] + paths,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    self_check = report.pop("self-check")[1]
    assert any(e.startswith("pickle.find_class") for e in self_check)
    assert any(e.startswith("exec") for e in self_check)
    assert report.pop("good.graphc") == ["loaded", []]
    assert len(report) == len(HOSTILE)
    for name, (outcome, events) in report.items():
        assert (outcome, events) == ("LoadError", []), name
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["good.graphc"] + [f"{name}.graphc" for name in HOSTILE])
