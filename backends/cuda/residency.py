"""Parameters kept on the device across calls ("weights resident on the device").

``CudaExecutable.keep_on_device(indices, check=...)`` marks entry-function
parameters whose device copy outlives a call.  For a kept parameter the
executable remembers the last array it uploaded (a strong reference, so
its identity cannot be recycled), that array's shape and dtype, the SHA-256
of its bytes, and the device array.  On each call, for the array ``a``
passed in that position:

``check="content"`` (the default)
    the device copy is reused when ``a`` has the same shape and dtype and
    the SHA-256 of its bytes equals the recorded one -- whichever array
    object holds them.  Otherwise ``a`` is uploaded (into the same device
    buffer when the size is unchanged) and recorded.  An in-place change of
    a weight is therefore always seen; the price is reading the weight on
    the host (hashing runs at roughly 1.5 GB/s), never a transfer.

``check="identity"``
    as "content", except that when ``a`` *is* the recorded array object, was
    already *frozen* when its bytes were last read, and still is -- read-only,
    and every array it is a view of is read-only, down to an owner of its
    memory or an immutable ``bytes`` -- the copy is reused without reading
    ``a`` at all (an array frozen only after its upload is read once more).  Writeable arrays fall back to the
    content rule, so handing in a changed array is still seen.  What is not
    seen: an owner that sets its array writeable again, changes it and
    freezes it again between two calls; use "content" if arrays may be
    unfrozen.

Nothing stale is ever used silently under these rules.  ``release()`` drops
device copies (all, or of some indices); ``stats`` counts uploads and reuses
for tests and benchmarks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from graphc.errors import InputError

CHECKS = ("content", "identity")


def fingerprint(flat: np.ndarray) -> bytes:
    """SHA-256 of the bytes of a C-contiguous array."""
    return hashlib.sha256(memoryview(flat).cast("B")).digest()


def frozen(array: np.ndarray) -> bool:
    """True when no code can write ``array`` through numpy without unfreezing it."""
    current: Any = array
    while isinstance(current, np.ndarray):
        if current.flags.writeable:
            return False
        if current.base is None:
            return True
        current = current.base
    return isinstance(current, bytes)


@dataclass
class _Entry:
    host: np.ndarray
    digest: bytes
    device: Any
    frozen: bool = False    # ``host`` was frozen when its bytes were last read


@dataclass
class ResidencyStats:
    uploads: int = 0
    reuses: int = 0
    hashed_bytes: int = 0


@dataclass
class Residency:
    """The kept parameters of one executable (see the module docstring)."""

    num_params: int
    checks: dict[int, str] = field(default_factory=dict)
    entries: dict[int, _Entry] = field(default_factory=dict)
    stats: ResidencyStats = field(default_factory=ResidencyStats)

    def keep(self, indices: Iterable[int], check: str = "content") -> None:
        if check not in CHECKS:
            raise InputError(f"keep_on_device check must be one of {', '.join(CHECKS)}, "
                             f"received {check!r}")
        chosen = []
        for index in indices:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or \
                    not 0 <= int(index) < self.num_params:
                raise InputError(f"keep_on_device expects parameter indices from 0 to "
                                 f"{self.num_params - 1}, received {index!r}")
            chosen.append(int(index))
        for index in chosen:
            self.checks[index] = check

    def release(self, indices: Iterable[int] | None = None) -> None:
        for index in list(self.entries if indices is None else indices):
            self.entries.pop(index, None)
            if indices is not None:
                self.checks.pop(index, None)
        if indices is None:
            self.checks.clear()

    def is_kept(self, index: int) -> bool:
        return index in self.checks

    def device_copy(self, index: int, host: np.ndarray, flat: np.ndarray, upload) -> Any:
        """The device array for parameter ``index`` holding ``flat`` (the storage view
        of ``host``); ``upload(flat, reuse)`` copies it into ``reuse`` or a new array."""
        entry = self.entries.get(index)
        same_layout = entry is not None and entry.host.shape == host.shape and \
            entry.host.dtype == host.dtype
        is_frozen = frozen(host)
        if same_layout and self.checks[index] == "identity" and host is entry.host \
                and entry.frozen and is_frozen:
            self.stats.reuses += 1
            return entry.device
        digest = fingerprint(flat)
        self.stats.hashed_bytes += flat.nbytes
        if same_layout and digest == entry.digest:
            entry.host, entry.frozen = host, is_frozen
            self.stats.reuses += 1
            return entry.device
        device = upload(flat, entry.device if same_layout else None)
        self.entries[index] = _Entry(host, digest, device, is_frozen)
        self.stats.uploads += 1
        return device
