"""Source locations carried by IR nodes.

A ``Loc`` says where a node came from: the layer path in the model
(``outer/block1/dense_2``) and, when known, the user's source file and line.
Passes that merge nodes (fusion, CSE) keep the union as a ``FusedLoc``, so a
kernel can always be traced back to layers and lines.

Text form (the trailing part of a node line)::

    loc("outer/block1/dense_2", "model.py":12)
    loc("dense")
    loc(fused[loc("dense", "m.py":3), loc("relu")])
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Union


@dataclass(frozen=True, slots=True)
class Loc:
    path: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        text = json.dumps(self.path)
        if self.file is not None:
            text += f", {json.dumps(self.file)}"
            if self.line is not None:
                text += f":{self.line}"
        return f"loc({text})"

    def describe(self) -> str:
        """Human form for error messages: ``outer/dense_2 (model.py:12)``."""
        where = ""
        if self.file is not None:
            where = f" ({self.file}:{self.line})" if self.line is not None else f" ({self.file})"
        return f"{self.path}{where}"

    @property
    def parts(self) -> tuple["Loc", ...]:
        return (self,)


@dataclass(frozen=True, slots=True)
class FusedLoc:
    parts: tuple[Loc, ...]

    def __str__(self) -> str:
        return "loc(fused[" + ", ".join(str(p) for p in self.parts) + "])"

    def describe(self) -> str:
        return ", ".join(p.describe() for p in self.parts)


AnyLoc = Union[Loc, FusedLoc]


def fuse_locs(locs: Iterable[AnyLoc | None]) -> AnyLoc | None:
    """Union of locations in first-seen order; a single one stays a plain Loc."""
    seen: list[Loc] = []
    for loc in locs:
        if loc is None:
            continue
        for part in loc.parts:
            if part not in seen:
                seen.append(part)
    if not seen:
        return None
    if len(seen) == 1:
        return seen[0]
    return FusedLoc(tuple(seen))
