"""graphc.backends -- the Backend/Executable contract, the registry of
built-in and plugin backends, and the backends themselves.

``interpreter`` (numpy reference, the test oracle) is always present; the
compiling backends load lazily by name through ``get_backend``.
"""

from .base import Backend, Executable, bind_inputs, resolve_attrs
from .registry import (BUILTIN_BACKENDS, ENTRY_POINT_GROUP, backend_sources, checked_call,
                       get_backend, list_backends)

__all__ = [
    "BUILTIN_BACKENDS", "Backend", "ENTRY_POINT_GROUP", "Executable", "backend_sources",
    "checked_call",
    "bind_inputs", "get_backend", "list_backends", "resolve_attrs",
]
