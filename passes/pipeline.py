"""Pipeline strings and named pipelines.

Grammar (whitespace around items is ignored)::

    pipeline := "" | item ("," item)*
    item     := NAME [ "{" option* "}" ]         NAME: a pass or a named pipeline
    option   := KEY "=" VALUE                    separated by spaces or commas

``fold-constants{max-elements=4096},cse`` runs two passes.  A named pipeline
(``default``) expands in place and takes no options.  Inside braces, options
are separated by spaces or commas; a comma-separated segment without ``=``
continues the previous value, so list options read naturally:
``infer-shapes{bind=N:32,T:8}``.

Every error is a ``PassError`` that names the offending item and lists what
is valid (pass names and pipelines, or the options of that pass).
"""

from __future__ import annotations

import difflib
import re
from typing import Sequence

from graphc.errors import PassError

from .base import Pass
from .registry import get_pass_class

NAMED_PIPELINES: dict[str, tuple[str, str]] = {
    "O0": ("", "no passes: the IR exactly as given"),
    "simplify": ("infer-shapes,canonicalize,fold-constants,cse,canonicalize,dce",
                 "clean-up without fusion: types, identities, constants, sharing, dead code"),
    "default": ("infer-shapes,canonicalize,fold-constants,cse,canonicalize,dce,fuse",
                "simplify, then fuse into primitive kernels (what graphc.compile runs)"),
    "O1": ("simplify", "same as simplify"),
    "O2": ("default", "same as default"),
}

_NAME = re.compile(r"[A-Za-z0-9_.\-]+")


def _split_items(text: str) -> list[str]:
    """Split at commas outside braces; PassError on unbalanced braces."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
            if depth > 1:
                raise PassError(f"pipeline '{text}': nested '{{' at character {i + 1}")
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise PassError(f"pipeline '{text}': unmatched '}}' at character {i + 1}")
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    if depth:
        raise PassError(f"pipeline '{text}': missing '}}' to close the options")
    items.append(text[start:])
    return items


def _split_options(body: str, pass_name: str) -> dict[str, str]:
    given: dict[str, str] = {}
    last: str | None = None
    for chunk in body.split():
        for segment in chunk.split(","):
            if not segment:
                continue
            key, sep, value = segment.partition("=")
            if sep:
                key = key.strip()
                if key in given:
                    raise PassError(f"option '{key}' of pass '{pass_name}' is given twice")
                given[key] = value
                last = key
            elif last is not None:
                given[last] += "," + segment
            else:
                raise PassError(f"pass '{pass_name}': expected KEY=VALUE in its options, "
                                f"received '{segment}'")
    return given


def make_pass(name: str, given: dict[str, str] | None = None) -> Pass:
    """Instantiate the pass ``name`` with options given as text values."""
    cls = get_pass_class(name)
    specs = {opt.name: opt for opt in cls.options()}
    kwargs = {}
    for key, text in (given or {}).items():
        opt = specs.get(key)
        if opt is None:
            valid = ", ".join(o.describe() for o in specs.values()) or "none"
            close = difflib.get_close_matches(key, list(specs), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise PassError(f"pass '{name}' has no option '{key}'{hint}; valid options: {valid}")
        try:
            kwargs[opt.field] = opt.kind.parse(text.strip())
        except ValueError as exc:
            raise PassError(f"option '{key}' of pass '{name}' expects a value of type "
                            f"{opt.kind.name}, received '{text}': {exc}") from None
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise PassError(f"pass '{name}' rejects its options: {exc}") from None


def parse_pipeline(text: str | Sequence[Pass | str]) -> list[Pass]:
    """Turn pipeline text (or a list of passes and pass texts) into Pass objects."""
    if not isinstance(text, str):
        out: list[Pass] = []
        for item in text:
            out.extend([item] if isinstance(item, Pass) else parse_pipeline(item))
        return out
    return _parse(text, depth=0)


def _parse(text: str, depth: int) -> list[Pass]:
    if depth > 8:
        raise PassError(f"named pipeline '{text}' expands into itself")
    if not text.strip():
        return []
    passes: list[Pass] = []
    for raw in _split_items(text):
        item = raw.strip()
        if not item:
            raise PassError(f"pipeline '{text}' has an empty item (two commas in a row, or "
                            "a comma at an end)")
        match = _NAME.match(item)
        if match is None:
            raise PassError(f"pipeline '{text}': expected a pass name, received '{item}'")
        name, rest = match.group(), item[match.end():].strip()
        if rest and not (rest.startswith("{") and rest.endswith("}")):
            raise PassError(f"pipeline '{text}': unexpected '{rest}' after '{name}'; options "
                            "go in braces: name{key=value}")
        if name in NAMED_PIPELINES:
            if rest:
                raise PassError(f"named pipeline '{name}' takes no options")
            passes.extend(_parse(NAMED_PIPELINES[name][0], depth + 1))
            continue
        passes.append(make_pass(name, _split_options(rest[1:-1], name) if rest else None))
    return passes


def format_pipeline(passes: Sequence[Pass]) -> str:
    return ",".join(p.spec() for p in passes)
