"""A small FileCheck for golden ``.gir`` tests (our own; no lit/filecheck packages).

Directives live in ``//`` comment lines of the ``.gir`` file, so the file stays
valid IR; only a directive at the start of a line (after optional spaces)
counts::

    // RUN: graphc show %s             exit status 0 expected
    // RUN: not graphc verify %s       exit status 1 expected
    // XFAIL: why                      a known bug; the test must fail (strict)
    // CHECK: text                     text occurs at or after the current position
    // CHECK-NEXT: text                ... on the line after the previous match
    // CHECK-SAME: text                ... on the same line as the previous match
    // CHECK-EMPTY:                    the line after the previous match is blank
    // CHECK-NOT: text                 text does not occur between the matches
                                       around it (or before the end of its block)
    // CHECK-LABEL: text               splits the output into blocks first; the
                                       other directives are confined to their block

Patterns are literal text with ``{{regex}}`` blocks (Python ``re`` syntax in
MULTILINE mode, so ``{{^}}``/``{{$}}`` anchor at line boundaries; a
literal ``{{`` or ``}}`` is written ``{{[{][{]}}`` / ``{{[}][}]}}``).  There
are no ``[[VAR]]`` variables, so ``[[1.0]]`` in a pattern is literal text.
Matching is whitespace tolerant as in FileCheck: leading and trailing
whitespace of a pattern is ignored and every run of spaces/tabs, in the
pattern and in the output, counts as one space.  CHECK-EMPTY accepts a line
holding only whitespace.

This module is pure (no pytest): ``parse_directives`` reads a file,
``check_output`` raises ``CheckFailure`` with a readable report, and
``generate_checks`` writes CHECK lines for ``--update-goldens``.
"""

from __future__ import annotations

import bisect
import difflib
import re
import shlex
from dataclasses import dataclass, field

CHECK_KINDS = ("CHECK", "CHECK-NEXT", "CHECK-SAME", "CHECK-NOT", "CHECK-LABEL", "CHECK-EMPTY")
_DIRECTIVE = re.compile(r"^[ \t]*//[ \t]*(RUN|XFAIL|CHECK(?:-[A-Z]+)?)[ \t]*:(.*)$")
_LOOKS_LIKE_CHECK = re.compile(r"^[ \t]*//[ \t]*CHECK\b")
_WS = re.compile(r"[ \t]+")


class GoldenConfigError(Exception):
    """The golden file itself is malformed (bad RUN line, bad directive)."""


class CheckFailure(AssertionError):
    """A CHECK directive did not hold; ``str()`` is the full report."""


@dataclass(frozen=True)
class Run:
    expect_failure: bool   # "not" prefix: exit status 1 expected, else 0
    argv: tuple[str, ...]  # arguments after "graphc", with %s substituted
    line: int              # 1-based line of the RUN directive
    text: str              # the RUN line as written

    @property
    def expected_status(self) -> int:
        return 1 if self.expect_failure else 0


@dataclass(frozen=True)
class Check:
    kind: str
    pattern: str  # as written (stripped)
    line: int     # 1-based line in the golden file
    regex: re.Pattern | None = None

    def describe(self) -> str:
        return f"{self.kind}: {self.pattern}" if self.pattern else f"{self.kind}:"


@dataclass
class Directives:
    runs: list[Run] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    xfail: str | None = None
    check_lines: list[int] = field(default_factory=list)  # 0-based lines holding CHECKs
    header_end: int = 0  # 0-based index after the last RUN/XFAIL line


def canonical(text: str) -> str:
    """One space for every run of horizontal whitespace (FileCheck's default)."""
    return _WS.sub(" ", text)


def compile_pattern(pattern: str, where: str) -> re.Pattern:
    """Literal text with ``{{regex}}`` blocks -> compiled regex."""
    parts: list[str] = []
    pos = 0
    pattern = canonical(pattern.strip())
    while pos < len(pattern):
        start = pattern.find("{{", pos)
        if start < 0:
            parts.append(re.escape(pattern[pos:]))
            break
        parts.append(re.escape(pattern[pos:start]))
        end = pattern.find("}}", start + 2)
        if end < 0:
            raise GoldenConfigError(f"{where}: '{{{{' without a closing '}}}}' in pattern")
        body = pattern[start + 2:end]
        try:
            re.compile(body)
        except re.error as exc:
            raise GoldenConfigError(f"{where}: invalid regex {{{{{body}}}}}: {exc}") from None
        parts.append(f"(?:{body})")
        pos = end + 2
    return re.compile("".join(parts), re.MULTILINE)  # ^ and $ match at line ends


def parse_run(body: str, path: str, line: int, where: str) -> Run:
    words = shlex.split(body.replace("%s", shlex.quote(path)))
    expect_failure = bool(words) and words[0] == "not"
    if expect_failure:
        words = words[1:]
    if not words or words[0] != "graphc":
        raise GoldenConfigError(f"{where}: RUN lines run 'graphc ...' (optionally after "
                                f"'not'), found: {body.strip()!r}")
    return Run(expect_failure, tuple(words[1:]), line, body.strip())


def parse_directives(text: str, path: str) -> Directives:
    found = Directives()
    lines = text.split("\n")
    pending_run: tuple[str, int] | None = None
    for index, raw in enumerate(lines):
        lineno = index + 1
        where = f"{path}:{lineno}"
        match = _DIRECTIVE.match(raw)
        if pending_run is not None:  # a RUN line continued with a trailing backslash
            body, start = pending_run
            if match is None or match.group(1) != "RUN":
                raise GoldenConfigError(f"{where}: RUN line {start} ends with '\\' but is not "
                                        "continued by another RUN line")
            pending_run = None
            body = body + " " + match.group(2).strip()
            if body.endswith("\\"):
                pending_run = (body[:-1], start)
            else:
                found.runs.append(parse_run(body, path, start, where))
            found.header_end = index + 1
            continue
        if match is None:
            if _LOOKS_LIKE_CHECK.match(raw):
                raise GoldenConfigError(f"{where}: malformed CHECK directive {raw.strip()!r} "
                                        f"(known: {', '.join(CHECK_KINDS)}, each followed by ':')")
            continue
        kind, body = match.group(1), match.group(2)
        if kind == "RUN":
            body = body.strip()
            if body.endswith("\\"):
                pending_run = (body[:-1], lineno)
            else:
                found.runs.append(parse_run(body, path, lineno, where))
            found.header_end = index + 1
        elif kind == "XFAIL":
            found.xfail = body.strip() or "known bug"
            found.header_end = index + 1
        elif kind in CHECK_KINDS:
            pattern = body.strip()
            if kind == "CHECK-EMPTY":
                if pattern:
                    raise GoldenConfigError(f"{where}: CHECK-EMPTY takes no pattern")
                found.checks.append(Check(kind, "", lineno))
            else:
                if not pattern:
                    raise GoldenConfigError(f"{where}: {kind} has an empty pattern")
                found.checks.append(Check(kind, pattern, lineno, compile_pattern(pattern, where)))
            found.check_lines.append(index)
        else:
            raise GoldenConfigError(f"{where}: unknown directive '{kind}:' "
                                    f"(known: RUN, XFAIL, {', '.join(CHECK_KINDS)})")
    if pending_run is not None:
        raise GoldenConfigError(f"{path}:{pending_run[1]}: RUN line ends with '\\' at end of file")
    if not found.runs:
        raise GoldenConfigError(f"{path}: no '// RUN:' line")
    if found.checks and found.checks[0].kind in ("CHECK-NEXT", "CHECK-SAME", "CHECK-EMPTY"):
        first = found.checks[0]
        raise GoldenConfigError(f"{path}:{first.line}: {first.kind} needs an earlier CHECK "
                                "or CHECK-LABEL to be relative to")
    return found


# -- matching --------------------------------------------------------------------------------

class _Output:
    """The output, canonicalised, with offset <-> line helpers."""

    def __init__(self, raw: str) -> None:
        self.raw_lines = raw.split("\n")
        self.lines = [canonical(line) for line in self.raw_lines]
        self.text = "\n".join(self.lines)
        self.starts = [0]
        for line in self.lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)

    def line_of(self, offset: int) -> int:
        """0-based line holding ``offset``."""
        return bisect.bisect_right(self.starts, offset) - 1

    def line_end(self, line: int) -> int:
        return self.starts[line] + len(self.lines[line])


@dataclass
class _Failure:
    check: Check
    problem: str
    scan_from: int                 # offset where scanning started
    found_at: int | None = None    # offset of an offending/misplaced match


def _search(out: _Output, check: Check, start: int, end: int) -> re.Match | None:
    assert check.regex is not None
    return check.regex.search(out.text, start, end)


def _run_block(out: _Output, checks: list[Check], start: int, end: int,
               last_line: int | None) -> _Failure | None:
    """Apply non-LABEL checks within [start, end); ``last_line`` is the line of the
    previous match (the label's), for CHECK-NEXT/SAME/EMPTY."""
    pos = start
    nots: list[Check] = []

    def check_nots(upto: int) -> _Failure | None:
        for neg in nots:
            hit = _search(out, neg, pos, upto)
            if hit is not None:
                return _Failure(neg, "excluded pattern found", pos, hit.start())
        nots.clear()
        return None

    for check in checks:
        if check.kind == "CHECK-NOT":
            nots.append(check)
            continue
        if check.kind == "CHECK-EMPTY":
            target = (last_line + 1) if last_line is not None else out.line_of(pos)
            if target >= len(out.lines) or out.starts[target] >= end:
                return _Failure(check, "expected an empty line, found the end of the output "
                                       "(or of the CHECK-LABEL block)", pos)
            if out.lines[target].strip():
                return _Failure(check, f"expected an empty line at output line {target + 1}",
                                pos, out.starts[target])
            failure = check_nots(out.starts[target])
            if failure:
                return failure
            pos, last_line = out.line_end(target), target
            continue
        hit = _search(out, check, pos, end)
        if hit is None:
            return _Failure(check, "expected pattern not found", pos)
        hit_line = out.line_of(hit.start())
        if check.kind in ("CHECK-NEXT", "CHECK-SAME") and last_line is None:
            return _Failure(check, f"{check.kind} has no previous match to be relative to",
                            pos, hit.start())
        if check.kind == "CHECK-NEXT" and hit_line != last_line + 1:
            where = "on the same line as" if hit_line == last_line else \
                f"{hit_line - last_line} lines after"
            return _Failure(check, f"pattern not found on the line after the previous match "
                                   f"(first match is {where} it)", pos, hit.start())
        if check.kind == "CHECK-SAME" and hit_line != last_line:
            return _Failure(check, "pattern not found on the same line as the previous match",
                            pos, hit.start())
        failure = check_nots(hit.start())
        if failure:
            return failure
        pos, last_line = hit.end(), hit_line
    return check_nots(end)


def _find_failure(out: _Output, checks: list[Check]) -> _Failure | None:
    # Pass 1: labels, in order, each after the previous one.
    labels: list[tuple[int, re.Match]] = []
    pos = 0
    for i, check in enumerate(checks):
        if check.kind != "CHECK-LABEL":
            continue
        hit = _search(out, check, pos, len(out.text))
        if hit is None:
            return _Failure(check, "CHECK-LABEL pattern not found", pos)
        labels.append((i, hit))
        pos = hit.end()
    # Pass 2: the blocks between labels.
    bounds = [(-1, 0, len(out.text) if not labels else labels[0][1].start(), None)]
    for k, (i, hit) in enumerate(labels):
        block_end = labels[k + 1][1].start() if k + 1 < len(labels) else len(out.text)
        bounds.append((i, hit.end(), block_end, out.line_of(hit.start())))
    for k, (first, start, end, last_line) in enumerate(bounds):
        stop = bounds[k + 1][0] if k + 1 < len(bounds) else len(checks)
        block = checks[first + 1:stop]
        failure = _run_block(out, block, start, end, last_line)
        if failure:
            return failure
    return None


def _window(out: _Output, focus: int, marks: dict[int, str], radius: int = 25) -> list[str]:
    lo, hi = max(0, focus - radius), min(len(out.raw_lines), focus + radius + 1)
    shown = []
    if lo:
        shown.append(f"       ... ({lo} lines above)")
    for i in range(lo, hi):
        line = out.raw_lines[i]
        if len(line) > 200:
            line = line[:200] + f"... ({len(line)} chars)"
        shown.append(f"{marks.get(i, '  ')}{i + 1:5d} | {line}")
    if hi < len(out.raw_lines):
        shown.append(f"       ... ({len(out.raw_lines) - hi} lines below)")
    return shown


def _closest(out: _Output, check: Check, start_line: int) -> int | None:
    """The output line most like a literal pattern (FileCheck's 'possible intended match')."""
    if "{{" in check.pattern or not check.pattern:
        return None
    want = canonical(check.pattern.strip())
    best, best_ratio = None, 0.6
    for i in range(start_line, min(len(out.lines), start_line + 2000)):
        if len(out.lines[i]) > 1000:
            continue
        ratio = difflib.SequenceMatcher(None, want, out.lines[i].strip()).ratio()
        if ratio > best_ratio:
            best, best_ratio = i, ratio
    return best


def check_output(output: str, checks: list[Check], *, golden: str, command: str) -> None:
    """Raise CheckFailure when ``checks`` do not hold on ``output``."""
    out = _Output(output)
    failure = _find_failure(out, checks)
    if failure is None:
        return
    check = failure.check
    scan_line = out.line_of(failure.scan_from)
    scan_col = failure.scan_from - out.starts[scan_line] + 1
    report = [f"{golden}:{check.line}: {check.describe()}",
              f"error: {failure.problem}",
              f"scanning started at output line {scan_line + 1}, column {scan_col} (marked '>')"]
    marks = {scan_line: "> "}
    focus = scan_line
    if failure.found_at is not None:
        found_line = out.line_of(failure.found_at)
        marks[found_line] = "! " if found_line != scan_line else ">!"
        report.append(f"offending match at output line {found_line + 1} (marked '!')")
        focus = found_line
    else:
        near = _closest(out, check, scan_line)
        if near is not None:
            marks.setdefault(near, "? ")
            report.append(f"possible intended match at output line {near + 1} (marked '?')")
    report.append(f"output of {command} ({len(out.raw_lines)} lines):")
    report.extend(_window(out, focus, marks))
    # A line-by-line diff helps when the CHECK lines spell out the whole output
    # (as --update-goldens writes them); for sparse checks it would be noise.
    expected = [c.pattern for c in checks if c.kind != "CHECK-NOT"]
    actual = [line.strip() for line in out.lines]
    while actual and not actual[-1]:
        actual.pop()
    dense = (all(c.kind not in ("CHECK-NOT", "CHECK-SAME") for c in checks)
             and 2 * len(expected) >= len(actual))
    diff = list(difflib.unified_diff([canonical(e) for e in expected], actual,
                                     "CHECK patterns", "output", lineterm="", n=2)) if dense else []
    if diff and len(diff) < 400:
        report.append("diff of the CHECK patterns against the output "
                      "({{regex}} blocks shown as written):")
        report.extend("    " + (d if len(d) <= 200 else d[:200] + "...") for d in diff)
    raise CheckFailure("\n".join(report))


# -- --update-goldens ------------------------------------------------------------------------

_BRACE_RUN = re.compile(r"[{}]{2,}")


def _segments(text: str) -> list[tuple[bool, str]]:
    """Split output text into (is_regex, text) pieces: non-printable characters
    and runs of braces (which would read as ``{{``/``}}``) become regex blocks."""
    out: list[tuple[bool, str]] = []
    plain: list[str] = []

    def flush() -> None:
        if plain:
            chunk, pos = "".join(plain), 0
            for run in _BRACE_RUN.finditer(chunk):
                out.append((False, chunk[pos:run.start()]))
                out.append((True, "".join(f"[{c}]" for c in run.group())))
                pos = run.end()
            out.append((False, chunk[pos:]))
            plain.clear()

    for ch in text:
        if ch == "\t" or ch.isprintable():
            plain.append(ch)
        else:
            flush()
            code = ord(ch)
            out.append((True, "\\x%02x" % code if code < 0x100 else "\\u%04x" % code))
    flush()
    return [(r, t) for r, t in out if t]


def _join_segments(segments: list[tuple[bool, str]]) -> str:
    text = ""
    for i, (is_regex, piece) in enumerate(segments):
        if is_regex:
            text += "{{" + piece + "}}"
        elif i + 1 < len(segments) and piece.endswith("{"):  # '{' + '{{..}}' reads as '{{{'
            text += piece[:-1] + "{{[{]}}"
        else:
            text += piece
    return text


def _pattern_for(line: str, path: str, basename: str) -> str:
    pieces = line.rstrip().split(path) if path else [line.rstrip()]
    segments: list[tuple[bool, str]] = []
    for i, piece in enumerate(pieces):
        if i:
            segments += [(True, ".*"), (False, basename)]
        segments += _segments(piece)
    return _join_segments(segments)


def generate_checks(output: str, path: str, basename: str) -> list[str]:
    """CHECK lines reproducing ``output``: CHECK-LABEL for each top-level ``func``
    line that occurs once, CHECK for the first line, CHECK-NEXT for the rest and
    CHECK-EMPTY for blank lines.  ``path`` is replaced by ``{{.*}}BASENAME``."""
    lines = output.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    counts: dict[str, int] = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    result = []
    for i, line in enumerate(lines):
        if not line.strip():
            result.append("// CHECK-EMPTY:" if i else "// CHECK: {{^$}}")
            continue
        pattern = _pattern_for(line, path, basename)
        if line.startswith("func ") and counts[line] == 1:
            kind = "CHECK-LABEL"
        else:
            kind = "CHECK" if i == 0 else "CHECK-NEXT"
        result.append(f"// {kind}: {pattern}")
    return result


def rewrite_checks(text: str, directives: Directives, new_checks: list[str]) -> str:
    """``text`` with its CHECK lines replaced by ``new_checks`` (placed where the
    first old CHECK line was, else right after the RUN/XFAIL lines)."""
    lines = text.split("\n")
    drop = set(directives.check_lines)
    at = directives.check_lines[0] if directives.check_lines else directives.header_end
    kept_before = [ln for i, ln in enumerate(lines[:at]) if i not in drop]
    kept_after = [ln for i, ln in enumerate(lines[at:], start=at) if i not in drop]
    return "\n".join(kept_before + new_checks + kept_after)
