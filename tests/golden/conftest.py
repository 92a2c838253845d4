"""pytest collection of golden ``.gir`` files (lit + FileCheck style, our own).

Every ``*.gir`` file under ``tests/golden`` becomes up to two test items:

``check``
    Runs each ``// RUN: [not] graphc ARGS`` line in-process through
    ``graphc.cli.main.main`` (``%s`` is the file's path) with stdout and stderr
    captured, asserts the exit status (0, or 1 after ``not``), that no Python
    traceback or "internal error" appeared, and then applies the file's CHECK
    directives to the combined output (each run's stdout then stderr, runs in
    order).  See ``gir_filecheck`` for the directive language.  With
    ``--update-goldens`` the CHECK lines are rewritten from the actual output
    instead (RUN lines, other comments and the IR body are kept), repeated until
    stable because the rewrite can move the line numbers that diagnostics cite.
``roundtrip``
    Only for files with no ``not`` RUN line: parse -> print -> parse must be
    structurally equal and printing must be idempotent.

``// XFAIL: reason`` marks a file that documents a known bug: its ``check``
item is expected to fail (strict, so a fix turns it into a failure that asks
for the marker to go) and ``--update-goldens`` leaves it alone.

The ``run_graphc`` fixture gives other tests (``test_hostile_inputs.py``) the
same in-process runner.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

try:  # tests/golden may or may not become a package
    from . import gir_filecheck as fc  # type: ignore[no-redef]
except ImportError:
    import gir_filecheck as fc  # type: ignore[no-redef]

UPDATE_OPTION = "--update-goldens"
_BAD_OUTPUT = ("Traceback (most recent call last)", "internal error")


@dataclass(frozen=True)
class RunResult:
    argv: tuple[str, ...]
    status: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_graphc(*argv: str) -> RunResult:
    """``graphc ARGV`` in-process, with stdout/stderr captured."""
    from graphc.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(argv))
        except SystemExit as exc:  # argparse usage errors, --help, --version
            code = exc.code
            status = code if isinstance(code, int) else (0 if code is None else 1)
    return RunResult(tuple(argv), int(status), out.getvalue(), err.getvalue(),
                     time.perf_counter() - start)


@pytest.fixture(name="run_graphc", scope="session")
def _run_graphc_fixture():
    """The in-process ``graphc`` runner: ``run_graphc("verify", path) -> RunResult``."""
    return run_graphc


class GoldenError(Exception):
    """A golden item failed; ``str()`` is the whole report."""


def pytest_addoption(parser: pytest.Parser) -> None:
    # tests/conftest.py registers the option for runs from the repository root
    # (`pytest --update-goldens`); this copy keeps `pytest tests/golden
    # --update-goldens` working should that file lose it.
    try:
        parser.addoption(UPDATE_OPTION, action="store_true", default=False,
                         help="rewrite the CHECK lines of golden .gir files from the output")
    except ValueError:  # already registered by tests/conftest.py
        pass


def _update_requested(config: pytest.Config) -> bool:
    try:
        return bool(config.getoption(UPDATE_OPTION))
    except ValueError:  # registered too late (this conftest was not an initial one)
        return False


def _read(path: Path) -> str:
    # surrogateescape: a golden file may hold invalid UTF-8 on purpose (the parser
    # must reject it); the bytes survive an --update-goldens rewrite unchanged.
    return path.read_bytes().decode("utf-8", errors="surrogateescape")


def _write(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix == ".gir":
        return GoldenFile.from_parent(parent, path=file_path)
    return None


class GoldenFile(pytest.File):
    def collect(self):
        text = _read(self.path)
        try:
            directives = fc.parse_directives(text, str(self.path))
        except fc.GoldenConfigError as exc:
            yield BrokenGolden.from_parent(self, name="check", problem=str(exc))
            return
        item = CheckItem.from_parent(self, name="check")
        if directives.xfail:
            item.add_marker(pytest.mark.xfail(reason=directives.xfail, strict=True))
        yield item
        if not any(run.expect_failure for run in directives.runs):
            yield RoundTripItem.from_parent(self, name="roundtrip")


class _GoldenItem(pytest.Item):
    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, (GoldenError, fc.CheckFailure, fc.GoldenConfigError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, f"{self.path.name}::{self.name}"

    def rel(self) -> str:
        try:
            return os.path.relpath(self.path)
        except ValueError:
            return str(self.path)


class BrokenGolden(_GoldenItem):
    def __init__(self, *, problem: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.problem = problem

    def runtest(self) -> None:
        raise fc.GoldenConfigError(f"malformed golden file: {self.problem}")


class CheckItem(_GoldenItem):
    def _run_all(self, directives: fc.Directives) -> tuple[str, list[str]]:
        """Run every RUN line; returns (combined output, problems with exit status etc.)."""
        output, problems = [], []
        for run in directives.runs:
            result = run_graphc(*run.argv)
            output.append(result.output)
            if result.status != run.expected_status:
                problems.append(f"RUN line {run.line} ({run.text}) exited with status "
                                f"{result.status}, expected {run.expected_status}")
            for bad in _BAD_OUTPUT:
                if bad in result.output:
                    problems.append(f"RUN line {run.line} printed {bad!r}")
            if run.expect_failure and "error:" not in result.stderr:
                problems.append(f"RUN line {run.line} failed without an 'error:' on stderr")
        return "".join(output), problems

    def _load(self) -> tuple[str, fc.Directives]:
        text = _read(self.path)
        return text, fc.parse_directives(text, str(self.path))

    def runtest(self) -> None:
        text, directives = self._load()
        if _update_requested(self.config) and not directives.xfail:
            self._update(text, directives)
            text, directives = self._load()
        output, problems = self._run_all(directives)
        command = "; ".join(("not " if r.expect_failure else "") + "graphc " + " ".join(r.argv)
                            for r in directives.runs)
        if problems:
            raise GoldenError(f"{self.rel()}:\n  " + "\n  ".join(problems) +
                              f"\noutput of {command}:\n{output}")
        if not directives.checks:
            raise GoldenError(f"{self.rel()}: no CHECK lines; run pytest tests/golden "
                              f"{UPDATE_OPTION} to write them from the output")
        fc.check_output(output, directives.checks, golden=self.rel(), command=command)

    def _update(self, text: str, directives: fc.Directives) -> None:
        for _ in range(5):
            output, problems = self._run_all(directives)
            if problems:
                raise GoldenError(f"{self.rel()}: not updated:\n  " + "\n  ".join(problems) +
                                  f"\noutput:\n{output}")
            checks = fc.generate_checks(output, str(self.path), self.path.name)
            new_text = fc.rewrite_checks(text, directives, checks)
            if new_text == text:
                return
            _write(self.path, new_text)
            text, directives = self._load()
        raise GoldenError(f"{self.rel()}: CHECK lines did not settle after 5 rewrites")


class RoundTripItem(_GoldenItem):
    def runtest(self) -> None:
        from graphc.ir import parse_file, parse_module, print_module, structural_equal

        first = parse_file(str(self.path))
        printed = print_module(first)
        second = parse_module(printed, f"{self.path.name} (printed)")
        if not structural_equal(first, second):
            raise GoldenError(f"{self.rel()}: parse(print(parse(file))) is not structurally "
                              f"equal to parse(file); printed text:\n{printed}")
        again = print_module(second)
        if again != printed:
            import difflib
            diff = "\n".join(difflib.unified_diff(printed.split("\n"), again.split("\n"),
                                                  "print #1", "print #2", lineterm=""))
            raise GoldenError(f"{self.rel()}: printing is not idempotent:\n{diff}")
