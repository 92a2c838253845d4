"""Where compiled code is cached on disk, and whether that place can be trusted.

Every backend with an on-disk cache (numba, llvm) keeps it under one root:
``$GRAPHC_CACHE_DIR``, else the platform's per-user cache directory +
``/graphc``.  Compiled code read from there runs in this process, so a
directory is used only when this user owns it and nobody else may write to
it (``check_permissions``); ``prepare_dir`` creates it owner-only.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from graphc.errors import BackendError

ENV_VAR = "GRAPHC_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$GRAPHC_CACHE_DIR``, else the platform's per-user cache dir + /graphc."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "graphc"


def check_permissions(path: Path) -> None:
    """BackendError unless ``path`` is a directory only its owner (us) may write."""
    try:
        info = path.stat()
    except OSError as exc:
        raise BackendError(f"kernel cache directory {path} is not usable: {exc.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise BackendError(f"kernel cache path {path} exists but is not a directory")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise BackendError(f"kernel cache directory {path} belongs to another user (uid "
                           f"{info.st_uid}); graphc will not load compiled code from it. "
                           "Choose another cache_dir (or GRAPHC_CACHE_DIR), or pass cache=False")
    if os.name != "nt" and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise BackendError(f"kernel cache directory {path} is writable by other users (mode "
                           f"{stat.S_IMODE(info.st_mode):o}); graphc will not load compiled "
                           f"code from it. Run `chmod go-w {path}`, choose another cache_dir, "
                           "or pass cache=False")


def prepare_dir(path: Path) -> None:
    """Create ``path`` (and its parents) owner-only if missing, then check it;
    BackendError when it cannot be created or must not be trusted."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackendError(f"cannot create kernel cache directory {path}: "
                           f"{exc.strerror}") from None
    check_permissions(path)
