"""Every golden pass input, beyond its CHECK lines: each pipeline of its RUN
lines keeps the interpreter's results (exactly: these passes only rewire,
or fold with the ops' own reference rules), every built-in pass is
idempotent on it, and together the goldens make every canonicalization rule
fire."""

from __future__ import annotations

import io
import shlex
from pathlib import Path

import numpy as np
import pytest

from graphc.errors import ExecutionError
from graphc.ir import Module, parse_file
from graphc.passes import PassContext, PassManager, known_pass_names, parse_pipeline
from graphc.passes.canonicalize import CANONICAL_RULES, FAST_MATH_RULES

from .util import random_array, run

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "passes"
FILES = sorted(p for p in GOLDEN.rglob("*.gir"))


def run_lines(path: Path) -> list[list[str]]:
    """argv after ``graphc`` of each RUN line expected to succeed."""
    runs = []
    for line in path.read_text().splitlines():
        if "RUN:" in line:
            words = shlex.split(line.split("RUN:", 1)[1])
            if words[0] != "not":
                runs.append(words[1:])
    return runs


def pipeline_of(argv: list[str]) -> tuple[str, dict[str, int]]:
    pipeline, binds = "default", {}
    for i, word in enumerate(argv):
        if word in ("-p", "--passes"):
            pipeline = argv[i + 1]
        if word == "--bind":
            sym, _, size = argv[i + 1].partition("=")
            binds[sym] = int(size)
    return pipeline, binds


def bound_sizes(pipeline: str, binds: dict[str, int]) -> dict[str, int]:
    sizes = dict(binds)
    for pass_ in parse_pipeline(pipeline):
        sizes.update(getattr(pass_, "bind", ()))
    return sizes


def as_entry(module: Module, name: str) -> Module:
    first = module[name]
    return Module([first] + [f for f in module.funcs if f.name != name])


def outcome(module: Module, arrays):
    try:
        return run(module, arrays)
    except ExecutionError as exc:
        return f"ExecutionError: {str(exc).splitlines()[0]}"


def compare(before: Module, after: Module, dims: dict[str, int], seed: int) -> None:
    for func in before.funcs:
        if func.private:
            continue
        rng = np.random.default_rng(seed)
        arrays = [random_array(p.type, rng, dims) for p in func.params]
        expected = outcome(as_entry(before, func.name), arrays)
        actual = outcome(as_entry(after, func.name), arrays)
        if isinstance(expected, str):
            assert actual == expected
            continue
        for e, a in zip(expected, actual, strict=True):
            assert (e.dtype, e.shape) == (a.dtype, a.shape)
            np.testing.assert_array_equal(a, e, err_msg=f"@{func.name}")


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(GOLDEN)))
def test_run_lines_keep_interpreter_results(path):
    module = parse_file(str(path))
    for argv in run_lines(path):
        pipeline, binds = pipeline_of(argv)
        after = PassManager(pipeline, PassContext(bindings=binds)).run(module)
        dims = {"N": 3, "T": 2, "K": 8, **bound_sizes(pipeline, binds)}
        compare(module, after, dims, seed=len(argv))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(GOLDEN)))
def test_every_pass_is_idempotent(path):
    module = parse_file(str(path))
    for name in known_pass_names():
        (pass_,) = parse_pipeline(name)
        ctx = PassContext()
        once = PassManager([pass_], ctx).run(module)
        assert PassManager([pass_], ctx).run(once) is once, f"{name} changed its own output"


def test_goldens_fire_every_canonicalization_rule():
    log = io.StringIO()
    for path in (GOLDEN / "canonicalize").glob("*.gir"):
        for argv in run_lines(path):
            pipeline, _ = pipeline_of(argv)
            PassManager(pipeline, PassContext(debug_rewrites=True, log=log)).run(
                parse_file(str(path)))
    fired = {line.split()[1] for line in log.getvalue().splitlines()
             if line.startswith("rewrite:") and "declined" not in line}
    every = {r.name for r in CANONICAL_RULES} | {r.name for r in FAST_MATH_RULES}
    assert every - fired == set()
