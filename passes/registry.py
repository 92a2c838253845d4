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

from graphc.errors import PassError
from graphc.plugins import PluginSource, entry_point_sources, load_target, merge_sources

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


PassSource = PluginSource


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


def pass_sources() -> dict[str, PassSource]:
    """Every known pass by name; PassError on a duplicate name."""
    sources = [PassSource(n, t, "built-in") for n, t in BUILTIN_PASSES.items()]
    sources += entry_point_sources(ENTRY_POINT_GROUP)
    sources += [PassSource(n, f"{c.__module__}:{c.__qualname__}", "registered")
                for n, c in _REGISTERED.items()]
    return merge_sources(sources, "pass", PassError)


def _load(source: PassSource) -> type[Pass]:
    if source.origin == "registered":
        return _REGISTERED[source.name]
    key = (source.name, source.target)
    if key in _LOADED:
        return _LOADED[key]
    cls = load_target(source, "pass", PassError)
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
