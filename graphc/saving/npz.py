"""Arrays in ``.npz`` archives: written with numpy, read by a strict parser.

Writing uses ``numpy.lib.format.write_array(..., allow_pickle=False)`` into a
zip (stored, not compressed: weights rarely compress and loading stays
fast), one ``<key>.npy`` member per array, so ``numpy.load(path,
allow_pickle=False)`` reads the file too.  Keys are weight paths
(``block1/dense/kernel``); characters that are unsafe in member names are
percent-encoded, and ``.``/``..`` path parts are encoded so that no key can
become a path outside the archive.

Reading goes through ``ZipReader`` (member caps, see ``archive.py``) and
parses each ``.npy`` member itself instead of calling ``numpy.load``, for
two reasons: numpy reads the header with ``ast.literal_eval`` (which
compiles text), and it allocates the array a header declares before knowing
whether the data is there.  Here the header (format 1.0, 2.0 or 3.0) is read
by a small literal parser that accepts only ``{'descr': str,
'fortran_order': bool, 'shape': tuple of ints}``; the dtype must be one of
bool, int32, int64, float16, float32, float64 (an object dtype -- pickled
Python objects -- is refused by name); and the data must be exactly
``prod(shape) * itemsize`` bytes.  Only then is the array made
(``numpy.frombuffer``, copied to native byte order).
"""

from __future__ import annotations

import io
import math
import re
import struct
import urllib.parse
import zipfile
from typing import Any, Sequence

import numpy as np

from graphc.errors import LoadError

from .archive import ByteBudget, ZipReader, write_member

MAGIC = b"\x93NUMPY"
MAX_HEADER = 65536
DTYPES = {"b1": np.bool_, "i4": np.int32, "i8": np.int64, "f2": np.float16, "f4": np.float32,
          "f8": np.float64}
_DESCR = re.compile(r"([<>|=]?)(b1|i4|i8|f2|f4|f8)\Z")
_TOKEN = re.compile(r"\s*(?:(?P<str>'[^'\\]*'|\"[^\"\\]*\")|(?P<int>-?\d+)L?|"
                    r"(?P<word>True|False|None)|(?P<punct>[{}():,]))")


# --- keys <-> member names -----------------------------------------------------------
def member_name(key: str) -> str:
    parts = [urllib.parse.quote(part, safe="") for part in key.split("/")]
    parts = [p.replace(".", "%2E") if p in (".", "..") or not p else p for p in parts]
    return "/".join(p or "%00" for p in parts) + ".npy"


def key_of(member: str) -> str:
    return urllib.parse.unquote(member[:-len(".npy")]).replace("\x00", "")


def npz_bytes(arrays: Sequence[tuple[str, np.ndarray]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", allowZip64=True) as archive:
        for key, array in arrays:
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
            write_member(archive, member_name(key), member.getvalue(), compress=False)
    return buffer.getvalue()


# --- reading -------------------------------------------------------------------------
def _parse_header(text: str, where: str) -> dict[str, Any]:
    """The dict literal of an .npy header, without evaluating anything."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    body = text.rstrip(" \n")
    while pos < len(body):
        match = _TOKEN.match(body, pos)
        if match is None or match.end() == pos:
            raise LoadError(f"{where}: malformed .npy header near {body[pos:pos + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    items = iter(tokens)

    def value(tok: tuple[str, str]) -> Any:
        kind, text_ = tok
        if kind == "str":
            return text_[1:-1]
        if kind == "int":
            return int(text_)
        if kind == "word":
            return {"True": True, "False": False, "None": None}[text_]
        if text_ == "(":  # a shape: a tuple of ints, nothing nested
            out = []
            for kind2, text2 in items:
                if (kind2, text2) == ("punct", ")"):
                    return tuple(out)
                if kind2 == "int":
                    out.append(int(text2))
                elif (kind2, text2) != ("punct", ","):
                    break
        raise LoadError(f"{where}: malformed .npy header")

    if next(items, None) != ("punct", "{"):
        raise LoadError(f"{where}: malformed .npy header (expected a dict)")
    header: dict[str, Any] = {}
    for tok in items:
        if tok == ("punct", "}"):
            return header
        if tok == ("punct", ","):
            continue
        key = value(tok)
        if next(items, None) != ("punct", ":") or not isinstance(key, str):
            raise LoadError(f"{where}: malformed .npy header")
        header[key] = value(next(items, ("punct", "?")))
    raise LoadError(f"{where}: malformed .npy header (unterminated)")


def read_npy(data: bytes, where: str) -> np.ndarray:
    if data[:6] != MAGIC or len(data) < 10:
        raise LoadError(f"{where}: not a .npy array (bad magic bytes)")
    major = data[6]
    if major == 1:
        (length,), start = struct.unpack("<H", data[8:10]), 10
    elif major in (2, 3):
        if len(data) < 12:
            raise LoadError(f"{where}: truncated .npy header")
        (length,), start = struct.unpack("<I", data[8:12]), 12
    else:
        raise LoadError(f"{where}: unsupported .npy format version {major}")
    if length > MAX_HEADER or start + length > len(data):
        raise LoadError(f"{where}: .npy header of {length} bytes is too long or truncated")
    try:
        text = data[start:start + length].decode("utf-8" if major == 3 else "latin1")
    except UnicodeDecodeError:
        raise LoadError(f"{where}: .npy header is not text") from None
    header = _parse_header(text, where)
    if set(header) != {"descr", "fortran_order", "shape"}:
        raise LoadError(f"{where}: .npy header needs exactly descr, fortran_order and shape; "
                        f"it has {sorted(header)}")
    descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    if isinstance(descr, str) and descr.lstrip("<>|=") == "O":
        raise LoadError(f"{where}: the array holds pickled Python objects (dtype object); "
                        "graphc never unpickles, refused")
    match = _DESCR.match(descr) if isinstance(descr, str) else None
    if match is None:
        raise LoadError(f"{where}: unsupported array dtype {descr!r}; expected bool, int32, "
                        "int64, float16, float32 or float64")
    if not isinstance(fortran, bool) or not isinstance(shape, tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise LoadError(f"{where}: .npy header has a malformed shape or fortran_order")
    dtype = np.dtype(DTYPES[match.group(2)]).newbyteorder(
        ">" if match.group(1) == ">" else "<" if match.group(1) in ("<", "") else "=")
    need = math.prod(shape) * dtype.itemsize
    body = len(data) - start - length
    if body != need:
        raise LoadError(f"{where}: an array of shape {shape} needs {need:,} bytes of data, the "
                        f"member holds {body:,}")
    flat = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=start + length)
    array = flat.reshape(shape, order="F" if fortran else "C")
    return np.array(array, dtype=dtype.newbyteorder("="), order="C", copy=True)


def read_npz(source: Any, what: str, budget: ByteBudget, max_arrays: int) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive (path or bytes), in archive order."""
    reader = ZipReader(source, what, budget, max_arrays, lambda name: name.endswith(".npy"))
    try:
        arrays: dict[str, np.ndarray] = {}
        for name in reader.names():
            key = key_of(name)
            if key in arrays:
                raise LoadError(f"{what}: two members hold the array '{key}'")
            arrays[key] = read_npy(reader.read(name), f"{what}, array '{key}'")
        return arrays
    finally:
        reader.close()
