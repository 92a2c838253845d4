"""Shared machinery of graphc's plugin tables (backends, passes).

A table maps names to ``module:attr`` targets from three kinds of source:
built-ins, entry points of an installed distribution, and (for passes)
classes registered in-process.  ``merge_sources`` builds the table and
refuses a name that two sources claim; ``load_target`` imports a target
lazily and reports any failure as the table's own error type, naming the
plugin, so a broken plugin never surfaces as a raw traceback.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib import metadata
from typing import Iterable


@dataclass(frozen=True)
class PluginSource:
    name: str
    target: str      # "module:attr" (attr may be dotted)
    origin: str      # "built-in", "plugin <distribution>" or "registered"


def entry_point_sources(group: str) -> list[PluginSource]:
    """One source per entry point of ``group`` in the installed distributions."""
    found = []
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        origin = f"plugin {dist.name}" if dist is not None else "plugin"
        found.append(PluginSource(ep.name, ep.value, origin))
    return found


def merge_sources(sources: Iterable[PluginSource], kind: str,
                  error: type[Exception]) -> dict[str, PluginSource]:
    """Sources by name; ``error`` when two of them claim one name."""
    table: dict[str, PluginSource] = {}
    for source in sources:
        if source.name in table:
            other = table[source.name]
            raise error(f"{kind} name '{source.name}' is registered twice: by {other.origin} "
                        f"({other.target}) and by {source.origin} ({source.target}); "
                        "uninstall or rename one")
        table[source.name] = source
    return table


def load_target(source: PluginSource, kind: str, error: type[Exception]) -> object:
    """Import ``source.target``; any failure becomes ``error`` naming the plugin."""
    module_name, _, attr = source.target.partition(":")
    try:
        found: object = importlib.import_module(module_name)
        for part in attr.split("."):
            found = getattr(found, part)
    except Exception as exc:  # a plugin may fail in any way; report which one
        raise error(f"{kind} '{source.name}' ({source.origin}, {source.target}) failed to "
                    f"load: {type(exc).__name__}: {exc}") from None
    return found
