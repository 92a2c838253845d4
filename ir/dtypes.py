"""Element types of the IR.

Six dtypes, each named by its short text form (``f32``) and mapped one to one
onto a numpy dtype.  ``DType`` members are singletons, so ``is`` and ``==``
agree and they can key dictionaries.
"""

from __future__ import annotations

import enum

import numpy as np

from graphc.errors import ShapeError


class DType(enum.Enum):
    f16 = "float16"
    f32 = "float32"
    f64 = "float64"
    i32 = "int32"
    i64 = "int64"
    bool = "bool"

    @property
    def short(self) -> str:
        """The text-format spelling: ``f32``."""
        return self.name

    @property
    def numpy(self) -> np.dtype:
        return np.dtype(self.value)

    @property
    def is_float(self) -> bool:
        return self in (DType.f16, DType.f32, DType.f64)

    @property
    def is_int(self) -> bool:
        return self in (DType.i32, DType.i64)

    @property
    def is_bool(self) -> bool:
        return self is DType.bool

    @property
    def is_numeric(self) -> bool:
        return not self.is_bool

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize

    def __repr__(self) -> str:
        return f"DType.{self.name}"

    def __str__(self) -> str:
        return self.name


_BY_SPELLING: dict[str, DType] = {}
for _d in DType:
    _BY_SPELLING[_d.name] = _d
    _BY_SPELLING[_d.value] = _d
_BY_SPELLING.update({"float": DType.f32, "int": DType.i64, "bool_": DType.bool})


def dtype_of(spec: object) -> DType:
    """Coerce ``f32``, ``"float32"``, ``np.float32``, ``np.dtype`` or a DType to a DType."""
    if isinstance(spec, DType):
        return spec
    if isinstance(spec, str) and spec in _BY_SPELLING:
        return _BY_SPELLING[spec]
    name = None
    # One-character strings are numpy type codes ('?' is bool, 'd' is f64):
    # too cryptic to accept.  None would silently mean float64.
    if spec is not None and not (isinstance(spec, str) and len(spec) < 2):
        try:
            name = np.dtype(spec).name  # type: ignore[call-overload]
        except (TypeError, ValueError):
            name = None
    if name is not None and name in _BY_SPELLING:
        return _BY_SPELLING[name]
    valid = ", ".join(d.name for d in DType)
    raise ShapeError(f"unsupported dtype {spec!r}; expected one of {valid} "
                     "(or the numpy names float16, float32, float64, int32, int64, bool)")


ALL_DTYPES: tuple[DType, ...] = tuple(DType)
FLOAT_DTYPES: tuple[DType, ...] = (DType.f16, DType.f32, DType.f64)
INT_DTYPES: tuple[DType, ...] = (DType.i32, DType.i64)
NUMERIC_DTYPES: tuple[DType, ...] = FLOAT_DTYPES + INT_DTYPES
