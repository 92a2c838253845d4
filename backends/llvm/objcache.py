"""On-disk cache of compiled object code (so a second process starts warm).

Key: SHA-256 of the module's LLVM IR text, the optimization level and the
target fingerprint (triple, host CPU name, CPU feature string, llvmlite
version) -- the complete input of code generation, so a hit can only ever
return code built from the same IR for the same machine.

Entry file ``<root>/llvm/<key[:2]>/<key>.o``: a header (magic, payload
length, SHA-256 of the payload) followed by the object file.  ``store``
writes a temporary file in the same directory and renames it over the
entry (atomic on POSIX), so readers never see a partial file; ``load``
checks magic, length and digest and deletes an entry that fails (a
truncated or corrupted file is recompiled, never loaded).  I/O errors
never fail a compile: the cache is then simply skipped.  A cache directory
owned by another user or writable by others is refused (BackendError), as
for the numba backend.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from ..cache_dir import default_cache_dir, prepare_dir  # noqa: F401 (re-exported)

MAGIC = b"graphc-llvm-obj1"
HEADER = len(MAGIC) + 8 + 32


class ObjectCache:
    def __init__(self, root: Path | str) -> None:
        self.top = Path(root)
        self.root = self.top / "llvm"
        self.hits = 0
        self.misses = 0
        self._prepared = False

    def prepare(self) -> None:
        """Create the directories owner-only and refuse ones others may write
        (``backends/cache_dir.py``): object code from them would run here."""
        if not self._prepared:
            prepare_dir(self.top)
            prepare_dir(self.root)
            self._prepared = True

    @staticmethod
    def key(ir_text: str, fingerprint: str, opt_level: int) -> str:
        h = hashlib.sha256()
        for part in (fingerprint, f"O{opt_level}", ir_text):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.o"

    def load(self, key: str) -> bytes | None:
        self.prepare()
        path = self.path(key)
        try:
            blob = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        payload = blob[HEADER:]
        ok = (blob[:len(MAGIC)] == MAGIC
              and int.from_bytes(blob[len(MAGIC):len(MAGIC) + 8], "little") == len(payload)
              and blob[len(MAGIC) + 8:HEADER] == hashlib.sha256(payload).digest())
        if not ok:
            try:
                path.unlink()
            except OSError:
                pass
            self.misses += 1
            return None
        self.hits += 1
        return payload

    def store(self, key: str, data: bytes) -> None:
        self.prepare()
        path = self.path(key)
        blob = MAGIC + len(data).to_bytes(8, "little") + hashlib.sha256(data).digest() + data
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".o")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(blob)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:     # a full or read-only disk: this compile simply is not cached
            pass
