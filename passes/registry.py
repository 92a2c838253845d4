"""Where passes come from: a lazy table of built-ins, plugins, and ``register_pass``.

A plugin package advertises a pass class through the entry-point group
``graphc.passes``; the entry-point name is the pipeline name of the pass::

    [project.entry-points."graphc.passes"]
    my-pass = "mypkg.passes:MyPass"

Nothing is imported until a pass is asked for.  A plugin that fails to load,
or that does not name a ``Pass`` subclass whose ``name`` matches, surfaces as
a ``PassError`` naming the plugin.  Two passes with one name (built-in,
plugin or registered in-process) is an error, never a silent override.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from importlib import metadata

from graphc.errors import PassError

from .base import Pass

ENTRY_POINT_GROUP = "graphc.passes"

BUILTIN_PASSES: dict[str, str] = {
    "infer-shapes": "graphc.passes.infer_shapes:InferShapes",
    "canonicalize": "graphc.passes.canonicalize:Canonicalize",
    "fold-constants": "graphc.passes.fold_constants:FoldConstants",
    "cse": "graphc.passes.cse:CSE",
    "dce": "graphc.passes.dce:DCE",
    "fuse": "graphc.passes.fuse:Fuse",
}


@dataclass(frozen=True)
class PassSource:
    name: str
    target: str      # "module:Class"
    origin: str      # "built-in", "plugin <distribution>" or "registered"


_REGISTERED: dict[str, type[Pass]] = {}
_LOADED: dict[tuple[str, str], type[Pass]] = {}


def register_pass(cls: type[Pass]) -> type[Pass]:
    """Make ``cls`` available by ``cls.name`` in this process (usable as a decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Pass)) or not cls.name:
        raise PassError(f"register_pass expects a Pass subclass with a name, received {cls!r}")
    if cls.name in pass_sources() and _REGISTERED.get(cls.name) is not cls:
        raise PassError(f"a pass named '{cls.name}' is already registered "
                        f"({pass_sources()[cls.name].origin})")
    _REGISTERED[cls.name] = cls
    return cls


def unregister_pass(name: str) -> None:
    """Undo ``register_pass`` (tests use this to clean up)."""
    _REGISTERED.pop(name, None)


def _plugin_sources() -> list[PassSource]:
    found = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        origin = f"plugin {dist.name}" if dist is not None else "plugin"
        found.append(PassSource(ep.name, ep.value, origin))
    return found


def pass_sources() -> dict[str, PassSource]:
    """Every known pass by name; PassError on a duplicate name."""
    table: dict[str, PassSource] = {}
    sources = [PassSource(n, t, "built-in") for n, t in BUILTIN_PASSES.items()]
    sources += _plugin_sources()
    sources += [PassSource(n, f"{c.__module__}:{c.__qualname__}", "registered")
                for n, c in _REGISTERED.items()]
    for source in sources:
        if source.name in table:
            other = table[source.name]
            raise PassError(f"pass name '{source.name}' is registered twice: by {other.origin} "
                            f"({other.target}) and by {source.origin} ({source.target}); "
                            "uninstall or rename one")
        table[source.name] = source
    return table


def _load(source: PassSource) -> type[Pass]:
    if source.origin == "registered":
        return _REGISTERED[source.name]
    key = (source.name, source.target)
    if key in _LOADED:
        return _LOADED[key]
    module_name, _, attr = source.target.partition(":")
    try:
        cls = importlib.import_module(module_name)
        for part in attr.split("."):
            cls = getattr(cls, part)
    except Exception as exc:  # a plugin may fail in any way; report which one
        raise PassError(f"pass '{source.name}' ({source.origin}, {source.target}) failed to "
                        f"load: {type(exc).__name__}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Pass)):
        raise PassError(f"pass '{source.name}' ({source.origin}) points at {source.target}, "
                        "which is not a graphc.passes.Pass subclass")
    if cls.name != source.name:
        raise PassError(f"pass '{source.name}' ({source.origin}) is registered under that "
                        f"name, but its class says name = {cls.name!r}")
    _LOADED[key] = cls
    return cls


def known_pass_names() -> list[str]:
    return sorted(pass_sources())


def get_pass_class(name: str) -> type[Pass]:
    """The pass class called ``name``; PassError lists the valid names."""
    sources = pass_sources()
    if name not in sources:
        from .pipeline import NAMED_PIPELINES
        close = difflib.get_close_matches(name, list(sources) + list(NAMED_PIPELINES), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise PassError(f"unknown pass '{name}'{hint}; valid passes: "
                        f"{', '.join(sorted(sources))}; named pipelines: "
                        f"{', '.join(NAMED_PIPELINES)}")
    return _load(sources[name])


def list_passes() -> list[tuple[PassSource, type[Pass] | None, str]]:
    """(source, class or None, problem) for every pass, sorted by name."""
    rows = []
    for name, source in sorted(pass_sources().items()):
        try:
            rows.append((source, _load(source), ""))
        except PassError as exc:
            rows.append((source, None, str(exc)))
    return rows
