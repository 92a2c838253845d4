"""Layer names and user source locations.

Names.  A layer created without ``name=`` gets the snake_case form of its
class name, made unique with a counter: ``dense``, ``dense_1``, ``dense_2``
...  The counters live in one ``NameRegistry`` (``NAMES``), the front end's
only process-wide state; ``reset_names()`` starts every counter again (tests
call it so auto-names are predictable).  An explicit name is taken as given,
only checked for being a non-empty string without ``/`` (the separator of
layer paths such as ``outer/block1/dense_2``); uniqueness of explicit names
is checked where it matters, inside one model.

Locations.  ``user_location()`` returns ``(file, line)`` of the innermost
stack frame that is not graphc's own code: the line of the user's program
that created a layer or called it.  Files under the current directory are
shown relative to it, so locations read the same on every machine.
"""

from __future__ import annotations

import os
import re
import sys

from graphc.errors import FrontendError

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


_NOT_IN_FUNC_NAMES = re.compile(r"[^A-Za-z0-9_]")


def ir_func_name(name: str) -> str:
    """``name`` as an IR function name (what ``@name`` can carry): other characters
    become ``_``, and a name must start with a letter or ``_``."""
    text = _NOT_IN_FUNC_NAMES.sub("_", name) or "fn"
    return text if text[:1].isalpha() or text[:1] == "_" else "m_" + text


def snake_case(name: str) -> str:
    """``LayerNormalization`` -> ``layer_normalization``; ``ReLU`` -> ``re_lu``."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


class NameRegistry:
    """Hands out ``base``, ``base_1``, ``base_2`` ... per base name."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def unique(self, base: str) -> str:
        count = self._counts.get(base, 0)
        self._counts[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def reset(self) -> None:
        self._counts.clear()


NAMES = NameRegistry()


def reset_names() -> None:
    """Restart auto-naming (``dense``, ``dense_1`` ...) from scratch."""
    NAMES.reset()


def auto_name(base: str) -> str:
    return NAMES.unique(base)


def check_name(name: object, what: str) -> str:
    """Validate an explicit layer/model/input name."""
    if not isinstance(name, str) or not name:
        raise FrontendError(f"{what} name must be a non-empty string. Received: name={name!r}")
    if "/" in name:
        raise FrontendError(f"{what} name may not contain '/' (it separates the parts of a "
                            f"layer path). Received: name={name!r}")
    return name


def display_file(path: str) -> str:
    """``path`` relative to the current directory when it lies below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith("..") else rel


def user_location(constructing: object = None) -> tuple[str, int] | None:
    """``(file, line)`` of the innermost frame outside the graphc package.

    With ``constructing``, frames whose ``self`` is that object are skipped
    too: a user-defined layer's ``__init__`` calling ``super().__init__()`` is
    not where the layer was created, the line that called the class is.
    """
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR) and \
                not filename.startswith("<frozen") and \
                (constructing is None or frame.f_locals.get("self") is not constructing):
            return display_file(filename), frame.f_lineno
        frame = frame.f_back
    return None


def format_location(location: tuple[str, int] | None) -> str:
    return f"{location[0]}:{location[1]}" if location else "an unknown location"
