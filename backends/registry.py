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

from typing import Any

from graphc.errors import BackendError, GraphcError
from graphc.plugins import PluginSource, entry_point_sources, load_target, merge_sources

from .base import Backend

ENTRY_POINT_GROUP = "graphc.backends"

BUILTIN_BACKENDS: dict[str, str] = {
    "interpreter": "graphc.backends.interpreter:InterpreterBackend",
    "numba": "graphc.backends.numba:NumbaBackend",
    "cuda": "graphc.backends.cuda:CudaBackend",
    "llvm": "graphc.backends.llvm:LlvmBackend",
}


BackendSource = PluginSource


def backend_sources() -> dict[str, BackendSource]:
    """Every known backend by name; BackendError on a duplicate name."""
    builtins = [PluginSource(n, t, "built-in") for n, t in BUILTIN_BACKENDS.items()]
    return merge_sources(builtins + entry_point_sources(ENTRY_POINT_GROUP), "backend",
                         BackendError)


_INSTANCES: dict[tuple[str, str], Backend] = {}


def _load(source: BackendSource) -> Backend:
    key = (source.name, source.target)
    if key in _INSTANCES:
        return _INSTANCES[key]
    cls = load_target(source, "backend", BackendError)
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise BackendError(f"backend '{source.name}' ({source.origin}) points at "
                           f"{source.target}, which is not a graphc Backend subclass")
    try:
        instance = cls()
    except Exception as exc:  # a plugin's constructor is not ours to trust
        raise BackendError(f"backend '{source.name}' ({source.origin}) failed to load: "
                           f"creating {source.target} raised {type(exc).__name__}: {exc}") from None
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
        try:
            if backend.is_available():
                status = "available"
            else:
                status = "unavailable: " + (backend.unavailable_reason() or "not supported here")
        except Exception as exc:  # a plugin whose availability check fails is listed so
            rows.append((source, None, f"failed to load: its availability check raised "
                                       f"{type(exc).__name__}: {exc}"))
            continue
        rows.append((source, backend, status))
    return rows


def checked_call(backend: Backend, what: str, call: Any, *args: Any) -> Any:
    """``call(*args)`` on a backend; an exception that is not a GraphcError from a
    plugin backend becomes a BackendError naming the plugin (a built-in backend's
    own bug is left to surface as one)."""
    try:
        return call(*args)
    except GraphcError:
        raise
    except Exception as exc:
        source = backend_sources().get(backend.name)
        if source is None or source.origin == "built-in":
            raise
        raise BackendError(f"backend '{backend.name}' ({source.origin}) failed in {what}: "
                           f"{type(exc).__name__}: {exc}") from None
