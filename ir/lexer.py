"""Tokenizer for ``.gir`` text.

One compiled master regex scans the text left to right (linear time, so a
10 MB line is fine).  ``//`` starts a comment that runs to the end of the
line.  Every token records its character offset; ``Source.position`` turns
an offset into a 1-based (line, column) pair for diagnostics.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from graphc.errors import ParseError

_TOKEN_SPEC = [
    ("WS", r"[ \t\r\n]+"),
    ("COMMENT", r"//[^\n]*"),
    ("VALUE", r"%[A-Za-z0-9_.]+"),
    ("SYMBOL", r"@[A-Za-z0-9_.]+"),
    ("FLOAT", r"-?(?:[0-9]+\.[0-9]*(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)"),
    ("INT", r"-?[0-9]+"),
    ("IDENT", r"[A-Za-z_][A-Za-z0-9_]*"),
    ("STRING", r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"'),
    ("ARROW", r"->"),
    ("PUNCT", r"[()\[\]{},:=?\-]"),
]
_MASTER = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _TOKEN_SPEC))


@dataclass(frozen=True, slots=True)
class Token:
    kind: str      # VALUE SYMBOL FLOAT INT IDENT STRING ARROW PUNCT EOF
    text: str
    offset: int

    def describe(self) -> str:
        if self.kind == "EOF":
            return "end of file"
        text = self.text if len(self.text) <= 40 else self.text[:37] + "..."
        return f"'{text}'"


class Source:
    """The text being parsed plus its file name, for positions and errors."""

    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def line_text(self, line: int) -> str:
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    def error(self, offset: int, message: str, note: str | None = None) -> ParseError:
        line, col = self.position(offset)
        return ParseError(message, filename=self.filename, line=line, col=col,
                          source_line=self.line_text(line), note=note)


def tokenize(source: Source) -> list[Token]:
    text = source.text
    tokens: list[Token] = []
    pos, end = 0, len(text)
    while pos < end:
        match = _MASTER.match(text, pos)
        if match is None:
            char = text[pos]
            if char == '"':
                raise source.error(pos, "unterminated string literal",
                                   'expected a closing \'"\' on the same line')
            raise source.error(pos, f"unexpected character {char!r}",
                               "expected an IR token (%value, @name, identifier, number, "
                               "string or punctuation)")
        kind = match.lastgroup
        assert kind is not None
        if kind not in ("WS", "COMMENT"):
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("EOF", "", end))
    return tokens
