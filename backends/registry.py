"""Where backends come from: a lazy table of built-ins plus plugins.

A plugin package advertises a backend class through the entry-point group
``graphc.backends``::

    [project.entry-points."graphc.backends"]
    mybackend = "mypkg.backend:MyBackend"

The entry-point name is the backend's name.  Nothing is imported until the
backend is asked for, so a slow or broken plugin only costs its own users;
a broken one surfaces as a ``BackendError`` that names the plugin.  Two
backends with one name (built-in or plugin) is an error, never a silent
override.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib import metadata

from graphc.errors import BackendError

from .base import Backend

ENTRY_POINT_GROUP = "graphc.backends"

BUILTIN_BACKENDS: dict[str, str] = {
    "interpreter": "graphc.backends.interpreter:InterpreterBackend",
    "numba": "graphc.backends.numba:NumbaBackend",
}


@dataclass(frozen=True)
class BackendSource:
    name: str
    target: str      # "module:Class"
    origin: str      # "built-in" or "plugin <distribution>"


def _plugin_sources() -> list[BackendSource]:
    found = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        origin = f"plugin {dist.name}" if dist is not None else "plugin"
        found.append(BackendSource(ep.name, ep.value, origin))
    return found


def backend_sources() -> dict[str, BackendSource]:
    """Every known backend by name; BackendError on a duplicate name."""
    table: dict[str, BackendSource] = {}
    builtins = [BackendSource(n, t, "built-in") for n, t in BUILTIN_BACKENDS.items()]
    for source in builtins + _plugin_sources():
        if source.name in table:
            other = table[source.name]
            raise BackendError(f"backend name '{source.name}' is registered twice: by "
                               f"{other.origin} ({other.target}) and by {source.origin} "
                               f"({source.target}); uninstall or rename one")
        table[source.name] = source
    return table


_INSTANCES: dict[tuple[str, str], Backend] = {}


def _load(source: BackendSource) -> Backend:
    key = (source.name, source.target)
    if key in _INSTANCES:
        return _INSTANCES[key]
    module_name, _, attr = source.target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:  # a plugin may fail in any way; report which one
        raise BackendError(f"backend '{source.name}' ({source.origin}, {source.target}) "
                           f"failed to load: {type(exc).__name__}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise BackendError(f"backend '{source.name}' ({source.origin}) points at "
                           f"{source.target}, which is not a graphc Backend subclass")
    instance = cls()
    if getattr(instance, "name", None) != source.name:
        raise BackendError(f"backend '{source.name}' ({source.origin}) is registered under "
                           f"that name, but its class says name = {instance.name!r}")
    _INSTANCES[key] = instance
    return instance


def get_backend(name: str | Backend) -> Backend:
    """The backend called ``name`` (a Backend instance is passed through)."""
    if isinstance(name, Backend):
        return name
    sources = backend_sources()
    if name not in sources:
        known = ", ".join(sorted(sources))
        raise BackendError(f"unknown backend '{name}'; available backends: {known}")
    return _load(sources[name])


def list_backends() -> list[tuple[BackendSource, Backend | None, str]]:
    """(source, instance or None, status) for every backend, sorted by name."""
    rows = []
    for name, source in sorted(backend_sources().items()):
        try:
            backend = _load(source)
        except BackendError as exc:
            rows.append((source, None, f"failed to load: {exc}"))
            continue
        if backend.is_available():
            status = "available"
        else:
            status = "unavailable: " + (backend.unavailable_reason() or "not supported here")
        rows.append((source, backend, status))
    return rows
