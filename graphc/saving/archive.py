"""The zip archives of model and weight files: reading with caps, writing atomically.

Reading (``ZipReader``) never extracts anything to disk and refuses, with a
``LoadError`` naming the file and the problem:

* a file that is not a zip archive, or is truncated (no central directory);
* more than ``LoadLimits.max_members`` members, duplicate member names, and
  names that are not plain relative paths: absolute (``/x``, ``C:x``),
  with ``..`` or empty parts, backslashes or control characters;
* members the caller does not expect (``allowed``), encrypted members and
  compression methods other than stored and deflate;
* sizes over the caps: each member's declared uncompressed size is checked
  against the caller's cap and a shared ``ByteBudget`` (all members of a file
  and of the archives nested in it together) *before* anything is
  decompressed, and a member is read up to its declared size only, so a
  header that lies is caught by the CRC check.  This is the zip-bomb guard.

Writing (``atomic_write``): the content goes to a temporary file in the
target's directory, which replaces the target with ``os.replace`` only once
complete; on any error the temporary file is removed and the target is left
as it was.  Members are written with a fixed timestamp, so saving the same
model twice gives the same member bytes.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterator

from graphc.errors import FrontendError, GraphcError, LoadError

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
MiB = 1 << 20


@dataclass(frozen=True)
class LoadLimits:
    """Caps that bound what loading a file may read (all sizes uncompressed)."""

    max_members: int = 64
    """Members of a model file."""
    max_arrays: int = 100_000
    """Arrays in one weights archive."""
    max_json_bytes: int = 64 * MiB
    """Size of config.json, metadata.json and optimizer.json each."""
    max_total_bytes: int = 16 * 1024 * MiB
    """Everything one load reads, nested archives included."""


BOMB_MIN_BYTES = 64 * MiB
BOMB_RATIO = 200
"""A deflated member that would expand to more than ``BOMB_MIN_BYTES`` at more than
``BOMB_RATIO`` times its compressed size is refused before it is inflated:
graphc stores arrays uncompressed, and real weights never compress that far."""


class ByteBudget:
    """Uncompressed bytes a load may still read."""

    def __init__(self, limit: int, what: str) -> None:
        self.left = int(limit)
        self.what = what

    def take(self, size: int, member: str) -> None:
        if size > self.left:
            raise LoadError(f"{self.what}: member '{member}' would expand to {size:,} bytes, "
                            f"over the {self.left:,} bytes this load may still read (a zip "
                            "bomb, or a file larger than LoadLimits.max_total_bytes allows)")
        self.left -= size


def bad_member_name(name: str) -> str | None:
    """Why ``name`` is not a plain relative member name (None if it is)."""
    if not name:
        return "an empty name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if "\\" in name:
        return "a backslash"
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        return "a control character"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "a '..', '.' or empty path component"
    return None


class ZipReader:
    """The members of one zip archive, validated as the module doc says."""

    def __init__(self, source: Any, what: str, budget: ByteBudget, max_members: int,
                 allowed: Callable[[str], bool]) -> None:
        self.what = what
        self.budget = budget
        try:
            self.zip = zipfile.ZipFile(source if not isinstance(source, bytes)
                                       else io.BytesIO(source))
        except FileNotFoundError:
            raise LoadError(f"{what}: no such file") from None
        except IsADirectoryError:
            raise LoadError(f"{what}: is a directory, not a file") from None
        except PermissionError:
            raise LoadError(f"{what}: permission denied") from None
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
            raise LoadError(f"{what}: not a zip archive, or truncated ({exc})") from None
        infos = self.zip.infolist()
        if len(infos) > max_members:
            raise LoadError(f"{what}: {len(infos)} members, more than the {max_members} allowed")
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            problem = bad_member_name(info.filename)
            if problem is not None:
                raise LoadError(f"{what}: member name {info.filename!r} contains {problem}; "
                                "refused")
            if info.filename in self.members:
                raise LoadError(f"{what}: member '{info.filename}' appears twice")
            if not allowed(info.filename):
                raise LoadError(f"{what}: unexpected member '{info.filename}'")
            if info.flag_bits & 0x1:
                raise LoadError(f"{what}: member '{info.filename}' is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise LoadError(f"{what}: member '{info.filename}' uses an unsupported "
                                f"compression method ({info.compress_type})")
            self.members[info.filename] = info

    def __contains__(self, name: str) -> bool:
        return name in self.members

    def names(self) -> list[str]:
        return list(self.members)

    def read(self, name: str, cap: int | None = None) -> bytes:
        info = self.members.get(name)
        if info is None:
            raise LoadError(f"{self.what}: has no member '{name}' (members: "
                            f"{', '.join(self.members) or 'none'})")
        if cap is not None and info.file_size > cap:
            raise LoadError(f"{self.what}: member '{name}' declares {info.file_size:,} bytes, "
                            f"more than the {cap:,} allowed for it")
        if info.file_size > BOMB_MIN_BYTES and \
                info.file_size > BOMB_RATIO * max(info.compress_size, 1):
            raise LoadError(f"{self.what}: member '{name}' would expand from "
                            f"{info.compress_size:,} to {info.file_size:,} bytes, more than "
                            f"{BOMB_RATIO}:1 (a zip bomb); graphc stores arrays uncompressed")
        self.budget.take(info.file_size, name)
        try:
            with self.zip.open(info) as fh:
                data = fh.read(info.file_size + 1)
        except MemoryError:
            raise LoadError(f"{self.what}: member '{name}' ({info.file_size:,} bytes) does not "
                            "fit in memory") from None
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError,
                NotImplementedError, RuntimeError) as exc:
            raise LoadError(f"{self.what}: member '{name}' is corrupt or truncated "
                            f"({exc})") from None
        if len(data) != info.file_size:
            raise LoadError(f"{self.what}: member '{name}' holds {len(data)} bytes, its header "
                            f"says {info.file_size}")
        return data

    def close(self) -> None:
        self.zip.close()


def write_member(archive: zipfile.ZipFile, name: str, data: bytes, compress: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def as_path(filepath: Any, what: str) -> str:
    """``filepath`` (str, bytes or os.PathLike) as a str."""
    try:
        path = os.fspath(filepath)
    except TypeError:
        raise FrontendError(f"{what}: the file path must be a str or os.PathLike, received "
                            f"{type(filepath).__name__}") from None
    return os.fsdecode(path) if isinstance(path, bytes) else path


def target_path(filepath: Any, suffixes: tuple[str, ...], what: str) -> str:
    """``filepath`` as a str, checked to end with one of ``suffixes``."""
    path = as_path(filepath, what)
    if not path.endswith(suffixes):
        raise FrontendError(f"{what}: the file name must end with {' or '.join(suffixes)}. "
                            f"Received: {path!r}")
    return path


@contextlib.contextmanager
def atomic_write(path: str, overwrite: bool) -> Iterator[IO[bytes]]:
    """A binary file handle whose content replaces ``path`` only on success."""
    if os.path.isdir(path):
        raise GraphcError(f"cannot write {path}: it is a directory")
    if not overwrite and os.path.exists(path):
        raise GraphcError(f"cannot write {path}: the file exists and overwrite=False")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temp = tempfile.mkstemp(prefix=".graphc-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise GraphcError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.chmod(temp, _file_mode())
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise GraphcError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
