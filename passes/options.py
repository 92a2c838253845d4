"""Pass options: typed dataclass fields spelled ``kebab-case`` in pipeline text.

A pass's options are exactly its dataclass fields.  A field ``max_elements:
int = 4096`` is the option ``max-elements``, written
``fold-constants{max-elements=4096}``.  The field's annotation picks an
``OptionKind`` from ``OPTION_KINDS`` (rules as data); each kind parses the
text form of a value and prints it back, so ``Pass.spec()`` round-trips
through ``parse_pipeline``.

Supported annotations:

===========================  =======================  ====================
annotation                   text form                 example
===========================  =======================  ====================
``int``                      decimal, may be negative  ``max-elements=64``
``float``                    Python float literal      ``tolerance=1e-6``
``bool``                     ``true``/``false``        ``fast-math=true``
``str``                      the raw text              ``mode=tanh``
``Bindings``                 ``SYM:SIZE`` list         ``bind=N:32,T:8``
===========================  =======================  ====================

A list value (``Bindings``) continues over commas: in ``{bind=N:32,T:8}``
the segment ``T:8`` has no ``=`` and so extends the previous option.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass
from typing import Any, Callable

from graphc.errors import PassError

_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

Bindings = tuple[tuple[str, int], ...]
"""Symbol bindings ``((symbol, size), ...)``, sorted by symbol."""


@dataclass(frozen=True)
class OptionKind:
    name: str                         # shown in `graphc passes` and in errors
    parse: Callable[[str], Any]       # raises ValueError with a short reason
    format: Callable[[Any], str]


def _parse_bool(text: str) -> bool:
    if text in ("true", "1", "on"):
        return True
    if text in ("false", "0", "off"):
        return False
    raise ValueError("expected true or false")


def _parse_int(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise ValueError("expected an integer") from None


def _parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("expected a number") from None


def parse_bindings(text: str) -> Bindings:
    """``N:32,T:8`` (``=`` also accepted as separator) -> ``(("N", 32), ("T", 8))``."""
    found: dict[str, int] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        sym, sep, size = item.replace("=", ":").partition(":")
        if not sep or not _SYMBOL.match(sym) or not size.strip().isdigit():
            raise ValueError(f"expected SYMBOL:SIZE such as N:32, received '{item}'")
        if sym in found and found[sym] != int(size):
            raise ValueError(f"symbol {sym} is bound twice ({found[sym]} and {size})")
        found[sym] = int(size)
    return tuple(sorted(found.items()))


def format_bindings(value: Bindings) -> str:
    return ",".join(f"{sym}:{size}" for sym, size in value)


_PIPELINE_TEXT = re.compile(r"[^\s{},=]+")


def _format_str(value: str) -> str:
    """A str option as pipeline text; one the pipeline syntax cannot carry (empty,
    or with spaces, commas, braces or '=') is refused rather than mangled."""
    if not _PIPELINE_TEXT.fullmatch(value):
        raise PassError(f"option value {value!r} cannot be written in a pipeline string: "
                        "it must be non-empty, without spaces, commas, braces or '='")
    return value


OPTION_KINDS: dict[Any, OptionKind] = {
    int: OptionKind("int", _parse_int, str),
    float: OptionKind("float", _parse_float, repr),
    bool: OptionKind("bool", _parse_bool, lambda v: "true" if v else "false"),
    str: OptionKind("str", lambda t: t, _format_str),
    Bindings: OptionKind("bindings", parse_bindings, format_bindings),
}


@dataclass(frozen=True)
class OptionSpec:
    """One option of a pass, derived from a dataclass field."""

    field: str          # Python field name: max_elements
    name: str           # pipeline spelling: max-elements
    kind: OptionKind
    default: Any
    help: str

    def describe(self) -> str:
        shown = self.kind.format(self.default)
        return f"{self.name}: {self.kind.name} = {shown if shown else '(none)'}"


def option_name(field_name: str) -> str:
    return field_name.replace("_", "-")


def option_specs(cls: type) -> tuple[OptionSpec, ...]:
    """The options of a pass class, in field order."""
    hints = typing.get_type_hints(cls)
    specs = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        kind = OPTION_KINDS.get(hints[f.name])
        if kind is None:
            raise PassError(f"pass class {cls.__name__} field '{f.name}' has type "
                            f"{hints[f.name]!r}; pass options must be one of "
                            "int, float, bool, str, Bindings")
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        else:
            raise PassError(f"pass class {cls.__name__} option '{f.name}' needs a default")
        specs.append(OptionSpec(f.name, option_name(f.name), kind, default,
                                f.metadata.get("help", "")))
    return tuple(specs)
