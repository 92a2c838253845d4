"""The on-disk kernel cache: content-addressed, atomic, validated.

Layout under the cache root (``default_cache_dir()`` unless an option says
otherwise)::

    <root>/numba-v2/<key[:2]>/<key>/program.py      the generated source
                                   /program.o       its machine code (a
                                                    relocatable object file)
                                   /manifest.json   key, versions, the entry
                                                    symbol, sha256 of every
                                                    other file

``key`` is the SHA-256 of everything that determines the machine code: the
program's source (which is a function of the IR structure and dtypes and
the lowering rules), the compile flags, the numba, llvmlite, numpy and
Python versions, the host CPU name and features, and a fingerprint of this
backend's own source files (so a change to the math helpers or the
lowering invalidates every entry).

Invariants:

* an entry directory appears only by ``os.rename`` of a fully written
  temporary directory, so a reader never sees half an entry; a writer that
  loses a race to another process simply discards its copy;
* before anything in an entry is imported or unpickled, ``manifest.json``
  must parse, name the same key, and list a SHA-256 for every file that
  matches the file on disk.  A corrupted, truncated, foreign or incomplete
  entry is deleted and rebuilt -- never loaded;
* the root must be a directory owned by the current user that no one else
  may write to (an entry is machine code: loading a planted one would run
  it).  Directories graphc creates get mode 0700.  Nothing in an entry is
  unpickled.

``GRAPHC_CACHE_DIR`` overrides the default location (a user-facing
location setting, like ``XDG_CACHE_HOME``); the backend option
``cache_dir`` overrides both.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from graphc.errors import BackendError

from ..cache_dir import ENV_VAR, check_permissions, default_cache_dir  # noqa: F401

LAYOUT = "numba-v2"
MANIFEST = "manifest.json"
SOURCE = "program.py"
OBJECT = "program.o"
def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class CacheEntry:
    """One validated (or freshly built) entry."""

    key: str
    path: Path
    warm: bool        # True when it was found valid on disk


class KernelCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.base = self.root / LAYOUT
        self._prepared = False

    def prepare(self) -> None:
        if self._prepared:
            return
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            check_permissions(self.root)
            self.base.mkdir(mode=0o700, exist_ok=True)
            check_permissions(self.base)
        except OSError as exc:
            raise BackendError(f"cannot create kernel cache directory {self.root}: "
                               f"{exc.strerror}") from None
        self._prepared = True

    def entry_path(self, key: str) -> Path:
        return self.base / key[:2] / key

    # -- reading ---------------------------------------------------------------
    def lookup(self, key: str) -> CacheEntry | None:
        """The valid entry for ``key``, or None (an invalid one is deleted)."""
        self.prepare()
        path = self.entry_path(key)
        if not path.exists():
            return None
        problem = validate_entry(path, key)
        if problem is None:
            return CacheEntry(key, path, warm=True)
        self.discard(path)
        return None

    def discard(self, path: Path) -> None:
        trash = path.with_name(f".trash-{uuid.uuid4().hex[:12]}")
        try:
            os.rename(path, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    # -- writing -----------------------------------------------------------------
    def staging(self, key: str) -> Path:
        """A fresh private directory to build an entry in."""
        self.prepare()
        parent = self.entry_path(key).parent
        parent.mkdir(mode=0o700, exist_ok=True)
        tmp = parent / f".tmp-{key[:16]}-{uuid.uuid4().hex[:12]}"
        tmp.mkdir(mode=0o700)
        return tmp

    def publish(self, staging: Path, key: str, meta: dict) -> Path:
        """Seal ``staging`` with a manifest and move it into place atomically."""
        files = {p.name: sha256_file(p) for p in sorted(staging.iterdir())
                 if p.is_file() and p.name != MANIFEST and ".tmp." not in p.name}
        manifest = {"key": key, "layout": LAYOUT, "files": files, **meta}
        tmp_manifest = staging / (MANIFEST + ".part")
        tmp_manifest.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(tmp_manifest, staging / MANIFEST)
        final = self.entry_path(key)
        try:
            os.rename(staging, final)
        except OSError:
            # Another process published the same key first; keep theirs.
            shutil.rmtree(staging, ignore_errors=True)
        return final


def validate_entry(path: Path, key: str) -> str | None:
    """None when the entry at ``path`` is complete and untouched, else why not."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        return f"unreadable manifest ({exc})"
    if not isinstance(manifest, dict) or manifest.get("key") != key:
        return "manifest names another key (a foreign entry)"
    files = manifest.get("files")
    if not isinstance(files, dict) or SOURCE not in files or OBJECT not in files:
        return "manifest lists no compiled code"
    present = {p.name for p in path.iterdir() if p.name != MANIFEST}
    if present != set(files):
        return f"files differ from the manifest ({sorted(present ^ set(files))})"
    for name, digest in files.items():
        try:
            if sha256_file(path / name) != digest:
                return f"{name} does not match its checksum"
        except OSError as exc:
            return f"{name} unreadable ({exc})"
    return None


def read_manifest(path: Path) -> dict | None:
    """The manifest of a validated entry (None when unreadable)."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None
