"""Typed config fields: the kinds of built-in layer schemas (``schemas.py``).

Each kind encodes a value canonically (``Number`` writes a float, ``IntList``
a list of ints, ``Activation`` the activation's name, ``Initializer`` a
``{"class_name", "config", "module"}`` object) and decodes JSON back,
raising ``LoadError`` that names the field, what it expects and what it
received.  Names (activations, initializer classes) resolve only through the
``Resolver``.
"""

from __future__ import annotations

import math
from typing import Any

from graphc.errors import FrontendError, LoadError

from ..ir.dtypes import DType, dtype_of
from .registry import BUILTIN_MODULES, Resolver, serialized_name
from .values import short_repr, construct, decode_value, encode_value, is_object


class Kind:
    """A typed config field: canonical encoding plus checked decoding."""

    expects = "a value"

    def encode(self, value: Any, where: str) -> Any:
        return encode_value(value, where)

    def check(self, raw: Any) -> bool:  # pragma: no cover - overridden
        return True

    def decode(self, raw: Any, resolver: Resolver, where: str) -> Any:
        if not self.check(raw):
            raise LoadError(f"{where} expects {self.expects}, received {short_repr(raw)}")
        return raw


def _is_int(raw: Any) -> bool:
    return isinstance(raw, int) and not isinstance(raw, bool)


class Int(Kind):
    def __init__(self, minimum: int | None = None) -> None:
        self.minimum = minimum
        self.expects = "an integer" + (f" >= {minimum}" if minimum is not None else "")

    def check(self, raw: Any) -> bool:
        return _is_int(raw) and (self.minimum is None or raw >= self.minimum)


class Number(Kind):
    def __init__(self, minimum: float | None = None, maximum: float | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum
        bounds = [f">= {minimum}"] if minimum is not None else []
        bounds += [f"<= {maximum}"] if maximum is not None else []
        self.expects = "a number" + (" " + " and ".join(bounds) if bounds else "")

    def encode(self, value: Any, where: str) -> Any:
        return float(value)

    def check(self, raw: Any) -> bool:
        return isinstance(raw, (int, float)) and not isinstance(raw, bool) and \
            math.isfinite(raw) and (self.minimum is None or raw >= self.minimum) and \
            (self.maximum is None or raw <= self.maximum)

    def decode(self, raw: Any, resolver: Resolver, where: str) -> Any:
        return float(super().decode(raw, resolver, where))


class Bool(Kind):
    expects = "true or false"

    def check(self, raw: Any) -> bool:
        return isinstance(raw, bool)


class Optional(Kind):
    def __init__(self, inner: Kind) -> None:
        self.inner = inner
        self.expects = f"null or {inner.expects}"

    def encode(self, value: Any, where: str) -> Any:
        return None if value is None else self.inner.encode(value, where)

    def decode(self, raw: Any, resolver: Resolver, where: str) -> Any:
        if raw is None:
            return None
        if not self.inner.check(raw) and not isinstance(self.inner, (Activation, Initializer)):
            raise LoadError(f"{where} expects {self.expects}, received {short_repr(raw)}")
        return self.inner.decode(raw, resolver, where)


class IntList(Kind):
    """A list of ints (each >= ``minimum``; ``none_ok``: null items allowed)."""

    def __init__(self, minimum: int | None = None, none_ok: bool = False,
                 non_empty: bool = False) -> None:
        self.minimum, self.none_ok, self.non_empty = minimum, none_ok, non_empty
        item = "integers" + (f" >= {minimum}" if minimum is not None else "")
        self.expects = ("a non-empty " if non_empty else "a ") + f"list of {item}" + \
            (" or null" if none_ok else "")

    def encode(self, value: Any, where: str) -> Any:
        return [None if v is None else int(v) for v in value]

    def check(self, raw: Any) -> bool:
        return isinstance(raw, list) and (bool(raw) or not self.non_empty) and all(
            (v is None and self.none_ok) or
            (_is_int(v) and (self.minimum is None or v >= self.minimum)) for v in raw)


class IntOrIntList(IntList):
    def __init__(self) -> None:
        super().__init__(non_empty=True)
        self.expects = "an integer or a non-empty list of integers"

    def encode(self, value: Any, where: str) -> Any:
        return int(value) if _is_int(value) else [int(v) for v in value]

    def check(self, raw: Any) -> bool:
        return _is_int(raw) or super().check(raw)


class DTypeKind(Kind):
    expects = "a dtype name (float16, float32, float64, int32, int64, bool)"

    def encode(self, value: Any, where: str) -> Any:
        return dtype_of(value).value

    def check(self, raw: Any) -> bool:
        return isinstance(raw, str) and raw in {d.value for d in DType}


class Str(Kind):
    expects = "a non-empty string"

    def check(self, raw: Any) -> bool:
        return isinstance(raw, str) and bool(raw)


class Activation(Kind):
    """A graphc activation by name (``"relu"``) or a registered function's name."""

    expects = "an activation name"

    def encode(self, value: Any, where: str) -> Any:
        name, registered = serialized_name(value, "activation", where)
        return registered or name

    def check(self, raw: Any) -> bool:
        return isinstance(raw, str)

    def decode(self, raw: Any, resolver: Resolver, where: str) -> Any:
        super().decode(raw, resolver, where)
        registered = raw if ">" in raw else None
        return resolver.lookup("activation", raw.split(">")[-1], registered, where)


class Initializer(Kind):
    """``{"class_name": "GlorotUniform", "config": {...}, "module": ...}``."""

    expects = "an initializer object ({\"class_name\": ..., \"config\": {...}})"

    def encode(self, value: Any, where: str) -> Any:
        from ..initializers import Initializer as Base
        if not isinstance(value, Base) or type(value).__name__ == "_FromCallable":
            raise FrontendError(f"{where}: the initializer {value!r} is a plain function and "
                                "cannot be saved; use a graphc initializer or a registered "
                                "Initializer subclass")
        name, registered = serialized_name(type(value), "initializer", where)
        entry = {"class_name": name, "config": encode_value(value.get_config(), where)}
        entry.update({"registered_name": registered} if registered else
                     {"module": BUILTIN_MODULES["initializer"]})
        return entry

    def check(self, raw: Any) -> bool:
        return is_object(raw) and isinstance(raw.get("config", {}), dict)

    def decode(self, raw: Any, resolver: Resolver, where: str) -> Any:
        super().decode(raw, resolver, where)
        cls = resolver.lookup("initializer", raw["class_name"], raw.get("registered_name"), where)
        kwargs = decode_value(raw.get("config", {}), resolver, f"{where}.config")
        return construct(cls, kwargs, where)


INITIALIZER = Initializer()
