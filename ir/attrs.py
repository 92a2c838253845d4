"""Op attributes: kinds, schemas and the frozen ``Attrs`` mapping.

Every op declares a schema, a tuple of ``AttrSpec(name, kind, default)``.
``Attrs`` always holds *every* attribute of the schema (defaults filled in),
in canonical Python form:

=========  ===========================================  ==================
kind       canonical value                              text form
=========  ===========================================  ==================
int        ``int``                                      ``-1``
float      ``float``                                    ``2.0``, ``inf``
bool       ``bool``                                     ``true``
str        ``str``                                      ``"tanh"``
dtype      ``DType``                                    ``f32``
ints       ``tuple[int, ...]``                          ``[0, 1]``
opt_ints   ``tuple[int | None, ...]``                   ``[0, none]``
axes       ``tuple[int, ...] | None`` (None = all)      ``[1]`` / ``none``
shape      ``tuple[int | symbol, ...]`` (-1 allowed)    ``[N, -1, 8]``
tensor     ``TensorValue`` (read-only ndarray)          ``[[1.0, 2.0]]``
func       ``str`` (a function name)                    ``@fused_0``
=========  ===========================================  ==================

Values are hashable and immutable, so ``Attrs`` can take part in structural
equality and hashing.  ``coerce`` accepts both Python API values and the
generic values produced by the text parser (``Ident`` for bare words).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import numpy as np

from graphc.errors import AttrError

from .dtypes import DType, dtype_of
from .types import UNKNOWN, _SYMBOL


@dataclass(frozen=True, slots=True)
class Ident:
    """A bare word from the text format (``f32``, ``N``, ``inf``, ``none``)."""

    name: str


@dataclass(frozen=True, slots=True)
class FuncRef:
    """``@name`` in the text format."""

    name: str


class TensorValue:
    """An immutable ndarray usable as an attribute (a constant's value).

    Equality and hashing are by dtype, shape and raw bytes, so NaNs compare
    equal to themselves and ``-0.0`` differs from ``0.0``: exactly what a
    compile cache needs.
    """

    __slots__ = ("array", "_digest")

    def __init__(self, array: object, dtype: object | None = None) -> None:
        arr = np.array(array, dtype=None if dtype is None else dtype_of(dtype).numpy, order="C")
        dtype_of(arr.dtype)  # reject unsupported dtypes (complex, object, ...)
        if not arr.dtype.isnative:  # one byte order, so equal values have equal bytes
            arr = arr.astype(arr.dtype.newbyteorder("="))
        # A view of immutable bytes: no code can make it writeable again.
        frozen = np.frombuffer(arr.tobytes(), dtype=arr.dtype).reshape(arr.shape)
        object.__setattr__(self, "array", frozen)
        object.__setattr__(self, "_digest", None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"TensorValue is immutable (cannot set '{name}')")

    @property
    def dtype(self) -> DType:
        return dtype_of(self.array.dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.array.shape)

    def digest(self) -> bytes:
        if self._digest is None:
            h = hashlib.sha256()
            h.update(f"{self.array.dtype.str}{self.array.shape}".encode())
            h.update(self.array.tobytes())
            object.__setattr__(self, "_digest", h.digest())
        return self._digest  # type: ignore[return-value]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorValue) and self.digest() == other.digest()

    def __hash__(self) -> int:
        return hash(self.digest())

    def __repr__(self) -> str:
        return f"TensorValue({self.array.dtype}{list(self.array.shape)})"


class AttrKind:
    """One attribute kind: how to validate/normalise a value and how to print it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def coerce(self, value: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def format(self, value: Any) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(kind: str, value: Any, expected: str) -> AttrError:
    shown = _clip(value.name if isinstance(value, Ident) else repr(value))
    article = "an" if kind[0] in "aeiou" else "a"
    return AttrError(f"expected {expected} for {article} {kind} attribute, received {shown}")


def _as_int(value: Any, kind: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise _fail(kind, value, "an integer")
    return int(value)


def format_float(value: float) -> str:
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(float(value))


class _Int(AttrKind):
    def coerce(self, value: Any) -> int:
        return _as_int(value, self.name)

    def format(self, value: int) -> str:
        return str(value)


class _Float(AttrKind):
    def coerce(self, value: Any) -> float:
        if isinstance(value, Ident) and value.name in ("inf", "nan"):
            return float(value.name)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise _fail(self.name, value, "a number")
        return float(value)

    def format(self, value: float) -> str:
        return format_float(value)


class _Bool(AttrKind):
    def coerce(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise _fail(self.name, value, "true or false")

    def format(self, value: bool) -> str:
        return "true" if value else "false"


class _Str(AttrKind):
    def coerce(self, value: Any) -> str:
        if not isinstance(value, str):
            raise _fail(self.name, value, "a quoted string")
        return value

    def format(self, value: str) -> str:
        import json
        return json.dumps(value)


class _DType(AttrKind):
    def coerce(self, value: Any) -> DType:
        if isinstance(value, Ident):
            value = value.name
        try:
            return dtype_of(value)
        except Exception:
            raise _fail(self.name, value, "a dtype (f16, f32, f64, i32, i64, bool)") from None

    def format(self, value: DType) -> str:
        return value.short


class _Ints(AttrKind):
    def __init__(self, name: str, allow_none_items: bool = False) -> None:
        super().__init__(name)
        self.allow_none_items = allow_none_items

    def coerce(self, value: Any) -> tuple:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise _fail(self.name, value, "a list of integers")
        items = []
        for item in value:
            if self.allow_none_items and (item is None or item == Ident("none")):
                items.append(None)
            else:
                items.append(_as_int(item, self.name))
        return tuple(items)

    def format(self, value: tuple) -> str:
        return "[" + ", ".join("none" if v is None else str(v) for v in value) + "]"


class _Axes(_Ints):
    def coerce(self, value: Any) -> tuple[int, ...] | None:
        if value is None or value == Ident("none"):
            return None
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return (int(value),)
        return super().coerce(value)

    def format(self, value: tuple[int, ...] | None) -> str:
        return "none" if value is None else super().format(value)


class _Shape(AttrKind):
    def coerce(self, value: Any) -> tuple:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise _fail(self.name, value, "a list of dimensions")
        dims: list[int | str] = []
        for item in value:
            if isinstance(item, Ident):
                item = item.name
            if isinstance(item, str):
                if item == UNKNOWN or not _SYMBOL.match(item):
                    raise _fail(self.name, item, "an int, -1 or a named symbol (not '?')")
                dims.append(item)
            else:
                dim = _as_int(item, self.name)
                if dim < -1:
                    raise _fail(self.name, dim, "a dimension >= -1")
                dims.append(dim)
        if dims.count(-1) > 1:
            raise AttrError(f"a shape attribute may hold at most one -1, received {dims}")
        return tuple(dims)

    def format(self, value: tuple) -> str:
        return "[" + ", ".join(str(v) for v in value) + "]"


class _Tensor(AttrKind):
    def coerce(self, value: Any) -> TensorValue:
        if isinstance(value, TensorValue):
            return value
        if isinstance(value, (list, tuple, Ident)) or not isinstance(
                value, (np.ndarray, np.generic, int, float, bool)):
            raise _fail(self.name, value, "an array (TensorValue or numpy array)")
        try:
            return TensorValue(value)
        except Exception as exc:
            raise AttrError(f"cannot use {type(value).__name__} as a tensor attribute: {exc}") from None

    def format(self, value: TensorValue) -> str:
        return format_tensor_literal(value.array)


class _Func(AttrKind):
    def coerce(self, value: Any) -> str:
        if isinstance(value, FuncRef):
            return value.name
        if isinstance(value, str) and _SYMBOL.match(value):
            return value
        raise _fail(self.name, value, "a function reference such as @fused_0")

    def format(self, value: str) -> str:
        return f"@{value}"


INT = _Int("int")
FLOAT = _Float("float")
BOOL = _Bool("bool")
STR = _Str("str")
DTYPE = _DType("dtype")
INTS = _Ints("ints")
OPT_INTS = _Ints("opt_ints", allow_none_items=True)
AXES = _Axes("axes")
SHAPE = _Shape("shape")
TENSOR = _Tensor("tensor")
FUNC = _Func("func")


def format_scalar(value: Any, dtype: np.dtype) -> str:
    if dtype == np.bool_:
        return "true" if value else "false"
    if dtype.kind in "iu":
        return str(int(value))
    if dtype == np.float64:
        return format_float(float(value))
    # Shortest text that round-trips in the array's own precision.
    text = str(value.astype(dtype)) if isinstance(value, np.generic) else str(dtype.type(value))
    if text == "nan":
        return "-nan" if np.signbit(value) else "nan"
    if text in ("inf", "-inf"):
        return text
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def format_tensor_literal(array: np.ndarray) -> str:
    """Nested-list text of an array (``2.0`` for a 0-d one)."""
    if array.ndim == 0:
        return format_scalar(array[()], array.dtype)
    if array.shape[0] == 0 or array.size == 0:
        return "[]"
    return "[" + ", ".join(format_tensor_literal(array[i]) for i in range(array.shape[0])) + "]"


REQUIRED = object()


@dataclass(frozen=True, slots=True)
class AttrSpec:
    name: str
    kind: AttrKind
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


class Attrs(Mapping[str, Any]):
    """An immutable, hashable mapping of attribute name to canonical value,
    iterated in sorted key order (the printing order)."""

    __slots__ = ("_items", "_hash")

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        self._items: tuple[tuple[str, Any], ...] = tuple(sorted((items or {}).items()))
        self._hash: int | None = None

    def __getitem__(self, key: str) -> Any:
        for name, value in self._items:
            if name == key:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self._items)
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Attrs):
            return self._items == other._items
        return NotImplemented

    def replace(self, **changes: Any) -> "Attrs":
        merged = dict(self._items)
        merged.update(changes)
        return Attrs(merged)

    def __repr__(self) -> str:
        return "Attrs(" + ", ".join(f"{k}={v!r}" for k, v in self._items) + ")"


def build_attrs(schema: tuple[AttrSpec, ...], given: Mapping[str, Any], *, op: str) -> Attrs:
    """Check ``given`` against ``schema``; fill defaults; return canonical ``Attrs``."""
    by_name = {spec.name: spec for spec in schema}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        valid = ", ".join(sorted(by_name)) or "none"
        raise AttrError(f"op '{op}' has no attribute {', '.join(repr(_clip(u)) for u in unknown)}; "
                        f"valid attributes: {valid}")
    values: dict[str, Any] = {}
    for spec in schema:
        if spec.name in given:
            try:
                values[spec.name] = spec.kind.coerce(given[spec.name])
            except AttrError as exc:
                raise AttrError(f"op '{op}', attribute '{spec.name}': {exc}") from None
        elif spec.required:
            raise AttrError(f"op '{op}' requires attribute '{spec.name}' ({spec.kind.name})")
        else:
            values[spec.name] = spec.default
    return Attrs(values)
