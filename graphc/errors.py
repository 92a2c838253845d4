"""The exception hierarchy every part of graphc raises.

Invariant: anything a user can provoke with bad input (a malformed file, an
incompatible shape, an unknown backend ...) surfaces as a ``GraphcError``
subclass whose message names *what* was wrong, *where*, and *what was
expected*.  Anything else escaping graphc is a bug.  The CLI relies on this:
it prints ``str(error)`` for a ``GraphcError`` and treats any other exception
as an internal error.

Several classes also derive from the matching builtin (``ValueError``,
``TypeError``, ``KeyError``) so code written against Keras or numpy
conventions keeps catching what it expects.
"""

from __future__ import annotations


class GraphcError(Exception):
    """Base class of every error graphc raises on purpose."""


class ParseError(GraphcError, ValueError):
    """Malformed ``.gir`` text.  ``str()`` is ``FILE:LINE:COL: error: ...``
    followed by the source line and a caret under the column."""

    def __init__(self, message: str, *, filename: str, line: int, col: int,
                 source_line: str = "", note: str | None = None) -> None:
        self.message = message
        self.filename = filename
        self.line = line
        self.col = col
        self.source_line = source_line
        self.note = note
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [f"{self.filename}:{self.line}:{self.col}: error: {self.message}"]
        if self.source_line:
            shown = self.source_line
            col = self.col
            # Keep very long lines (a 10 MB line is valid input) readable.
            if len(shown) > 160:
                start = max(0, col - 80)
                shown = ("..." if start else "") + shown[start:start + 160] + "..."
                col = col - start + (3 if start else 0)
            parts.append("  " + shown.replace("\t", " "))
            parts.append("  " + " " * (col - 1) + "^")
        if self.note:
            parts.append(self.note)
        return "\n".join(parts)


class VerifyError(GraphcError, ValueError):
    """The IR breaks one of the verifier's numbered invariants.

    ``headline`` is the one-line diagnosis; ``context`` shows the node, its
    source location and a window of IR; ``node``/``func`` are the offending
    IR objects (so a caller holding a source map can point into a file).
    """

    def __init__(self, headline: str, *, invariant: int | None = None, node: object = None,
                 func: object = None, context: str = "") -> None:
        self.headline = headline
        self.invariant = invariant
        self.node = node
        self.func = func
        self.context = context
        super().__init__(headline + ("\n" + context if context else ""))


class ShapeError(GraphcError, ValueError):
    """Incompatible shapes or dtypes, found while inferring a result type."""


class AttrError(GraphcError, ValueError):
    """An op attribute is missing, unknown, or of the wrong kind."""


class UnknownOpError(GraphcError, KeyError):
    """An op name that is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InputError(GraphcError, ValueError):
    """Arguments passed to a compiled executable do not match its signature."""


class ExecutionError(GraphcError, RuntimeError):
    """A node failed while running (for example a gather index out of range)."""


class BackendError(GraphcError):
    """Unknown, unavailable or misregistered backend."""


class LoweringError(BackendError):
    """A backend cannot lower an op of the module it was asked to compile."""


class PassError(GraphcError):
    """A pass failed, or a pipeline string names unknown passes or options."""


class LoadError(GraphcError, ValueError):
    """A model file or model reference cannot be loaded."""


class FrontendError(GraphcError, ValueError):
    """Misuse of the model-building API (layers, models, inputs)."""
