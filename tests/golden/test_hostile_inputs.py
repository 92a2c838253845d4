"""Hostile inputs for ``graphc verify``: generated at test time into tmp_path.

Binary garbage, 10 MB lines, deep nesting, ~20k nodes, seeded mutations of
the golden IR files, and a few invalid corpus files through a real
subprocess.  Each run must end within TIME_LIMIT with exit status 1 and a
``FILE:LINE:COL: error:`` diagnostic (or 0 for valid input), and never show a
Python traceback or an "internal error".

Bad string escapes and control characters inside strings have their own
corpus files in ``invalid/``; the fuzz alphabets leave them out so the fuzz
tests keep exercising everything else.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

TIME_LIMIT = 20.0  # seconds per graphc run; the inputs below take far less
GOLDEN = Path(__file__).parent
DIAGNOSTIC = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): error: ", re.M)


def assert_clean(result, *, status: int, path: Path | None = None) -> re.Match | None:
    """Exit status as expected, within the time limit, and no traceback."""
    shown = result.output if len(result.output) < 4000 else result.output[:4000] + "..."
    assert result.seconds < TIME_LIMIT, f"graphc took {result.seconds:.1f}s\n{shown}"
    assert "Traceback" not in result.output, shown
    assert "internal error" not in result.output, shown
    assert result.status == status, f"exit status {result.status}, expected {status}\n{shown}"
    if status == 0:
        return None
    assert "error:" in result.stderr, shown
    match = DIAGNOSTIC.search(result.stderr)
    assert match, f"no FILE:LINE:COL: error: diagnostic\n{shown}"
    if path is not None:
        assert match.group("file") == str(path), shown
    return match


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


# -- binary and textual garbage ------------------------------------------------------------

def _random_bytes(seed: int, size: int) -> bytes:
    rng = random.Random(seed)
    data = bytearray(rng.randbytes(size))
    data[size // 3] = 0x00                      # a NUL ...
    data[size // 2:size // 2 + 2] = b"\xc3\x28"  # ... and an invalid UTF-8 sequence
    return bytes(data)


GARBAGE = {
    "random_bytes": _random_bytes(1, 65536),
    "random_bytes_small": _random_bytes(2, 17),
    "nul_bytes": b"\x00" * 4096,
    "invalid_utf8_after_valid_ir": b"func @f(%x: f32[2]) -> (f32[2]) {\n  return %x\n}\n\xff\xfe",
    "truncated_utf8_sequence": "// caf\u00e9\n".encode()[:-2],
    "lone_surrogate_bytes": b"func @f\xed\xa0\x80(",
    "utf16_text": "func @f(%x: f32[2]) -> (f32[2]) {\n  return %x\n}\n".encode("utf-16"),
    "control_characters": bytes(range(1, 32)) * 10,
    "printable_noise": bytes(random.Random(3).choices(b"!#$&'*+/;<>\\^`|~", k=5000)),
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_is_rejected_cleanly(tmp_path, run_graphc, name):
    path = write(tmp_path, f"{name}.gir", GARBAGE[name])
    assert_clean(run_graphc("verify", str(path)), status=1, path=path)


@pytest.mark.parametrize("text", ["", "\n", "   \t\n\n", "// just a comment"],
                         ids=["empty", "newline", "whitespace", "comment"])
def test_empty_modules_are_rejected(tmp_path, run_graphc, text):
    path = write(tmp_path, "empty.gir", text)
    match = assert_clean(run_graphc("verify", str(path)), status=1, path=path)
    assert "empty module" in match.string


def test_missing_file_is_a_clean_error(tmp_path, run_graphc):
    result = run_graphc("verify", str(tmp_path / "nope.gir"))
    assert result.status == 1 and "no such file" in result.stderr
    assert "Traceback" not in result.output


def test_directory_named_gir_is_a_clean_error(tmp_path, run_graphc):
    (tmp_path / "dir.gir").mkdir()
    result = run_graphc("verify", str(tmp_path / "dir.gir"))
    assert result.status == 1 and "error" in result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output


# -- 10 MB lines ----------------------------------------------------------------------------

TEN_MB = 10_000_000


def _float_items(count_chars: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    items, size = [], 0
    while size < count_chars:
        item = repr(rng.random())
        items.append(item)
        size += len(item) + 2
    return items


def test_10mb_constant_literal_line_with_a_bad_last_element(tmp_path, run_graphc):
    # ~520k f64 elements written as repr() prints them; the last one is a bool.
    # (Parsing such a line takes several seconds, so the suite runs just this one.)
    items = _float_items(TEN_MB + 100)
    n = len(items)
    literal = "[" + ", ".join(items[:-1] + ["true"]) + "]"
    assert len(literal) >= TEN_MB
    path = write(tmp_path, "big_literal_bad.gir",
                 f"func @f() -> (f64[{n}]) {{\n"
                 f"  %0: f64[{n}] = constant() {{value = {literal}}}\n"
                 f"  return %0\n}}\n")
    result = run_graphc("verify", str(path))
    match = assert_clean(result, status=1, path=path)
    assert match.group("line") == "2"
    assert "does not fit dtype f64" in result.stderr
    assert len(result.stderr) < 2000, "the diagnostic echoes the whole 10 MB line"


def test_10mb_value_name_is_valid(tmp_path, run_graphc):
    name = "v" * TEN_MB
    path = write(tmp_path, "big_name.gir",
                 f"func @f(%{name}: f32[2]) -> (f32[2]) {{\n  return %{name}\n}}\n")
    assert_clean(run_graphc("verify", str(path)), status=0)


NAME_ERRORS = {  # kind: (node line with {name}, expected column, message)
    "unknown_op": ("%0: f32[2] = {name}(%x)", 16, "unknown op"),
    "undefined_value": ("%0: f32[2] = relu(%{name})", 21, "use of undefined value"),
    "unknown_attribute": ("%0: f32[2] = relu(%x) {{{name} = 1}}", 25, "has no attribute"),
}


@pytest.fixture(scope="module")
def ten_mb_name_runs(tmp_path_factory, run_graphc):
    """One verify run per NAME_ERRORS kind, with a 10 MB name in the bad spot."""
    runs = {}
    for kind, (node, _, _) in NAME_ERRORS.items():
        path = tmp_path_factory.mktemp("hostile") / f"big_{kind}.gir"
        node = node.format(name=kind[0] * TEN_MB)
        path.write_text(f"func @f(%x: f32[2]) -> (f32[2]) {{\n  {node}\n  return %0\n}}\n")
        runs[kind] = (path, run_graphc("verify", str(path)))
    return runs


@pytest.mark.parametrize("kind", sorted(NAME_ERRORS))
def test_10mb_name_in_an_error(ten_mb_name_runs, kind):
    path, result = ten_mb_name_runs[kind]
    match = assert_clean(result, status=1, path=path)
    assert (match.group("line"), match.group("col")) == ("2", str(NAME_ERRORS[kind][1]))
    assert NAME_ERRORS[kind][2] in result.stderr


@pytest.mark.parametrize("kind", sorted(NAME_ERRORS))
def test_10mb_name_diagnostic_stays_short(ten_mb_name_runs, kind):
    _, result = ten_mb_name_runs[kind]
    assert len(result.stderr) < 2000


# -- deep nesting ----------------------------------------------------------------------------

DEPTH = 100_000


@pytest.mark.parametrize("kind", ["list", "paren", "type", "braces"])
def test_deep_nesting_is_rejected(tmp_path, run_graphc, kind):
    body = {
        "list": "%0: f32[] = constant() {value = " + "[" * DEPTH + "]" * DEPTH + "}",
        "paren": "%0: f32[2] = relu(" + "(" * DEPTH + "%x" + ")" * DEPTH + ")",
        "type": "%0: f32" + "[" * DEPTH + "]" * DEPTH + " = relu(%x)",
        "braces": "%0: f32[2] = relu(%x) " + "{" * DEPTH + "}" * DEPTH,
    }[kind]
    path = write(tmp_path, f"deep_{kind}.gir",
                 f"func @f(%x: f32[2]) -> (f32[2]) {{\n  {body}\n  return %0\n}}\n")
    match = assert_clean(run_graphc("verify", str(path)), status=1, path=path)
    assert match.group("line") == "2"


def test_deep_fused_loc_nesting_is_rejected(tmp_path, run_graphc):
    depth = 10_000
    loc = "loc(" + "fused[loc(" * depth + '"a")' + "])" * depth
    path = write(tmp_path, "deep_loc.gir",
                 f"func @f(%x: f32[2]) -> (f32[2]) {{\n  %0: f32[2] = relu(%x) {loc}\n"
                 f"  return %0\n}}\n")
    assert_clean(run_graphc("verify", str(path)), status=1, path=path)


# -- many nodes --------------------------------------------------------------------------------

NODES = 20_000


def _chain(count: int = NODES, bad_at: int | None = None) -> str:
    """A chain of ``count`` nodes; node ``bad_at`` (on line bad_at + 2) records a wrong type."""
    lines = ["func @chain(%x: f32[N,8]) -> (f32[N,8]) {", "  %v0: f32[N,8] = relu(%x)"]
    for i in range(1, count):
        t = "f32[N,9]" if i == bad_at else "f32[N,8]"
        lines.append(f"  %v{i}: {t} = add(%v{i - 1}, %x)")
    lines += [f"  return %v{count - 1}", "}", ""]
    return "\n".join(lines)


def test_20k_nodes_verify(tmp_path, run_graphc):
    path = write(tmp_path, "chain.gir", _chain())
    result = run_graphc("verify", str(path))
    assert_clean(result, status=0)
    assert f"1 function(s), {NODES} node(s)" in result.stdout


def test_long_chain_error_near_the_end_cites_the_right_line(tmp_path, run_graphc):
    # 5k nodes keep the suite fast; the position bookkeeping is the same as at 20k.
    bad = 4_997
    path = write(tmp_path, "chain_bad.gir", _chain(5_000, bad_at=bad))
    match = assert_clean(run_graphc("verify", str(path)), status=1, path=path)
    assert match.group("line") == str(bad + 2)
    assert "verifier invariant 4" in match.string


# -- seeded mutations of the golden IR ----------------------------------------------------------

_TOKENS = ["func", "private", "@f", "@g", "(", ")", "[", "]", "{", "}", ",", ":", "=", "->", "?",
           "-", "%x", "%0", "%1", "f32", "i32", "bool", "N", "0", "1", "-1", "2.5", "inf", "nan",
           "none", "true", "false", '"s"', "loc", "fused", "const", "base64", '"AAAA"',
           "attributes", "primitive", "return", "relu", "add", "call", "constant", "value", "axis",
           "reshape", "shape", "slice", "axes", "1e999", "99999999999999999999", "[]", "\n"]
_CHARS = "()[]{},:=%@-?.\n 0123456789abcxyzN\u00e9"  # no backslash or quote (known bugs)


def _mutants(count: int, seed: int) -> list[str]:
    from graphc.ir.lexer import Source, tokenize

    sources = []
    for path in sorted((GOLDEN / "ir").glob("*.gir")) + sorted((GOLDEN / "verifier").glob("*.gir")):
        text = path.read_text(encoding="utf-8")
        sources.append(re.sub(r"(?m)^[ \t]*//.*\n", "", text))
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        text = rng.choice(sources)
        mode = rng.random()
        if mode < 0.4:
            toks = [t.text for t in tokenize(Source(text, "x"))][:-1]
            for _ in range(rng.randint(1, 4)):
                k = rng.randrange(len(toks))
                op = rng.random()
                if op < 0.3:
                    del toks[k]
                elif op < 0.6:
                    toks.insert(k, rng.choice(_TOKENS))
                elif op < 0.8:
                    toks[k] = rng.choice(_TOKENS)
                else:
                    toks.insert(k, toks[rng.randrange(len(toks))])
            text = " ".join(toks)
        elif mode < 0.6:
            text = text[:rng.randrange(len(text))]
        else:
            chars = list(text)
            for _ in range(rng.randint(1, 5)):
                chars[rng.randrange(len(chars))] = rng.choice(_CHARS)
            text = "".join(chars)
        out.append(text)
    return out


def test_mutated_golden_ir_never_crashes(tmp_path, run_graphc):
    path = tmp_path / "mutant.gir"
    failures = []
    for i, text in enumerate(_mutants(400, seed=20240601)):
        path.write_text(text, encoding="utf-8")
        result = run_graphc("verify", str(path))
        ok = result.seconds < TIME_LIMIT and "Traceback" not in result.output and (
            result.status == 0 or (result.status == 1 and DIAGNOSTIC.search(result.stderr)))
        if not ok:
            failures.append(f"mutant {i}: status {result.status}\n{text}\n---\n{result.output}")
    assert not failures, f"{len(failures)} mutants broke graphc:\n" + "\n".join(failures[:3])


# -- a real subprocess -----------------------------------------------------------------------

def _graphc_command() -> list[str]:
    script = Path(sys.executable).with_name("graphc")
    return [str(script)] if script.exists() else [sys.executable, "-m", "graphc.cli.main"]


@pytest.mark.parametrize("name", ["truncated_mid_attr", "type_mismatch", "invalid_utf8"])
def test_invalid_file_in_a_real_subprocess(name):
    path = GOLDEN / "invalid" / f"{name}.gir"
    proc = subprocess.run(_graphc_command() + ["verify", str(path)], capture_output=True,
                          timeout=60)
    stderr = proc.stderr.decode("utf-8", errors="replace")
    assert proc.returncode == 1, stderr
    assert proc.stdout == b""
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    match = DIAGNOSTIC.search(stderr)
    assert match and match.group("file") == str(path), stderr
